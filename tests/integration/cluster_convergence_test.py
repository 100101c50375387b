#!/usr/bin/python3
"""Randomized concurrent writes on a 3-node cluster, with a partition in the
middle, must converge.

Three client threads, one per node, each run a seeded random stream of
writes (SET, SET EX, SETNX, DEL, GETDEL, INCRBY, DECRBY, INCRBYFLOAT,
APPEND, EXPIRE with a long TTL, PERSIST) over KEYS general keys, plus
INCRBY/DECRBY only over COUNTERS keys of their own namespace (`ctr:`),
which nothing else ever touches. The streams are paced to last about
WRITE_SECONDS; when half of all operations are done the link between
node 1 and node 2 is cut (node 3 still talks to both), the writers keep
going, and the link is healed once they are done.

Asserted:
- no write fails other than with the error Redis gives for it (INCRBY on a
  non-integer, INCRBYFLOAT on a non-number);
- the partition is real: during the cut a write on node 1 reaches node 3
  but not node 2;
- after healing, all three nodes converge: no unacknowledged deltas and
  identical snapshots (every key with its type, value and absolute expiry,
  PEXPIRETIME);
- every `ctr:` key reads exactly the sum of the increments that were
  acknowledged on all nodes (a key incremented to 0 reads "0", a key never
  touched does not exist);
- all members are alive and connected again;
- the state the merges left behind takes new writes as it should: after
  convergence every node has seen every write, so one more round of writes
  (a SET or a DEL per general key, an INCRBY 1 per counter, spread over the
  three nodes) is causally last and must win everywhere: each key reads its
  last write (no TTL, absent after the DEL) and each counter its sum + 1.
  A tombstone or counter base that wrongly outranks later writes fails
  here.

Operations are bounded in count (OPS_PER_THREAD) and time (WRITE_DEADLINE).
On a failure the operations on the differing keys are printed, in order,
with the node, time and reply.

Environment: LATTICE_SERVER (see harness.py); LATTICE_SEED to repeat a run
(the seed is printed); LATTICE_OPS to restrict the operation mix, e.g.
LATTICE_OPS=set,incrby,append.
"""

import os
import random
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import redis  # noqa: E402
from cluster import ClusterTestCase, NotConverged, Partition, seed_from_env, POLL  # noqa: E402

KEYS = 80            # general keys k:0 .. k:79
COUNTERS = 20        # pure counters ctr:0 .. ctr:19
OPS_PER_THREAD = 1200
WRITE_SECONDS = 6.0  # pacing: the streams spread over about this long
WRITE_DEADLINE = 20.0  # hard bound on the write phase
CONVERGE_BOUND = 20.0
REPL_BOUND = 5.0

# Operation kinds on the general keys (a kind listed twice is drawn twice
# as often). LATTICE_OPS=set,del,... restricts the mix, to narrow a failure
# down to the operations that cause it.
ALL_OPS = ("set", "set", "setex", "setnx", "del", "getdel", "incrby", "incrby", "decrby",
           "incrbyfloat", "append", "expire", "persist")
OPS = tuple(k for k in ALL_OPS if not os.environ.get("LATTICE_OPS")
            or k in os.environ["LATTICE_OPS"].split(","))

# Errors a well-behaved server gives for these random operations.
EXPECTED_ERRORS = ("value is not an integer", "value is not a valid float",
                   "increment or decrement would overflow")


class Writer(threading.Thread):
    """One node's random write stream."""

    def __init__(self, node, client, seed, progress):
        super().__init__(name="writer-node%d" % node, daemon=True)
        self.node = node
        self.client = client
        self.rng = random.Random(seed)
        self.progress = progress     # shared list, index node-1: ops done
        self.counter_sums = {}       # ctr key -> acknowledged increments
        self.expected_errors = 0
        self.failures = []           # unexpected exceptions (with the op)
        self.history = []            # (time, node, op, reply or error), for failure reports
        self.stop = threading.Event()

    def run(self):
        started = time.monotonic()
        interval = WRITE_SECONDS / OPS_PER_THREAD
        for n in range(OPS_PER_THREAD):
            if self.stop.is_set() or time.monotonic() - started > WRITE_DEADLINE:
                break
            # Pacing, so that the partition in the middle lasts seconds.
            ahead = started + n * interval - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
            op = self.one_op()
            t = time.monotonic()
            try:
                reply = self.apply(op)
            except redis.ResponseError as e:
                reply = e
                if op[0] != "ctr" and any(s in str(e) for s in EXPECTED_ERRORS):
                    self.expected_errors += 1
                else:
                    self.failures.append((op, repr(e)))
            except Exception as e:  # connection errors, timeouts: fail the test
                reply = e
                self.failures.append((op, repr(e)))
                if len(self.failures) > 20:
                    break
            finally:
                self.history.append((t, self.node, op, reply))
            self.progress[self.node - 1] = n + 1

    def one_op(self):
        rng = self.rng
        if rng.random() < 0.3:
            return ("ctr", "ctr:%d" % rng.randrange(COUNTERS), rng.randint(-5, 10))
        key = "k:%d" % rng.randrange(KEYS)
        kind = rng.choice(OPS)
        if kind in ("set", "setex", "setnx"):
            value = rng.choice((str(rng.randint(-1000, 1000)),
                                "v%d-%d" % (self.node, rng.randrange(10 ** 6))))
            if kind == "setex":
                return (kind, key, value, rng.randint(3600, 7200))
            return (kind, key, value)
        if kind in ("incrby", "decrby"):
            return (kind, key, rng.randint(1, 100))
        if kind == "incrbyfloat":
            return (kind, key, rng.choice(("0.5", "1.25", "-2.75")))
        if kind == "append":
            return (kind, key, rng.choice("abcxyz") * rng.randint(1, 3))
        if kind == "expire":
            return (kind, key, rng.randint(3600, 7200))
        return (kind, key)

    def apply(self, op):
        r = self.client
        kind, key = op[0], op[1]
        if kind == "ctr":
            reply = r.incrby(key, op[2])   # raises unless acknowledged
            self.counter_sums[key] = self.counter_sums.get(key, 0) + op[2]
            return reply
        if kind == "set":
            return r.set(key, op[2])
        if kind == "setex":
            return r.set(key, op[2], ex=op[3])
        if kind == "setnx":
            return r.setnx(key, op[2])
        if kind == "del":
            return r.delete(key)
        if kind == "getdel":
            return r.execute_command("GETDEL", key)
        if kind == "incrby":
            return r.incrby(key, op[2])
        if kind == "decrby":
            return r.decrby(key, op[2])
        if kind == "incrbyfloat":
            return r.incrbyfloat(key, op[2])
        if kind == "append":
            return r.append(key, op[2])
        if kind == "expire":
            return r.expire(key, op[2])
        if kind == "persist":
            return r.persist(key)
        raise AssertionError("unknown op %r" % (op,))


class ConvergenceTest(ClusterTestCase):
    def test_random_writes_with_partition_converge(self):
        seed = seed_from_env()
        with self.cluster(3) as c, Partition(c) as p:
            progress = [0, 0, 0]
            writers = [Writer(i, c.node(i).new_client(), seed * 10 + i, progress)
                       for i in (1, 2, 3)]
            total = OPS_PER_THREAD * len(writers)
            cut_at = heal_at = None
            started = time.monotonic()
            try:
                for w in writers:
                    w.start()
                harness.wait_until(lambda: sum(progress) >= total // 2
                                   or not any(w.is_alive() for w in writers),
                                   WRITE_DEADLINE, interval=POLL, what="half of the writes")
                p.cut(1, 2)
                cut_at = time.monotonic() - started
                # The cut is real: node 1 -> node 3 works, node 1 -> node 2 not.
                c.r(1).set("canary", "during-cut")
                c.wait_value("canary", "during-cut", timeout=REPL_BOUND, nodes=[3])
                self.assertIsNone(c.r(2).get("canary"), "a write crossed the cut 1-2")
                for w in writers:
                    w.join(timeout=max(0.1, started + WRITE_DEADLINE + 5 - time.monotonic()))
                self.assertIsNone(c.r(2).get("canary"), "a write crossed the cut 1-2")
                p.heal(1, 2)
                heal_at = time.monotonic() - started
            finally:
                for w in writers:
                    w.stop.set()
                for w in writers:
                    w.join(timeout=10)
            self.assertFalse(any(w.is_alive() for w in writers), "a writer hangs")
            sys.stdout.write("ops per node %s (%d expected errors); cut 1-2 at %.1fs, "
                             "healed at %.1fs\n"
                             % (progress, sum(w.expected_errors for w in writers),
                                cut_at or -1, heal_at or -1))
            failures = [(w.name, f) for w in writers for f in w.failures]
            self.assertEqual(failures, [], "writes failed (seed %d)" % seed)
            self.assertEqual(sum(progress), total, "writers did not finish in time")

            healed = time.monotonic()
            try:
                snap = c.wait_converged(CONVERGE_BOUND)
            except NotConverged as e:
                raise AssertionError("%s\n(seed %d) histories of differing keys:\n%s"
                                     % (e, seed, self.histories(writers, e.differing[:5],
                                                                started, cut_at, heal_at)))
            sys.stdout.write("converged %.1fs after healing: %d keys\n"
                             % (time.monotonic() - healed, len(snap)))

            expected = {}
            for w in writers:
                for k, v in w.counter_sums.items():
                    expected[k] = expected.get(k, 0) + v
            got = {k: v[1] for k, v in snap.items() if k.startswith("ctr:")}
            self.assertEqual(got, {k: str(v) for k, v in expected.items()},
                             "pure counters differ from the acknowledged sums (seed %d)" % seed)
            for k, (t, v, exp) in snap.items():
                self.assertEqual(t, "string", k)
                if k.startswith("ctr:"):
                    self.assertEqual(exp, -1, "counter %s has a TTL" % k)
                else:
                    self.assertTrue(exp == -1 or exp > time.time() * 1000 + 3000 * 1000,
                                    "%s: unexpected expiry %r" % (k, exp))
            self.assertEqual(snap["canary"][1], "during-cut")
            c.wait_healthy(REPL_BOUND)

            # One causally last write per key, through every node in turn.
            last = {}
            for n in range(KEYS):
                key, node = "k:%d" % n, 1 + n % 3
                if n % 5 == 0:
                    c.r(node).delete(key)
                else:
                    last[key] = "last-%d-%d" % (node, n)
                    self.assertTrue(c.r(node).set(key, last[key]))
            for n in range(COUNTERS):
                key = "ctr:%d" % n
                self.assertEqual(c.r(1 + n % 3).incrby(key, 1), expected.get(key, 0) + 1)
                last[key] = str(expected.get(key, 0) + 1)
            last["canary"] = "during-cut"
            final = c.wait_converged(CONVERGE_BOUND)
            self.assertEqual({k: v[1] for k, v in final.items()}, last,
                             "the last writes did not win everywhere (seed %d)" % seed)
            self.assertEqual({k for k, v in final.items() if v[2] != -1}, set(),
                             "keys with a TTL after a plain SET")

    @staticmethod
    def histories(writers, keys, started, cut_at, heal_at):
        """Every operation on `keys`, in client-side start order, with the
        node, the time since the start and the reply (or error)."""
        entries = sorted((e for w in writers for e in w.history if e[2][1] in keys),
                         key=lambda e: e[0])
        lines = ["  (cut 1-2 at %.3fs, healed at %.3fs)" % (cut_at or -1, heal_at or -1)]
        for t, node, op, reply in entries:
            lines.append("  %8.3fs node%d %-40s -> %r" % (t - started, node, " ".join(
                str(x) for x in op), reply))
        return "\n".join(lines)


if __name__ == "__main__":
    harness.main()
