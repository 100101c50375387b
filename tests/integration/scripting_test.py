#!/usr/bin/python3
"""Lua scripts across connections, threads and nodes.

Against redis-server and lattice-server side by side (transcripts must be
identical, and each scenario also asserts what Redis documents):
- a script past busy-reply-threshold: other clients get BUSY, SCRIPT KILL
  stops it and its caller gets the kill error; after a write SCRIPT KILL
  answers UNKILLABLE and SHUTDOWN NOSAVE still ends the server;
- a compare-and-delete lock (the release script of redlock-style
  libraries) and a sliding-window rate limiter give the same replies.
Lattice alone, with four worker threads:
- a script is atomic across shards: clients incrementing keys on several
  shards in one script while others read them with MGET never see them
  differ, and every increment counts; the lock keeps a critical section
  exclusive under concurrent clients;
- a script may touch keys it did not declare (it runs with every shard
  stopped); with lua-shard-local yes it runs on its keys' shard alone and
  such a key gets an error naming the rule.
Nodes (real processes on 127.0.0.x):
- function libraries loaded, replaced, deleted or flushed on any of three
  nodes reach the others (last writer wins);
- a script's writes reach the other node by their effects (a script that
  reads the time and a random number writes the same values there), all
  at once: a reader on node 2 never sees part of a script's writes.

Environment: LATTICE_SERVER, REDIS_SERVER (see harness.py).
"""

import os
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import redis  # noqa: E402  (python3-redis)
from cluster import ClusterTestCase  # noqa: E402

BUSY = (b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
        b"SHUTDOWN NOSAVE.\r\n")
LOOP_SHA = b"694a5fe1ddb97a4c6a1bf299d9537c7d3d0f84e7"  # sha1("while true do end")

# Release a lock only if we still own it (the pattern Redis documents for
# SET NX PX locks).
RELEASE = (b"if redis.call('get', KEYS[1]) == ARGV[1] then "
           b"return redis.call('del', KEYS[1]) else return 0 end")
# A sliding-window limiter: at most ARGV[2] requests per ARGV[3] ms, the
# current time given by the caller so both servers see the same times.
LIMITER = b"""
local key, now, limit, window = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, window)
  return {1, limit - count - 1}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + window - now}
"""


class ScriptingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.redis = harness.start_redis()
        cls.lattice = harness.start_lattice(threads=4)

    @classmethod
    def tearDownClass(cls):
        cls.lattice.stop()
        cls.redis.stop()

    def both(self, scenario, servers=None):
        out = {}
        for name, srv in servers or (("redis", self.redis), ("lattice", self.lattice)):
            c = srv.client()
            c.call(b"FLUSHALL")
            try:
                out[name] = scenario(srv)
            finally:
                c.close()
        self.assertEqual(out["lattice"], out["redis"])
        return out["redis"]

    def busy_script(self, srv, body, numkeys=b"0", *keys):
        """Starts `body` on its own connection and waits until the server
        reports it busy; returns the connection (its reply still pending)."""
        runner = srv.client()
        runner.send(b"EVAL", body, numkeys, *keys)
        probe = srv.client()
        deadline = time.time() + 10
        while time.time() < deadline:
            if probe.call(b"PING") == BUSY:
                break
            time.sleep(0.05)
        probe.close()
        return runner

    def test_busy_script_answers_busy_and_dies_by_script_kill(self):
        def scenario(srv):
            c = srv.client()
            c.call(b"CONFIG", b"SET", b"busy-reply-threshold", b"100")
            c.close()
            runner = self.busy_script(srv, b"while true do end")
            # Several connections, so that on Lattice they land on several
            # workers: every one of them is told BUSY.
            others = [srv.client() for _ in range(6)]
            t = [o.call(b"GET", b"k%d" % i) for i, o in enumerate(others)]
            t.append(others[0].call(b"SET", b"x", b"1"))
            t.append(others[1].call(b"INFO", b"server"))
            t.append(others[2].call(b"SCRIPT", b"KILL"))
            t.append(runner.read_reply(timeout=10))
            t.append(others[3].call(b"PING"))
            t.append(others[4].call(b"GET", b"x"))
            for o in others + [runner]:
                o.close()
            return t

        t = self.both(scenario)
        self.assertEqual(t[:8], [BUSY] * 8)
        self.assertEqual(t[8], b"+OK\r\n")
        self.assertEqual(t[9], b"-ERR Script killed by user with SCRIPT KILL... script: " +
                         LOOP_SHA + b", on @user_script:1.\r\n")
        self.assertEqual(t[10:], [b"+PONG\r\n", b"$-1\r\n"])

    def test_a_script_with_keys_is_busy_too(self):
        def scenario(srv):
            c = srv.client()
            c.call(b"CONFIG", b"SET", b"busy-reply-threshold", b"100")
            runner = self.busy_script(srv, b"redis.call('get', KEYS[1]) while true do end",
                                      b"1", b"somekey")
            t = [c.call(b"GET", b"somekey"), c.call(b"SCRIPT", b"KILL")]
            t.append(runner.read_reply(timeout=10).split(b" script:")[0])
            t.append(c.call(b"GET", b"somekey"))
            runner.close()
            c.close()
            return t

        t = self.both(scenario)
        self.assertEqual(t, [BUSY, b"+OK\r\n", b"-ERR Script killed by user with SCRIPT KILL...",
                             b"$-1\r\n"])

    def test_a_script_that_wrote_cannot_be_killed_but_shutdown_nosave_ends_it(self):
        def scenario(srv):
            own = harness.start_redis() if srv is self.redis else harness.start_lattice(threads=4)
            try:
                c = own.client()
                c.call(b"CONFIG", b"SET", b"busy-reply-threshold", b"100")
                runner = self.busy_script(own, b"redis.call('set', KEYS[1], '1') while true do end",
                                          b"1", b"w")
                t = [c.call(b"SCRIPT", b"KILL"), c.call(b"GET", b"w")]
                own.expected_down = True
                c.send(b"SHUTDOWN", b"NOSAVE")
                try:
                    c.read_reply(timeout=10)
                except Exception:
                    pass  # the server closes the connection as it exits
                own.proc.wait(timeout=20)
                t.append(own.proc.returncode is not None)
                runner.close()
                c.close()
                return t
            finally:
                own.stop()

        t = self.both(scenario)
        self.assertTrue(t[0].startswith(b"-UNKILLABLE Sorry the script already executed write"))
        self.assertEqual(t[1:], [BUSY, True])

    def test_lock_release_and_rate_limiter_give_redis_replies(self):
        def scenario(srv):
            a, b = srv.client(), srv.client()
            t = [a.call(b"SET", b"lock:r", b"token-a", b"NX", b"PX", b"30000"),
                 b.call(b"SET", b"lock:r", b"token-b", b"NX", b"PX", b"30000"),
                 b.call(b"EVAL", RELEASE, b"1", b"lock:r", b"token-b"),
                 a.call(b"GET", b"lock:r"),
                 a.call(b"EVAL", RELEASE, b"1", b"lock:r", b"token-a"),
                 a.call(b"EVAL", RELEASE, b"1", b"lock:r", b"token-a"),
                 b.call(b"SET", b"lock:r", b"token-b", b"NX", b"PX", b"30000")]
            sha = a.call(b"SCRIPT", b"LOAD", LIMITER).split(b"\r\n")[1]
            now = 1_000_000
            for i in range(14):
                # 5 per 1000 ms; requests 100 ms apart, then a pause.
                when = now + i * 100 + (2000 if i >= 10 else 0)
                t.append(a.call(b"EVALSHA", sha, b"1", b"rl:user", b"%d" % when, b"5", b"1000",
                                b"req%d" % i))
            t.append(a.call(b"ZCARD", b"rl:user"))
            a.close()
            b.close()
            return t

        t = self.both(scenario)
        self.assertEqual(t[:7], [b"+OK\r\n", b"$-1\r\n", b":0\r\n", b"$7\r\ntoken-a\r\n",
                                 b":1\r\n", b":0\r\n", b"+OK\r\n"])
        self.assertEqual(t[7], b"*2\r\n:1\r\n:4\r\n")
        self.assertEqual(t[12], b"*2\r\n:0\r\n:500\r\n")

    def test_a_script_is_atomic_across_shards(self):
        keys = [b"acc%d" % i for i in range(12)]  # over four shards
        body = b"for i = 1, #KEYS do redis.call('incr', KEYS[i]) end return 1"
        stop = threading.Event()
        errors, seen = [], [0]

        def writer():
            r = redis.Redis(host="127.0.0.1", port=self.lattice.port)
            try:
                for _ in range(200):
                    r.eval(body, len(keys), *keys)
            except Exception as e:
                errors.append(e)

        def reader():
            r = redis.Redis(host="127.0.0.1", port=self.lattice.port)
            while not stop.is_set():
                vals = r.mget(keys)
                seen[0] += 1
                if len(set(vals)) != 1:
                    errors.append("MGET saw part of a script: %r" % vals)
                    return

        c = self.lattice.client()
        c.call(b"FLUSHALL")
        writers = [threading.Thread(target=writer) for _ in range(3)]
        readers = [threading.Thread(target=reader) for _ in range(2)]
        for th in writers + readers:
            th.start()
        for th in writers:
            th.join(120)
        stop.set()
        for th in readers:
            th.join(30)
        self.assertEqual(errors, [])
        self.assertGreater(seen[0], 10)
        self.assertEqual(c.call(b"MGET", b"acc0", b"acc11"),
                         b"*2\r\n$3\r\n600\r\n$3\r\n600\r\n")
        c.close()

    def test_the_lock_keeps_a_critical_section_exclusive(self):
        errors, inside = [], [0]
        acquire = (b"if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', 10000) then "
                   b"return 1 else return 0 end")

        def client(n):
            r = redis.Redis(host="127.0.0.1", port=self.lattice.port)
            token = "t%d" % n
            done = 0
            deadline = time.time() + 60
            while done < 50 and time.time() < deadline:
                if r.eval(acquire, 1, "lock:cs", token) != 1:
                    continue
                inside[0] += 1
                if inside[0] != 1:
                    errors.append("two clients inside the critical section")
                r.incr("cs:count")
                inside[0] -= 1
                if r.eval(RELEASE, 1, "lock:cs", token) != 1:
                    errors.append("lost the lock of %s" % token)
                done += 1

        c = self.lattice.client()
        c.call(b"FLUSHALL")
        threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(90)
        self.assertEqual(errors, [])
        self.assertEqual(c.call(b"GET", b"cs:count"), b"$3\r\n200\r\n")
        c.close()

    def test_undeclared_keys_work_unless_lua_shard_local(self):
        c = self.lattice.client()
        c.call(b"FLUSHALL")
        # One declared key; some of these undeclared ones are on other shards.
        body = (b"for i = 1, 16 do redis.call('set', 'undeclared' .. i, 1) end return 1")
        # By default a script runs with every shard stopped: any key works,
        # as on Redis.
        self.assertEqual(c.call(b"EVAL", body, b"1", b"declared"), b":1\r\n")
        self.assertEqual(c.call(b"EVAL", b"return redis.call('dbsize')", b"1", b"x"),
                         b":16\r\n")
        # lua-shard-local runs it on its declared key's shard alone, which
        # refuses the others with an error naming the rule.
        c.call(b"FLUSHALL")
        self.assertEqual(c.call(b"CONFIG", b"SET", b"lua-shard-local", b"yes"), b"+OK\r\n")
        try:
            reply = c.call(b"EVAL", body, b"1", b"declared")
            self.assertTrue(reply.startswith(b"-ERR Script attempted to access key 'undeclared"),
                            reply)
            self.assertIn(b"pass every key a script uses in KEYS", reply)
            # Declaring none still lets a script touch any key.
            self.assertEqual(c.call(b"EVAL", body, b"0"), b":1\r\n")
            self.assertEqual(c.call(b"EVAL", b"return redis.call('dbsize')", b"0"), b":16\r\n")
        finally:
            c.call(b"CONFIG", b"SET", b"lua-shard-local", b"no")
        c.close()


class ClusterScriptingTest(ClusterTestCase):
    def test_function_libraries_reach_every_node_and_converge(self):
        lib = ("#!lua name=counters\nredis.register_function('bump', function(keys, args) "
               "return redis.call('incrby', keys[1], args[1]) end)")
        lib2 = lib.replace("incrby', keys[1], args[1]", "incrby', keys[1], args[1] * 10")
        with self.cluster(3, threads=2) as c:
            r1, r2, r3 = c.r(1), c.r(2), c.r(3)
            self.assertEqual(r1.execute_command("FUNCTION", "LOAD", lib), "counters")

            def fcall(r):
                try:
                    return r.execute_command("FCALL", "bump", 1, "fk", 1)
                except Exception as e:  # noqa: BLE001
                    return str(e)
            for r in (r2, r3):
                harness.wait_until(lambda r=r: isinstance(fcall(r), int), 15,
                                   what="the library on every node")
            # A newer load elsewhere wins everywhere.
            self.assertEqual(r2.execute_command("FUNCTION", "LOAD", "REPLACE", lib2), "counters")
            # Each change below is made on a node that has seen the one
            # before it (the last writer wins by Lamport stamp: a change
            # made without seeing an earlier one may lose to it).
            for r in (r1, r3):
                harness.wait_until(lambda r=r: "* 10" in r.execute_command(
                    "FUNCTION", "LIST", "WITHCODE")[0][-1], 15, what="the replaced library")
            # A delete reaches every node, and so does a flush.
            r3.execute_command("FUNCTION", "DELETE", "counters")
            for r in (r1, r2):
                harness.wait_until(lambda r=r: r.execute_command("FUNCTION", "LIST") == [], 15,
                                   what="the delete")
            r1.execute_command("FUNCTION", "LOAD", lib)
            for r in (r2, r3):
                harness.wait_until(lambda r=r: r.execute_command("FUNCTION", "LIST") != [], 15,
                                   what="the reload")
            r2.execute_command("FUNCTION", "FLUSH")
            for r in (r1, r3):
                harness.wait_until(lambda r=r: r.execute_command("FUNCTION", "LIST") == [], 15,
                                   what="the flush")


    def test_a_script_replicates_by_its_effects_all_at_once(self):
        keys = ["s%d" % i for i in range(16)]
        body = ("local t = redis.call('time') local v = t[1] .. '.' .. t[2] .. ':' .. "
                "math.random() for i = 1, #KEYS do redis.call('set', KEYS[i], v) end return v")
        rounds = 200
        with self.cluster(2, threads=4) as c:
            stop = threading.Event()
            errors, seen = [], [0]

            def reader():
                r = c.node(2).new_client()
                while not stop.is_set():
                    vals = r.mget(keys)
                    seen[0] += 1
                    if len(set(vals)) != 1:
                        errors.append("node 2 saw part of a script: %r" % vals)
                        return

            th = threading.Thread(target=reader)
            th.start()
            try:
                w = c.node(1).new_client()
                last = None
                for _ in range(rounds):
                    last = w.eval(body, len(keys), *keys)
                harness.wait_until(lambda: c.r(2).get("s15") == last, 10,
                                   what="the last script's writes on node 2")
            finally:
                stop.set()
                th.join(30)
            self.assertEqual(errors, [])
            self.assertGreater(seen[0], 10)
            # The values the script computed on node 1, not a re-run's.
            self.assertEqual(c.r(2).mget(keys), [last] * len(keys))
            self.assertEqual(c.r(1).mget(keys), [last] * len(keys))


if __name__ == "__main__":
    harness.main()
