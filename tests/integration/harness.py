"""Shared helpers for Lattice's integration tests.

- Server processes: `Server` starts lattice-server or redis-server on a free
  port of 127.0.0.1, waits until it answers PING (polling against a deadline,
  never a fixed sleep), and stops it with SIGTERM, then SIGKILL after a grace
  period. It is a context manager, so a server is stopped even when a test
  fails or raises. `stop()` raises `ServerFailure` (an AssertionError, so
  unittest counts a failure) when the server died before it was stopped,
  did not exit with status 0 on SIGTERM, or wrote a sanitizer report or a
  crash report to its log (see `CRASH_MARKERS`).
- `RespClient`: a raw socket client. It sends bytes as given and reads exactly
  one complete reply (RESP2 or RESP3), returning the raw bytes, so tests can
  compare replies byte for byte. Every read has a timeout.
- `parse_reply`: decodes one raw reply into a typed tree for the tests that
  must normalize nondeterministic replies before comparing.
- `main()`: runs a unittest module and prints the closing line
  "N passed, M failed" that CI reads; exits non-zero on any failure, and
  also when no test ran or every test was skipped (a suite that tested
  nothing must not look green).
- `hold_for()`: the negative counterpart of `wait_until()`: checks a
  condition over a bounded observation window and fails the moment it is
  false (for "never happens" claims; never a bare sleep).

Environment:
  LATTICE_SERVER   path of the server under test (lattice-server). When it
                   names a redis-server binary, that binary is started with
                   redis-server's options instead, which is how the tests
                   themselves are validated against real Redis.
  REDIS_SERVER     reference Redis for differential tests (/usr/bin/redis-server).
  LATTICE_THREADS  value of --threads for lattice-server (default 4).
  LATTICE_START_TIMEOUT  seconds to wait for a server to answer PING (default 30).

Only the standard library is used here.
"""

import contextlib
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

REDIS_SERVER_DEFAULT = "/usr/bin/redis-server"
DEFAULT_TIMEOUT = 10.0


# --------------------------------------------------------------------------
# Binaries and ports
# --------------------------------------------------------------------------

def lattice_server_path():
    """Path of the server under test. Falls back to redis-server (with a note
    on stderr) when LATTICE_SERVER is unset, so the tests can be run by hand."""
    path = os.environ.get("LATTICE_SERVER")
    if not path:
        sys.stderr.write("note: LATTICE_SERVER is not set; testing %s instead\n"
                         % REDIS_SERVER_DEFAULT)
        path = REDIS_SERVER_DEFAULT
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise RuntimeError("LATTICE_SERVER=%r is not an executable file" % path)
    return path


def redis_server_path():
    path = os.environ.get("REDIS_SERVER", REDIS_SERVER_DEFAULT)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise RuntimeError("reference redis-server %r not found" % path)
    return path


def is_redis_binary(path):
    return os.path.basename(path).startswith("redis-server")


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago. Another process
    may take it before the server binds it; Server.start retries then."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_nofile_limit(wanted):
    """Raises this process's RLIMIT_NOFILE soft limit to `wanted` (capped by
    the hard limit); servers started afterwards inherit it. Returns the new
    soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def wait_until(predicate, timeout, interval=0.01, what="condition"):
    """Polls predicate() until it returns a true value or the deadline
    passes (then raises TimeoutError). Returns the predicate's value."""
    deadline = time.monotonic() + timeout
    delay = interval
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def hold_for(predicate, duration, interval=0.05, what="condition"):
    """Checks predicate() repeatedly for `duration` seconds (at least twice:
    at the start and at the end of the window) and raises AssertionError the
    first time it is false. For negative claims ("k stays absent", "nothing
    crosses the cut"): the window is bounded and documented at the call
    site, and the condition is actively checked throughout it."""
    deadline = time.monotonic() + duration
    checks = 0
    while True:
        if not predicate():
            raise AssertionError("%s stopped holding after %.2fs of a %.1fs window"
                                 % (what, duration - max(0.0, deadline - time.monotonic()),
                                    duration))
        checks += 1
        if time.monotonic() >= deadline and checks >= 2:
            return checks
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))


# --------------------------------------------------------------------------
# RESP parsing
# --------------------------------------------------------------------------

class ProtocolError(Exception):
    """The bytes received are not valid RESP."""


_LINE_TYPES = b"+-:_,#("
_BLOB_TYPES = b"$!="
_AGG_TYPES = b"*~>"
_MAP_TYPES = b"%|"


def _find_crlf(buf, pos):
    i = buf.find(b"\r\n", pos)
    return i


def reply_end(buf, pos=0):
    """Returns the index just past the complete reply starting at buf[pos],
    or None if buf holds only part of it. Raises ProtocolError on bytes that
    cannot be RESP. An attribute (`|`) is returned together with the reply
    it annotates, so one call covers what a client sees as one reply."""
    if pos >= len(buf):
        return None
    t = buf[pos]
    eol = _find_crlf(buf, pos + 1)
    if eol < 0:
        return None
    head = buf[pos + 1:eol]
    after = eol + 2
    if t in _LINE_TYPES:
        return after
    try:
        n = int(head)
    except ValueError:
        if t == ord("$") and head == b"?":
            raise ProtocolError("streamed strings are not supported")
        raise ProtocolError("bad length %r after %r" % (head, chr(t)))
    if t in _BLOB_TYPES:
        if n < 0:
            if t == ord("$") and n == -1:
                return after
            raise ProtocolError("bad blob length %d" % n)
        end = after + n + 2
        if len(buf) < end:
            return None
        if buf[end - 2:end] != b"\r\n":
            raise ProtocolError("blob not terminated by CRLF")
        return end
    if t in _AGG_TYPES or t in _MAP_TYPES:
        if n < 0:
            if t == ord("*") and n == -1:
                return after
            raise ProtocolError("bad aggregate length %d" % n)
        count = n * 2 if t in _MAP_TYPES else n
        p = after
        for _ in range(count):
            p = reply_end(buf, p)
            if p is None:
                return None
        if t == ord("|"):  # attribute: the real reply follows
            return reply_end(buf, p)
        return p
    raise ProtocolError("unknown RESP type byte %r at offset %d" % (chr(t), pos))


def parse_reply(raw):
    """Decodes one complete raw reply into a typed tree, so nothing of the
    RESP2/RESP3 distinction is lost:
      (type_char, value) with type_char one of + - : $ _ , # ( ! = * ~ > % |
      - '+', '-', ',', '(' : bytes of the line;  ':' : int;  '#' : bool
      - '$', '!', '=' : bytes (None for the RESP2 null bulk $-1)
      - '_' : None;  '*', '~', '>' : list of nodes (None for *-1)
      - '%' : list of (key_node, value_node);  '|' : (attrs, reply_node)
    """
    node, end = _parse(raw, 0)
    if end != len(raw):
        raise ProtocolError("trailing bytes after reply: %r" % raw[end:end + 40])
    return node


def _parse(buf, pos):
    t = chr(buf[pos])
    eol = buf.index(b"\r\n", pos + 1)
    head = buf[pos + 1:eol]
    after = eol + 2
    if t in "+-,(":
        return (t, head), after
    if t == ":":
        return (t, int(head)), after
    if t == "_":
        return (t, None), after
    if t == "#":
        return (t, head == b"t"), after
    n = int(head)
    if t in "$!=":
        if n < 0:
            return (t, None), after
        return (t, buf[after:after + n]), after + n + 2
    if t in "*~>":
        if n < 0:
            return (t, None), after
        items = []
        p = after
        for _ in range(n):
            item, p = _parse(buf, p)
            items.append(item)
        return (t, items), p
    if t in "%|":
        pairs = []
        p = after
        for _ in range(n):
            k, p = _parse(buf, p)
            v, p = _parse(buf, p)
            pairs.append((k, v))
        if t == "|":
            inner, p = _parse(buf, p)
            return (t, (pairs, inner)), p
        return (t, pairs), p
    raise ProtocolError("unknown RESP type %r" % t)


def encode_command(*args):
    """RESP multibulk encoding of one command. Arguments may be bytes, str or
    int."""
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, int):
            a = str(a).encode()
        elif isinstance(a, str):
            a = a.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(parts)


# --------------------------------------------------------------------------
# Raw client
# --------------------------------------------------------------------------

class ConnectionClosed(Exception):
    """The server closed the connection before a complete reply arrived.
    `partial` holds the bytes received of the incomplete reply."""

    def __init__(self, msg, partial=b""):
        super().__init__(msg)
        self.partial = partial


def read_pending(client, idle=0.3, until=None):
    """Replies and pushes already sent to `client`: reads until `until` of
    them arrived, or none arrived for `idle` seconds (pub/sub messages,
    invalidations, notifications)."""
    out = []
    while until is None or len(out) < until:
        try:
            out.append(client.read_reply(timeout=idle))
        except TimeoutError:
            break
    return out


class RespClient:
    """A raw RESP client over one TCP connection. Sends bytes untouched and
    reads exactly one complete reply per read_reply() call; bytes of later
    replies stay buffered for the next call."""

    def __init__(self, host, port, timeout=DEFAULT_TIMEOUT, connect_timeout=None):
        self.host, self.port = host, port
        self.timeout = timeout
        self.sock = socket.create_connection((host, port),
                                             timeout=connect_timeout or timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.closed_by_peer = False

    # -- context manager --
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()
            self.sock = None

    def fileno(self):
        return self.sock.fileno()

    # -- sending --
    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, *args):
        self.sock.sendall(encode_command(*args))

    # -- receiving --
    def _recv_some(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out waiting for reply; have %r" % self.buf[:200])
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(1 << 20)
        except socket.timeout:
            raise TimeoutError("timed out waiting for reply; have %r" % self.buf[:200])
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.closed_by_peer = True
            partial, self.buf = self.buf, b""
            raise ConnectionClosed("connection closed by server", partial)
        self.buf += chunk

    def read_reply(self, timeout=None):
        """Raw bytes of exactly one complete reply. Raises TimeoutError,
        ConnectionClosed or ProtocolError."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            end = reply_end(self.buf, 0) if self.buf else None
            if end is not None:
                reply, self.buf = self.buf[:end], self.buf[end:]
                return reply
            self._recv_some(deadline)

    def read_replies(self, n, timeout=None):
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        out = []
        for _ in range(n):
            out.append(self.read_reply(timeout=max(0.001, deadline - time.monotonic())))
        return out

    def call(self, *args, timeout=None):
        """Sends one command and returns its raw reply."""
        self.send(*args)
        return self.read_reply(timeout)

    def read_until_close(self, timeout=None):
        """Reads until the server closes the connection or the deadline
        passes. Returns (bytes_received, closed): bytes include anything
        already buffered."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        data, self.buf = self.buf, b""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return data, False
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                return data, False
            except (ConnectionResetError, BrokenPipeError):
                self.closed_by_peer = True
                return data, True
            if not chunk:
                self.closed_by_peer = True
                return data, True
            data += chunk

    def is_closed(self, timeout=0.5):
        """True if the server closes the connection within `timeout` seconds
        (bytes received meanwhile are discarded into self.buf)."""
        data, closed = self.read_until_close(timeout)
        self.buf = data
        return closed


# --------------------------------------------------------------------------
# Server processes
# --------------------------------------------------------------------------

class ServerError(Exception):
    pass


class ServerFailure(AssertionError):
    """A server process crashed, did not shut down cleanly, or reported a
    sanitizer error. An AssertionError, so a test (or a class/module
    cleanup) that raises it is counted as failed."""


# Lines a process writes when it crashed or a sanitizer found a bug. Checked
# in the whole log of every server at stop(), whatever the exit status
# (LeakSanitizer reports at exit; UBSan without halt_on_error does not even
# change the status).
CRASH_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "WARNING: ThreadSanitizer",
    "runtime error:",                      # UndefinedBehaviorSanitizer
    "SUMMARY: UndefinedBehaviorSanitizer",
    "AddressSanitizer:DEADLYSIGNAL",
    "=== REDIS BUG REPORT START",          # redis-server's crash report
)


def crash_reports(path, markers=CRASH_MARKERS, context=1500):
    """The first marker line found in the file at `path` with the text
    after it (up to `context` characters), or None. Reads the whole file."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    hits = [(text.find(m), m) for m in markers if m in text]
    if not hits:
        return None
    pos = min(hits)[0]
    start = text.rfind("\n", 0, pos) + 1
    return text[start:start + context]


class Server:
    """One server process on 127.0.0.1:<free port>.

    kind: "redis" (redis-server options) or "lattice" (lattice-server
    options); by default deduced from the binary's name. `directives` is a
    list of (name, value) passed as `--name value`, e.g.
    [("maxclients", "10")]. Use as a context manager:

        with Server(lattice_server_path()) as srv:
            with srv.client() as c:
                c.call("PING")
    """

    def __init__(self, binary, directives=(), kind=None, threads=None,
                 start_timeout=None, name=None):
        self.binary = binary
        self.kind = kind or ("redis" if is_redis_binary(binary) else "lattice")
        self.directives = list(directives)
        self.threads = threads if threads is not None else int(
            os.environ.get("LATTICE_THREADS", "4"))
        self.start_timeout = start_timeout if start_timeout is not None else float(
            os.environ.get("LATTICE_START_TIMEOUT", "30"))
        self.name = name or ("%s(%s)" % (self.kind, os.path.basename(binary)))
        self.host = "127.0.0.1"
        self.port = None
        self.proc = None
        self.tmpdir = None
        self.logpath = None
        self._log = None
        self.returncode = None
        self.expected_down = False  # set by a test that stops it on purpose

    def argv(self, port):
        args = [self.binary, "--port", str(port), "--bind", self.host]
        if self.kind == "redis":
            # No persistence: nothing written to disk, nothing to load.
            args += ["--save", "", "--appendonly", "no", "--daemonize", "no",
                     "--dir", self.tmpdir]
        else:
            # A standalone node: no peer service (its default port, port +
            # 10000, may not exist for a high random port).
            args += ["--threads", str(self.threads), "--dir", self.tmpdir, "--peer-port", "0",
                     "--save", ""]
        for name, value in self.directives:
            args += ["--" + name, str(value)]
        return args

    def start(self, attempts=3):
        self.tmpdir = tempfile.mkdtemp(prefix="lattice-it-")
        self.logpath = os.path.join(self.tmpdir, "server.log")
        last_error = None
        for _ in range(attempts):
            port = free_port()
            self._log = open(self.logpath, "ab")
            self.proc = subprocess.Popen(self.argv(port), stdin=subprocess.DEVNULL,
                                         stdout=self._log, stderr=subprocess.STDOUT,
                                         cwd=self.tmpdir)
            self.port = port
            try:
                self._wait_ready()
                return self
            except ServerError as e:
                last_error = e
                self._terminate()
                # A port taken between free_port() and bind(): try another.
                if "in use" not in self.log_tail().lower():
                    break
        self.proc = None  # the error says why; stop() has nothing left to check
        self.cleanup_files()
        raise last_error

    def _ping_once(self):
        try:
            with RespClient(self.host, self.port, timeout=2.0) as c:
                reply = c.call("PING")
                return reply == b"+PONG\r\n"
        except (OSError, TimeoutError, ConnectionClosed, ProtocolError):
            return False

    def _wait_ready(self):
        deadline = time.monotonic() + self.start_timeout
        delay = 0.005
        while True:
            if self.proc.poll() is not None:
                raise ServerError("%s exited with code %s during startup; log:\n%s"
                                  % (self.name, self.proc.returncode, self.log_tail()))
            if self._ping_once():
                return
            if time.monotonic() >= deadline:
                raise ServerError("%s did not answer PING within %.0fs; log:\n%s"
                                  % (self.name, self.start_timeout, self.log_tail()))
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def ping(self, timeout=5.0):
        """True if a new connection gets +PONG to PING."""
        try:
            with RespClient(self.host, self.port, timeout=timeout) as c:
                return c.call("PING") == b"+PONG\r\n"
        except (OSError, TimeoutError, ConnectionClosed, ProtocolError):
            return False

    def client(self, timeout=DEFAULT_TIMEOUT):
        return RespClient(self.host, self.port, timeout=timeout)

    def log_tail(self, nbytes=4000):
        try:
            with open(self.logpath, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - nbytes))
                return f.read().decode("utf-8", "replace")
        except (OSError, TypeError):
            return "<no log>"

    # Seconds a server gets to exit after SIGTERM before SIGKILL. Generous:
    # an ASan build runs its leak check on the way out.
    STOP_GRACE = 20.0

    def _terminate(self, grace=None):
        """SIGTERM, then SIGKILL after `grace` seconds. Returns True if the
        process had to be killed."""
        if self.proc is None:
            return False
        killed = False
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace or self.STOP_GRACE)
            except subprocess.TimeoutExpired:
                killed = True
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                self.proc.wait(timeout=10)
        self.returncode = self.proc.returncode
        if self._log is not None:
            self._log.close()
            self._log = None
        return killed

    def shutdown_problems(self, was_running, killed):
        """What was wrong with how the server ended: [] for a clean exit
        (status 0 after SIGTERM, no crash marker in its log)."""
        problems = []
        rc = self.returncode
        if not was_running and not self.expected_down:
            problems.append("died before stop() with status %s" % rc)
        elif killed:
            problems.append("ignored SIGTERM for %.0fs and was killed" % self.STOP_GRACE)
        elif was_running and rc != 0:
            problems.append("exited with status %s on SIGTERM (expected 0)" % rc)
        report = crash_reports(self.logpath) if self.logpath else None
        if report:
            problems.append("its log holds a crash or sanitizer report:\n" + report)
        return problems

    def stop(self, check=True):
        """SIGTERM, then SIGKILL after STOP_GRACE seconds; removes the
        server's directory. With `check` (the default), raises ServerFailure
        if the server died before it was stopped, did not exit with status 0
        on SIGTERM, or left a crash or sanitizer report in its log: whatever
        the test saw, such a run failed. Calling stop() again is a no-op."""
        if self.proc is None:  # never started, or already stopped
            self.cleanup_files()
            return
        was_running = self.alive()
        killed = self._terminate()
        problems = self.shutdown_problems(was_running, killed)
        tail = self.log_tail(3000) if problems else ""
        self.proc = None
        self.cleanup_files()
        if problems and check:
            raise ServerFailure("%s (port %s): %s\nlog tail:\n%s"
                                % (self.name, self.port, "; ".join(problems), tail))
        if problems:
            sys.stderr.write("warning: %s: %s\n" % (self.name, "; ".join(problems)))

    def cleanup_files(self):
        if self.tmpdir and os.path.isdir(self.tmpdir):
            shutil.rmtree(self.tmpdir, ignore_errors=True)

    def __enter__(self):
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        # Raising here while the block's own exception propagates chains the
        # two ("During handling of the above exception..."): both are shown,
        # and a crash is often the cause of the block's failure.
        self.stop()


def start_lattice(directives=(), **kw):
    return Server(lattice_server_path(), directives, name="lattice", **kw).start()


def start_redis(directives=(), **kw):
    return Server(redis_server_path(), directives, kind="redis", name="redis", **kw).start()


# --------------------------------------------------------------------------
# Test running
# --------------------------------------------------------------------------

class _CountingResult(unittest.TextTestResult):
    """Counts tests (not subtests) that failed, so the summary line says how
    many test methods passed and how many failed."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.failed_ids = set()
        self.setup_failures = 0

    def _mark(self, test):
        tid = getattr(test, "id", lambda: str(test))()
        if isinstance(test, unittest.TestCase):
            self.failed_ids.add(tid)
        else:  # setUpClass / setUpModule errors (_ErrorHolder)
            self.setup_failures += 1

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._mark(test)

    def addError(self, test, err):
        super().addError(test, err)
        self._mark(test)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._mark(test)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._mark(test)


def main(module_name="__main__"):
    """Runs every test in the module; prints 'N passed, M failed' as the last
    line; exits 0 only if nothing failed and at least one test ran and
    passed: a module where no test ran, or where every test skipped, exits
    1 (in CI, where everything is installed, that means something is
    broken, not that there was nothing to test)."""
    loader = unittest.TestLoader()
    suite = loader.loadTestsFromModule(sys.modules[module_name])
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2,
                                     resultclass=_CountingResult)
    started = time.monotonic()
    result = runner.run(suite)
    skipped = len(result.skipped)
    failed = len(result.failed_ids)
    passed = max(0, result.testsRun - len(result.failed_ids) - skipped)
    if result.setup_failures:
        # Tests whose class/module setup failed never ran: count them failed
        # (and count a failing teardown at least once).
        not_run = max(0, suite.countTestCases() - result.testsRun)
        failed += max(result.setup_failures, not_run)
    sys.stdout.write("runtime %.1fs, %d skipped\n" % (time.monotonic() - started, skipped))
    for test, reason in result.skipped:
        sys.stdout.write("skipped: %s: %s\n" % (getattr(test, "id", lambda: test)(), reason))
    if failed == 0 and passed == 0:
        sys.stdout.write("error: %s, so this run tested nothing\n"
                         % ("no test ran" if skipped == 0 else
                            "every test was skipped"))
    sys.stdout.write("%d passed, %d failed\n" % (passed, failed))
    sys.stdout.flush()
    sys.exit(0 if failed == 0 and passed > 0 else 1)


# --------------------------------------------------------------------------
# Self-tests: /usr/bin/python3 harness.py (the RESP reader, and stop()'s
# crash detection; registered in ctest as harness_self_test)
# --------------------------------------------------------------------------

class _ParserSelfTest(unittest.TestCase):
    SAMPLES = [
        (b"+OK\r\n", ("+", b"OK")),
        (b"-ERR bad\r\n", ("-", b"ERR bad")),
        (b":-42\r\n", (":", -42)),
        (b"$3\r\na\r\n\r\n", ("$", b"a\r\n")),
        (b"$0\r\n\r\n", ("$", b"")),
        (b"$-1\r\n", ("$", None)),
        (b"*-1\r\n", ("*", None)),
        (b"*0\r\n", ("*", [])),
        (b"_\r\n", ("_", None)),
        (b",3.14\r\n", (",", b"3.14")),
        (b",-inf\r\n", (",", b"-inf")),
        (b"#t\r\n", ("#", True)),
        (b"#f\r\n", ("#", False)),
        (b"(12345678901234567890\r\n", ("(", b"12345678901234567890")),
        (b"!9\r\nSYNTAX xx\r\n", ("!", b"SYNTAX xx")),
        (b"=8\r\ntxt:abcd\r\n", ("=", b"txt:abcd")),
        (b"*2\r\n:1\r\n*1\r\n$1\r\nx\r\n", ("*", [(":", 1), ("*", [("$", b"x")])])),
        (b"~2\r\n+a\r\n+b\r\n", ("~", [("+", b"a"), ("+", b"b")])),
        (b">2\r\n$7\r\nmessage\r\n_\r\n", (">", [("$", b"message"), ("_", None)])),
        (b"%1\r\n$1\r\nk\r\n*1\r\n:1\r\n", ("%", [(("$", b"k"), ("*", [(":", 1)]))])),
        (b"|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n", ("|", ([(("+", b"ttl"), (":", 3))], ("$", b"v")))),
    ]

    def test_samples_and_every_truncation(self):
        for raw, tree in self.SAMPLES:
            self.assertEqual(reply_end(raw), len(raw), raw)
            self.assertEqual(parse_reply(raw), tree, raw)
            self.assertEqual(reply_end(raw + b"+next\r\n"), len(raw), raw)
            for cut in range(len(raw)):
                self.assertIsNone(reply_end(raw[:cut]), (raw, cut))

    def test_invalid(self):
        for raw in (b"?x\r\n", b"$abc\r\n", b"*x\r\n", b"$3\r\nabcXY", b"$-2\r\n"):
            with self.assertRaises(ProtocolError, msg=raw):
                reply_end(raw)


class _ServerStopSelfTest(unittest.TestCase):
    """stop() turns a crash, an unclean exit or a sanitizer report into a
    failure (checked with redis-server, which is always there)."""

    def start(self):
        srv = Server(redis_server_path(), kind="redis", name="redis")
        self.addCleanup(srv.stop, check=False)
        return srv.start()

    def test_clean_stop_passes(self):
        srv = self.start()
        srv.stop()
        self.assertEqual(srv.returncode, 0)
        srv.stop()  # a second stop is a no-op

    def test_crash_before_stop_fails(self):
        srv = self.start()
        srv.proc.kill()
        srv.proc.wait(10)
        with self.assertRaisesRegex(ServerFailure, "died before stop"):
            srv.stop()

    def test_expected_down_is_not_a_crash(self):
        srv = self.start()
        srv.expected_down = True
        srv.proc.kill()
        srv.proc.wait(10)
        srv.stop()

    def test_sanitizer_report_in_the_log_fails(self):
        for marker in ("==1==ERROR: AddressSanitizer: heap-use-after-free on address 0x1",
                       "==1==ERROR: LeakSanitizer: detected memory leaks",
                       "node/x.cc:1:2: runtime error: signed integer overflow"):
            with self.subTest(marker=marker):
                srv = self.start()
                with open(srv.logpath, "a") as f:
                    f.write(marker + "\n")
                with self.assertRaisesRegex(ServerFailure, "sanitizer report"):
                    srv.stop()

    def test_counted_as_failures_by_unittest(self):
        """A ServerFailure raised from a test body, or from a cleanup, makes
        unittest report a failure (it is an AssertionError), which main()
        counts."""
        class Inner(unittest.TestCase):
            def test_body(self):
                raise ServerFailure("crashed")

            def test_cleanup(self):
                self.addCleanup(lambda: (_ for _ in ()).throw(ServerFailure("crashed")))
        result = unittest.TestResult()
        unittest.defaultTestLoader.loadTestsFromTestCase(Inner).run(result)
        self.assertEqual((len(result.failures), len(result.errors)), (2, 0))


if __name__ == "__main__":
    main()
