#!/usr/bin/python3
"""Client-side caching (CLIENT TRACKING) across connections, workers and nodes.

Against redis-server and lattice-server side by side (transcripts must be
identical; each scenario also asserts what Redis documents):
- default mode in RESP3: a read key is invalidated once by another
  connection's write, the client's own write is told after its reply,
  FLUSHALL invalidates everything (null);
- REDIRECT to a RESP2 connection subscribed to __redis__:invalidate;
- BCAST with a prefix and NOLOOP; OPTIN with CLIENT CACHING yes; OFF;
- the option errors and CLIENT TRACKINGINFO / GETREDIR.
Two nodes (real processes on 127.0.0.x):
- a RESP3 client tracking keys on node 1 is told when node 2 changes one
  of them (the delta's arrival invalidates), in default and BCAST modes.

Environment: LATTICE_SERVER, REDIS_SERVER (see harness.py).
"""

import os
import re
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from cluster import ClusterTestCase  # noqa: E402

INVALIDATE_K1 = b">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nk1\r\n"


def drain(c, idle=0.3):
    return harness.read_pending(c, idle)


class TrackingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.redis = harness.start_redis()
        cls.lattice = harness.start_lattice(threads=4)

    @classmethod
    def tearDownClass(cls):
        cls.lattice.stop()
        cls.redis.stop()

    def both(self, scenario):
        out = {}
        for name, srv in (("redis", self.redis), ("lattice", self.lattice)):
            c = srv.client()
            c.call(b"FLUSHALL")
            c.close()
            out[name] = scenario(srv)
        self.assertEqual(out["lattice"], out["redis"])
        return out["redis"]

    def test_default_mode_redirect_bcast_and_optin_match_redis(self):
        def scenario(srv):
            t, w, r2, tr2, b, o = (srv.client() for _ in range(6))
            out = []
            t.call(b"HELLO", b"3")
            out += [t.call(b"CLIENT", b"TRACKING", b"on"), w.call(b"SET", b"k1", b"v"),
                    t.call(b"GET", b"k1"), t.call(b"MGET", b"k2", b"k3"),
                    w.call(b"SET", b"k1", b"v2"), w.call(b"SET", b"k1", b"v3")]
            out += drain(t)  # one invalidation: the key was forgotten after it
            out += [t.call(b"GET", b"k1"), t.call(b"SET", b"k1", b"own")]
            out += drain(t)  # its own write: the push comes after +OK
            out += [t.call(b"GET", b"k2"), w.call(b"FLUSHALL")]
            out += drain(t)
            rid = re.search(rb":(\d+)", r2.call(b"CLIENT", b"ID")).group(1)
            out += [r2.call(b"SUBSCRIBE", b"__redis__:invalidate"),
                    tr2.call(b"CLIENT", b"TRACKING", b"on", b"REDIRECT", rid),
                    tr2.call(b"GET", b"rk"), w.call(b"SET", b"rk", b"x")]
            out += drain(r2)
            out += [tr2.call(b"CLIENT", b"GETREDIR") == b":" + rid + b"\r\n",
                    tr2.call(b"CLIENT", b"TRACKINGINFO").replace(
                        b":" + rid + b"\r\n", b":ID\r\n")]
            b.call(b"HELLO", b"3")
            out += [b.call(b"CLIENT", b"TRACKING", b"on", b"BCAST", b"PREFIX", b"user:",
                           b"NOLOOP"),
                    w.call(b"SET", b"user:1", b"a"), w.call(b"SET", b"other", b"a"),
                    b.call(b"SET", b"user:2", b"own")]
            out += drain(b)
            out += [b.call(b"CLIENT", b"TRACKINGINFO")]
            o.call(b"HELLO", b"3")
            out += [o.call(b"CLIENT", b"TRACKING", b"on", b"OPTIN"), o.call(b"GET", b"a1"),
                    o.call(b"CLIENT", b"CACHING", b"yes"), o.call(b"GET", b"a2"),
                    w.call(b"MSET", b"a1", b"1", b"a2", b"2")]
            out += drain(o)
            out += [o.call(b"CLIENT", b"TRACKING", b"off"), o.call(b"GET", b"a2"),
                    w.call(b"SET", b"a2", b"3")]
            out += drain(o)
            for c in (t, w, r2, tr2, b, o):
                c.close()
            return out

        out = self.both(scenario)
        self.assertEqual(out[6], INVALIDATE_K1)
        self.assertEqual(out[7:10], [b"$2\r\nv3\r\n", b"+OK\r\n", INVALIDATE_K1])

    def test_option_errors_match_redis(self):
        def scenario(srv):
            c = srv.client()
            out = [c.call(b"CLIENT", b"TRACKING", *a) for a in (
                [b"maybe"], [b"on", b"prefix", b"a"], [b"on", b"bcast", b"optin"],
                [b"on", b"optin", b"optout"], [b"on", b"redirect", b"abc"],
                [b"on", b"redirect", b"999999"], [b"on", b"bogus"],
                [b"on", b"bcast", b"prefix", b"ab", b"prefix", b"a"])]
            out += [c.call(b"CLIENT", b"CACHING", b"yes"), c.call(b"CLIENT", b"GETREDIR"),
                    c.call(b"CLIENT", b"TRACKINGINFO"),
                    c.call(b"CLIENT", b"TRACKING", b"on", b"optin"),
                    c.call(b"CLIENT", b"CACHING", b"no"), c.call(b"CLIENT", b"CACHING", b"maybe"),
                    c.call(b"CLIENT", b"CACHING", b"yes"), c.call(b"CLIENT", b"TRACKINGINFO"),
                    c.call(b"CLIENT", b"TRACKING", b"on", b"bcast"),
                    c.call(b"CLIENT", b"TRACKING", b"off"),
                    c.call(b"CLIENT", b"TRACKING", b"on", b"bcast", b"prefix", b"a"),
                    c.call(b"CLIENT", b"TRACKING", b"on", b"bcast", b"prefix", b"ab"),
                    c.call(b"CLIENT", b"TRACKING", b"on"),
                    c.call(b"CLIENT", b"TRACKING", b"off"), c.call(b"CLIENT", b"TRACKINGINFO")]
            c.close()
            return out

        out = self.both(scenario)
        self.assertEqual(out[1], b"-ERR PREFIX option requires BCAST mode to be enabled\r\n")


class ClusterTrackingTest(ClusterTestCase):
    def test_a_write_on_node_2_invalidates_a_cache_on_node_1(self):
        with self.cluster(2, threads=2) as c:
            n1, n2 = c.node(1), c.node(2)
            cached = harness.RespClient(n1.host, n1.port)
            cached.call(b"HELLO", b"3")
            self.assertEqual(cached.call(b"CLIENT", b"TRACKING", b"on"), b"+OK\r\n")
            bcast = harness.RespClient(n1.host, n1.port)
            bcast.call(b"HELLO", b"3")
            bcast.call(b"CLIENT", b"TRACKING", b"on", b"BCAST", b"PREFIX", b"conf:")
            c.r(2).set("k1", "v1")
            harness.wait_until(lambda: c.r(1).get("k1") == "v1", 10, what="k1 on node 1")
            self.assertEqual(cached.call(b"GET", b"k1"), b"$2\r\nv1\r\n")
            c.r(2).set("k1", "v2")
            got = cached.read_reply(timeout=10)
            self.assertEqual(got, INVALIDATE_K1)
            c.r(2).hset("conf:x", "f", "1")
            self.assertEqual(bcast.read_reply(timeout=10),
                             b">2\r\n$10\r\ninvalidate\r\n*1\r\n$6\r\nconf:x\r\n")
            self.assertEqual(cached.call(b"GET", b"k1"), b"$2\r\nv2\r\n")
            cached.close()
            bcast.close()


if __name__ == "__main__":
    harness.main()
