"""lattice-server's configuration as an operator meets it: a redis.conf-style
file, `--directive value` overrides applied after it, CONFIG GET showing the
result, a bad directive refused at startup with the line that caused it, and
daemonize/pidfile/logfile behaving as redis-server's do."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class ConfigTest(unittest.TestCase):
    def setUp(self):
        self.binary = harness.lattice_server_path()
        if harness.is_redis_binary(self.binary):
            self.skipTest("lattice-specific startup checks")
        self.dir = tempfile.mkdtemp(prefix="lattice-cfg-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def write_conf(self, text):
        path = os.path.join(self.dir, "lattice.conf")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_file_then_overrides_then_config_get(self):
        port = harness.free_port()
        conf = self.write_conf(
            "# comment\nport 1\nbind 127.0.0.1\nmaxclients 123\n"
            "proto-max-bulk-len 2mb\nthreads 2\nreplicas all\n")
        out_path = os.path.join(self.dir, "server.out")
        with open(out_path, "wb") as out:
            proc = subprocess.Popen([self.binary, conf, "--port", str(port), "--databases", "4"],
                                    stdout=out, stderr=subprocess.STDOUT, cwd=self.dir)
        try:
            harness.wait_until(lambda: self._pings(port), 10, what="server up")
            with harness.RespClient("127.0.0.1", port) as c:
                self.assertEqual(c.call("CONFIG", "GET", "maxclients"),
                                 b"*2\r\n$10\r\nmaxclients\r\n$3\r\n123\r\n")
                self.assertEqual(c.call("CONFIG", "GET", "proto-max-bulk-len"),
                                 b"*2\r\n$18\r\nproto-max-bulk-len\r\n$7\r\n2097152\r\n")
                self.assertEqual(c.call("CONFIG", "GET", "replicas"),
                                 b"*2\r\n$8\r\nreplicas\r\n$3\r\nall\r\n")
                self.assertEqual(c.call("CONFIG", "SET", "hot-key-factor", "1"),
                                 b"-ERR CONFIG SET failed (possibly related to argument "
                                 b"'hot-key-factor') - argument must be between 2 and "
                                 b"1000000 inclusive\r\n")
                self.assertEqual(c.call("SELECT", "4"), b"-ERR DB index is out of range\r\n")
                self.assertEqual(c.call("SELECT", "3"), b"+OK\r\n")
        finally:
            proc.terminate()
            self.assertEqual(proc.wait(20), 0)
            # A sanitizer report at exit fails the test (harness.CRASH_MARKERS).
            self.assertIsNone(harness.crash_reports(out_path))

    def test_bad_directive_is_refused_with_its_line(self):
        conf = self.write_conf("port 6390\nmaxclients lots\n")
        r = subprocess.run([self.binary, conf], capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertIn("at line 2", r.stderr)
        self.assertIn("maxclients lots", r.stderr)
        self.assertIn("argument couldn't be parsed into an integer", r.stderr)
        r = subprocess.run([self.binary, "--no-such-directive", "1"], capture_output=True,
                           text=True, timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertIn("Bad directive", r.stderr)
        r = subprocess.run([self.binary, "--replicas", "0"], capture_output=True, text=True,
                           timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertIn("argument must be 'all' or between 1 and 255", r.stderr)
        r = subprocess.run([self.binary, "/nonexistent/lattice.conf"], capture_output=True,
                           text=True, timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertIn("can't open config file", r.stderr)

    def test_daemonize_writes_pidfile_and_logfile_and_shutdown_removes_pidfile(self):
        port = harness.free_port()
        pidfile = os.path.join(self.dir, "l.pid")
        logfile = os.path.join(self.dir, "l.log")
        r = subprocess.run([self.binary, "--port", str(port), "--bind", "127.0.0.1",
                            "--daemonize", "yes", "--pidfile", pidfile, "--logfile", logfile,
                            "--dir", self.dir], timeout=10)
        self.assertEqual(r.returncode, 0)
        harness.wait_until(lambda: os.path.exists(pidfile) and self._pings(port), 10,
                           what="daemon up")
        pid = int(open(pidfile).read())
        with harness.RespClient("127.0.0.1", port) as c:
            c.send("SHUTDOWN")
            self.assertTrue(c.is_closed(timeout=5))
        harness.wait_until(lambda: not os.path.exists("/proc/%d" % pid)
                           or open("/proc/%d/stat" % pid).read().split()[2] == "Z",
                           10, what="daemon exit")
        self.assertFalse(os.path.exists(pidfile))
        self.assertIn("Ready to accept connections", open(logfile).read())

    def _pings(self, port):
        try:
            with harness.RespClient("127.0.0.1", port, timeout=1) as c:
                return c.call("PING") == b"+PONG\r\n"
        except Exception:
            return False


if __name__ == "__main__":
    harness.main()
