#!/usr/bin/python3
"""Merge rules across a network partition (nftables drops the peer traffic
between two nodes; see cluster.py). Every scenario first checks that the
partition is real: a write on one side is not visible on the other while
the link is cut.

Asserted:
- counters: INCRs made on all three nodes while node 3 is cut off from
  both others (long enough for each side to declare the other dead) are
  all kept: after healing every member is alive again and every node reads
  the exact sum;
- deletes are not resurrected: SET k everywhere, cut node 3 off, DEL k on
  node 1, other writes on both sides, heal: k is absent on every node and
  stays absent for OBSERVE seconds;
- a write survives a delete that had not seen it: SET k v1 everywhere,
  isolate node 1, DEL k there, SET k v2 on node 2, heal: k == v2 on all;
- a SET on one side against INCRs on the other side: the SET's new base
  wins over the increments made concurrently on the base it replaced, and
  the increments made after it on its own base count (docs/consistency.md,
  SetWinsOverIncrementsOnAnOlderBase), so every node reads SET + those;
- three reductions of divergences found by cluster_convergence_test.py: an
  INCR relayed before the assignment that set its base keeps the key's TTL;
  a DEL spares a write it never saw even when another node's INCR carried a
  later stamp of the writer; a local DEL keeps an older write it never saw
  dead on the deleting node too (as on the others).

Needs root (nftables); without it the tests fail with the reason.
Environment: LATTICE_SERVER (see harness.py).
"""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from cluster import ClusterTestCase, Partition, POLL  # noqa: E402

REPL_BOUND = 5.0      # a write reaches a connected node within this
HEAL_BOUND = 20.0     # after healing, nodes converge within this
OBSERVE = 2.0         # seconds a "stays absent / stays hidden" check watches
CANARY_WAIT = 1.0     # seconds a canary write must stay invisible across a cut
MEMBERSHIP_BOUND = 15.0  # seconds for suspect -> dead or dead -> alive
SCENARIO_BOUND = 8.0     # healing takes about a second; keeps failures short


class PartitionTest(ClusterTestCase):
    def assert_not_across(self, c, key, value, writer, readers, wait=CANARY_WAIT):
        """Writes key=value on node `writer`, waits until the other nodes on
        its side have it, and checks that `readers` (across the cut) do not
        see it for `wait` seconds: the partition is real."""
        c.r(writer).set(key, value)
        same_side = [i for i in c.running() if i != writer and i not in readers]
        if same_side:
            c.wait_value(key, value, timeout=REPL_BOUND, nodes=same_side)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            for i in readers:
                self.assertNotEqual(c.r(i).get(key), value,
                                    "%s crossed the partition to node%d" % (key, i))
            time.sleep(POLL)

    def test_counters_sum_across_a_partition(self):
        """INCR on all three nodes while node 3 is cut from 1 and 2: each
        side sees only its own increments during the cut; the cut lasts
        until both sides see each other `dead`; after healing all members
        are alive again and every node reads the exact total."""
        with self.cluster(3) as c, Partition(c) as p:
            for i in (1, 2, 3):
                c.r(i).incrby("ctr", i)         # 6 before the cut
            c.wait_value("ctr", "6", timeout=REPL_BOUND)
            p.isolate(3)
            self.assert_not_across(c, "canary", "1", writer=1, readers=[3])
            counts = {1: 40, 2: 25, 3: 33}
            for i, n in counts.items():
                for _ in range(n):
                    c.r(i).incr("ctr")
            c.r(3).decrby("ctr", 7)
            majority = 6 + counts[1] + counts[2]
            minority = 6 + counts[3] - 7
            c.wait_value("ctr", str(majority), timeout=REPL_BOUND, nodes=[1, 2])
            self.assertEqual(c.r(3).get("ctr"), str(minority))
            # Hold the cut until each side has declared the other dead, so
            # healing also exercises a dead member coming back.
            for observer, target in ((1, 3), (2, 3), (3, 1), (3, 2)):
                c.wait_member_state(observer, target, "dead", MEMBERSHIP_BOUND)
            self.assertEqual(c.r(3).get("ctr"), str(minority))
            p.heal_all()
            c.wait_healthy(MEMBERSHIP_BOUND)
            total = 6 + sum(counts.values()) - 7
            c.wait_value("ctr", str(total), timeout=HEAL_BOUND)
            snap = c.wait_converged(HEAL_BOUND)
            self.assertEqual(snap["ctr"][1], str(total))
            self.assertEqual(snap["canary"][1], "1")

    def test_delete_is_not_resurrected(self):
        """SET k on node 1, replicated; isolate node 3; DEL k on node 1;
        other writes on both sides (node 3 still reads k meanwhile); heal:
        k is absent on every node and stays absent; the other writes all
        arrive."""
        with self.cluster(3) as c, Partition(c) as p:
            c.r(1).set("k", "v")
            c.wait_value("k", "v", timeout=REPL_BOUND)
            p.isolate(3)
            self.assert_not_across(c, "canary", "1", writer=1, readers=[3])
            self.assertEqual(c.r(1).delete("k"), 1)
            c.wait_value("k", None, timeout=REPL_BOUND, nodes=[2])
            for n in range(20):
                c.r(1 + n % 2).set("side12:%d" % n, n)
                c.r(3).set("side3:%d" % n, n)
            c.r(3).incr("other")
            self.assertEqual(c.r(3).get("k"), "v")   # node 3 has not heard of the DEL
            p.heal_all()
            snap = c.wait_converged(HEAL_BOUND)
            self.assertNotIn("k", snap)
            for n in range(20):
                self.assertEqual(snap["side12:%d" % n][1], str(n))
                self.assertEqual(snap["side3:%d" % n][1], str(n))
            self.assertEqual(snap["other"][1], "1")
            deadline = time.monotonic() + OBSERVE
            while time.monotonic() < deadline:
                for i in (1, 2, 3):
                    self.assertIsNone(c.r(i).get("k"), "k came back on node%d" % i)
                time.sleep(POLL * 2)
            self.assertEqual(c.wait_converged(HEAL_BOUND), snap)

    def test_concurrent_write_survives_unseen_delete(self):
        """SET k v1 everywhere; isolate node 1; DEL k on node 1; SET k v2
        on node 2 (reaches node 3); heal: every node reads v2, because the
        delete only kills the writes node 1 had seen."""
        with self.cluster(3) as c, Partition(c) as p:
            c.r(1).set("k", "v1")
            c.wait_value("k", "v1", timeout=REPL_BOUND)
            p.isolate(1)
            self.assert_not_across(c, "canary", "1", writer=2, readers=[1])
            self.assertEqual(c.r(1).delete("k"), 1)
            c.r(2).set("k", "v2")
            c.wait_value("k", "v2", timeout=REPL_BOUND, nodes=[3])
            self.assertIsNone(c.r(1).get("k"))
            p.heal_all()
            c.wait_value("k", "v2", timeout=HEAL_BOUND)
            snap = c.wait_converged(HEAL_BOUND)
            self.assertEqual(snap["k"][:2], ("string", "v2"))

    def test_set_against_concurrent_incrs_converges(self):
        """A counter at 3 everywhere; isolate node 3; SET k 100 on node 3
        and INCRs on nodes 1 and 2 (and INCRBY 2 on node 3 after its SET);
        heal: the SET started a newer base, so the increments nodes 1 and 2
        made on the old base are dropped and node 3's count: every node
        reads 102; one INCR per node afterwards adds exactly 3 everywhere."""
        with self.cluster(3) as c, Partition(c) as p:
            for i in (1, 2, 3):
                c.r(i).incr("k")
            c.wait_value("k", "3", timeout=REPL_BOUND)
            p.isolate(3)
            self.assert_not_across(c, "canary", "1", writer=3, readers=[1, 2])
            c.r(3).set("k", "100")
            for _ in range(5):
                c.r(1).incr("k")
                c.r(2).incrby("k", 10)
            c.r(3).incrby("k", 2)
            c.wait_value("k", "58", timeout=REPL_BOUND, nodes=[1, 2])
            self.assertEqual(c.r(3).get("k"), "102")
            p.heal_all()
            snap = c.wait_converged(HEAL_BOUND)
            self.assertEqual(snap["k"][:2], ("string", "102"),
                             "the SET's base must win over the concurrent INCRs on the old one")
            # The merged key is still one counter: an INCR on each node adds 3.
            for i in (1, 2, 3):
                c.r(i).incr("k")
            self.assertEqual(c.wait_converged(HEAL_BOUND)["k"][1], "105")
    # The three scenarios below are deterministic reductions of divergences
    # the randomized convergence test found (cluster_convergence_test.py).

    def test_counter_increment_keeps_the_ttl_of_its_base(self):
        """Cut 1<->2; SET k 10 EX 3600 on node 1 (reaches node 3 only); INCR
        on node 3, so node 2 learns the counter base from node 3's increment
        before node 1's assignment reaches it; heal: all nodes converge, k
        reads 11 with the same absolute expiry everywhere."""
        with self.cluster(3) as c, Partition(c) as p:
            p.cut(1, 2)
            c.r(1).set("k", "10", ex=3600)
            c.wait_value("k", "10", timeout=REPL_BOUND, nodes=[3])
            self.assertIsNone(c.r(2).get("k"), "SET k crossed the cut 1-2")
            self.assertEqual(c.r(3).incr("k"), 11)
            c.wait_value("k", "11", timeout=REPL_BOUND, nodes=[2])
            p.heal_all()
            snap = c.wait_converged(SCENARIO_BOUND)
            self.assertEqual(snap["k"][1], "11")
            self.assertGreater(snap["k"][2], time.time() * 1000, "the TTL was lost")

    def test_delete_spares_a_write_it_never_saw(self):
        """SET x v0 everywhere; cut 1<->2; SET x v1 and SET c 10 on node 1
        (both reach node 3, not node 2); INCR c on node 3 (reaches node 2);
        DEL x on node 2, which never saw v1; heal: v1 was concurrent with the
        delete, so x == v1 on all nodes (the increment relayed a stamp of
        node 1, but node 2 still had not seen v1)."""
        with self.cluster(3) as c, Partition(c) as p:
            c.r(1).set("x", "v0")
            c.wait_value("x", "v0", timeout=REPL_BOUND)
            p.cut(1, 2)
            c.r(1).set("x", "v1")
            c.r(1).set("c", "10")
            c.wait_value("c", "10", timeout=REPL_BOUND, nodes=[3])
            c.wait_value("x", "v1", timeout=REPL_BOUND, nodes=[3])
            c.r(3).incr("c")
            c.wait_value("c", "11", timeout=REPL_BOUND, nodes=[2])
            self.assertEqual(c.r(2).get("x"), "v0")   # node 2 has not seen v1
            self.assertEqual(c.r(2).delete("x"), 1)
            p.heal_all()
            c.wait_value("x", "v1", timeout=SCENARIO_BOUND)
            snap = c.wait_converged(SCENARIO_BOUND)
            self.assertEqual(snap["x"][1], "v1")

    def test_local_delete_keeps_an_older_unseen_write_dead(self):
        """A write of node 1 reaches node 2 (node 2's clock catches up with
        node 1's: clocks start at each node's start time, so they differ by
        thousands before they meet); isolate node 1; SET k b there; node 2
        writes 50 other keys (its clock moves ahead of node 1's), SET k e,
        then DEL k (so the delete saw e but not b, and e's stamp is greater
        than b's);
        heal: all nodes converge and k is absent everywhere, because b lost
        to e, which the delete killed (docs/consistency.md,
        UnseenWriteBelowAKilledOneStaysDead) -- on the deleting node too."""
        with self.cluster(3) as c, Partition(c) as p:
            c.r(1).set("clock-sync", "1")
            c.wait_value("clock-sync", "1", timeout=REPL_BOUND, nodes=[2])
            p.isolate(1)
            self.assert_not_across(c, "canary", "1", writer=2, readers=[1])
            c.r(1).set("k", "b")
            for n in range(50):
                c.r(2).set("filler:%d" % n, n)
            c.r(2).set("k", "e")
            c.wait_value("k", "e", timeout=REPL_BOUND, nodes=[3])
            self.assertEqual(c.r(2).delete("k"), 1)
            c.wait_value("k", None, timeout=REPL_BOUND, nodes=[3])
            self.assertEqual(c.r(1).get("k"), "b")
            p.heal_all()
            snap = c.wait_converged(SCENARIO_BOUND)
            self.assertNotIn("k", snap)

if __name__ == "__main__":
    harness.main()
