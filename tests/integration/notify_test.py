#!/usr/bin/python3
"""Keyspace notifications (notify-keyspace-events).

Against redis-server and lattice-server side by side: with every class on
(KEA), a subscriber to __key*@*__:* receives the same messages, in the same
order, for a run of write commands of every family (strings, counters,
keys and TTLs, RENAME/COPY/MOVE, lists with LMOVE/RPOPLPUSH and a list
emptied, hashes, sets with SMOVE and stores, sorted sets, HyperLogLog,
geo, an expiry that passes); with only some classes on, only those; CONFIG
GET prints the flags as Redis does and a bad class is refused with
Redis's error.
Two nodes (real processes on 127.0.0.x):
- a write made on node 2 is told to a subscriber on node 1 when its delta
  arrives (the event of its kind: docs/consistency.md).

Environment: LATTICE_SERVER, REDIS_SERVER (see harness.py).
"""

import os
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from cluster import ClusterTestCase  # noqa: E402

COMMANDS = [
    ["SET", "s", "v"], ["SET", "s", "v2", "EX", "100"], ["SETEX", "s2", "100", "x"],
    ["SETNX", "s", "no"], ["APPEND", "s", "!"], ["SETRANGE", "s", "0", "V"],
    ["INCR", "n"], ["INCRBY", "n", "5"], ["DECR", "n"], ["INCRBYFLOAT", "f", "1.5"],
    ["MSET", "m1", "a", "m2", "b"], ["GETSET", "m1", "c"], ["GETDEL", "m2"],
    ["EXPIRE", "m1", "1000"], ["PERSIST", "m1"], ["PERSIST", "m1"], ["EXPIRE", "m1", "-1"],
    ["SET", "r", "1"], ["RENAME", "r", "r2"], ["COPY", "r2", "r3"], ["MOVE", "r3", "1"],
    ["DEL", "r2", "nokey"], ["UNLINK", "s2"],
    ["RPUSH", "l", "a", "b", "c"], ["LPUSH", "l", "z"], ["LPOP", "l"], ["RPOP", "l"],
    ["LSET", "l", "0", "A"], ["LINSERT", "l", "BEFORE", "A", "q"], ["LREM", "l", "1", "q"],
    ["RPOPLPUSH", "l", "l2"], ["LMOVE", "l2", "l", "LEFT", "RIGHT"], ["LTRIM", "l", "0", "0"],
    ["LPOP", "l"], ["LPOP", "l2"], ["RPUSH", "l3", "x"], ["LMPOP", "1", "l3", "RIGHT"],
    ["HSET", "h", "a", "1", "b", "2"], ["HSETNX", "h", "a", "x"], ["HINCRBY", "h", "a", "2"],
    ["HINCRBYFLOAT", "h", "b", "0.5"], ["HDEL", "h", "a"], ["HDEL", "h", "b"],
    ["SADD", "st", "a", "b"], ["SADD", "st", "a"], ["SREM", "st", "a"],
    ["SMOVE", "st", "st2", "b"], ["SADD", "st", "x", "y"], ["SINTERSTORE", "st3", "st", "st"],
    ["SPOP", "st3"], ["SUNIONSTORE", "st4", "st", "st2"], ["SDIFFSTORE", "st5", "st", "st"],
    ["ZADD", "z", "1", "a", "2", "b"], ["ZINCRBY", "z", "1", "a"], ["ZADD", "z", "INCR", "1", "b"],
    ["ZREM", "z", "a"], ["ZPOPMIN", "z"], ["ZADD", "z", "1", "a", "2", "b", "3", "c"],
    ["ZREMRANGEBYSCORE", "z", "0", "1"], ["ZREMRANGEBYRANK", "z", "0", "0"],
    ["ZUNIONSTORE", "z2", "1", "z"], ["ZPOPMAX", "z2"], ["ZRANGESTORE", "z3", "z", "0", "-1"],
    ["PFADD", "hll", "a"], ["PFADD", "hll", "a"], ["PFMERGE", "hll2", "hll"],
    ["GEOADD", "g", "13.361389", "38.115556", "Palermo"],
    ["SETBIT", "b", "7", "1"], ["BITOP", "OR", "b2", "b"],
    ["SET", "exp", "1", "PX", "50"],
]


def collect(sub, idle=1.0):
    return harness.read_pending(sub, idle)


class NotifyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.redis = harness.start_redis()
        cls.lattice = harness.start_lattice(threads=4)

    @classmethod
    def tearDownClass(cls):
        cls.lattice.stop()
        cls.redis.stop()

    def run_on(self, srv, flags, commands):
        c = srv.client()
        c.call(b"FLUSHALL")
        c.call(b"CONFIG", b"SET", b"notify-keyspace-events", flags)
        sub = srv.client()
        sub.call(b"PSUBSCRIBE", b"__key*@*__:*")
        for cmd in commands:
            c.call(*[a.encode() for a in cmd])
        time.sleep(0.2)  # the PX 50 key expires (lazily: GET finds it)
        c.call(b"GET", b"exp")
        got = collect(sub)
        c.call(b"CONFIG", b"SET", b"notify-keyspace-events", b"")
        c.close()
        sub.close()
        return got

    def test_every_family_tells_what_redis_tells(self):
        want = self.run_on(self.redis, b"KEA", COMMANDS)
        got = self.run_on(self.lattice, b"KEA", COMMANDS)
        self.assertGreater(len(want), 100)
        for i, (w, g) in enumerate(zip(want, got)):
            self.assertEqual(g, w, "message %d differs (redis: %r)" % (i, want[max(0, i - 2):i + 3]))
        self.assertEqual(len(got), len(want))

    def test_only_the_chosen_classes(self):
        for flags in (b"Kl", b"E$", b"Exg", b"Kz"):
            want = self.run_on(self.redis, flags, COMMANDS)
            got = self.run_on(self.lattice, flags, COMMANDS)
            self.assertEqual(got, want, flags)

    def test_config_text_and_errors_match_redis(self):
        def scenario(srv):
            c = srv.client()
            out = []
            for f in (b"KEA", b"hz$Kl", b"tdeE", b"gsxK", b"mE", b"", b"Q"):
                out.append(c.call(b"CONFIG", b"SET", b"notify-keyspace-events", f))
                out.append(c.call(b"CONFIG", b"GET", b"notify-keyspace-events"))
            c.close()
            return out
        self.assertEqual(scenario(self.lattice), scenario(self.redis))


class ClusterNotifyTest(ClusterTestCase):
    def test_a_write_on_node_2_is_told_on_node_1(self):
        with self.cluster(2, threads=2, extra_args=["--notify-keyspace-events", "KEA"]) as c:
            n1 = c.node(1)
            sub = harness.RespClient(n1.host, n1.port)
            sub.call(b"SUBSCRIBE", b"__keyspace@0__:remote")
            c.r(2).set("remote", "1")
            self.assertEqual(sub.read_reply(timeout=10),
                             b"*3\r\n$7\r\nmessage\r\n$21\r\n__keyspace@0__:remote\r\n$3\r\nset\r\n")
            c.r(2).delete("remote")
            self.assertEqual(sub.read_reply(timeout=10),
                             b"*3\r\n$7\r\nmessage\r\n$21\r\n__keyspace@0__:remote\r\n$3\r\ndel\r\n")
            sub.close()


if __name__ == "__main__":
    harness.main()
