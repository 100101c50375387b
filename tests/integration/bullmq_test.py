#!/usr/bin/python3
"""An application on the server: the BullMQ job queue (npm bullmq, on
ioredis), against redis-server, one lattice-server and a two-node cluster.

bullmq_app/bullmq_app.js runs what a BullMQ application does, each scenario
asserting BullMQ's documented behaviour: a Worker processing 50 jobs with
their return values, seen by the Worker, read back through the Queue and
delivered as 'completed' events to two QueueEvents (one reading the events
stream from its start, one from '$': XREAD BLOCK); retries with fixed and
exponential backoff (attemptsMade, each retry no sooner than its backoff, a
job failing every attempt ends failed; Job.waitUntilFinished); delayed jobs
starting no sooner than their delay, the shorter first; a paused queue
handing out nothing, then its jobs in priority order; a job scheduler
(every 200 ms, limit 3) firing exactly three times. It prints `RESULT
<json>` of what each scenario observed.

Asserted here: the program passes against redis-server (the test checks
itself) and against lattice-server, and both results are identical (timing
gaps and addresses masked); with two nodes, Queue and QueueEvents on node 1
and the Worker on node 2 (every job queued through node 1 is processed on
node 2, and its events come back to node 1 through the replicated stream),
the result is the same as Redis's, and the nodes then converge on the
queues' keys. A last test points the program at a port where nothing
listens and requires it to fail.

Needs node (Debian nodejs, >= 18.19) and BullMQ, installed pinned
(bullmq_app/package-lock.json) by deploy/install-deps.sh --with-tests into
LATTICE_BULLMQ_DEPS (default ${XDG_CACHE_HOME:-~/.cache}/lattice/bullmq_app;
never into the checkout). Missing either, the tests fail and say how to
install it; they never skip (only the cluster test skips, when
LATTICE_SERVER names redis-server).

Environment: LATTICE_SERVER, REDIS_SERVER (see harness.py),
LATTICE_BULLMQ_DEPS, LATTICE_BULLMQ_WATCHDOG_MS (50000: the program gives up
and fails after this long).
"""

import json
import os
import shutil
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from cluster import ClusterTestCase  # noqa: E402

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bullmq_app",
                      "bullmq_app.js")
RUN_TIMEOUT = 120  # seconds; the program has its own 50 s watchdog
SCENARIOS = ["basic", "retries", "delayed", "priorities", "repeatable"]


def bullmq_deps_dir():
    default = os.path.join(os.environ.get("XDG_CACHE_HOME") or
                           os.path.join(os.path.expanduser("~"), ".cache"),
                           "lattice", "bullmq_app")
    return os.environ.get("LATTICE_BULLMQ_DEPS") or default


def masked(result):
    """The result without what differs between servers and runs by design:
    addresses, the server's version and measured retry gaps (their lower
    bounds, which the program asserted, stay)."""
    scenarios = json.loads(json.dumps(result["scenarios"]))
    scenarios.get("retries", {}).pop("gapsMs", None)
    return scenarios


class BullMQRunner:
    """Finds node and BullMQ (failing the test case when either is missing)
    and runs bullmq_app.js."""

    def setup_node(self):
        self.node = shutil.which("node")
        if not self.node:
            self.fail("node not found: install nodejs (deploy/install-deps.sh --with-tests)")
        self.modules = os.path.join(bullmq_deps_dir(), "node_modules")
        if not os.path.isfile(os.path.join(self.modules, "bullmq", "package.json")):
            self.fail("bullmq not installed in %s: run deploy/install-deps.sh --with-tests "
                      "(or set LATTICE_BULLMQ_DEPS)" % self.modules)

    def run_app(self, *addrs):
        """Runs bullmq_app.js with "host:port" addresses (producer, then
        worker); returns (exit status, output, result or None)."""
        env = dict(os.environ, NODE_PATH=self.modules)
        # One stream, so that failures show among the scenarios that passed.
        p = subprocess.run([self.node, SCRIPT] + list(addrs), env=env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=RUN_TIMEOUT)
        out = p.stdout
        result = None
        for line in out.splitlines():
            if line.startswith("RESULT "):
                result = json.loads(line[len("RESULT "):])
        return p.returncode, out, result

    def run_against(self, name, *addrs):
        rc, out, result = self.run_app(*addrs)
        sys.stdout.write("--- bullmq against %s:\n%s" % (name, "".join(
            line + "\n" for line in out.splitlines() if not line.startswith("RESULT "))))
        sys.stdout.flush()
        self.assertEqual(rc, 0, "BullMQ scenarios failed against %s:\n%s" % (name, out))
        self.assertIsNotNone(result, "no result from the run against %s" % name)
        self.assertEqual(sorted(result["scenarios"]), sorted(SCENARIOS),
                         "not every scenario ran against %s" % name)
        return result


class BullMQTest(BullMQRunner, unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.setup_node()

    def test_bullmq_against_redis_and_lattice(self):
        with harness.Server(harness.redis_server_path(), kind="redis", name="redis") as ref, \
                harness.Server(harness.lattice_server_path(), name="lattice") as lat:
            want = self.run_against(ref.name, "%s:%d" % (ref.host, ref.port))
            got = self.run_against(lat.name, "%s:%d" % (lat.host, lat.port))
            self.assertEqual(masked(got), masked(want),
                             "BullMQ saw lattice-server behave differently from redis-server")
            self.assertTrue(lat.ping(), "lattice-server stopped answering")

    def test_fails_when_nothing_listens(self):
        """The program fails (and says why) when it cannot connect: a
        passing run above means it really talked to the server."""
        rc, out, result = self.run_app("127.0.0.1:%d" % harness.free_port())
        self.assertEqual(rc, 1, out)
        self.assertIn("ECONNREFUSED", out)
        self.assertIsNone(result, out)


class ClusterBullMQTest(BullMQRunner, ClusterTestCase):
    def setUp(self):
        super().setUp()  # skips when LATTICE_SERVER names redis-server
        self.setup_node()

    def test_worker_on_node_2_processes_jobs_queued_through_node_1(self):
        # Redis first, with the producer and the worker on two connections
        # of one server: the expected result of the two-address mode.
        with harness.Server(harness.redis_server_path(), kind="redis", name="redis") as ref:
            addr = "%s:%d" % (ref.host, ref.port)
            want = self.run_against("redis (two addresses)", addr, addr)
        with self.cluster(2, threads=2) as c:
            got = self.run_against("node 1 (queue, events) and node 2 (worker)",
                                   c.node(1).addr, c.node(2).addr)
            self.assertEqual(masked(got), masked(want),
                             "BullMQ across two nodes behaved differently from redis-server")
            # What the application left behind (job hashes, events streams,
            # counters) is the same on both nodes.
            c.wait_converged(timeout=20, match="bull:*")


if __name__ == "__main__":
    harness.main()
