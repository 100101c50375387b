#!/usr/bin/python3
"""A node killed with SIGKILL and restarted with the same directory and node
id gets back every write that originated on the other nodes.

Scenario: 3 nodes. BATCH keys are written through nodes 1 and 2 (half
each) and acknowledged by both peers (WAIT); node 3 is killed with SIGKILL;
BATCH more keys are written through nodes 1 and 2, some of the first keys
are overwritten and some counters incremented on both; node 3 is restarted.
Only nodes 1 and 2 are written to: writes that originated on the killed
node itself come back only with anti-entropy, which is not under test here.

Asserted:
- nodes 1 and 2 see node 3 leave the alive state after the kill;
- after the restart node 3 eventually holds exactly the expected keyspace:
  all 2 * BATCH keys with their latest values, and the counters with the
  sum of both nodes' increments;
- LATTICE NODES on node 1 (and 2) shows node 3 alive again, with a higher
  incarnation than before the kill, connected;
- all three nodes converge, and a write on the restarted node replicates.

Environment: LATTICE_SERVER (see harness.py).
"""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from cluster import ClusterTestCase, POLL  # noqa: E402

BATCH = 2000
OVERWRITTEN = 300      # keys of the first batch rewritten while node 3 is down
COUNTERS = 50
REPL_BOUND = 10.0
RECOVERY_BOUND = 30.0
MEMBERSHIP_BOUND = 15.0


def write_keys(r, items):
    """SETs `items` ({key: value}) through one pipeline per 500 keys."""
    items = list(items.items())
    for k in range(0, len(items), 500):
        pipe = r.pipeline(transaction=False)
        for key, value in items[k:k + 500]:
            pipe.set(key, value)
        assert all(pipe.execute()), "a SET failed"


class RestartTest(ClusterTestCase):
    def test_killed_node_recovers_writes_of_the_others(self):
        """SIGKILL node 3 between two batches written through nodes 1
        and 2; after its restart it holds both batches, the overwrites and
        the counter sums, and is an alive member again."""
        with self.cluster(3) as c:
            expected = {}
            first = {"key:%05d" % n: "a-%d" % n for n in range(BATCH)}
            for writer in (1, 2):
                part = {k: v for n, (k, v) in enumerate(first.items()) if n % 2 == writer - 1}
                write_keys(c.r(writer), part)
                self.assertEqual(c.r(writer).execute_command("WAIT", 2, 5000), 2)
            expected.update(first)
            for n in range(COUNTERS):
                c.r(1).incrby("ctr:%d" % n, n)
            self.assertEqual(c.r(1).execute_command("WAIT", 2, 5000), 2)
            self.assertEqual(c.r(3).dbsize(), BATCH + COUNTERS)
            incarnation = c.members(1)["node3"].incarnation

            c.kill(3)
            killed = time.monotonic()
            second = {"key:%05d" % n: "b-%d" % n for n in range(BATCH, 2 * BATCH)}
            for writer in (1, 2):
                part = {k: v for n, (k, v) in enumerate(second.items()) if n % 2 == writer - 1}
                write_keys(c.r(writer), part)
            expected.update(second)
            rewrite = {"key:%05d" % n: "c-%d" % n for n in range(0, BATCH, BATCH // OVERWRITTEN)}
            write_keys(c.r(2), rewrite)
            expected.update(rewrite)
            for n in range(COUNTERS):
                c.r(1).incr("ctr:%d" % n)
                c.r(2).incrby("ctr:%d" % n, 100)
                expected["ctr:%d" % n] = str(n + 1 + 100)
            # Nodes 1 and 2 agree meanwhile.
            c.wait_converged(REPL_BOUND, nodes=[1, 2])
            for i in (1, 2):
                c.wait_member_state(i, 3, ("suspect", "dead"), MEMBERSHIP_BOUND)
            sys.stdout.write("node 3 down for %.1fs\n" % (time.monotonic() - killed))

            restarted = time.monotonic()
            c.restart(3)
            keys = sorted(expected)
            want = [expected[k] for k in keys]

            def recovered():
                return c.r(3).dbsize() == len(expected) and c.values(3, keys) == want
            try:
                harness.wait_until(recovered, RECOVERY_BOUND, interval=POLL * 2,
                                   what="node 3 to hold every key")
            except TimeoutError as e:
                got = dict(zip(keys, c.values(3, keys)))
                wrong = [k for k in keys if got[k] != expected[k]]
                self.fail("%s: dbsize %d, expected %d; %d wrong or missing, e.g. %s"
                          % (e, c.r(3).dbsize(), len(expected), len(wrong),
                             [(k, got[k], expected[k]) for k in wrong[:10]]))
            sys.stdout.write("node 3 recovered %d keys %.1fs after its restart\n"
                             % (len(expected), time.monotonic() - restarted))

            for i in (1, 2):
                m = c.wait_member_state(i, 3, "alive", MEMBERSHIP_BOUND)
                self.assertGreater(m.incarnation, incarnation, m)
            c.wait_healthy(MEMBERSHIP_BOUND)
            m = c.members(1)["node3"]
            self.assertEqual((m.state, m.connected), ("alive", True), m)

            snap = c.wait_converged(RECOVERY_BOUND)
            self.assertEqual({k: v[1] for k, v in snap.items()}, expected)
            c.r(3).set("from-3", "after-restart")
            c.wait_value("from-3", "after-restart", timeout=REPL_BOUND)


if __name__ == "__main__":
    harness.main()
