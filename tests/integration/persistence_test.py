#!/usr/bin/python3
"""Snapshots (node/persist/snapshot.h) as an operator meets them.

Asserted:
- SAVE writes every type (strings, integers, counters, HyperLogLogs,
  hashes, sets, sorted sets, lists, streams with a consumer group and
  pending entries, keys in several databases, TTLs), and a node killed
  with SIGKILL and started again in the same directory has exactly that:
  the same values, encodings and TTLs (within a second), and nothing
  written after the SAVE. Counters go on counting, HyperLogLogs go on
  counting distinct elements, the stream's group goes on delivering;
- LASTSAVE moves at SAVE, and INFO's rdb_changes_since_last_save drops to
  0;
- SHUTDOWN SAVE saves; SHUTDOWN NOSAVE does not;
- a snapshot that is corrupt (one byte changed), truncated, or not a
  snapshot at all (a Redis dump.rdb, random bytes) is refused: the server
  exits non-zero, and its log names the file and the offset of the bad
  byte;
- in a three-node cluster, a node restarted from its snapshot while the
  others deleted and wrote keys converges with them: the deleted keys stay
  deleted, the new writes arrive, and its own log says it loaded keys from
  disk.

- BGSAVE (no fork) saves the moment it was answered while writes,
  deletes, new keys and a FLUSHDB go on during it; BGSAVE SCHEDULE and
  BGSAVE inside MULTI reply as Redis; save points start saves by
  themselves (defaults Redis 7's, a bad list refused);
- a failed background save with save points set refuses writes and PING
  with the same MISCONF text as Redis until a save works again.

Needs root for the cluster case (nftables is not used, but the cluster
harness runs as root in CI). Environment: LATTICE_SERVER (see harness.py).
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import redis  # noqa: E402  (python3-redis)
from cluster import ClusterTestCase  # noqa: E402

START_BOUND = 30.0


class Node:
    """One lattice-server in a directory the test keeps across restarts."""

    def __init__(self, binary, directory, extra=()):
        self.binary = binary
        self.dir = directory
        self.extra = list(extra)
        self.proc = None
        self.port = None
        self.logpath = os.path.join(directory, "server.log")

    def start(self):
        self.port = harness.free_port()
        log = open(self.logpath, "ab")
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--threads", "2",
             "--dir", self.dir, "--peer-port", "0"] + self.extra,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.dir)
        log.close()
        return self

    def wait_ready(self):
        def up():
            if self.proc.poll() is not None:
                raise AssertionError("server exited with %s:\n%s" % (self.proc.returncode,
                                                                    self.log()))
            try:
                return self.client().ping()
            except redis.ConnectionError:
                return False
        harness.wait_until(up, START_BOUND, interval=0.05, what="server answers PING")
        return self

    def wait_exit(self, timeout=START_BOUND):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("server did not exit:\n" + self.log())

    def client(self, db=0, decode=True):
        return redis.Redis(host="127.0.0.1", port=self.port, db=db, decode_responses=decode,
                           socket_timeout=10)

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def log(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode(errors="replace")

    def snapshot_path(self):
        return os.path.join(self.dir, "dump.rdb")


def populate(r):
    """Every type, with the encodings Redis would pick; returns nothing."""
    r.set("str", "hello")
    r.set("int", 12345)
    r.set("big", "x" * 5000)
    r.incrby("counter", 41)
    r.set("ttl", "soon", ex=1000)
    r.pfadd("hll", *["e%d" % i for i in range(500)])
    r.hset("hsmall", mapping={"a": "1", "b": "2"})
    r.hset("hbig", mapping={"f%d" % i: "v" * (i % 7) for i in range(300)})
    r.hincrby("hsmall", "n", 5)
    r.sadd("sint", 1, 2, 3, 99)
    r.sadd("sstr", "a", "b", "c")
    r.sadd("sbig", *["m%d" % i for i in range(600)])
    r.zadd("zsmall", {"a": 1.5, "b": -2})
    r.zadd("zbig", {"m%d" % i: i / 3 for i in range(200)})
    r.rpush("list", *["v%d" % i for i in range(50)])
    r.lpush("list", "head")
    r.pexpire("list", 900000)
    for i in range(30):
        r.xadd("stream", {"event": "e%d" % i, "n": str(i)}, id="%d-1" % (i + 1))
    r.xgroup_create("stream", "g", id="0")
    r.xreadgroup("g", "c1", {"stream": ">"}, count=4)
    r.xdel("stream", "7-1")
    r1 = redis.Redis(host=r.connection_pool.connection_kwargs["host"],
                     port=r.connection_pool.connection_kwargs["port"], db=3,
                     decode_responses=True)
    r1.set("in-db-3", "three")
    r1.sadd("set-db-3", "x")


def dump_all(node):
    """Every key of databases 0 and 3: type, value, encoding, TTL (s)."""
    out = {}
    for db in (0, 3):
        r = node.client(db, decode=False)  # HLLs are binary
        for key in sorted(r.scan_iter(count=1000)):
            t = r.type(key)
            t = t.decode()
            if t == "string":
                v = r.get(key)
            elif t == "hash":
                v = sorted(r.hgetall(key).items())
            elif t == "set":
                v = sorted(r.smembers(key))
            elif t == "zset":
                v = r.zrange(key, 0, -1, withscores=True)
            elif t == "list":
                v = r.lrange(key, 0, -1)
            elif t == "stream":
                pending = [(p["message_id"], p["consumer"], p["times_delivered"])
                           for p in r.xpending_range(key, b"g", "-", "+", 100)]
                v = repr((r.xrange(key), r.xinfo_groups(key), pending))
            else:
                v = None
            ttl = r.ttl(key)
            out[(db, key)] = (t, v, r.object("encoding", key), -1 if ttl < 0 else (ttl + 5) // 10)
    return out


def shutdown(node, *args):
    """SHUTDOWN with `args`: the server closes the connection, no reply."""
    try:
        node.client().execute_command("SHUTDOWN", *args)
    except redis.ConnectionError:
        return
    raise AssertionError("SHUTDOWN %s replied instead of exiting" % " ".join(args))


def raw(r, *args):
    """One command's reply as the server sent it (no redis-py callback)."""
    conn = r.connection_pool.get_connection(args[0])
    try:
        conn.send_command(*args)
        return conn.read_response()
    finally:
        r.connection_pool.release(conn)


class NodeTestCase(unittest.TestCase):
    def setUp(self):
        self.binary = harness.lattice_server_path()
        if harness.is_redis_binary(self.binary):
            self.skipTest("Lattice's own snapshot format")
        self.dir = tempfile.mkdtemp(prefix="lattice-persist-")
        self.nodes = []

    def tearDown(self):
        for n in self.nodes:
            n.kill9()
        shutil.rmtree(self.dir, ignore_errors=True)

    def node(self, **kw):
        n = Node(self.binary, self.dir, **kw)
        self.nodes.append(n)
        return n


class SnapshotTest(NodeTestCase):

    def test_save_then_kill_and_restart_keeps_every_type(self):
        n = self.node().start().wait_ready()
        r = n.client()
        before_save = r.lastsave()
        populate(r)
        info = r.info("persistence")
        self.assertGreater(info["rdb_changes_since_last_save"], 0)
        time.sleep(1.1)  # LASTSAVE has a one-second resolution
        self.assertTrue(r.save())
        self.assertGreater(r.lastsave(), before_save)
        self.assertEqual(r.info("persistence")["rdb_changes_since_last_save"], 0)
        want = dump_all(n)
        r.set("after-save", "lost")  # not in the snapshot
        n.kill9()
        n = self.node().start().wait_ready()
        got = dump_all(n)
        self.assertEqual(got, want)
        self.assertIn("DB loaded from disk", n.log())
        r = n.client()
        self.assertIsNone(r.get("after-save"))
        self.assertEqual(r.incr("counter"), 42)
        self.assertEqual(r.pfcount("hll"), redis_pfcount_of(500))
        r.pfadd("hll", "new-one")
        self.assertEqual(r.pfcount("hll"), redis_pfcount_of(500) + 1)
        got = r.xreadgroup("g", "c2", {"stream": ">"}, count=2)
        self.assertEqual([e[0] for e in got[0][1]], ["5-1", "6-1"])
        self.assertEqual(r.xpending("stream", "g")["pending"], 6)

    def test_function_libraries_are_in_the_snapshot(self):
        lib = "#!lua name=mylib\nredis.register_function('hello', function() return 'hi' end)"
        n = self.node().start().wait_ready()
        r = n.client()
        self.assertEqual(r.function_load(lib), "mylib")
        self.assertTrue(r.save())
        n.kill9()
        n = self.node().start().wait_ready()
        self.assertEqual(n.client().fcall("hello", 0), "hi")
        # BGSAVE too.
        n.client().function_flush()
        self.assertEqual(n.client().function_load(lib.replace("'hi'", "'again'")), "mylib")
        self.assertEqual(raw(n.client(), "BGSAVE"), "Background saving started")
        harness.wait_until(lambda: n.client().info("persistence")["rdb_saves"] >= 1, 30,
                           what="the background save ends")
        n.kill9()
        n = self.node().start().wait_ready()
        self.assertEqual(n.client().fcall("hello", 0), "again")

    def test_shutdown_save_saves_and_nosave_does_not(self):
        n = self.node().start().wait_ready()
        n.client().set("k", "v1")
        shutdown(n, "SAVE")
        self.assertEqual(n.wait_exit(), 0)
        self.assertTrue(os.path.exists(n.snapshot_path()))
        n = self.node().start().wait_ready()
        self.assertEqual(n.client().get("k"), "v1")
        n.client().set("k", "v2")
        shutdown(n, "NOSAVE")
        self.assertEqual(n.wait_exit(), 0)
        n = self.node().start().wait_ready()
        self.assertEqual(n.client().get("k"), "v1")

    def refused(self, what):
        n = self.node().start()
        code = n.wait_exit()
        self.assertNotEqual(code, 0, "started on %s" % what)
        log = n.log()
        self.assertIn("Bad snapshot file dump.rdb at offset", log, what)
        return log

    def saved_file(self):
        n = self.node().start().wait_ready()
        populate(n.client())
        self.assertTrue(n.client().save())
        n.kill9()
        with open(os.path.join(self.dir, "dump.rdb"), "rb") as f:
            return f.read()

    def write(self, data):
        with open(os.path.join(self.dir, "dump.rdb"), "wb") as f:
            f.write(data)

    def test_corrupt_truncated_and_foreign_files_are_refused(self):
        good = self.saved_file()
        self.assertTrue(good.startswith(b"LATTICE-SNAP"))
        # One byte changed in the middle of the records.
        mid = len(good) // 2
        self.write(good[:mid] + bytes([good[mid] ^ 0x40]) + good[mid + 1:])
        self.refused("a corrupt file")
        # Cut short: in the records, and in the trailer.
        for cut in (len(good) // 3, len(good) - 5):
            self.write(good[:cut])
            self.refused("a file truncated at %d" % cut)
        # A Redis dump.rdb is read as one (RdbImportTest), so a bad one is
        # refused with the offset too; random bytes are not snapshots.
        self.write(b"REDIS0010\xfa\tredis-ver\x067.0.15\x07junk")
        n = self.node().start()
        self.assertNotEqual(n.wait_exit(), 0)
        self.assertIn("Bad dump file dump.rdb at offset", n.log())
        self.write(os.urandom(4096))
        self.refused("random bytes")
        # The good file still loads.
        self.write(good)
        n = self.node().start().wait_ready()
        self.assertEqual(n.client().get("str"), "hello")


def redis_pfcount_of(n):
    """PFCOUNT a real redis-server gives for elements e0..e{n-1}."""
    with harness.start_redis() as srv:
        r = redis.Redis(host=srv.host, port=srv.port, decode_responses=True)
        r.pfadd("h", *["e%d" % i for i in range(n)])
        return r.pfcount("h")


class BackgroundSaveTest(NodeTestCase):
    """BGSAVE without fork (node/persist/bgsave.h) and the save points."""

    def wait_saved(self, r, saves, bound=60.0):
        def done():
            info = r.info("persistence")
            return info["rdb_bgsave_in_progress"] == 0 and info["rdb_saves"] >= saves
        harness.wait_until(done, bound, interval=0.02, what="the background save ends")
        self.assertEqual(r.info("persistence")["rdb_last_bgsave_status"], "ok")

    def test_bgsave_holds_the_moment_it_began_while_writes_go_on(self):
        n = self.node().start().wait_ready()
        r = n.client()
        bulk = n.client(5)  # many keys, so the save takes a while
        keys = 300000
        pipe = bulk.pipeline(transaction=False)
        for i in range(keys):
            pipe.set("k:%d" % i, "old-%d" % i)
            if i % 5000 == 4999:
                pipe.execute()
        pipe.execute()
        r.hset("h", mapping={"a": "1", "b": "2"})
        r.rpush("l", "x", "y")
        r.sadd("s", "m1")
        populate(r)
        want = dump_all(n)
        # Everything below is written while the save is copying (packed
        # beforehand, sent right after BGSAVE); a first INFO among them
        # proves the save was still running. The flush of database 5 comes
        # last, after the writes to it.
        cmds = [("INFO", "persistence"), ("SELECT", "5")]
        cmds += [("SET", "k:%d" % i, "new") for i in range(0, keys, 3)]
        cmds += [("DEL", "k:%d" % i) for i in range(1, keys, 97)]
        cmds += [("SET", "created-later:%d" % i, "x") for i in range(2000)]
        cmds += [("SELECT", "0"), ("HSET", "h", "a", "changed"), ("HDEL", "h", "b"),
                 ("RPUSH", "l", "z"), ("SREM", "s", "m1"), ("INCR", "counter"),
                 ("SELECT", "5"), ("FLUSHDB",)]
        conn = r.connection_pool.get_connection("SET")
        packed = conn.pack_commands(cmds)
        self.assertEqual(raw(r, "BGSAVE"), "Background saving started")
        conn.send_packed_command(packed)
        replies = [conn.read_response() for _ in cmds]
        conn.disconnect()
        r.connection_pool.release(conn)
        self.assertIn("rdb_bgsave_in_progress:1", replies[0],
                      "the save ended before the writes: nothing was tested")
        self.wait_saved(r, 1)
        self.assertEqual(bulk.dbsize(), 0)
        self.assertEqual(r.hget("h", "a"), "changed")
        n.kill9()
        n = self.node().start().wait_ready()
        bulk = n.client(5)
        self.assertEqual(bulk.dbsize(), keys)
        # Sampled across the range: each key holds what it held at BGSAVE.
        sample = list(range(0, 3000)) + list(range(keys - 3000, keys))
        self.assertEqual(bulk.mget(["k:%d" % i for i in sample]), ["old-%d" % i for i in sample])
        self.assertEqual(bulk.exists("created-later:5"), 0)
        got = dump_all(n)
        # TTLs are in 10 s buckets: a slow run may cross one.
        self.assertEqual(sorted(got), sorted(want))
        for k in want:
            self.assertEqual(got[k][:3], want[k][:3], k)
            self.assertLessEqual(abs(got[k][3] - want[k][3]), 1, k)

    def test_bgsave_replies_as_redis(self):
        n = self.node().start().wait_ready()
        r = n.client()
        with self.assertRaisesRegex(redis.ResponseError, "^syntax error$"):
            r.execute_command("BGSAVE", "now")
        self.assertEqual(raw(r, "BGSAVE", "SCHEDULE"), "Background saving started")
        self.wait_saved(r, 1)
        r.set("k", "v")
        # In a transaction it is scheduled, and runs from the cron.
        self.assertEqual(raw(r, "MULTI"), "OK")
        self.assertEqual(raw(r, "BGSAVE"), "QUEUED")
        self.assertEqual(raw(r, "EXEC"), ["Background saving scheduled"])
        self.wait_saved(r, 2, bound=10)
        self.assertEqual(r.info("persistence")["rdb_changes_since_last_save"], 0)
        n.kill9()
        n = self.node().start().wait_ready()
        self.assertEqual(n.client().get("k"), "v")

    def test_save_points_save_by_themselves(self):
        n = self.node(extra=["--save", "1 3"]).start().wait_ready()
        r = n.client()
        self.assertEqual(r.config_get("save"), {"save": "1 3"})
        r.set("a", "1")
        r.set("b", "2")
        time.sleep(2.5)  # two changes: below the point, no save
        self.assertEqual(r.info("persistence")["rdb_saves"], 0)
        r.set("c", "3")
        self.wait_saved(r, 1, bound=10)
        self.assertIn("3 changes in 1 seconds. Saving...", n.log())
        n.kill9()
        n = self.node().start().wait_ready()
        self.assertEqual(n.client().mget("a", "b", "c"), ["1", "2", "3"])
        # The defaults are Redis 7's; a bad list is refused.
        self.assertEqual(n.client().config_get("save"), {"save": "3600 1 300 100 60 10000"})
        with self.assertRaisesRegex(redis.ResponseError, "Invalid save parameters"):
            n.client().config_set("save", "10")


class MisconfTest(unittest.TestCase):
    """A failed background save with save points set refuses writes, with
    Redis's MISCONF text, until a save works again."""

    def test_writes_are_refused_after_a_failed_bgsave_as_redis_does(self):
        texts = []
        for binary in (harness.lattice_server_path(), harness.redis_server_path()):
            s = harness.Server(binary, directives=[("save", "3600 1")]).start()
            self.addCleanup(s.stop)
            r = redis.Redis(host=s.host, port=s.port, decode_responses=True)
            r.set("before", "1")
            # A directory where the file goes: the rename over it fails.
            blocker = os.path.join(s.tmpdir, "dump.rdb")
            os.makedirs(os.path.join(blocker, "x"))
            self.assertEqual(raw(r, "BGSAVE"), "Background saving started")
            harness.wait_until(lambda: r.info("persistence")["rdb_bgsave_in_progress"] == 0 and
                               r.info("persistence")["rdb_last_bgsave_status"] == "err", 30,
                               what="the background save fails")
            with self.assertRaises(redis.ResponseError) as e:
                r.set("after", "1")
            texts.append(str(e.exception))
            with self.assertRaises(redis.ResponseError):
                r.ping()
            self.assertEqual(r.get("before"), "1")  # reads go on
            shutil.rmtree(blocker)
            self.assertEqual(raw(r, "BGSAVE"), "Background saving started")
            harness.wait_until(lambda: r.info("persistence")["rdb_last_bgsave_status"] == "ok",
                               30, what="the next save works")
            self.assertTrue(r.set("after", "1"))
        self.assertTrue(texts[0].startswith("MISCONF"), texts[0])
        self.assertEqual(texts[0], texts[1])


class ClusterRestartTest(ClusterTestCase):
    def test_a_node_restarted_from_its_snapshot_converges_with_its_peers(self):
        with self.cluster(3) as c:
            r1 = c.r(1)
            for i in range(200):
                r1.set("k%d" % i, "v%d" % i)
            r1.sadd("s", "a", "b")
            r1.hset("h", mapping={"f": "1"})
            c.wait_converged(20)
            self.assertTrue(c.r(3).save())
            c.kill(3)
            # While node 3 is down: deletes and writes elsewhere.
            for i in range(0, 200, 10):
                r1.delete("k%d" % i)
            r1.set("k1", "changed")
            r1.srem("s", "a")
            r1.sadd("s", "c")
            c.r(2).set("new", "from-2")
            c.restart(3)
            snap = c.wait_converged(30)
            self.assertNotIn("k0", snap)
            self.assertNotIn("k190", snap)
            self.assertEqual(snap["k1"][1], "changed")
            self.assertEqual(snap["new"][1], "from-2")
            self.assertEqual(snap["s"][1], ("b", "c"))
            with open(c.node(3).logpath, "rb") as f:
                self.assertIn(b"DB loaded from disk", f.read())


if __name__ == "__main__":
    harness.main()
