#!/usr/bin/python3
"""Tombstone collection by causal stability.

Asserted, on 3 nodes:
- deletes leave tombstones (INFO stats lattice_tombstones) that every node
  drops once every member has seen past them, within seconds;
- a member that is down holds collection back (its view cannot be known):
  tombstones stay while it is dead, and go once LATTICE FORGET removes it;
  restarted, it rejoins empty and never shows the deleted keys;
- a deleted key never comes back: a node isolated during the delete keeps
  the key (and holds collection back) until the partition heals; then it
  deletes it, tombstones are collected, and neither a restart of another
  node (snapshots) nor anti-entropy rounds bring the key back.

Environment: LATTICE_SERVER (see harness.py).
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from cluster import ClusterTestCase, Partition  # noqa: E402

BOUND = 20.0
# Negative checks ("the tombstone stays while a member is missing") watch
# for this long, checking all the time: collection normally happens within
# a second or two of the last member seeing a delete, so three seconds
# without it means it is being held back.
HOLD_WINDOW = 3.0


def tombstones(c, i):
    return int(c.r(i).info("stats")["lattice_tombstones"])


def wait_tombstones(c, nodes, want, timeout=BOUND):
    harness.wait_until(lambda: all(tombstones(c, i) == want for i in nodes), timeout,
                       what="lattice_tombstones == %d on nodes %s" % (want, nodes))


class TombstoneTest(ClusterTestCase):
    def test_collected_once_every_member_saw_them(self):
        with self.cluster(3) as c:
            for n in range(50):
                c.r(1).set("k%d" % n, n)
            c.wait_value("k49", "49", nodes=[2, 3])
            for n in range(50):
                self.assertEqual(c.r(2).delete("k%d" % n), 1)
            c.wait_value("k49", None, nodes=[1, 3])
            wait_tombstones(c, [1, 2, 3], 0)
            for i in (1, 2, 3):
                self.assertEqual(c.r(i).exists(*["k%d" % n for n in range(50)]), 0)
                self.assertGreaterEqual(
                    int(c.r(i).info("replication")["lattice_tombstones_collected"]), 50)

    def test_dead_member_holds_collection_back_until_forgotten(self):
        with self.cluster(3) as c:
            c.r(1).set("gone", "x")
            c.wait_value("gone", "x", nodes=[2, 3])
            c.kill(3)
            self.assertEqual(c.r(1).delete("gone"), 1)
            c.wait_value("gone", None, nodes=[2])
            harness.wait_until(lambda: tombstones(c, 1) == 1 and tombstones(c, 2) == 1, BOUND,
                               what="the delete's tombstone on nodes 1 and 2")
            harness.hold_for(lambda: tombstones(c, 1) == 1 and tombstones(c, 2) == 1,
                             HOLD_WINDOW, what="the tombstone held back by dead node 3")
            self.assertEqual(c.r(1).execute_command("LATTICE", "FORGET", "node3"), "OK")
            wait_tombstones(c, [1, 2], 0)
            c.restart(3)
            c.wait_member_state(1, 3, ["alive"], BOUND)
            c.r(1).set("after", "1")
            c.wait_value("after", "1", nodes=[3])
            self.assertIsNone(c.r(3).get("gone"))

    def test_deleted_key_never_comes_back(self):
        with self.cluster(3) as c, Partition(c) as p:
            c.r(1).set("k", "v")
            c.wait_value("k", "v", nodes=[2, 3])
            p.isolate(3)
            self.assertEqual(c.r(1).delete("k"), 1)
            c.wait_value("k", None, nodes=[2])
            harness.wait_until(lambda: tombstones(c, 1) == 1, BOUND,
                               what="the delete's tombstone on node 1")
            # Node 3 has not seen the delete: it still shows k, and holds
            # collection back on the others, for as long as we watch.
            harness.hold_for(lambda: c.r(3).get("k") == "v" and tombstones(c, 1) == 1
                             and tombstones(c, 2) == 1, HOLD_WINDOW,
                             what="k on isolated node 3 and the tombstones on nodes 1 and 2")
            p.heal_all()
            c.wait_value("k", None, timeout=BOUND, nodes=[3])
            wait_tombstones(c, [1, 2, 3], 0)
            c.kill(2)
            c.restart(2)
            c.wait_member_state(1, 2, ["alive"], BOUND)
            c.r(1).set("probe", "1")
            c.wait_value("probe", "1", nodes=[2, 3])
            for peer in ("node2", "node3"):
                c.r(1).execute_command("LATTICE", "REPAIR", peer)
            c.r(3).execute_command("LATTICE", "REPAIR", "node2")
            for i in (1, 2, 3):
                self.assertIsNone(c.r(i).get("k"), "k came back on node %d" % i)


if __name__ == "__main__":
    harness.main()
