#!/usr/bin/python3
"""Streams beyond single replies (the differential test's 'streams' family
compares those byte for byte with Redis): blocking reads served by other
connections, and streams across nodes (docs/consistency.md, "Streams").

Asserted:
- one node: XREAD BLOCK on "$" is woken by an XADD from another
  connection with exactly the new entry; waiters on one key are served in
  arrival order; XREAD BLOCK on two keys is woken by either; XREADGROUP
  BLOCK ">" is woken, the entry becomes pending for that consumer, and a
  second blocked consumer of the group gets the next entry, not the same;
  a timeout answers a null reply after about the time asked; the same
  blocking transcript gives the same replies as a real redis-server;
- a work queue of 200 jobs over 4 workers sharing a consumer group gets
  every job exactly once, and XPENDING is empty after the acks;
- three nodes: entries added on node 1 appear on nodes 2 and 3 with the
  same ids and fields; an XREAD BLOCK on node 3 is woken by an XADD on
  node 1;
- two nodes appending in turn while a reader on node 1 follows the stream
  from its last id: the reader gets every entry of both nodes (entries
  become readable stream-read-delay after their id's time);
- across a partition (nftables cuts node 3 off): XADD * on both sides
  keeps every entry after the heal, with ids unique across nodes, in the
  same order on every node; XDEL on one side removes the entry everywhere;
  a group read on both sides delivers the same entries twice (at least
  once): each stays pending once, owned by one of the two consumers, the
  same on every node, and an XACK that did not see the other side's
  delivery leaves it pending; a group created on one side appears
  everywhere, and XINFO GROUPS reads the same on every node;
- a stream written while node 3 is cut off reaches it by Merkle repair.

Needs root (nftables). Environment: LATTICE_SERVER, REDIS_SERVER (see
harness.py).
"""

import os
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import redis  # noqa: E402  (python3-redis)
from cluster import ClusterTestCase, Partition, POLL  # noqa: E402

HEAL_BOUND = 20.0
# A little more than stream-read-delay (100 ms): how long after its id's
# time a replicating node lets XREAD / XREADGROUP > return an entry.
READ_DELAY = 0.15


def in_thread(fn):
    """Runs fn in a thread; returns (thread, result dict)."""
    out = {}

    def run():
        try:
            out["v"] = fn()
        except Exception as e:  # noqa: BLE001 - reported by the caller
            out["e"] = e

    t = threading.Thread(target=run)
    t.start()
    return t, out


def wait_blocked(r, n, timeout=5.0):
    """Waits until the server reports n blocked clients."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if int(r.info("clients")["blocked_clients"]) >= n:
            return
        time.sleep(0.02)
    raise AssertionError("clients did not block: %s" % r.info("clients"))


def py(srv, timeout=10):
    return redis.Redis(host=srv.host, port=srv.port, decode_responses=True,
                       socket_timeout=timeout)


class StreamBlockingTest(ClusterTestCase):
    def blocking_transcript(self, server):
        """XREAD/XREADGROUP BLOCK served by a writer; returns the replies."""
        r = py(server)
        r.flushall()
        out = []
        r.xadd("s", {"a": "0"}, id="1-0")
        r.xgroup_create("s", "g", id="0")
        b = py(server)
        t, got = in_thread(lambda: b.execute_command("XREAD", "BLOCK", "5000", "STREAMS", "s", "$"))
        wait_blocked(r, 1)
        r.xadd("s", {"a": "1"}, id="2-0")
        t.join(10)
        out.append(got)
        t, got = in_thread(lambda: b.execute_command(
            "XREADGROUP", "GROUP", "g", "c1", "COUNT", "5", "BLOCK", "5000", "STREAMS", "s", ">"))
        t.join(10)  # entries are there: served at once
        out.append(got)
        t, got = in_thread(lambda: b.execute_command(
            "XREADGROUP", "GROUP", "g", "c1", "BLOCK", "5000", "STREAMS", "s", ">"))
        wait_blocked(r, 1)
        r.xadd("s", {"a": "2"}, id="3-0")
        t.join(10)
        out.append(got)
        out.append(r.xpending("s", "g"))
        out.append(b.execute_command("XREAD", "BLOCK", "100", "STREAMS", "s", "$"))
        # A parked XREADGROUP is told when its group or its stream goes:
        # XGROUP DESTROY, DEL, a SET over the key. A parked XREAD is not.
        for gone in (lambda: r.xgroup_destroy("s", "g"), lambda: r.delete("s"),
                     lambda: r.set("s", "x")):
            r.delete("s")
            r.xgroup_create("s", "g", id="$", mkstream=True)
            t, got = in_thread(lambda: b.execute_command(
                "XREADGROUP", "GROUP", "g", "c1", "BLOCK", "3000", "STREAMS", "s", ">"))
            wait_blocked(r, 1)
            gone()
            t.join(10)
            out.append(("error", str(got["e"])) if "e" in got else got.get("v"))
        r.delete("s")
        r.xadd("s2", {"a": "1"})
        t, got = in_thread(lambda: b.execute_command("XREAD", "BLOCK", "400", "STREAMS", "s2", "$"))
        wait_blocked(r, 1)
        r.delete("s2")
        t.join(10)
        out.append(("error", str(got["e"])) if "e" in got else got.get("v"))
        b.close()
        return out

    def test_blocking_reads_match_redis(self):
        with harness.start_redis() as redis_srv, harness.start_lattice(threads=4) as lat:
            want = self.blocking_transcript(redis_srv)
            got = self.blocking_transcript(lat)
            self.assertEqual(got, want)

    def test_waiters_in_order_two_keys_and_group_consumers(self):
        with harness.start_lattice(threads=4) as srv:
            r = py(srv)
            r.xadd("a", {"f": "0"}, id="1-0")
            clients = [py(srv) for _ in range(3)]
            threads = []
            for c in clients:
                threads.append(in_thread(lambda c=c: c.execute_command(
                    "XREAD", "COUNT", "1", "BLOCK", "5000", "STREAMS", "a", "$")))
                wait_blocked(r, len(threads))
            r.xadd("a", {"f": "1"}, id="2-0")
            for t, got in threads:
                t.join(10)
                # Every waiter on "$" sees the new entry (XREAD does not consume).
                self.assertEqual(got.get("v"), [["a", [("2-0", {"f": "1"})]]], got)
            # Two keys: the one written wakes it.
            t, got = in_thread(lambda: clients[0].execute_command(
                "XREAD", "BLOCK", "5000", "STREAMS", "a", "b", "$", "$"))
            wait_blocked(r, 1)
            r.xadd("b", {"g": "x"}, id="7-0")
            t.join(10)
            self.assertEqual(got.get("v"), [["b", [("7-0", {"g": "x"})]]], got)
            # A group: two blocked consumers get different entries.
            r.xgroup_create("q", "workers", id="$", mkstream=True)
            ts = []
            for n, c in enumerate(clients[:2]):
                ts.append(in_thread(lambda c=c, n=n: c.execute_command(
                    "XREADGROUP", "GROUP", "workers", "w%d" % n, "COUNT", "1", "BLOCK", "5000",
                    "STREAMS", "q", ">")))
                wait_blocked(r, n + 1)
            r.xadd("q", {"job": "1"}, id="1-0")
            r.xadd("q", {"job": "2"}, id="2-0")
            got_ids = []
            for t, g in ts:
                t.join(10)
                self.assertIn("v", g, g)
                got_ids.append(g["v"][0][1][0][0])
            self.assertEqual(got_ids, ["1-0", "2-0"])
            pend = r.xpending_range("q", "workers", "-", "+", 10)
            self.assertEqual([(p["message_id"], p["consumer"]) for p in pend],
                             [("1-0", "w0"), ("2-0", "w1")])
            # A timeout: null after about the time asked.
            t0 = time.monotonic()
            self.assertFalse(clients[0].execute_command("XREAD", "BLOCK", "300", "STREAMS", "q", "$"))
            self.assertGreaterEqual(time.monotonic() - t0, 0.28)
            for c in clients:
                c.close()

    def test_work_queue_each_job_once(self):
        with harness.start_lattice(threads=4) as srv:
            r = py(srv)
            r.xgroup_create("jobs", "g", id="$", mkstream=True)
            seen = []
            lock = threading.Lock()
            stop = threading.Event()

            def worker(name):
                c = py(srv)
                while not stop.is_set():
                    res = c.execute_command("XREADGROUP", "GROUP", "g", name, "COUNT", "3",
                                            "BLOCK", "200", "STREAMS", "jobs", ">")
                    if not res:
                        continue
                    for eid, fields in res[0][1]:
                        with lock:
                            seen.append(fields["n"])
                        c.xack("jobs", "g", eid)
                c.close()

            threads = [threading.Thread(target=worker, args=("w%d" % i,)) for i in range(4)]
            for t in threads:
                t.start()
            for n in range(200):
                r.xadd("jobs", {"n": str(n)})
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and len(seen) < 200:
                time.sleep(0.05)
            stop.set()
            for t in threads:
                t.join(10)
            self.assertEqual(sorted(seen, key=int), [str(n) for n in range(200)])
            self.assertEqual(r.xpending("jobs", "g")["pending"], 0)
            self.assertEqual(r.xlen("jobs"), 200)


class StreamClusterTest(ClusterTestCase):
    def entries(self, c, i, key):
        return c.r(i).xrange(key, "-", "+")

    def wait_same(self, c, key, n_entries, nodes=(1, 2, 3)):
        deadline = time.monotonic() + HEAL_BOUND
        snap = {}
        while time.monotonic() < deadline:
            snap = {i: self.entries(c, i, key) for i in nodes}
            if all(len(v) == n_entries for v in snap.values()) and \
                    len({repr(v) for v in snap.values()}) == 1:
                return snap[nodes[0]]
            time.sleep(POLL)
        self.fail("stream %s did not converge: %s" % (key, {i: len(v) for i, v in snap.items()}))

    def test_replication_and_a_blocked_reader_on_another_node(self):
        with self.cluster(3) as c:
            r1 = c.r(1)
            ids = [r1.xadd("s", {"n": str(n), "w": "x" * n}) for n in range(50)]
            got = self.wait_same(c, "s", 50)
            self.assertEqual([e[0] for e in got], ids)
            self.assertEqual(got[7][1], {"n": "7", "w": "x" * 7})
            b3 = c.node(3).new_client(timeout=10)
            t, res = in_thread(lambda: b3.execute_command(
                "XREAD", "BLOCK", "8000", "STREAMS", "s", "$"))
            wait_blocked(c.r(3), 1)
            new_id = r1.xadd("s", {"wake": "1"})
            t.join(10)
            self.assertEqual(res.get("v"), [["s", [(new_id, {"wake": "1"})]]], res)
            b3.close()

    def test_a_reader_sees_every_entry_two_nodes_append(self):
        """XADD * alternating between nodes 1 and 2 while a reader on node 1
        follows the stream with XREAD BLOCK from its last id: an entry of
        node 2 arrives on node 1 after node 1's own later entries, and is
        still read (it was not yet readable when the reader moved on)."""
        with self.cluster(2) as c:
            r1, r2 = c.r(1), c.r(2)
            r1.xadd("ev", {"n": "start"}, id="1-0")
            c.wait_converged(HEAL_BOUND)
            reader = c.node(1).new_client(timeout=10)
            got = []
            done = threading.Event()

            def follow():
                last = "1-0"
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline and len(got) < 200:
                    res = reader.execute_command("XREAD", "COUNT", "7", "BLOCK", "500",
                                                 "STREAMS", "ev", last)
                    for eid, fields in (res[0][1] if res else []):
                        got.append(fields["n"])
                        last = eid
                done.set()

            t = threading.Thread(target=follow)
            t.start()
            for n in range(200):
                (r1 if n % 2 == 0 else r2).xadd("ev", {"n": str(n)})
            t.join(25)
            reader.close()
            self.assertTrue(done.is_set())
            self.assertEqual(sorted(got, key=int), [str(n) for n in range(200)],
                             "missed: %s" % sorted(set(map(str, range(200))) - set(got), key=int))

    def test_partitioned_writers_keep_every_entry_and_groups_merge(self):
        with self.cluster(3) as c, Partition(c) as p:
            r1, r3 = c.r(1), c.r(3)
            for n in range(10):
                r1.xadd("s", {"n": "base%d" % n})
            r1.xgroup_create("s", "g", id="0")
            self.wait_same(c, "s", 10)
            c.wait_converged(HEAL_BOUND)
            first = r1.xrange("s", "-", "+")[0][0]
            p.isolate(3)
            # Both sides add at the same time, read through the group, ack.
            side1 = [r1.xadd("s", {"side": "1", "n": str(n)}) for n in range(40)]
            side3 = [r3.xadd("s", {"side": "3", "n": str(n)}) for n in range(40)]
            time.sleep(READ_DELAY)  # entries become readable stream-read-delay after
            got1 = r1.xreadgroup("g", "c1", {"s": ">"}, count=5)[0][1]
            got3 = r3.xreadgroup("g", "c3", {"s": ">"}, count=5)[0][1]
            r1.xack("s", "g", got1[0][0])
            r3.xgroup_create("s", "g3", id="$")
            r1.xdel("s", first)
            p.heal_all()
            c.wait_healthy(HEAL_BOUND)
            final = self.wait_same(c, "s", 10 - 1 + 80)
            ids = [e[0] for e in final]
            self.assertEqual(len(set(ids)), len(ids), "ids are unique")
            self.assertEqual(ids, sorted(ids, key=lambda s: tuple(map(int, s.split("-")))))
            self.assertTrue(set(side1) <= set(ids) and set(side3) <= set(ids))
            self.assertNotIn(first, ids)
            snap = c.wait_converged(HEAL_BOUND)
            self.assertEqual(snap["s"][0], "stream")
            # Both sides delivered the same five entries (the group's next
            # ones) to their own consumer: each stays pending once, owned by
            # the newer delivery, the same on every node; the ack on node 1
            # did not see node 3's delivery, so it does not remove it.
            self.assertEqual([e[0] for e in got1], [e[0] for e in got3])
            pends = {}
            for i in (1, 2, 3):
                pends[i] = [(p_["message_id"], p_["consumer"])
                            for p_ in c.r(i).xpending_range("s", "g", "-", "+", 100)]
            self.assertEqual(pends[1], pends[2])
            self.assertEqual(pends[1], pends[3])
            self.assertEqual([m for m, _ in pends[1]], [e[0] for e in got3])
            self.assertTrue(all(o in ("c1", "c3") for _, o in pends[1]), pends[1])
            groups = {g["name"] for g in c.r(2).xinfo_groups("s")}
            self.assertEqual(groups, {"g", "g3"})
            # A later XADD anywhere continues after every id seen.
            nxt = c.r(2).xadd("s", {"after": "heal"})
            self.assertEqual(c.r(2).xrange("s", "-", "+")[-1][0], nxt)

    def test_repair_restores_a_stream_written_during_a_cut(self):
        with self.cluster(3) as c, Partition(c) as p:
            p.isolate(3)
            r1 = c.r(1)
            for n in range(120):
                r1.xadd("rs", {"n": str(n)}, maxlen=100, approximate=False)
            r1.xgroup_create("rs", "g", id="0")
            time.sleep(READ_DELAY)
            r1.xreadgroup("g", "c", {"rs": ">"}, count=10)
            p.heal_all()
            c.wait_healthy(HEAL_BOUND)
            c.r(3).execute_command("LATTICE", "REPAIR", c.node(1).name)
            self.wait_same(c, "rs", 100)
            c.wait_converged(HEAL_BOUND)
            self.assertEqual(c.r(3).xpending("rs", "g")["pending"], 10)


if __name__ == "__main__":
    harness.main()
