#!/usr/bin/python3
"""Causal consistency: a write is never visible before a write it depends on.

Scenario (run once with --consistency causal, once with the default,
eventual): the link node 1 <-> node 3 is cut (nftables). x=1 is written on
node 1 and waited for on node 2; then y=1 is written on node 2, so y
depends on x. Node 3 still hears node 2 but cannot hear node 1, and nodes do
not relay each other's writes, so x cannot reach node 3 until the link
heals.

Asserted:
- causal: for OBSERVE seconds node 3 never shows y without x (each poll
  reads y, then x, on one connection, so "y seen" implies "x was applied
  before"); node 3 did receive node 2's batch and held it back
  (lattice_causal_waits grows; a write node 2 made before x is visible);
  after healing, x and y are both visible on node 3 and all nodes converge;
- eventual: node 3 does show y while x is absent (deterministic: x cannot
  reach node 3 across the cut), which proves the causal check above can
  fail; after healing everything converges too.

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

REPL_BOUND = 5.0
HEAL_BOUND = 20.0
OBSERVE = 2.0


def read_y_then_x(r):
    """(y, x) read in that order on one connection."""
    pipe = r.pipeline(transaction=False)
    pipe.get("y")
    pipe.get("x")
    return tuple(pipe.execute())


class CausalTest(ClusterTestCase):
    def set_up_dependency(self, c, p):
        """Cuts 1<->3, writes x on node 1, waits for it on node 2, writes y
        on node 2. Returns the time y was written."""
        c.r(2).set("before", "1")     # proves 2 -> 3 works, x or no x
        c.wait_value("before", "1", timeout=REPL_BOUND)
        p.cut(1, 3)
        c.r(1).set("x", "1")
        c.wait_value("x", "1", timeout=REPL_BOUND, nodes=[2])
        c.r(2).set("y", "1")
        return time.monotonic()

    def test_causal_never_shows_an_effect_before_its_cause(self):
        """Causal mode: node 3 holds y back while it lacks x, shows
        neither during the cut, and both once the link heals."""
        with self.cluster(3, consistency="causal") as c, Partition(c) as p:
            for i in (1, 2, 3):
                self.assertEqual(c.node(i).info_replication()["lattice_consistency"], "causal")
            waits_before = c.node(3).info_replication()["lattice_causal_waits"]
            written = self.set_up_dependency(c, p)
            polls = 0
            while time.monotonic() < written + OBSERVE:
                y, x = read_y_then_x(c.r(3))
                polls += 1
                if y is not None:
                    self.assertEqual(x, "1", "node 3 shows y=%r without x after %.3fs"
                                     % (y, time.monotonic() - written))
                self.assertIsNone(x, "x crossed the cut 1-3")
                time.sleep(POLL / 5)
            sys.stdout.write("%d polls of node 3, never y without x\n" % polls)
            # Node 3 got node 2's batch and is holding it back for x.
            harness.wait_until(
                lambda: c.node(3).info_replication()["lattice_causal_waits"] > waits_before,
                REPL_BOUND, what="node 3 to count a causal wait")
            self.assertEqual(read_y_then_x(c.r(3)), (None, None))
            p.heal_all()
            c.wait_value("y", "1", timeout=HEAL_BOUND, nodes=[3])
            self.assertEqual(read_y_then_x(c.r(3)), ("1", "1"))
            c.wait_converged(HEAL_BOUND)

    def test_eventual_shows_the_effect_without_its_cause(self):
        """The contrast: without causal delivery node 3 applies y at once,
        although it cannot have x."""
        with self.cluster(3) as c, Partition(c) as p:
            self.assertEqual(c.node(3).info_replication()["lattice_consistency"], "eventual")
            written = self.set_up_dependency(c, p)
            seen = harness.wait_until(lambda: read_y_then_x(c.r(3)) == ("1", None),
                                      REPL_BOUND, interval=POLL / 5,
                                      what="node 3 to show y without x")
            sys.stdout.write("node 3 showed y without x %.3fs after the write\n"
                             % (time.monotonic() - written))
            self.assertTrue(seen)
            self.assertEqual(c.node(3).info_replication()["lattice_causal_waits"], 0)
            p.heal_all()
            c.wait_value("x", "1", timeout=HEAL_BOUND, nodes=[3])
            self.assertEqual(read_y_then_x(c.r(3)), ("1", "1"))
            c.wait_converged(HEAL_BOUND)


if __name__ == "__main__":
    harness.main()
