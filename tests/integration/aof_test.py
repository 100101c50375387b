#!/usr/bin/python3
"""The append-only log (node/persist/aof.h) as an operator meets it.

Asserted:
- with `appendonly yes`, every type written (and deleted, flushed,
  expired) survives SIGKILL with no SAVE: the restarted node has the same
  keys, values, encodings and TTLs, says it loaded from the log, and goes
  on appending (a second kill and restart keeps the later writes too);
- `appendfsync always` under concurrent writers killed at random points:
  over several rounds, every write a client saw acknowledged (SET of its
  own keys, INCR, RPUSH) is there after the restart, and the writers
  shared fsyncs (fewer fsyncs than acknowledged writes: group commit);
- `appendfsync everysec` syncs in the background about once a second, and
  a killed process loses no acknowledged write either;
- a torn last record (a crash mid-write) is dropped with a warning and
  the file cut back when aof-load-truncated is yes; with no, the node
  refuses to start and names the file and the offset; a record corrupted
  in the middle is refused either way;
- turning the log on over an existing dump.rdb keeps its data (it becomes
  the log's base);
- BGREWRITEAOF compacts the log into a new base and incr file (the old
  files go) and keeps every write made while it ran; the log also rewrites
  itself as it grows (auto-aof-rewrite-*); without the log it is refused;
- a full disk (a 4 MB tmpfs the test mounts) makes writes fail with
  Redis's MISCONF text while reads go on; when space returns writes go on,
  and every acknowledged write survives a kill -9;
- CONFIG: appendfsync changes at runtime, appendonly and the file names
  are immutable;
- a node of a three-node cluster killed and restarted from its log
  receives only what it missed: its peers resume their streams where its
  log's marks say it stopped (no full snapshot to or from it; the deltas
  it receives are a small fraction of the keyspace), and it converges
  with the deletes and writes made while it was down.

Environment: LATTICE_SERVER (see harness.py).
"""

import glob
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import redis  # noqa: E402  (python3-redis)
from cluster import ClusterTestCase  # noqa: E402
from persistence_test import Node, dump_all, populate, raw, shutdown  # noqa: E402

ROUNDS = 6
WRITERS = 4


def incr_files(directory):
    return sorted(glob.glob(os.path.join(directory, "appendonlydir", "appendonly.aof.*.incr.aof")))


class AppendOnlyTest(unittest.TestCase):
    def setUp(self):
        self.binary = harness.lattice_server_path()
        if harness.is_redis_binary(self.binary):
            self.skipTest("Lattice's own log format")
        self.dir = tempfile.mkdtemp(prefix="lattice-aof-")
        self.nodes = []

    def tearDown(self):
        for n in self.nodes:
            n.kill9()
        shutil.rmtree(self.dir, ignore_errors=True)

    def node(self, *extra):
        n = Node(self.binary, self.dir, extra=["--appendonly", "yes"] + list(extra))
        self.nodes.append(n)
        return n

    def test_every_type_survives_kill9_without_a_save(self):
        n = self.node().start().wait_ready()
        r = n.client()
        populate(r)
        r.set("gone", "x")
        r.delete("gone")
        r.set("expired", "x", px=50)
        r3 = n.client(3)
        r3.set("flushed-later", "1")
        time.sleep(0.1)
        want = dump_all(n)
        self.assertNotIn((0, b"gone"), want)
        self.assertEqual(r.info("persistence")["aof_enabled"], 1)
        n.kill9()
        n.start().wait_ready()
        self.assertEqual(dump_all(n), want)
        self.assertIn("DB loaded from append only file", n.log())
        self.assertNotIn(b"gone", n.client(decode=False).keys("*"))
        # It goes on appending to the same log.
        r = n.client()
        self.assertEqual(r.incrby("counter", 1), 42)
        r.hset("hsmall", "later", "yes")
        n.client(3).flushdb()
        r.xack("stream", "g", "1-1")
        want = dump_all(n)
        n.kill9()
        n.start().wait_ready()
        self.assertEqual(dump_all(n), want)
        self.assertEqual(n.client(3).dbsize(), 0)
        self.assertEqual(n.client().hget("hsmall", "later"), "yes")

    def test_always_keeps_every_acknowledged_write_through_kill9(self):
        n = self.node("--appendfsync", "always").start().wait_ready()
        rng = random.Random(12)
        acked_sets = {}   # key -> value acknowledged
        max_incr = 0
        pushes = 0
        total_acked = 0
        for rnd in range(ROUNDS):
            stop = threading.Event()
            results = []

            def writer(w):
                r = n.client()
                sets, incr, push, i, incrs = {}, 0, 0, 0, 0
                deadline = time.monotonic() + 10
                while not stop.is_set() and time.monotonic() < deadline:
                    key = "r%d:w%d:%d" % (rnd, w, i)
                    try:
                        if i % 3 == 0:
                            r.set(key, str(i))
                            sets[key] = str(i)
                        elif i % 3 == 1:
                            incr = max(incr, r.incr("counter"))
                            incrs += 1
                        else:
                            r.rpush("list", key)
                            push += 1
                    except (redis.ConnectionError, redis.TimeoutError):
                        break
                    i += 1
                results.append((sets, incr, push, incrs))

            threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.3, 1.2))
            if rnd == ROUNDS - 1:
                fsyncs = n.client().info("persistence")["aof_fsyncs"]
            n.kill9()
            stop.set()
            for t in threads:
                t.join(15)
            round_acked = 0
            for sets, incr, push, incrs in results:
                acked_sets.update(sets)
                max_incr = max(max_incr, incr)
                pushes += push
                round_acked += len(sets) + push + incrs
            total_acked += round_acked
            n.start().wait_ready()
            r = n.client()
            keys = list(acked_sets)
            values = r.mget(keys) if keys else []
            missing = [k for k, v in zip(keys, values) if v != acked_sets[k]]
            self.assertEqual(missing, [], "round %d: acknowledged SETs lost" % rnd)
            self.assertGreaterEqual(int(r.get("counter") or 0), max_incr, "round %d" % rnd)
            self.assertGreaterEqual(r.llen("list"), pushes, "round %d" % rnd)
        self.assertGreater(total_acked, 100 * ROUNDS)
        # Group commit: concurrent writers share fsyncs, so the last round
        # (read just before its kill) took fewer fsyncs than writes.
        self.assertGreater(fsyncs, 0)
        self.assertLess(fsyncs, round_acked)

    def test_everysec_syncs_in_the_background_and_loses_nothing_on_kill9(self):
        n = self.node("--appendfsync", "everysec").start().wait_ready()
        r = n.client()
        before = r.info("persistence")["aof_fsyncs"]
        start = time.monotonic()
        acked = 0
        while time.monotonic() - start < 3.2:
            pipe = r.pipeline(transaction=False)
            for i in range(50):
                pipe.set("k%d" % (acked + i), acked + i)
            pipe.execute()
            acked += 50
        fsyncs = r.info("persistence")["aof_fsyncs"] - before
        self.assertGreaterEqual(fsyncs, 2)
        self.assertLessEqual(fsyncs, 6)
        n.kill9()
        n.start().wait_ready()
        r = n.client()
        self.assertEqual(r.dbsize(), acked)
        self.assertEqual(r.get("k%d" % (acked - 1)), str(acked - 1))

    def test_a_torn_last_record_is_dropped_only_when_allowed(self):
        n = self.node().start().wait_ready()
        r = n.client()
        for i in range(100):
            r.set("k%d" % i, "v%d" % i)
        n.kill9()
        (path,) = incr_files(self.dir)
        whole = os.path.getsize(path)
        with open(path, "ab") as f:
            f.write(b"\x90\x01partial")  # a 144-byte record cut after 7 bytes
        # aof-load-truncated no: refused, naming the file and the offset.
        refuse = Node(self.binary, self.dir,
                      extra=["--appendonly", "yes", "--aof-load-truncated", "no"])
        self.nodes.append(refuse)
        refuse.start()
        self.assertNotEqual(refuse.wait_exit(), 0)
        self.assertIn("Bad append-only file %s at offset %d: truncated record"
                      % ("appendonlydir/" + os.path.basename(path), whole), refuse.log())
        self.assertEqual(os.path.getsize(path), whole + 9)
        # Default (yes): loaded, a warning, the file cut back.
        n.start().wait_ready()
        self.assertEqual(n.client().dbsize(), 100)
        self.assertIn("short read while loading the append-only file", n.log())
        self.assertEqual(os.path.getsize(path), whole)
        n.client().set("after", "1")
        n.kill9()
        n.start().wait_ready()
        self.assertEqual(n.client().get("after"), "1")
        self.assertEqual(n.client().dbsize(), 101)

    def test_a_corrupt_record_in_the_middle_is_refused(self):
        n = self.node().start().wait_ready()
        r = n.client()
        for i in range(50):
            r.set("key%d" % i, "value%d" % i)
        n.kill9()
        (path,) = incr_files(self.dir)
        with open(path, "rb") as f:
            data = bytearray(f.read())
        at = data.index(b"value10")
        data[at] ^= 0x20
        with open(path, "wb") as f:
            f.write(data)
        n.start()
        self.assertNotEqual(n.wait_exit(), 0)
        self.assertRegex(n.log(), r"Bad append-only file appendonlydir/appendonly\.aof\.1\.incr\.aof "
                                  r"at offset \d+: checksum mismatch")

    def test_turning_the_log_on_keeps_the_snapshot_data(self):
        plain = Node(self.binary, self.dir)
        self.nodes.append(plain)
        plain.start().wait_ready()
        plain.client().set("from-snapshot", "yes")
        self.assertTrue(plain.client().save())
        plain.kill9()
        n = self.node().start().wait_ready()
        self.assertEqual(n.client().get("from-snapshot"), "yes")
        n.client().set("from-log", "yes")
        n.kill9()
        os.unlink(os.path.join(self.dir, "dump.rdb"))  # the log alone now
        n.start().wait_ready()
        self.assertEqual(n.client().mget("from-snapshot", "from-log"), ["yes", "yes"])

    def manifest(self):
        with open(os.path.join(self.dir, "appendonlydir", "appendonly.aof.manifest")) as f:
            return [line.split()[1] for line in f.read().splitlines() if line]

    def wait_rewritten(self, r, rewrites, bound=60.0):
        def done():
            info = r.info("persistence")
            return info["aof_rewrite_in_progress"] == 0 and info["aof_rewrites"] >= rewrites
        harness.wait_until(done, bound, interval=0.02, what="the log rewrite ends")
        self.assertEqual(r.info("persistence")["aof_last_bgrewrite_status"], "ok")

    def test_bgrewriteaof_compacts_and_keeps_what_was_written_during_it(self):
        n = self.node().start().wait_ready()
        r = n.client()
        bulk = n.client(5)
        keys = 100000
        for rnd in range(3):  # three writes per key: the log holds them all
            pipe = bulk.pipeline(transaction=False)
            for i in range(keys):
                pipe.set("k:%d" % i, "v%d-%d" % (rnd, i))
                if i % 5000 == 4999:
                    pipe.execute()
            pipe.execute()
        populate(r)
        before = self.manifest()
        self.assertEqual(before, ["appendonly.aof.1.base.snap", "appendonly.aof.1.incr.aof"])
        old_size = os.path.getsize(os.path.join(self.dir, "appendonlydir", before[1]))
        cmds = [("INFO", "persistence"), ("SELECT", "5")]
        cmds += [("SET", "k:%d" % i, "during") for i in range(0, keys, 2)]
        cmds += [("DEL", "k:%d" % i) for i in range(1, keys, 101)]
        cmds += [("SELECT", "0"), ("HSET", "hsmall", "during", "yes"), ("INCR", "counter")]
        conn = r.connection_pool.get_connection("SET")
        packed = conn.pack_commands(cmds)
        self.assertEqual(raw(r, "BGREWRITEAOF"), "Background append only file rewriting started")
        conn.send_packed_command(packed)
        replies = [conn.read_response() for _ in cmds]
        conn.disconnect()
        r.connection_pool.release(conn)
        self.assertIn("aof_rewrite_in_progress:1", replies[0],
                      "the rewrite ended before the writes: nothing was tested")
        self.wait_rewritten(r, 1)
        after = self.manifest()
        self.assertEqual(after, ["appendonly.aof.2.base.snap", "appendonly.aof.2.incr.aof"])
        files = sorted(os.listdir(os.path.join(self.dir, "appendonlydir")))
        self.assertEqual(files, sorted(after + ["appendonly.aof.manifest"]))
        new_size = sum(os.path.getsize(os.path.join(self.dir, "appendonlydir", f)) for f in after)
        self.assertLess(new_size, old_size * 0.75)
        want = dump_all(n)
        deleted = len(range(1, keys, 101))
        n.kill9()
        n.start().wait_ready()
        self.assertEqual(dump_all(n), want)
        bulk = n.client(5)
        self.assertEqual(bulk.dbsize(), keys - deleted)
        self.assertEqual(bulk.mget("k:0", "k:1", "k:2", "k:3", "k:99999"),
                         ["during", None, "during", "v2-3", "v2-99999"])
        # Again, on the rewritten log.
        self.assertEqual(raw(n.client(), "BGREWRITEAOF"),
                         "Background append only file rewriting started")
        self.wait_rewritten(n.client(), 1)
        self.assertEqual(self.manifest(), ["appendonly.aof.3.base.snap", "appendonly.aof.3.incr.aof"])

    def test_the_log_rewrites_itself_as_it_grows(self):
        n = self.node("--auto-aof-rewrite-min-size", "1mb",
                      "--auto-aof-rewrite-percentage", "100").start().wait_ready()
        r = n.client()
        for rnd in range(6):
            pipe = r.pipeline(transaction=False)
            for i in range(5000):
                pipe.set("k:%d" % i, "x" * 100)
            pipe.execute()
        self.wait_rewritten(r, 1, bound=20)
        self.assertIn("Starting automatic rewriting of AOF on", n.log())
        self.assertNotIn("appendonly.aof.1.incr.aof", self.manifest())
        n.kill9()
        n.start().wait_ready()
        self.assertEqual(n.client().dbsize(), 5000)

    def test_bgrewriteaof_without_the_log_is_refused(self):
        plain = Node(self.binary, self.dir)
        self.nodes.append(plain)
        plain.start().wait_ready()
        with self.assertRaisesRegex(redis.ResponseError, "appendonly is no"):
            raw(plain.client(), "BGREWRITEAOF")

    def test_a_full_disk_refuses_writes_and_loses_none(self):
        """The log on a small tmpfs the test mounts: once the disk is full,
        writes get Redis's MISCONF error (the write in flight waits), and
        when space comes back they go on; nothing acknowledged is lost."""
        if os.geteuid() != 0:
            self.skipTest("mounting a tmpfs needs root")
        mnt = tempfile.mkdtemp(prefix="lattice-aof-full-")
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt], check=True)
        self.addCleanup(lambda: (subprocess.run(["umount", "-l", mnt]), shutil.rmtree(mnt, True)))
        shutil.rmtree(self.dir, ignore_errors=True)  # the log goes on the tmpfs instead
        self.dir = mnt
        n = self.node().start().wait_ready()
        r = n.client()
        filler = os.path.join(mnt, "filler")
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        os.truncate(filler, max(0, os.path.getsize(filler) - 200000))
        acked = 0
        refused = None
        for i in range(20000):
            try:
                r.set("k:%d" % i, "v" * 200)
                acked = i + 1
            except redis.ResponseError as e:
                refused = str(e)
                break
            except redis.TimeoutError:
                break  # this write waits for the log: another client sees why
        other = n.client()
        if refused is None:
            with self.assertRaises(redis.ResponseError) as e:
                other.set("x", "1")
            refused = str(e.exception)
        self.assertEqual(refused, "MISCONF Errors writing to the AOF file: No space left on device")
        self.assertEqual(other.info("persistence")["aof_last_write_status"], "err")
        self.assertEqual(other.get("k:0"), "v" * 200)  # reads go on
        os.unlink(filler)
        harness.wait_until(lambda: other.info("persistence")["aof_last_write_status"] == "ok", 10,
                           what="the log is written again")
        self.assertTrue(other.set("after", "1"))
        n.kill9()
        n.start().wait_ready()
        r = n.client()
        self.assertEqual(r.get("after"), "1")
        for i in range(acked):
            self.assertEqual(r.get("k:%d" % i), "v" * 200, "acknowledged k:%d" % i)

    def test_evicted_keys_stay_evicted_after_a_replay(self):
        n = self.node("--maxmemory", "20mb", "--maxmemory-policy", "allkeys-lru").start()
        n.wait_ready()
        r = n.client()
        for rnd in range(8):  # about twice maxmemory
            pipe = r.pipeline(transaction=False)
            for i in range(rnd * 20000, (rnd + 1) * 20000):
                pipe.set("k:%d" % i, "v" * 200)
            pipe.execute()
        info = r.info()
        self.assertGreater(info["evicted_keys"], 10000)
        self.assertEqual(r.dbsize() + info["evicted_keys"], 160000)
        self.assertIsNone(r.get("k:0"))  # the least recently used went first
        r.set("k:0", "written again")  # evicted, then written: it stays
        keys = r.dbsize()
        time.sleep(1.2)  # everysec
        n.kill9()
        n.start().wait_ready()
        r = n.client()
        # The replay brought back none of the evicted keys, so nothing had
        # to be evicted again.
        self.assertEqual(r.dbsize(), keys)
        self.assertEqual(r.info()["evicted_keys"], 0)
        self.assertEqual(r.get("k:0"), "written again")

    def test_function_libraries_survive_the_log_and_its_rewrite(self):
        lib = "#!lua name=mylib\nredis.register_function('hello', function() return 'hi' end)"
        lib2 = "#!lua name=other\nredis.register_function('bye', function() return 'bye' end)"
        n = self.node().start().wait_ready()
        r = n.client()
        self.assertEqual(r.function_load(lib), "mylib")
        self.assertEqual(r.function_load(lib2), "other")
        r.function_delete("other")
        n.kill9()
        n.start().wait_ready()
        r = n.client()
        self.assertEqual(r.fcall("hello", 0), "hi")
        self.assertEqual([l[1] for l in r.function_list()], ["mylib"])  # library_name
        # The rewrite's base holds them (the old files with the records go).
        self.assertEqual(raw(r, "BGREWRITEAOF"), "Background append only file rewriting started")
        self.wait_rewritten(r, 1)
        n.kill9()
        n.start().wait_ready()
        self.assertEqual(n.client().fcall("hello", 0), "hi")

    def test_config(self):
        n = self.node().start().wait_ready()
        r = n.client()
        self.assertEqual(r.config_get("appendfsync"), {"appendfsync": "everysec"})
        self.assertTrue(r.config_set("appendfsync", "always"))
        r.set("a", "1")
        self.assertGreater(r.info("persistence")["aof_fsyncs"], 0)
        self.assertEqual(r.config_get("append*")["appendfilename"], "appendonly.aof")
        for name, value in (("appendonly", "no"), ("appenddirname", "x"),
                            ("appendfilename", "x")):
            with self.assertRaises(redis.ResponseError) as e:
                r.config_set(name, value)
            self.assertEqual(str(e.exception),
                             "CONFIG SET failed (possibly related to argument '%s') - can't set "
                             "immutable config" % name)
        shutdown(n, "NOSAVE")
        self.assertEqual(n.wait_exit(), 0)
        n.start().wait_ready()
        self.assertEqual(n.client().get("a"), "1")


def peer_entries(node):
    """INFO replication's peerK lines of `node`, by peer address."""
    info = node.info_replication()
    return {v["addr"]: v for k, v in info.items() if k.startswith("peer")}


class ClusterRestartFromLogTest(ClusterTestCase):
    KEYS = 3000

    def test_a_node_restarted_from_its_log_receives_only_what_it_missed(self):
        with self.cluster(3, extra_args=["--appendonly", "yes"]) as c:
            r1 = c.r(1)
            pipe = r1.pipeline(transaction=False)
            for i in range(self.KEYS):
                pipe.set("k%d" % i, "v%d" % i)
            pipe.execute()
            r1.sadd("s", "a", "b")
            c.r(3).hset("h", mapping={"f": "1", "g": "2"})
            c.wait_converged(30)
            three = c.node(3).peer_addr
            sent_before = {i: peer_entries(c.node(i))[three]["snapshots"] for i in (1, 2)}
            c.kill(3)
            # While node 3 is down: deletes and writes on the others.
            for i in range(0, 200, 10):
                r1.delete("k%d" % i)
            r1.set("k1", "changed")
            r1.srem("s", "a")
            r1.sadd("s", "c")
            c.r(2).set("new", "from-2")
            c.r(2).hdel("h", "g")
            c.restart(3)
            snap = c.wait_converged(30)
            self.assertNotIn("k0", snap)
            self.assertNotIn("k190", snap)
            self.assertEqual(snap["k1"][1], "changed")
            self.assertEqual(snap["k2"][1], "v2")
            self.assertEqual(snap["new"][1], "from-2")
            self.assertEqual(snap["s"][1], ("b", "c"))
            self.assertEqual(len([k for k in snap if k.startswith("k")]), self.KEYS - 20)
            self.assertIn("DB loaded from append only file", c.node(3).log_text())
            # Nothing was copied whole, in either direction.
            for i in (1, 2):
                self.assertEqual(peer_entries(c.node(i))[three]["snapshots"], sent_before[i],
                                 "node %d sent node 3 a full snapshot after its restart" % i)
            mine = peer_entries(c.node(3))
            self.assertEqual(sum(p["snapshots"] for p in mine.values()), 0)
            received = sum(p["received"] for p in mine.values())
            sys.stdout.write("node 3 received %d deltas after its restart (%d keys)\n"
                             % (received, self.KEYS))
            self.assertLess(received, self.KEYS // 10,
                            "node 3 received %d deltas for %d missed writes" % (received, 26))


if __name__ == "__main__":
    harness.main()
