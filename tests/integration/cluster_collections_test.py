#!/usr/bin/python3
"""Collections across nodes: the merge rules of docs/consistency.md
("Collections") under a real partition (nftables drops the peer traffic of
node 3), checked on every node after the heal.

Asserted, for writes made on both sides of the cut:
- sets: a member removed on one side and untouched on the other is gone; a
  member removed on one side and re-added on the other is kept (add-wins);
  members added on either side are kept;
- hashes: a field deleted on one side and written on the other is kept
  with the written value; a field written on one side only takes that
  value; HINCRBY on both sides adds up;
- a key created on both sides (SADD, HSET) holds both sides' elements;
- DEL of a collection on one side keeps the members added concurrently on
  the other;
- a SREM of every member on one side while the other side adds: only the
  concurrent adds remain;
- lists: RPUSH on both sides of the cut keeps every element, in one order
  on every node (each side's own elements in their order); an element
  popped on one side and untouched on the other is gone; LSET on one side
  wins over no change;
- a BLPOP waiting on node 3 is woken by an RPUSH made on node 1;
- HyperLogLog: PFADDs of different elements on both sides of the cut merge
  register-wise: after the heal every node's PFCOUNT (and the merged
  registers, PFDEBUG GETREG) equals what a real redis-server gives for one
  HLL holding every element, and a later PFADD anywhere builds on the
  merge; a SET concurrent with a PFADD leaves the same value everywhere:
  the SET's string or, if the PFADD is newer, its HLL;
- sorted sets: a member removed on one side and untouched on the other is
  gone; ZREM on one side of a member whose score the other side set is
  kept with that score (add-wins); ZADD of one member on both sides takes
  one score everywhere (the greater stamp's); ZINCRBY on both sides adds
  up; a key created on both sides holds both sides' members; a zset
  emptied on one side keeps the other side's concurrent adds; members
  popped (ZPOPMIN) or removed by range on one side are gone;
- with partial placement (4 nodes, 2 replicas per key), every family's
  commands work through any node: writes are forwarded to the key's
  replicas, reads answer the same everywhere, multi-key commands within one
  replica set work and across replica sets answer CROSSSLOT as strings do;
- a change that overtakes a write of several elements through a third
  node (node 1's link to node 3 cut; node 2 changes one element of node 1's
  HSET, SADD, ZADD, RPUSH or XADD; node 3 gets node 2's change first)
  leaves the write's other elements on every node, after the heal and
  after Merkle repair;
- without a partition, a set written through every node converges with
  each node's adds and removes, and Merkle repair (LATTICE REPAIR) after a
  cut restores the same contents (of the set, and of a sorted set written
  with ZADD and ZINCRBY during the cut).

Needs root (nftables). Environment: LATTICE_SERVER (see harness.py).
"""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import redis  # noqa: E402  (python3-redis)
from cluster import ClusterTestCase, Partition, POLL  # noqa: E402

REPL_BOUND = 5.0
HEAL_BOUND = 20.0
CANARY_WAIT = 1.0


class CollectionsAcrossNodesTest(ClusterTestCase):
    def assert_cut(self, c, writer, reader):
        """A canary SADD on `writer` does not reach `reader`: the cut is real."""
        c.r(writer).sadd("canary", "w%d" % writer)
        deadline = time.monotonic() + CANARY_WAIT
        while time.monotonic() < deadline:
            self.assertFalse(c.r(reader).sismember("canary", "w%d" % writer),
                             "a write crossed the partition")
            time.sleep(POLL)

    def wait_equal(self, c, key, want, nodes=None):
        nodes = nodes or c.running()

        def read(i):
            r = c.r(i)
            t = r.type(key)
            if t == "hash":
                return r.hgetall(key)
            if t == "set":
                return r.smembers(key)
            return None if t == "none" else "<%s>" % t
        try:
            harness.wait_until(lambda: all(read(i) == want for i in nodes), REPL_BOUND,
                               interval=POLL, what="%s == %r" % (key, want))
        except TimeoutError:
            self.fail("%s: want %r, nodes have %r" % (key, want, {i: read(i) for i in nodes}))

    def test_concurrent_writes_on_both_sides_of_a_partition_merge(self):
        with self.cluster(3) as c, Partition(c) as p:
            r1, r3 = c.r(1), c.r(3)
            r1.sadd("s", "a", "b", "c")
            r1.hset("h", mapping={"f1": "v1", "f2": "v2", "n": "10"})
            r1.sadd("gone", "m1")
            r1.sadd("emptied", "e1", "e2")
            for key, want in (("s", {"a", "b", "c"}), ("gone", {"m1"}),
                              ("h", {"f1": "v1", "f2": "v2", "n": "10"})):
                self.wait_equal(c, key, want)
            p.isolate(3)
            self.assert_cut(c, 1, 3)
            # Side of nodes 1 and 2.
            r1.srem("s", "a", "b")
            r1.hdel("h", "f1")
            r1.hset("h", "f2", "A")
            self.assertEqual(r1.hincrby("h", "n", 5), 15)
            c.r(2).hincrby("h", "n", 1)
            r1.sadd("t", "1", "2")
            r1.hset("g", "a", "1")
            self.assertEqual(r1.delete("gone"), 1)
            r1.srem("emptied", "e1", "e2")
            # Node 3's side.
            r3.srem("s", "b")
            r3.sadd("s", "b", "y")           # b re-added: concurrent with node 1's SREM
            r3.hset("h", "f1", "B")          # f1 written: concurrent with node 1's HDEL
            self.assertEqual(r3.hincrby("h", "n", 7), 17)
            r3.hset("h", "f3", "C")
            r3.sadd("t", "2", "3")
            r3.hset("g", "b", "2")
            r3.sadd("gone", "m2")            # concurrent with node 1's DEL
            r3.sadd("emptied", "e3")
            # Each side sees only its own writes during the cut.
            self.assertEqual(r3.smembers("s"), {"a", "b", "c", "y"})
            self.wait_equal(c, "s", {"c"}, nodes=[1, 2])
            p.heal_all()
            c.wait_healthy(HEAL_BOUND)
            want = {
                "s": {"b", "c", "y"},
                "h": {"f1": "B", "f2": "A", "f3": "C", "n": "23"},
                "t": {"1", "2", "3"},
                "g": {"a": "1", "b": "2"},
                "gone": {"m2"},
                "emptied": {"e3"},
            }
            for key, value in want.items():
                self.wait_equal(c, key, value)
            snap = c.wait_converged(HEAL_BOUND)
            self.assertEqual(snap["h"][1], tuple(sorted(want["h"].items())))

    def test_hyperloglogs_across_a_partition_merge_register_wise(self):
        before = ["e%d" % i for i in range(50)]
        left = ["a%d" % i for i in range(400)]
        right = ["b%d" % i for i in range(400)]
        later = ["c%d" % i for i in range(100)]
        redis_srv = harness.start_redis()
        try:
            rr = redis.Redis(host="127.0.0.1", port=redis_srv.port, decode_responses=True)
            rr.pfadd("u", *(before + left + right))
            want_count = rr.pfcount("u")
            want_regs = rr.execute_command("PFDEBUG", "GETREG", "u")
            rr.pfadd("u", *later)
            want_later = rr.pfcount("u")
        finally:
            redis_srv.stop()
        with self.cluster(3) as c, Partition(c) as p:
            r1, r3 = c.r(1), c.r(3)
            r1.pfadd("u", *before)
            r1.pfadd("replaced", "x")
            harness.wait_until(lambda: c.r(3).pfcount("u") == r1.pfcount("u") > 0
                               and c.r(3).exists("replaced"), REPL_BOUND, interval=POLL,
                               what="the first PFADDs on node 3")
            p.isolate(3)
            self.assert_cut(c, 1, 3)
            for i in range(0, len(left), 100):  # several writes per side
                r1.pfadd("u", *left[i:i + 100])
                r3.pfadd("u", *right[i:i + 100])
            r1.pfadd("replaced", "y")
            r3.set("replaced", "plain")  # concurrent with node 1's PFADD
            p.heal_all()
            c.wait_healthy(HEAL_BOUND)

            def state(i):
                r = c.r(i)
                try:
                    replaced = r.get("replaced")
                except UnicodeDecodeError:  # an HLL
                    replaced = ("hll", r.pfcount("replaced"))
                return r.pfcount("u"), replaced
            try:
                harness.wait_until(lambda: state(1)[0] == want_count and
                                   all(state(i) == state(1) for i in (2, 3)),
                                   HEAL_BOUND, interval=POLL, what="merged HLLs")
            except TimeoutError:
                self.fail("want count %d; nodes have %r" % (
                    want_count, {i: state(i) for i in (1, 2, 3)}))
            # Whichever write is newer decides: the SET's string, or the
            # PFADD's HLL, which holds both its elements (nothing of an HLL
            # older than the SET survives it).
            self.assertIn(state(1)[1], ("plain", ("hll", 2)))
            for i in (1, 2, 3):  # the very registers Redis has
                self.assertEqual(c.r(i).execute_command("PFDEBUG", "GETREG", "u"), want_regs)
            c.r(2).pfadd("u", *later)
            harness.wait_until(lambda: all(c.r(i).pfcount("u") == want_later for i in (1, 2, 3)),
                               REPL_BOUND, interval=POLL, what="a PFADD after the merge")

    def test_lists_across_a_partition_and_a_blpop_woken_by_another_node(self):
        with self.cluster(3) as c, Partition(c) as p:
            r1, r3 = c.r(1), c.r(3)
            r1.rpush("l", "a", "b", "c")
            c.wait_converged(HEAL_BOUND)
            self.assertEqual(r3.lrange("l", 0, -1), ["a", "b", "c"])
            # A BLPOP on node 3, served by a push on node 1.
            b3 = c.node(3).new_client(timeout=10)
            b3.execute_command("CLIENT", "SETNAME", "blocked")
            import threading
            got = {}
            t = threading.Thread(target=lambda: got.setdefault(
                "v", b3.execute_command("BLPOP", "q", "8")))
            t.start()
            time.sleep(0.3)
            r1.rpush("q", "wake")
            t.join(10)
            self.assertEqual(list(got.get("v") or []), ["q", "wake"])
            b3.close()
            self.wait_equal_list(c, "q", [])
            p.isolate(3)
            self.assert_cut(c, 1, 3)
            r1.rpush("l", "x1", "x2")
            r1.lpop("l")                   # a, popped on node 1's side
            r3.rpush("l", "y1")
            r3.lset("l", 1, "B")           # b -> B on node 3's side
            self.assertEqual(r3.lrange("l", 0, -1), ["a", "B", "c", "y1"])
            p.heal_all()
            c.wait_healthy(HEAL_BOUND)
            snap_lists = {}
            deadline = time.monotonic() + HEAL_BOUND
            while time.monotonic() < deadline:
                snap_lists = {i: c.r(i).lrange("l", 0, -1) for i in (1, 2, 3)}
                if len(set(map(tuple, snap_lists.values()))) == 1 and len(snap_lists[1]) == 5:
                    break
                time.sleep(POLL)
            final = snap_lists[1]
            self.assertEqual(snap_lists[2], final, snap_lists)
            self.assertEqual(snap_lists[3], final, snap_lists)
            self.assertEqual(sorted(final), sorted(["B", "c", "x1", "x2", "y1"]), final)
            self.assertEqual(final[:2], ["B", "c"])
            self.assertLess(final.index("x1"), final.index("x2"))

    def test_collections_through_any_node_with_partial_placement(self):
        with self.cluster(4, threads=1, extra_args=["--replicas", "2"]) as c:
            keys = ["h%d" % i for i in range(12)]
            for n, k in enumerate(keys):
                r = c.r(1 + n % 4)
                r.hset(k, mapping={"a": n, "b": "x"})
                r.hincrby(k, "a", 1)
                r.sadd("s" + k, "m1", "m2")
                r.srem("s" + k, "m1")
                r.rpush("l" + k, "1", "2", "3")
                r.lpop("l" + k)
                r.zadd("z" + k, {"a": n, "b": 100})
                r.zincrby("z" + k, 0.5, "a")
                r.zrem("z" + k, "b")
            for i in (1, 2, 3, 4):
                for n, k in enumerate(keys):
                    self.assertEqual(c.r(i).hgetall(k), {"a": str(n + 1), "b": "x"}, (i, k))
                    self.assertEqual(c.r(i).smembers("s" + k), {"m2"}, (i, k))
                    self.assertEqual(c.r(i).lrange("l" + k, 0, -1), ["2", "3"], (i, k))
                    self.assertEqual(c.r(i).type("l" + k), "list")
                    self.assertEqual(c.r(i).zrange("z" + k, 0, -1, withscores=True),
                                     [("a", n + 0.5)], (i, k))
            # Multi-key across replica sets: refused as for strings.
            errors = 0
            for k1, k2 in zip(keys, keys[1:]):
                try:
                    c.r(1).sunion("s" + k1, "s" + k2)
                except redis.ResponseError as e:
                    self.assertIn("CROSSSLOT", str(e))
                    errors += 1
            self.assertGreater(errors, 0, "no pair of keys fell in different replica sets")
            # A blocking pop through a node that does not hold the key pops
            # when there is data, and otherwise says it cannot wait there.
            name1 = c.node(1).name
            far = next(k for k in ("q%d" % i for i in range(100))
                       if name1 not in str(c.r(1).execute_command("LATTICE", "WHERE", k)))
            c.r(2).rpush(far, "x")
            harness.wait_until(lambda: c.r(1).llen(far) == 1, REPL_BOUND, interval=POLL,
                               what="%s visible through node 1" % far)
            self.assertEqual(list(c.r(1).blpop([far], 1)), [far, "x"])
            with self.assertRaises(redis.ResponseError) as cm:
                c.r(1).blpop([far], 1)
            self.assertIn("cannot wait", str(cm.exception))

    def zread(self, c, i, key):
        return c.r(i).zrange(key, 0, -1, withscores=True)

    def wait_equal_zset(self, c, key, want=None):
        """Every running node holds the same (member, score) list for `key`
        (`want` when given); returns it."""
        nodes = c.running()

        def same():
            got = [self.zread(c, i, key) for i in nodes]
            return all(g == got[0] for g in got) and (want is None or got[0] == want)
        try:
            harness.wait_until(same, HEAL_BOUND, interval=POLL, what="%s converged" % key)
        except TimeoutError:
            self.fail("%s: want %r, nodes have %r"
                      % (key, want, {i: self.zread(c, i, key) for i in nodes}))
        return self.zread(c, nodes[0], key)

    def test_sorted_sets_across_a_partition_merge(self):
        with self.cluster(3) as c, Partition(c) as p:
            r1, r2, r3 = c.r(1), c.r(2), c.r(3)
            r1.zadd("z", {"a": 1, "b": 2, "c": 3, "n": 10})
            r1.zadd("emptied", {"m": 1})
            r1.zadd("pq", {"p1": 1, "p2": 2, "p4": 4})
            self.wait_equal_zset(c, "pq", [("p1", 1), ("p2", 2), ("p4", 4)])
            self.wait_equal_zset(c, "z", [("a", 1), ("b", 2), ("c", 3), ("n", 10)])
            self.wait_equal_zset(c, "emptied", [("m", 1)])
            p.isolate(3)
            self.assert_cut(c, 1, 3)
            # Side of nodes 1 and 2.
            r1.zrem("z", "a")
            r1.zadd("z", {"b": 20})
            r1.zadd("z", {"c": 8})
            self.assertEqual(r1.zincrby("z", 5, "n"), 15)
            r2.zincrby("z", 1, "n")
            r1.zadd("t", {"x": 1})
            r1.zrem("emptied", "m")
            self.assertEqual(r1.zpopmin("pq"), [("p1", 1)])
            self.assertEqual(r2.zremrangebyscore("pq", 4, 4), 1)
            # Node 3's side.
            r3.zrem("z", "b")             # concurrent with node 1's ZADD of b
            r3.zadd("z", {"c": 7})        # concurrent with node 1's ZADD of c
            self.assertEqual(r3.zincrby("z", 7, "n"), 17)
            r3.zadd("z", {"d": 4})
            r3.zadd("t", {"y": 2})
            r3.zadd("emptied", {"k": 2})  # concurrent with node 1's ZREM
            r3.zadd("pq", {"p3": 3})
            self.assertEqual(self.zread(c, 3, "z"), [("a", 1), ("d", 4), ("c", 7), ("n", 17)])
            p.heal_all()
            c.wait_healthy(HEAL_BOUND)
            z = self.wait_equal_zset(c, "z")
            scores = dict(z)
            self.assertEqual(sorted(scores), ["b", "c", "d", "n"], z)
            self.assertEqual(scores["b"], 20)
            self.assertIn(scores["c"], (7, 8))
            self.assertEqual(scores["d"], 4)
            self.assertEqual(scores["n"], 23)
            self.wait_equal_zset(c, "t", [("x", 1), ("y", 2)])
            self.wait_equal_zset(c, "emptied", [("k", 2)])
            self.wait_equal_zset(c, "pq", [("p2", 2), ("p3", 3)])
            # Order-statistics agree too once the contents do.
            for i in (1, 2, 3):
                self.assertEqual(c.r(i).zrank("z", "n"), 3)
                self.assertEqual(c.r(i).zrangebyscore("z", 5, 25), ["c", "b", "n"])
            c.wait_converged(HEAL_BOUND)

    def test_collection_ttls_replicate_and_expire_everywhere(self):
        with self.cluster(3) as c:
            r1, r3 = c.r(1), c.r(3)
            r1.hset("th", "f", "v")
            r1.sadd("ts", "m")
            r1.rpush("tl", "x")
            harness.wait_until(lambda: r3.exists("th", "ts", "tl") == 3, REPL_BOUND,
                               interval=POLL, what="keys on node 3")
            r1.pexpire("th", 100000)
            r3.pexpire("ts", 600)            # set on another node
            r1.expire("tl", 100000)
            harness.wait_until(lambda: r3.pttl("tl") > 0, REPL_BOUND, interval=POLL,
                               what="tl's TTL on node 3")
            self.assertEqual(r3.persist("tl"), 1)  # a later PERSIST elsewhere wins
            harness.wait_until(
                lambda: all(c.r(i).pttl("th") > 0 and c.r(i).pttl("tl") == -1 for i in (1, 2, 3)),
                REPL_BOUND, interval=POLL, what="TTLs everywhere")
            # The set expires on every node; writes made later start afresh.
            harness.wait_until(lambda: all(c.r(i).exists("ts") == 0 for i in (1, 2, 3)),
                               REPL_BOUND, interval=POLL, what="ts expired everywhere")
            r3.sadd("ts", "new")
            self.wait_equal(c, "ts", {"new"})
            for i in (1, 2, 3):
                self.assertEqual(c.r(i).pttl("ts"), -1)
            c.wait_converged(HEAL_BOUND)

    def test_a_change_overtaking_a_write_of_several_elements_keeps_its_other_elements(self):
        with self.cluster(3) as c, Partition(c) as p:
            r1, r2, r3 = c.r(1), c.r(2), c.r(3)
            p.cut(1, 3)
            self.assert_cut(c, 1, 3)
            r1.hset("h", mapping={"f1": "a", "f2": "b"})
            r1.sadd("s", "m1", "m2")
            r1.zadd("z", {"a": 1, "b": 2})
            r1.rpush("l", "a", "b")
            r1.xadd("x", {"f": "1"}, id="1-1")
            harness.wait_until(lambda: r2.exists("h", "s", "z", "l", "x") == 5, REPL_BOUND,
                               interval=POLL, what="node 2 has node 1's writes")
            # Node 2 changes one element of each write; node 3 hears it
            # before node 1's write (that link is cut).
            r2.hset("h", "f1", "x")
            r2.srem("s", "m1")
            r2.zadd("z", {"a": 5})
            self.assertEqual(r2.lpop("l"), "a")
            r2.xadd("x", {"f": "2"}, id="2-1")
            harness.wait_until(lambda: r3.hget("h", "f1") == "x" and r3.xlen("x") == 1,
                               REPL_BOUND, interval=POLL, what="node 3 has node 2's changes")
            p.heal_all()
            c.wait_healthy(HEAL_BOUND)
            want_x = [("1-1", {"f": "1"}), ("2-1", {"f": "2"})]

            def check():
                self.wait_equal(c, "h", {"f1": "x", "f2": "b"})
                self.wait_equal(c, "s", {"m2"})
                self.wait_equal_zset(c, "z", [("b", 2.0), ("a", 5.0)])
                self.wait_equal_list(c, "l", ["b"])
                harness.wait_until(lambda: all(c.r(i).xrange("x") == want_x for i in c.running()),
                                   REPL_BOUND, interval=POLL, what="x has both entries")
            check()
            c.wait_converged(HEAL_BOUND)
            for i in (1, 2, 3):
                for j in (1, 2, 3):
                    if i != j:
                        c.r(i).execute_command("LATTICE", "REPAIR", c.node(j).name)
            check()
            c.wait_converged(HEAL_BOUND)

    def wait_equal_list(self, c, key, want):
        harness.wait_until(lambda: all(c.r(i).lrange(key, 0, -1) == want for i in c.running()),
                           REPL_BOUND, interval=POLL, what="%s == %r" % (key, want))

    def test_writes_through_every_node_converge_and_repair_restores_a_cut_node(self):
        with self.cluster(3) as c, Partition(c) as p:
            expect = set()
            for n in range(300):
                i = 1 + n % 3
                c.r(i).sadd("big", "m%d" % n)
                expect.add("m%d" % n)
                if n % 7 == 0 and n > 0:
                    # Removed where it was added (a node that has not seen a
                    # member yet removes nothing).
                    self.assertEqual(c.r(1 + (n - 1) % 3).srem("big", "m%d" % (n - 1)), 1)
                    expect.discard("m%d" % (n - 1))
                c.r(i).hset("hh", "f%d" % (n % 40), n)
            self.wait_equal(c, "big", expect)
            snap = c.wait_converged(HEAL_BOUND)
            self.assertEqual(len(snap["big"][1]), len(expect))
            # Writes made while node 3 is cut off reach it by the stream
            # or, if it missed them, by Merkle repair.
            p.isolate(3)
            self.assert_cut(c, 1, 3)
            for n in range(300, 400):
                c.r(1).sadd("big", "m%d" % n)
                expect.add("m%d" % n)
            c.r(1).srem("big", "m0")
            expect.discard("m0")
            zexpect = {}
            for n in range(60):
                c.r(1).zadd("bigz", {"z%d" % n: n / 4})
                zexpect["z%d" % n] = n / 4
            for n in range(0, 60, 5):
                c.r(1).zincrby("bigz", 1.5, "z%d" % n)
                zexpect["z%d" % n] += 1.5
            p.heal_all()
            c.wait_healthy(HEAL_BOUND)
            c.r(3).execute_command("LATTICE", "REPAIR", c.node(1).name)
            self.wait_equal(c, "big", expect)
            self.wait_equal_zset(c, "bigz", sorted(zexpect.items(), key=lambda kv: (kv[1], kv[0])))
            c.wait_converged(HEAL_BOUND)


if __name__ == "__main__":
    harness.main()
