#!/usr/bin/python3
"""Smoke test: real clients against lattice-server.

- redis-cli in RESP2 and RESP3 (-3), raw output (what scripts see) and
  --no-raw output (what a terminal shows), plus --pipe mass insertion;
- python3-redis (redis-py): typical calls, pipelines (transaction=False:
  MULTI/EXEC is not in Lattice's command set), scan_iter, databases, errors,
  concurrent clients (RESP2: Debian 12's redis-py 4.3 has no RESP3; a real
  RESP3 client, node-redis, is driven by resp3_client_test.py);
- redis-benchmark -t set,get -n 2000 -q runs and reports without errors.

Only lattice-server is started (set LATTICE_SERVER); replies are checked
against fixed expectations. A missing client (redis-cli, redis-benchmark,
python3-redis) fails the test that needs it, naming the package: these are
dependencies (deploy/install-deps.sh --with-tests), and a skip would let CI
pass without testing anything.
"""

import os
import re
import shutil
import subprocess
import sys
import threading
import unittest

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

try:
    import redis
except ImportError:  # python3-redis is a dependency: RedisPyTests fail without it
    redis = None

CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"
BENCH = shutil.which("redis-benchmark") or "/usr/bin/redis-benchmark"
SERVER = {}


def setUpModule():
    srv = harness.Server(harness.lattice_server_path(), name="lattice")
    unittest.addModuleCleanup(srv.stop)
    srv.start()
    SERVER["srv"] = srv


def flushall():
    with SERVER["srv"].client() as c:
        assert c.call(b"FLUSHALL") == b"+OK\r\n"


class CliTests(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        if not os.access(CLI, os.X_OK):
            self.fail("redis-cli not found (%s): install redis-tools "
                      "(deploy/install-deps.sh --with-tests)" % CLI)
        flushall()

    def cli(self, *args, resp3=False, raw=None, stdin=None, extra=()):
        srv = SERVER["srv"]
        argv = [CLI, "-h", srv.host, "-p", str(srv.port)]
        if resp3:
            argv.append("-3")
        if raw is False:
            argv.append("--no-raw")
        argv += list(extra) + [str(a) for a in args]
        p = subprocess.run(argv, input=stdin, capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, "redis-cli %s failed: %r %r"
                         % (" ".join(argv[3:]), p.stdout, p.stderr))
        return p.stdout.decode("utf-8", "replace")

    def test_resp2_raw(self):
        self.assertEqual(self.cli("SET", "foo", "bar"), "OK\n")
        self.assertEqual(self.cli("GET", "foo"), "bar\n")
        self.assertEqual(self.cli("GET", "nokey"), "\n")
        self.assertEqual(self.cli("INCR", "cnt"), "1\n")
        self.assertEqual(self.cli("INCRBY", "cnt", "41"), "42\n")
        self.assertEqual(self.cli("MSET", "a", "1", "b", "2"), "OK\n")
        self.assertEqual(self.cli("MGET", "a", "nokey", "b"), "1\n\n2\n")
        self.assertEqual(self.cli("EXPIRE", "a", "100"), "1\n")
        ttl = int(self.cli("TTL", "a"))
        self.assertTrue(98 <= ttl <= 100, ttl)
        self.assertEqual(self.cli("TTL", "b"), "-1\n")
        self.assertEqual(self.cli("INCR", "foo"),
                         "ERR value is not an integer or out of range\n\n")
        hello = self.cli("HELLO").splitlines()
        self.assertEqual(hello[0::2][:7], ["server", "version", "proto", "id", "mode", "role",
                                           "modules"], hello)
        self.assertEqual(hello[hello.index("proto") + 1], "2")

    def test_resp2_formatted(self):
        self.cli("SET", "foo", "bar")
        self.cli("MSET", "a", "1", "b", "2")
        self.assertEqual(self.cli("GET", "foo", raw=False), '"bar"\n')
        self.assertEqual(self.cli("GET", "nokey", raw=False), "(nil)\n")
        self.assertEqual(self.cli("INCR", "cnt", raw=False), "(integer) 1\n")
        self.assertEqual(self.cli("MGET", "a", "nokey", "b", raw=False),
                         '1) "1"\n2) (nil)\n3) "2"\n')
        self.assertEqual(self.cli("SET", "x", "y", raw=False), "OK\n")
        self.assertEqual(self.cli("GETRANGE", "foo", "5", "9", raw=False), '""\n')
        self.assertEqual(self.cli("FOO", raw=False),
                         "(error) ERR unknown command 'FOO', with args beginning with: \n")
        self.assertEqual(self.cli("KEYS", "nomatch*", raw=False), "(empty array)\n")

    def test_resp3(self):
        self.assertEqual(self.cli("SET", "foo", "bar", resp3=True), "OK\n")
        self.assertEqual(self.cli("GET", "foo", resp3=True), "bar\n")
        self.assertEqual(self.cli("GET", "nokey", resp3=True), "\n")
        self.assertEqual(self.cli("INCR", "cnt", resp3=True), "1\n")
        self.assertEqual(self.cli("MSET", "a", "1", "b", "2", resp3=True), "OK\n")
        self.assertEqual(self.cli("MGET", "a", "nokey", "b", resp3=True), "1\n\n2\n")
        self.assertEqual(self.cli("EXPIRE", "a", "100", resp3=True), "1\n")
        self.assertTrue(98 <= int(self.cli("TTL", "a", resp3=True)) <= 100)
        hello = self.cli("HELLO", "3", resp3=True).splitlines()
        fields = dict(line.split(" ", 1) for line in hello if " " in line)
        self.assertEqual(fields.get("proto"), "3", hello)
        for key in ("server", "version", "id", "mode", "role"):
            self.assertIn(key, fields, hello)
        # Formatted RESP3: null, map, integers.
        self.assertEqual(self.cli("GET", "nokey", resp3=True, raw=False), "(nil)\n")
        self.assertEqual(self.cli("INCR", "cnt", resp3=True, raw=False), "(integer) 2\n")
        out = self.cli("HELLO", "3", resp3=True, raw=False)
        self.assertIn('3# "proto" => (integer) 3\n', out)
        self.assertIn('7# "modules" => (empty array)\n', out)
        self.cli("SET", "key1", "ohmytext")
        self.cli("SET", "key2", "mynewtext")
        out = self.cli("LCS", "key1", "key2", "IDX", resp3=True, raw=False)
        self.assertEqual(out, '1# "matches" => \n'
                              '   1) 1) 1) (integer) 4\n'
                              '         2) (integer) 7\n'
                              '      2) 1) (integer) 5\n'
                              '         2) (integer) 8\n'
                              '   2) 1) 1) (integer) 2\n'
                              '         2) (integer) 3\n'
                              '      2) 1) (integer) 0\n'
                              '         2) (integer) 1\n'
                              '2# "len" => (integer) 6\n')

    def test_select_db_and_stdin_commands(self):
        self.assertEqual(self.cli("SET", "k", "db3", extra=["-n", "3"]), "OK\n")
        self.assertEqual(self.cli("GET", "k", extra=["-n", "3"]), "db3\n")
        self.assertEqual(self.cli("GET", "k"), "\n")
        out = self.cli(stdin=b"SET s 1\nINCR s\nGET s\nECHO \"a b\"\n")
        self.assertEqual(out, "OK\n2\n2\na b\n")

    def test_pipe_mode(self):
        n = 1000
        payload = b"".join(harness.encode_command("SET", "pipe:%d" % i, "v%d" % i)
                           for i in range(n))
        out = self.cli(extra=["--pipe"], stdin=payload)
        self.assertIn("errors: 0, replies: %d" % n, out)
        self.assertEqual(self.cli("DBSIZE"), "%d\n" % n)
        self.assertEqual(self.cli("GET", "pipe:999"), "v999\n")


class RedisPyTests(unittest.TestCase):
    def setUp(self):
        if redis is None:
            self.fail("python3-redis is not importable by %s: install python3-redis "
                      "(deploy/install-deps.sh --with-tests)" % sys.executable)
        flushall()
        srv = SERVER["srv"]
        self.r = redis.Redis(host=srv.host, port=srv.port, socket_timeout=10)
        self.addCleanup(self.r.close)

    def test_typical_calls(self):
        r = self.r
        self.assertTrue(r.ping())
        self.assertEqual(r.echo("hi"), b"hi")
        self.assertTrue(r.set("k", "v"))
        self.assertEqual(r.get("k"), b"v")
        self.assertIsNone(r.get("missing"))
        self.assertIsNone(r.set("k", "w", nx=True))
        self.assertTrue(r.set("k", "w", xx=True, ex=100))
        self.assertTrue(95 <= r.ttl("k") <= 100)
        self.assertTrue(90000 <= r.pttl("k") <= 100000)
        self.assertTrue(r.persist("k"))
        self.assertEqual(r.ttl("k"), -1)
        self.assertEqual(r.getset("k", "x"), b"w")
        self.assertEqual(r.getdel("k"), b"x")
        self.assertEqual(r.exists("k"), 0)
        self.assertEqual(r.incr("n"), 1)
        self.assertEqual(r.incrby("n", 9), 10)
        self.assertEqual(r.decr("n"), 9)
        self.assertEqual(r.decrby("n", 4), 5)
        self.assertEqual(r.incrbyfloat("f", 1.5), 1.5)
        self.assertEqual(r.incrbyfloat("f", "0.25"), 1.75)
        self.assertTrue(r.mset({"a": "1", "b": "2", "c": "3"}))
        self.assertEqual(r.mget("a", "missing", "c"), [b"1", None, b"3"])
        self.assertFalse(r.msetnx({"a": "x", "d": "4"}))
        self.assertEqual(r.exists("a", "b", "missing", "a"), 3)
        self.assertEqual(r.append("s", "hello"), 5)
        self.assertEqual(r.append("s", " world"), 11)
        self.assertEqual(r.strlen("s"), 11)
        self.assertEqual(r.getrange("s", 0, 4), b"hello")
        self.assertEqual(r.getrange("s", -5, -1), b"world")
        self.assertEqual(r.setrange("s", 6, "WORLD"), 11)
        self.assertEqual(r.get("s"), b"hello WORLD")
        self.assertEqual(r.setrange("pad", 3, "x"), 4)
        self.assertEqual(r.get("pad"), b"\x00\x00\x00x")
        self.assertTrue(r.setnx("nx", "1"))
        self.assertFalse(r.setnx("nx", "2"))
        self.assertTrue(r.setex("sx", 100, "v"))
        self.assertTrue(r.psetex("psx", 100000, "v"))
        self.assertEqual(r.getex("sx", persist=True), b"v")
        self.assertEqual(r.ttl("sx"), -1)
        self.assertEqual(r.getex("sx", ex=50), b"v")
        self.assertTrue(45 <= r.ttl("sx") <= 50)
        self.assertTrue(r.expire("a", 100))
        self.assertTrue(r.pexpire("b", 100000))
        self.assertTrue(r.expireat("c", 4102444800))
        self.assertEqual(r.expiretime("c"), 4102444800)
        self.assertTrue(r.pexpireat("c", 4102444800123))
        self.assertEqual(r.execute_command("PEXPIRETIME", "c"), 4102444800123)
        self.assertEqual(r.type("a"), b"string")
        self.assertEqual(r.type("missing"), b"none")
        self.assertTrue(r.rename("a", "a2"))
        self.assertFalse(r.renamenx("a2", "b"))
        self.assertTrue(r.copy("a2", "a3"))
        self.assertEqual(r.get("a3"), b"1")
        self.assertEqual(r.touch("a2", "a3", "missing"), 2)
        self.assertEqual(r.object("encoding", "n"), b"int")
        self.assertEqual(r.object("encoding", "s"), b"raw")
        r.set("key1", "ohmytext")
        r.set("key2", "mynewtext")
        self.assertEqual(r.execute_command("LCS", "key1", "key2"), b"mytext")
        self.assertEqual(r.execute_command("LCS", "key1", "key2", "LEN"), 6)
        self.assertEqual(r.delete("key1", "key2", "missing"), 2)
        self.assertEqual(r.unlink("nx", "missing"), 1)
        self.assertIn(r.randomkey(), set(r.keys("*")))
        self.assertEqual(sorted(r.keys("a*")), [b"a2", b"a3"])
        self.assertEqual(r.dbsize(), len(r.keys("*")))
        self.assertTrue(r.flushdb())
        self.assertEqual(r.dbsize(), 0)
        self.assertIsNone(r.randomkey())

    def test_binary_values(self):
        r = self.r
        value = bytes(range(256)) * 4
        key = b"bin\x00\r\nkey\xff"
        self.assertTrue(r.set(key, value))
        self.assertEqual(r.get(key), value)
        self.assertEqual(r.strlen(key), 1024)
        self.assertEqual(r.keys(b"bin*"), [key])

    def test_errors(self):
        r = self.r
        r.set("text", "abc")
        with self.assertRaisesRegex(redis.ResponseError, "value is not an integer or out of range"):
            r.incr("text")
        with self.assertRaisesRegex(redis.ResponseError, "value is not a valid float"):
            r.incrbyfloat("text", 1)
        with self.assertRaisesRegex(redis.ResponseError,
                                    "wrong number of arguments for 'get' command"):
            r.execute_command("GET")
        with self.assertRaisesRegex(redis.ResponseError, "unknown command"):
            r.execute_command("NOSUCHCOMMAND", "x")
        with self.assertRaisesRegex(redis.ResponseError, "no such key"):
            r.rename("missing", "x")
        self.assertTrue(r.ping())  # the connection survives errors

    def test_pipeline(self):
        r = self.r
        pipe = r.pipeline(transaction=False)
        for i in range(500):
            pipe.set("p:%d" % i, i)
            pipe.incr("p:counter")
        pipe.get("p:499")
        pipe.mget(["p:0", "p:1", "missing"])
        pipe.incr("p:0")
        pipe.get("p:counter")
        results = pipe.execute(raise_on_error=False)
        self.assertEqual(len(results), 1004)
        self.assertEqual(results[0:2], [True, 1])
        self.assertEqual(results[998:1000], [True, 500])
        self.assertEqual(results[1000:], [b"499", [b"0", b"1", None], 1, b"500"])
        # Errors inside a pipeline come back in place.
        pipe = r.pipeline(transaction=False)
        pipe.set("t", "abc").incr("t").get("t")
        res = pipe.execute(raise_on_error=False)
        self.assertTrue(res[0])
        self.assertIsInstance(res[1], redis.ResponseError)
        self.assertEqual(res[2], b"abc")

    def test_scan_iter(self):
        r = self.r
        pipe = r.pipeline(transaction=False)
        for i in range(1000):
            pipe.set("user:%d" % i, i)
        for i in range(300):
            pipe.set("other:%d" % i, i)
        pipe.execute()
        users = set(r.scan_iter(match="user:*", count=50))
        self.assertEqual(users, {("user:%d" % i).encode() for i in range(1000)})
        everything = set(r.scan_iter(count=100))
        self.assertEqual(len(everything), 1300)
        self.assertEqual(set(r.scan_iter(match="user:99?")),
                         {("user:%d" % i).encode() for i in range(990, 1000)})
        self.assertEqual(set(r.scan_iter(_type="string", match="other:1?")),
                         {("other:%d" % i).encode() for i in range(10, 20)})
        self.assertEqual(list(r.scan_iter(match="nomatch*")), [])

    def test_databases(self):
        srv = SERVER["srv"]
        r2 = redis.Redis(host=srv.host, port=srv.port, db=2, socket_timeout=10)
        self.addCleanup(r2.close)
        self.assertTrue(r2.set("where", "db2"))
        self.assertIsNone(self.r.get("where"))
        self.assertEqual(r2.get("where"), b"db2")
        self.assertEqual(r2.dbsize(), 1)
        self.assertTrue(self.r.copy("nothing", "x") is False)
        r2.set("src", "v")
        self.assertTrue(r2.copy("src", "src", destination_db=0))
        self.assertEqual(self.r.get("src"), b"v")

    def test_concurrent_clients(self):
        srv = SERVER["srv"]
        errors = []
        n_threads, n_incr = 8, 250

        def worker(tid):
            try:
                c = redis.Redis(host=srv.host, port=srv.port, socket_timeout=20)
                for i in range(n_incr):
                    c.incr("shared")
                    c.set("t%d:%d" % (tid, i), i)
                p = c.pipeline(transaction=False)
                for i in range(n_incr):
                    p.incrby("shared_by", 2)
                p.execute()
                c.close()
            except Exception as e:  # reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=worker, args=(t,)) for t in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        self.assertFalse(any(t.is_alive() for t in threads), "workers hung")
        self.assertEqual(errors, [])
        self.assertEqual(int(self.r.get("shared")), n_threads * n_incr)
        self.assertEqual(int(self.r.get("shared_by")), n_threads * n_incr * 2)
        self.assertEqual(self.r.dbsize(), n_threads * n_incr + 2)


class BenchmarkTests(unittest.TestCase):
    def test_redis_benchmark(self):
        if not os.access(BENCH, os.X_OK):
            self.fail("redis-benchmark not found (%s): install redis-tools "
                      "(deploy/install-deps.sh --with-tests)" % BENCH)
        srv = SERVER["srv"]
        p = subprocess.run([BENCH, "-h", srv.host, "-p", str(srv.port), "-t", "set,get",
                            "-n", "2000", "-q"], capture_output=True, timeout=120)
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        self.assertEqual(p.returncode, 0, "redis-benchmark failed:\n%s\n%s" % (out, err))
        # redis-benchmark asks for CONFIG GET save/appendonly first and only
        # warns when that fails; any other stderr output is an error.
        stray = [line for line in err.splitlines()
                 if line.strip() and "Could not fetch server CONFIG" not in line]
        self.assertEqual(stray, [], err)
        lines = [s.strip() for s in re.split(r"[\r\n]", out) if s.strip()]
        results = {}
        for line in lines:
            m = re.match(r"^(SET|GET): ([0-9.]+) requests per second", line)
            if m:
                results[m.group(1)] = float(m.group(2))
        self.assertEqual(sorted(results), ["GET", "SET"], out)
        for name, rps in results.items():
            self.assertGreater(rps, 0, "%s: %s" % (name, out))
        self.assertNotIn("error", out.lower())
        print("\nredis-benchmark: " + ", ".join("%s %.0f req/s" % kv for kv in sorted(results.items())))
        with srv.client() as c:
            self.assertEqual(c.call(b"PING"), b"+PONG\r\n")
            self.assertEqual(c.call(b"STRLEN", b"key:__rand_int__"), b":3\r\n")


if __name__ == "__main__":
    harness.main()
