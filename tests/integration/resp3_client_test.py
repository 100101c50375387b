#!/usr/bin/python3
"""A real RESP3 client: node-redis (createClient({RESP: 3})) against
lattice-server, and the same program against redis-server.

resp3_client/resp3_client.js connects with RESP: 3 (node-redis sends HELLO 3
when connecting) and runs checks of what a Node.js application sees: HELLO
as a map (proto 3), SET/GET, nil replies (GET, SET NX, GETDEL), INCR and
friends with their error replies, MGET with nulls, LCS IDX as a nested
RESP3 map, unknown-command / arity / syntax errors with the connection
surviving them, binary keys and values as Buffers, TTLs, pipelining (1000
unawaited INCRs in order, execAsPipeline, an error in place inside a
pipeline), SCAN through scanIterator, and a second client on database 2.
Each check asserts fixed expectations; the program prints a transcript of
what it saw.

Asserted here: the program passes against redis-server (the expectations
are Redis's behaviour: the test checks itself) and against the server under
test, and both transcripts are identical (HELLO's server, version and id
masked). A second test points it at a port where nothing listens and requires
it to fail: a client that cannot connect must not pass.

Needs node (Debian nodejs, >= 18.19) and node-redis, installed pinned
(resp3_client/package-lock.json) by deploy/install-deps.sh --with-tests into
LATTICE_NODE_DEPS (default ${XDG_CACHE_HOME:-~/.cache}/lattice/resp3_client;
never into the checkout). Missing either, the tests fail and say how to
install it; they never skip.

Environment: LATTICE_SERVER, REDIS_SERVER (see harness.py), LATTICE_NODE_DEPS.
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

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "resp3_client",
                      "resp3_client.js")
RUN_TIMEOUT = 120  # seconds; the script has its own 60 s watchdog


def node_deps_dir():
    default = os.path.join(os.environ.get("XDG_CACHE_HOME") or
                           os.path.join(os.path.expanduser("~"), ".cache"),
                           "lattice", "resp3_client")
    return os.environ.get("LATTICE_NODE_DEPS") or default


class Resp3ClientTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.node = shutil.which("node")
        if not self.node:
            self.fail("node not found: install nodejs (deploy/install-deps.sh --with-tests)")
        self.modules = os.path.join(node_deps_dir(), "node_modules")
        if not os.path.isfile(os.path.join(self.modules, "redis", "package.json")):
            self.fail("node-redis not installed in %s: run deploy/install-deps.sh --with-tests "
                      "(or set LATTICE_NODE_DEPS)" % self.modules)

    def run_client(self, host, port):
        """Runs resp3_client.js; returns (exit status, output, transcript
        or None)."""
        env = dict(os.environ, NODE_PATH=self.modules)
        p = subprocess.run([self.node, SCRIPT, host, str(port)], env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=RUN_TIMEOUT)
        out = p.stdout + p.stderr
        transcript = None
        for line in p.stdout.splitlines():
            if line.startswith("TRANSCRIPT "):
                transcript = json.loads(line[len("TRANSCRIPT "):])
        return p.returncode, out, transcript

    def run_against(self, srv):
        rc, out, transcript = self.run_client(srv.host, srv.port)
        sys.stdout.write("--- node-redis against %s:\n%s" % (srv.name, "".join(
            line + "\n" for line in out.splitlines() if not line.startswith("TRANSCRIPT "))))
        self.assertEqual(rc, 0, "node-redis checks failed against %s:\n%s" % (srv.name, out))
        self.assertIsNotNone(transcript, "no transcript from the run against %s" % srv.name)
        return transcript

    def test_node_redis_resp3_against_redis_and_lattice(self):
        with harness.Server(harness.redis_server_path(), kind="redis", name="redis") as ref, \
                harness.Server(harness.lattice_server_path(), name="lattice") as lat:
            want = self.run_against(ref)
            got = self.run_against(lat)
            self.assertEqual(got, want, "node-redis saw lattice-server answer differently "
                             "from redis-server")
            self.assertTrue(lat.ping(), "lattice-server stopped answering")

    def test_fails_when_nothing_listens(self):
        """The client program fails (and says why) when it cannot connect:
        a passing run above means it really talked to the server."""
        rc, out, transcript = self.run_client("127.0.0.1", harness.free_port())
        self.assertEqual(rc, 1, out)
        self.assertIn("ECONNREFUSED", out)
        self.assertIsNone(transcript, out)


if __name__ == "__main__":
    harness.main()
