#!/usr/bin/python3
"""Placement: a consistent-hash ring with a replication factor, forwarding,
fan-out, CROSSSLOT, range movement on join and leave, repair of partially
replicated nodes, and hot keys gaining and losing extra replicas.

Asserted, with real processes on 127.0.0.x:
- 5 nodes, `replicas 3`, zones a/b: every key is held by exactly the 3
  nodes LATTICE WHERE names (both zones among them), the nodes together
  hold 3 copies of every key, and any node serves any key (GET, and MGET
  fanned out over every replica set);
- forwarding is transparent: every command family run through a node that
  holds none of the keys answers byte-for-byte what a real redis-server
  answers (RESP2 and RESP3), fan-out commands (MSET, MGET, DEL, EXISTS,
  TOUCH, UNLINK) across replica sets included; atomic multi-key commands
  across replica sets answer Redis Cluster's CROSSSLOT error, the same
  commands inside one hash tag work;
- a node leaving (SIGTERM) and joining again (restart) while clients write
  through the other nodes loses no acknowledged write, and afterwards each
  key is on exactly `replicas` nodes again;
- writes and deletes made in the first moments after a ring change (a
  member joining) leave no copy on a node that does not replicate the key,
  and the deleted keys stay deleted through tombstone collection and
  hand-off (a sender whose view predated the join once shipped the write
  to an old replica and skipped the delete);
- with the delta stream off and a cut link, writes leave replicas
  different; after the link heals, LATTICE REPAIR between every pair makes
  every key's replicas byte-identical;
- a node whose `replicas` differs from the others' is named in their logs
  (and they in its log);
- a key read far above the mean through a node that does not hold it gains
  an extra replica there (LATTICE WHERE lists it, the node holds it, its
  reads become local, writes reach it), and loses it after reads stop.

Environment: LATTICE_SERVER (see harness.py).
"""

import os
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from cluster import ClusterTestCase, Partition  # noqa: E402


def zones(n):
    return {i: ["--zone", "zone-a" if i % 2 else "zone-b"] for i in range(1, n + 1)}


def where(c, i, key):
    reply = c.r(i).execute_command("LATTICE", "WHERE", key)
    if isinstance(reply, list):  # RESP2 flattens the map
        reply = dict(zip(reply[::2], reply[1::2]))
    out = {}
    for k, v in reply.items():
        k = k.decode() if isinstance(k, bytes) else k
        out[k] = [x.decode() if isinstance(x, bytes) else x for x in v]
    return out


def local_keys(c, i):
    """The keys node i holds itself: SCAN never leaves the node."""
    keys, cursor = set(), 0
    while True:
        cursor, batch = c.r(i).scan(cursor, count=1000)
        keys.update(batch)
        if int(cursor) == 0:
            return keys


def info(c, i, field):
    return str(c.r(i).info("replication")[field])


def repair(c, i, peer):
    reply = c.r(i).execute_command("LATTICE", "REPAIR", c.node(peer).name)
    if isinstance(reply, list):
        reply = dict(zip(reply[::2], reply[1::2]))
    return {k.decode() if isinstance(k, bytes) else k: int(v) for k, v in reply.items()}


def copies_per_key(c, nodes):
    held = {i: local_keys(c, i) for i in nodes}
    count = {}
    for i in nodes:
        for k in held[i]:
            count.setdefault(k, set()).add(i)
    return held, count


class PlacementTest(ClusterTestCase):
    def test_five_nodes_three_replicas_serve_any_key_anywhere(self):
        n, keys = 5, 3000
        with self.cluster(n, threads=1, extra_args=["--replicas", "3"],
                          node_args=zones(n)) as c:
            for i in range(1, n + 1):
                self.assertEqual(info(c, i, "lattice_placement"), "partial")
            for node in range(1, n + 1):
                pipe = c.r(node).pipeline(transaction=False)
                for k in range(node - 1, keys, n):
                    pipe.set("k:%d" % k, "v%d" % k)
                self.assertTrue(all(pipe.execute()))
            harness.wait_until(
                lambda: sum(c.r(i).dbsize() for i in range(1, n + 1)) == 3 * keys, 30,
                what="three copies of every key")
            names = {c.node(i).name: i for i in range(1, n + 1)}
            held, count = copies_per_key(c, range(1, n + 1))
            for k in range(0, keys, 7):
                key = "k:%d" % k
                w = where(c, 1 + k % n, key)
                self.assertEqual(len(w["replicas"]), 3, w)
                self.assertEqual(count[key], {names[x] for x in w["replicas"]}, key)
                self.assertEqual(len({names[x] % 2 for x in w["replicas"]}), 2,
                                 "replicas of %s span both zones: %s" % (key, w))
            # Any node serves every key: single GETs and fanned-out MGETs.
            everything = ["k:%d" % k for k in range(keys)]
            for i in range(1, n + 1):
                for off in range(0, keys, 500):
                    chunk = everything[off:off + 500]
                    self.assertEqual(c.r(i).mget(chunk), ["v%s" % k[2:] for k in chunk])
                for k in range(i, keys, 97):
                    self.assertEqual(c.r(i).get("k:%d" % k), "v%d" % k)
            self.assertGreater(int(info(c, 1, "lattice_commands_forwarded")), 0)

    def test_forwarding_matches_redis_byte_for_byte(self):
        with self.cluster(3, threads=1, extra_args=["--replicas", "1"]) as c, \
                harness.Server(harness.redis_server_path(), kind="redis") as redis:
            me = c.node(1).name

            def foreign(prefix):
                """A name whose keys node 1 does not hold."""
                for n in range(1000):
                    name = "%s%d" % (prefix, n)
                    if me not in where(c, 1, name)["replicas"]:
                        return name
                raise AssertionError("no foreign key")

            def elsewhere(key):
                return where(c, 1, key)["replicas"][0]

            a, b, cnt, f = foreign("a"), foreign("b"), foreign("n"), foreign("f")
            # Two keys on different replica sets, and two sharing a tag.
            other = next(foreign("o%d" % n) for n in range(1000)
                         if elsewhere(foreign("o%d" % n)) != elsewhere(a))
            tag = foreign("t")
            t1, t2 = "{%s}:1" % tag, "{%s}:2" % tag
            script = [
                ("SET", a, "hello"), ("GET", a), ("APPEND", a, " world"), ("STRLEN", a),
                ("GETRANGE", a, "0", "4"), ("SETRANGE", a, "6", "W"), ("GET", a),
                ("SUBSTR", a, "1", "3"), ("LCS", t1, t2),
                ("SET", cnt, "10"), ("INCR", cnt), ("INCRBY", cnt, "5"), ("DECR", cnt),
                ("DECRBY", cnt, "3"), ("INCRBYFLOAT", f, "1.5"), ("INCR", a),
                ("GETSET", b, "x"), ("GETSET", b, "y"), ("SETNX", b, "z"),
                ("SET", b, "v", "NX"), ("SET", b, "v2", "XX", "GET"), ("SET", b, "v", "BAD"),
                ("SETEX", f, "100", "v"), ("TTL", f), ("PSETEX", f, "100000", "w"),
                ("GETEX", f, "PERSIST"), ("TTL", f), ("GETDEL", f), ("GET", f),
                ("EXPIREAT", a, "4102444800"), ("EXPIRETIME", a), ("PEXPIRETIME", a),
                ("PERSIST", a), ("EXPIRETIME", a), ("TYPE", a), ("TYPE", f),
                ("OBJECT", "ENCODING", cnt), ("OBJECT", "ENCODING", a),
                ("EXISTS", a, b, f, other), ("TOUCH", a, other),
                ("MSET", a, "1", other, "2", t1, "3"), ("MGET", a, other, t1, f, t2),
                ("MSETNX", t1, "x", t2, "y"), ("MGET", t1, t2),
                ("RENAME", t1, t2), ("RENAMENX", t2, t1), ("COPY", t1, t2), ("GET", t2),
                ("LCS", t1, t2),
                ("DEL", a, other, t1, f), ("UNLINK", b, cnt, "nothere"), ("EXISTS", a, b),
                ("GET", "missing-" + a), ("STRLEN", "missing-" + a),
            ]
            for protocol in (2, 3):
                with harness.RespClient(c.node(1).host, c.node(1).port) as lat, \
                        harness.RespClient("127.0.0.1", redis.port) as ref:
                    if protocol == 3:
                        lat.call("HELLO", "3")
                        ref.call("HELLO", "3")
                    for cmd in script:
                        self.assertEqual(lat.call(*cmd), ref.call(*cmd),
                                         "RESP%d %r" % (protocol, cmd))
                    lat.call("FLUSHALL")
                    ref.call("FLUSHALL")
                    harness.wait_until(lambda: all(c.r(i).dbsize() == 0 for i in (1, 2, 3)),
                                       10, what="FLUSHALL on every node")
                    # The same script as one pipeline: forwarded commands
                    # travel in batches per node, several in flight, and
                    # the replies still come back in command order.
                    # SELECT (a connection command) and fan-outs wait for
                    # what is in flight.
                    piped = script[:20] + [("SELECT", "0")] + script[20:]
                    data = b"".join(harness.encode_command(*cmd) for cmd in piped)
                    lat.send_raw(data)
                    ref.send_raw(data)
                    self.assertEqual(lat.read_replies(len(piped)), ref.read_replies(len(piped)),
                                     "RESP%d pipeline" % protocol)
                    lat.call("FLUSHALL")
                    ref.call("FLUSHALL")
                    harness.wait_until(lambda: all(c.r(i).dbsize() == 0 for i in (1, 2, 3)),
                                       10, what="FLUSHALL on every node")
            # A long pipeline over keys on every node: replies in order.
            with harness.RespClient(c.node(1).host, c.node(1).port) as lat:
                cmds = []
                for n in range(1500):
                    cmds.append(("SET", "p:%d" % (n % 300), "v%d" % n))
                    cmds.append(("GET", "p:%d" % (n % 300)))
                    cmds.append(("INCR", "pc:%d" % (n % 7)))
                lat.send_raw(b"".join(harness.encode_command(*x) for x in cmds))
                got = lat.read_replies(len(cmds), timeout=60)
                counts = {}
                for n in range(1500):
                    counts[n % 7] = counts.get(n % 7, 0) + 1
                    self.assertEqual(got[3 * n], b"+OK\r\n")
                    self.assertEqual(got[3 * n + 1], b"$%d\r\nv%d\r\n" % (len("v%d" % n), n))
                    self.assertEqual(got[3 * n + 2], b":%d\r\n" % counts[n % 7])
                lat.call("FLUSHALL")
            # Atomic multi-key commands across replica sets: CROSSSLOT.
            with harness.RespClient(c.node(1).host, c.node(1).port) as lat:
                lat.call("SET", a, "1")
                crossslot = b"-CROSSSLOT Keys in request don't hash to the same slot\r\n"
                for cmd in [("RENAME", a, other), ("COPY", a, other), ("MSETNX", a, "1", other, "2"),
                            ("LCS", a, other), ("RENAMENX", a, other)]:
                    self.assertEqual(lat.call(*cmd), crossslot, cmd)
            self.assertGreater(int(info(c, 1, "lattice_reads_forwarded")), 10)

    def test_leave_and_join_under_writes_lose_no_acknowledged_write(self):
        n = 4
        with self.cluster(n, threads=1, extra_args=["--replicas", "2",
                                                    "--anti-entropy-interval", "2"]) as c:
            acked, errors, stop = {}, [], threading.Event()

            def writer(node):
                r = c.node(node).new_client()
                k = 0
                deadline = time.monotonic() + 30
                while not stop.is_set() and time.monotonic() < deadline:
                    key = "w%d:%d" % (node, k)
                    try:
                        if r.set(key, "v%d" % k):
                            acked[key] = "v%d" % k
                    except Exception as e:  # a forwarded write may fail while a node leaves
                        errors.append(repr(e))
                    k += 1

            threads = [threading.Thread(target=writer, args=(i,)) for i in (1, 2, 3)]
            for t in threads:
                t.start()
            try:
                time.sleep(1.5)
                c.stop(4)  # graceful: hands its ranges off, then leaves
                harness.wait_until(lambda: info(c, 1, "lattice_ring_members") == "3", 15,
                                   what="node 4 off the ring")
                time.sleep(1.5)
                c.restart(4)  # joins again, empty
                harness.wait_until(lambda: info(c, 1, "lattice_ring_members") == "4", 15,
                                   what="node 4 back on the ring")
                time.sleep(2)
            finally:
                stop.set()
                for t in threads:
                    t.join()
            sys.stdout.write("acknowledged writes: %d, failed: %d %s\n"
                             % (len(acked), len(errors), errors[:3]))
            self.assertGreater(len(acked), 300)
            self.assertLess(len(errors), len(acked) / 10)
            keys = sorted(acked)

            def all_there():
                for i in range(1, n + 1):
                    for off in range(0, len(keys), 1000):
                        chunk = keys[off:off + 1000]
                        got = c.r(i).mget(chunk)
                        if got != [acked[k] for k in chunk]:
                            return False
                return True
            harness.wait_until(all_there, 30, what="every acknowledged write on every node")

            def two_copies():
                _, count = copies_per_key(c, range(1, n + 1))
                return all(len(count.get(k, ())) == 2 for k in keys)
            harness.wait_until(two_copies, 30, interval=0.5,
                               what="every key on exactly 2 nodes again")

    def test_deletes_right_after_a_join_stay_deleted(self):
        n = 4
        with self.cluster(n, threads=1, extra_args=["--replicas", "2",
                                                    "--anti-entropy-interval", "2"]) as c:
            c.stop(4)
            harness.wait_until(lambda: all(info(c, i, "lattice_ring_members") == "3"
                                           for i in (1, 2, 3)), 15, what="node 4 off the ring")
            time.sleep(1.0)  # every sender idle, waiting with the 3-member view
            c.restart(4)
            harness.wait_until(lambda: all(info(c, i, "lattice_ring_members") == "4"
                                           for i in (1, 2, 3)), 15, interval=0.01,
                               what="node 4 back on the ring")
            keys = {i: ["d%d:%d" % (i, k) for k in range(300)] for i in (1, 2, 3)}
            for i in (1, 2, 3):  # the writes first, in their own batches
                p = c.r(i).pipeline(transaction=False)
                for k in keys[i]:
                    p.set(k, "x")
                self.assertEqual(p.execute(), [True] * len(keys[i]))
            time.sleep(0.05)
            for i in (1, 2, 3):
                p = c.r(i).pipeline(transaction=False)
                for k in keys[i]:
                    p.delete(k)
                self.assertEqual(p.execute(), [1] * len(keys[i]))
            everything = [k for i in (1, 2, 3) for k in keys[i]]

            def strays():
                out = []
                for i in range(1, n + 1):
                    held = [k for k in c.r(i).scan_iter(match="d*", count=1000)]
                    out += ["node%d holds %s" % (i, k) for k in held]
                return out
            time.sleep(0.5)  # the deltas arrived; hand-off has not run yet
            self.assertEqual(strays(), [])
            # Tombstones collected, hand-off and Merkle rounds run: still gone.
            deadline = time.monotonic() + 6
            while time.monotonic() < deadline:
                self.assertEqual(strays(), [])
                for i in range(1, n + 1):
                    self.assertEqual(c.r(i).mget(everything), [None] * len(everything))
                time.sleep(0.5)
            self.assertGreater(int(info(c, 1, "lattice_tombstones_collected")), 0)

    def test_repair_makes_every_replica_identical(self):
        n = 5
        with self.cluster(n, threads=1, extra_args=["--replicas", "3",
                                                    "--anti-entropy-interval", "0"],
                          node_args=zones(n)) as c, Partition(c) as p:
            pipe = c.r(1).pipeline(transaction=False)
            for k in range(3000):
                pipe.set("base:%d" % k, k)
            pipe.execute()
            harness.wait_until(
                lambda: sum(c.r(i).dbsize() for i in range(1, n + 1)) == 9000, 30,
                what="three copies of every key")
            for i in range(1, n + 1):
                self.assertTrue(c.r(i).config_set("replication-stream", "no"))
            p.cut(1, 2)
            for k in range(300):
                c.r(1 + k % n).set("new:%d" % k, k)
                c.r(1 + (k + 1) % n).incrby("count:%d" % (k % 10), 1)
                if k % 3 == 0:
                    c.r(1 + (k + 2) % n).delete("base:%d" % k)
            p.heal_all()

            def divergent():
                _, count = copies_per_key(c, range(1, n + 1))
                return sum(1 for k, holders in count.items() if len(holders) != 3)
            self.assertGreater(divergent(), 0, "the stream was off: replicas must differ")
            total = {"keys_repaired": 0, "bytes_sent": 0, "bytes_received": 0, "micros": 0,
                     "rpcs": 0}
            for i in range(1, n + 1):
                for j in range(i + 1, n + 1):
                    st = repair(c, i, j)  # an error reply raises
                    for k in total:
                        total[k] += st[k]
            sys.stdout.write("10 pairwise rounds: %s\n" % total)
            snaps = {i: c.snapshot(i) for i in range(1, n + 1)}
            names = {c.node(i).name: i for i in range(1, n + 1)}
            union = set()
            for s in snaps.values():
                union.update(s)
            for key in union:
                holders = [names[x] for x in where(c, 1, key)["replicas"]]
                copies = [snaps[i].get(key) for i in holders]
                self.assertTrue(all(x == copies[0] for x in copies), (key, copies))
                self.assertIsNotNone(copies[0], key)
            for k in range(300):
                self.assertEqual(c.r(1 + k % n).get("new:%d" % k), str(k))
                if k % 3 == 0:
                    self.assertIsNone(c.r(1 + k % n).get("base:%d" % k))
            # 300 increments spread over 10 counters through every node: 30 each.
            self.assertEqual([c.r(1).get("count:%d" % d) for d in range(10)], ["30"] * 10)

    def test_a_node_with_another_replicas_setting_is_reported(self):
        with self.cluster(3, threads=1, extra_args=["--replicas", "1"],
                          node_args={3: ["--replicas", "2"]}) as c:
            harness.wait_until(lambda: "nodes disagree on where keys live" in c.node(1).log_text(),
                               10, what="node 1 warning about node 3's replicas setting")
            self.assertIn("member node3 has replicas 2, this node 1", c.node(1).log_text())
            self.assertIn("member node1 has replicas 1, this node 2", c.node(3).log_text())

    def test_hot_key_gains_and_loses_an_extra_replica(self):
        with self.cluster(3, threads=1, extra_args=[
                "--replicas", "1", "--hot-key-min-rate", "50"]) as c:
            pipe = c.r(2).pipeline(transaction=False)
            for k in range(6000):
                pipe.set("cold:%d" % k, k)
            pipe.execute()
            me = c.node(1).name
            hot = next("hot:%d" % n for n in range(1000)
                       if me not in where(c, 1, "hot:%d" % n)["replicas"])
            holder = where(c, 1, hot)["replicas"][0]
            holder_i = next(i for i in (1, 2, 3) if c.node(i).name == holder)
            c.r(holder_i).set(hot, "v1")
            self.assertNotIn(hot, local_keys(c, 1))

            reader = c.node(1).new_client()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                pipe = reader.pipeline(transaction=False)
                for _ in range(200):
                    pipe.get(hot)
                self.assertEqual(set(pipe.execute()), {"v1"})
                if me in where(c, holder_i, hot)["extras"] and hot in local_keys(c, 1):
                    break
            else:
                raise AssertionError("the hot key never gained a replica on node 1")
            self.assertEqual(info(c, 1, "lattice_hot_keys_held"), "1")
            # Its reads are now served locally, and writes reach the extra copy.
            before = int(info(c, 1, "lattice_reads_local"))
            pipe = reader.pipeline(transaction=False)
            for _ in range(100):
                pipe.get(hot)
            pipe.execute()
            self.assertGreaterEqual(int(info(c, 1, "lattice_reads_local")) - before, 100)
            c.r(holder_i).set(hot, "v2")
            harness.wait_until(lambda: c.r(1).get(hot) == "v2", 10,
                               what="a write on the replica reaching the extra copy")
            # Reads stop: the key cools, and the extra replica goes away.
            # The sketch halves every 5 s, so a key read at R/s falls under
            # half the threshold T after 5 * log2(2R/T) s; then 10 s below
            # it and 5 s for the hand-back. At R = 20,000 (an optimized
            # build's pipelined reads above) and T = 50 that is about 63 s:
            # the bound leaves room for that.
            harness.wait_until(lambda: me not in where(c, holder_i, hot)["extras"]
                               and hot not in local_keys(c, 1), 150, interval=0.5,
                               what="the cooled key losing its extra replica")
            self.assertEqual(info(c, 1, "lattice_hot_keys_held"), "0")
            self.assertEqual(info(c, 1, "lattice_hot_keys_lost"), "1")
            self.assertEqual(c.r(1).get(hot), "v2")
            self.assertEqual(c.r(holder_i).get(hot), "v2")


if __name__ == "__main__":
    harness.main()
