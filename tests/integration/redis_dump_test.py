#!/usr/bin/python3
"""Moving between Redis and Lattice: a dump.rdb and DUMP/RESTORE
(node/persist/rdb.h, node/persist/rdb_import.h).

Asserted, against Debian's redis-server started by the test:
- a dump.rdb that redis-server writes (SAVE) holding every type in the
  encodings Redis picks (short, integer and LZF-compressed strings, small
  and big lists, intset / listpack / hashtable sets, listpack and skiplist
  sorted sets, listpack and hashtable hashes, a stream with deleted entries,
  consumer groups, consumers and pending entries), TTLs, keys in two
  databases and a function library, loads in a Lattice node started on it:
  every key has the same type, content and TTL (within a second) as in
  Redis, keys whose TTL passed are gone, and the function runs;
- DUMP in Redis, RESTORE in Lattice, and the other way round, give the same
  content for every one of those keys; DUMP of a string is byte for byte
  Redis's;
- RESTORE's options and errors answer as Redis's: REPLACE, ABSTTL, a TTL,
  IDLETIME and FREQ; BUSYKEY, a payload with a bad checksum, a bad TTL,
  bad IDLETIME / FREQ, syntax errors; DUMP of a missing key is nil;
- a damaged dump.rdb is refused at start with the file and the offset.

Environment: LATTICE_SERVER, REDIS_SERVER (see harness.py).
"""

import os
import shutil
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import redis  # noqa: E402  (python3-redis)
from persistence_test import Node  # noqa: E402

LIB = "#!lua name=movedlib\nredis.register_function('moved', function() return 'here' end)"


def fill(r):
    """Every type, in the encodings Redis picks for these sizes."""
    r.set("s:short", "hello")
    r.set("s:int", "123456")
    r.set("s:negint", "-42")
    r.set("s:bigint", "12345678901234567890")
    r.set("s:lzf", "abc" * 400)  # compressible: LZF in the file
    r.set("s:random", os.urandom(300).hex())
    r.set("s:empty", "")
    r.set("s:ttl", "soon", ex=5000)
    r.set("s:expired", "gone", px=300)
    r.rpush("l:small", "a", "b", "c", "7")
    r.rpush("l:big", *["item-%d" % i for i in range(3000)])
    r.rpush("l:huge-elem", "x" * 20000, "y")
    r.sadd("set:int", 1, 2, 3, 99, -5)
    r.sadd("set:small", "a", "b", "c")
    r.sadd("set:big", *["m%d" % i for i in range(700)])
    r.zadd("z:small", {"a": 1.5, "b": -2, "c": 3e10})
    r.zadd("z:big", {"m%d" % i: i / 7 for i in range(300)})
    r.zadd("z:inf", {"lo": float("-inf"), "hi": float("inf"), "mid": 0})
    r.hset("h:small", mapping={"f1": "v1", "f2": "22"})
    r.hset("h:big", mapping={"f%d" % i: "v" * (i % 90) for i in range(400)})
    r.hset("h:ttl", "a", "b")
    r.pexpire("h:ttl", 7000000)
    for i in range(1, 21):
        r.xadd("st", {"n": str(i), "kind": "e"}, id="%d-0" % i)
    r.xadd("st", {"other": "fields"}, id="21-5")
    r.xdel("st", "3-0", "10-0")
    r.xgroup_create("st", "g1", id="0")
    r.xgroup_create("st", "g2", id="15-0")
    r.xreadgroup("g1", "alice", {"st": ">"}, count=4)
    r.xreadgroup("g1", "bob", {"st": ">"}, count=2)
    r.xack("st", "g1", "1-0")
    r.execute_command("XGROUP", "CREATECONSUMER", "st", "g2", "idle-one")
    r1 = redis.Redis(host=r.connection_pool.connection_kwargs["host"],
                     port=r.connection_pool.connection_kwargs["port"], db=5,
                     decode_responses=True)
    r1.set("db5:key", "five")
    r1.sadd("db5:set", "x", "y")
    r.function_load(LIB)


def content(r, key):
    """What a user sees of `key`: type, value, TTL (seconds, rounded)."""
    t = r.type(key)
    if t == "string":
        v = r.get(key)
    elif t == "list":
        v = r.lrange(key, 0, -1)
    elif t == "set":
        v = sorted(r.smembers(key))
    elif t == "zset":
        v = sorted(r.zrange(key, 0, -1, withscores=True))
    elif t == "hash":
        v = sorted(r.hgetall(key).items())
    elif t == "stream":
        groups = []
        for g in sorted(r.xinfo_groups(key), key=lambda g: g["name"]):
            pending = [(p["message_id"], p["consumer"], p["times_delivered"])
                       for p in r.xpending_range(key, g["name"], "-", "+", 100)]
            consumers = sorted(c["name"] for c in r.xinfo_consumers(key, g["name"]))
            groups.append((g["name"], g["last-delivered-id"], g["entries-read"], g["pending"],
                           pending, consumers))
        info = r.xinfo_stream(key)
        v = (r.xrange(key), groups, info["last-generated-id"], info["entries-added"],
             info["max-deleted-entry-id"])
    else:
        v = None
    ttl = r.pttl(key)
    return (t, v, -1 if ttl < 0 else round(ttl / 1000.0))


def everything(r, dbs=(0, 5)):
    out = {}
    for db in dbs:
        c = redis.Redis(host=r.connection_pool.connection_kwargs["host"],
                        port=r.connection_pool.connection_kwargs["port"], db=db,
                        decode_responses=True)
        for key in sorted(c.scan_iter(count=1000)):
            out[(db, key)] = content(c, key)
    return out


def raw(r, *args):
    conn = r.connection_pool.get_connection(args[0])
    try:
        conn.send_command(*args)
        return conn.read_response()
    except redis.ResponseError as e:
        return e
    finally:
        r.connection_pool.release(conn)


class RedisDumpTest(unittest.TestCase):
    def assertSame(self, got, want):
        """Same keys, types and values; TTLs within 2 seconds."""
        self.assertEqual(sorted(got), sorted(want))
        for k in want:
            self.assertEqual(got[k][:2], want[k][:2], k)
            self.assertLessEqual(abs(got[k][2] - want[k][2]), 2, k)
            self.assertEqual(got[k][2] < 0, want[k][2] < 0, k)

    def setUp(self):
        self.lattice_bin = harness.lattice_server_path()
        if harness.is_redis_binary(self.lattice_bin):
            self.skipTest("compares Lattice with Redis")
        self.redis = harness.Server(harness.redis_server_path()).start()
        self.addCleanup(self.redis.stop)
        self.r = redis.Redis(host=self.redis.host, port=self.redis.port, decode_responses=True)
        self.rb = redis.Redis(host=self.redis.host, port=self.redis.port)
        fill(self.r)
        time.sleep(0.4)  # s:expired's TTL passes
        self.dir = tempfile.mkdtemp(prefix="lattice-rdb-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.nodes = []
        self.addCleanup(lambda: [n.kill9() for n in self.nodes])

    def lattice(self, extra=()):
        n = Node(self.lattice_bin, self.dir, extra=["--save", ""] + list(extra))
        self.nodes.append(n)
        return n.start().wait_ready()

    def test_a_dump_rdb_from_redis_loads_with_identical_content(self):
        want = everything(self.r)
        self.assertNotIn((0, "s:expired"), want)
        self.assertTrue(self.r.save())
        shutil.copy(os.path.join(self.redis.tmpdir, "dump.rdb"), os.path.join(self.dir, "dump.rdb"))
        n = self.lattice()
        self.assertIn("DB loaded from a Redis dump file", n.log())
        got = everything(n.client())
        self.assertSame(got, want)
        self.assertEqual(n.client().fcall("moved", 0), "here")
        # It goes on as a Lattice node: a SAVE writes its own format, which
        # loads again with the same content.
        self.assertTrue(n.client().save())
        n.kill9()
        n = self.lattice()
        self.assertSame(everything(n.client()), got)

    def test_dump_and_restore_both_ways(self):
        n = self.lattice()
        lat = n.client()
        latb = n.client(decode=False)
        keys = [k for (db, k) in everything(self.r, dbs=(0,))]
        want = everything(self.r, dbs=(0,))
        for key in keys:
            payload = self.rb.dump(key)
            ttl = max(0, self.r.pttl(key))
            self.assertEqual(raw(latb, "RESTORE", key, ttl, payload), b"OK", key)
        self.assertSame(everything(lat, dbs=(0,)), want)
        # Back: Lattice's DUMP restores in Redis as the same content.
        self.r.flushall()
        for key in keys:
            payload = latb.dump(key)
            ttl = max(0, lat.pttl(key))
            self.assertEqual(raw(self.rb, "RESTORE", key, ttl, payload), b"OK", key)
        self.assertSame(everything(self.r, dbs=(0,)), want)
        # A string's payload is Redis's, byte for byte.
        for key in ("s:short", "s:int", "s:negint", "s:bigint", "s:lzf", "s:random", "s:empty"):
            self.assertEqual(latb.dump(key), self.rb.dump(key), key)

    def test_restore_options_and_errors_answer_as_redis(self):
        n = self.lattice(["--maxmemory-policy", "allkeys-lfu"])
        self.r.config_set("maxmemory-policy", "allkeys-lfu")
        payload = self.rb.dump("h:small")
        bad = payload[:-1] + bytes([payload[-1] ^ 1])
        script = [
            ("RESTORE", "k1", "0", payload),
            ("RESTORE", "k1", "0", payload),                     # BUSYKEY
            ("RESTORE", "k1", "0", payload, "REPLACE"),
            ("RESTORE", "k2", "0", bad),                         # checksum
            ("RESTORE", "k2", "0", b"\x00\x03abc"),              # too short
            ("RESTORE", "k2", "-1", payload),
            ("RESTORE", "k2", "x", payload),
            ("RESTORE", "k2", "0", payload, "FOO"),
            ("RESTORE", "k2", "0", payload, "IDLETIME", "-1"),
            ("RESTORE", "k2", "0", payload, "FREQ", "256"),
            ("RESTORE", "k2", "0", payload, "FREQ", "x"),
            ("RESTORE", "k2", "0", payload, "IDLETIME", "5", "FREQ", "5"),
            ("RESTORE", "k3", "0", payload, "FREQ", "77"),
            ("OBJECT", "FREQ", "k3"),
            ("RESTORE", "k4", "100000", payload),
            ("RESTORE", "k5", str(int(time.time() * 1000) + 200000), payload, "ABSTTL"),
            ("RESTORE", "k6", "1", payload, "ABSTTL"),           # long expired: not created
            ("EXISTS", "k6"),
            ("RESTORE", "k1", "1", payload, "ABSTTL", "REPLACE"),  # expired: k1 goes
            ("EXISTS", "k1"),
            ("DUMP", "no-such-key"),
            ("RESTORE", "k7", "0", payload, "IDLETIME", "1000"),
            ("OBJECT", "FREQ", "k7"),
        ]
        replies = []
        for who in (self.rb, n.client(decode=False)):
            who.flushall()
            got = []
            for cmd in script:
                rep = raw(who, *cmd)
                got.append(str(rep) if isinstance(rep, Exception) else rep)
            replies.append(got)
        self.assertEqual(replies[0], replies[1])
        lat = n.client()
        self.assertTrue(90 <= lat.ttl("k4") <= 100)
        self.assertTrue(190 <= lat.ttl("k5") <= 200)
        self.assertEqual(replies[1][1], "BUSYKEY Target key name already exists.")
        self.assertEqual(replies[1][3], "DUMP payload version or checksum are wrong")

    def test_a_damaged_dump_rdb_is_refused_with_its_offset(self):
        self.assertTrue(self.r.save())
        with open(os.path.join(self.redis.tmpdir, "dump.rdb"), "rb") as f:
            good = f.read()
        for data in (good[:len(good) // 2],
                     good[:200] + bytes([good[200] ^ 0xff]) + good[201:]):
            with open(os.path.join(self.dir, "dump.rdb"), "wb") as f:
                f.write(data)
            n = Node(self.lattice_bin, self.dir, extra=["--save", ""])
            self.nodes.append(n)
            n.start()
            self.assertNotEqual(n.wait_exit(), 0)
            self.assertIn("Bad dump file dump.rdb at offset", n.log())


if __name__ == "__main__":
    harness.main()
