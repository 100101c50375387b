"""Shared helpers for the Lattice-vs-Redis benchmark scripts (standard library only).

Used by compare_redis.py and memory_per_key.py in this directory. See
docs/benchmarks.md for why things are done this way:
server pinned to one core, load generator to the other, fresh processes, CPU time per request.
"""

import atexit
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_LATTICE = os.path.join(REPO_ROOT, "build", "node", "lattice-server")
DEFAULT_REDIS = "/usr/bin/redis-server"

# How each server is started. {port} is substituted. The Lattice binary takes no persistence
# options; if --lattice points at a redis-server binary (for validating the tooling before
# lattice-server exists) the Redis argument template is used for it too.
LATTICE_ARGS = "--port {port} --bind 127.0.0.1 --threads 1 --peer-port 0 --save ''"
REDIS_ARGS = "--port {port} --bind 127.0.0.1 --save '' --appendonly no"

CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def die(msg, code=2):
    log("error: " + msg)
    sys.exit(code)


def check_tools(*paths):
    for p in paths:
        if os.path.sep in p:
            if not (os.path.isfile(p) and os.access(p, os.X_OK)):
                die("not an executable file: %s" % p)
        elif not any(os.access(os.path.join(d, p), os.X_OK)
                     for d in os.environ.get("PATH", "").split(os.pathsep)):
            die("not found in PATH: %s" % p)


def default_args_for(binary, kind):
    if kind == "redis" or os.path.basename(binary).startswith("redis-server"):
        return REDIS_ARGS
    return LATTICE_ARGS


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---------------------------------------------------------------------------------------------
# Process bookkeeping: every process we start is registered here and killed (whole process
# group) on normal exit, exceptions, SIGINT/SIGTERM/SIGHUP.

_live = []          # subprocess.Popen objects still possibly running
_handlers_installed = False


def _kill_all():
    for p in list(_live):
        kill_proc(p)


def _on_signal(signum, frame):
    _kill_all()
    # Re-raise as exit so finally blocks run; exit code 128+signum like a shell.
    sys.exit(128 + signum)


def install_cleanup():
    global _handlers_installed
    if _handlers_installed:
        return
    _handlers_installed = True
    atexit.register(_kill_all)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _on_signal)


def spawn(argv, **kw):
    """Popen in its own session (so the whole group can be killed) and register it."""
    install_cleanup()
    p = subprocess.Popen(argv, start_new_session=True, **kw)
    _live.append(p)
    return p


def kill_proc(p, grace=5.0):
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    # An already reaped process is left alone: its id may belong to someone else by now.
    if p in _live:
        _live.remove(p)


# ---------------------------------------------------------------------------------------------
# Minimal RESP client.

class RespError(Exception):
    pass


class Conn:
    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    @staticmethod
    def encode(*args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if not isinstance(a, bytes):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def _fill(self):
        d = self.sock.recv(1 << 16)
        if not d:
            raise ConnectionError("server closed the connection")
        self.buf += d

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            self._fill()

    def read_reply(self):
        """Returns the reply; error replies are returned as RespError instances (not raised)."""
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return RespError(rest.decode(errors="replace"))
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if t == b"*":
            n = int(rest)
            if n < 0:
                return None
            return [self.read_reply() for _ in range(n)]
        # RESP3 types we might meet are not requested (we never send HELLO 3).
        raise ConnectionError("unexpected RESP type byte %r" % t)

    def call(self, *args):
        self.sock.sendall(self.encode(*args))
        return self.read_reply()


def try_call(port, *args):
    """One command on a fresh connection; returns reply or RespError/None on failure."""
    try:
        with Conn(port) as c:
            return c.call(*args)
    except (OSError, ConnectionError, ValueError) as e:
        return RespError("connection: %s" % e)


def info_field(port, section, field):
    r = try_call(port, "INFO", section)
    if not isinstance(r, bytes):
        return None
    for line in r.decode(errors="replace").splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    return None


# ---------------------------------------------------------------------------------------------
# Servers.

class Server:
    """A server process pinned with taskset, run in a scratch directory."""

    def __init__(self, name, binary, args_template, cpu, ready_timeout=15.0):
        self.name = name
        self.binary = binary
        self.args_template = args_template
        self.cpu = cpu
        self.ready_timeout = ready_timeout
        self.proc = None
        self.port = None
        self.workdir = None
        self.logpath = None

    def start(self):
        self.port = free_port()
        self.workdir = tempfile.mkdtemp(prefix="lattice-bench-%s-" % self.name)
        self.logpath = os.path.join(self.workdir, "server.log")
        argv = ["taskset", "-c", str(self.cpu), self.binary] + \
            shlex.split(self.args_template.format(port=self.port))
        logf = open(self.logpath, "wb")
        try:
            self.proc = spawn(argv, cwd=self.workdir, stdin=subprocess.DEVNULL,
                              stdout=logf, stderr=subprocess.STDOUT)
        finally:
            logf.close()
        self._wait_ready(argv)
        return self

    def _wait_ready(self, argv):
        deadline = time.monotonic() + self.ready_timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("%s exited with status %s during start-up: %s\n%s" % (
                    self.name, self.proc.returncode, " ".join(argv), self.log_tail()))
            r = try_call(self.port, "PING")
            if r == "PONG":
                return
            last = r
            time.sleep(0.02)
        tail = self.log_tail()
        self.stop()
        raise RuntimeError("%s not answering PING on port %d after %.0fs (last: %r)\n%s" % (
            self.name, self.port, self.ready_timeout, last, tail))

    @property
    def pid(self):
        return self.proc.pid  # taskset execs the server, so this is the server's pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n=20):
        try:
            with open(self.logpath, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
            return "\n".join("    | " + l for l in lines[-n:])
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None:
            kill_proc(self.proc)
        if self.workdir and os.path.isdir(self.workdir):
            # Our own mkdtemp directory (the server's cwd: log, any data files it wrote).
            shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *a):
        self.stop()


# ---------------------------------------------------------------------------------------------
# /proc readings.

def proc_cpu_ticks(pid):
    """utime+stime of the whole thread group (includes exited threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_cpu_schedstat(pid):
    """{tid: on-cpu ns} for every live thread (nanosecond resolution)."""
    out = {}
    base = "/proc/%d/task" % pid
    for tid in os.listdir(base):
        try:
            with open("%s/%s/schedstat" % (base, tid)) as f:
                out[int(tid)] = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return out


class CpuSnapshot:
    def __init__(self, pid):
        self.pid = pid
        self.sched = proc_cpu_schedstat(pid)
        self.ticks = proc_cpu_ticks(pid)


def cpu_delta(before, after):
    """Server CPU seconds between two snapshots: nanosecond schedstat when no thread exited in
    between (new threads start at 0), else the tick-resolution /proc/PID/stat totals."""
    if set(before.sched) <= set(after.sched):
        return sum(after.sched.values()) - sum(before.sched.values()), "schedstat"
    return after.ticks - before.ticks, "stat"


def cpu_delta_seconds(before, after):
    d, how = cpu_delta(before, after)
    return (d / 1e9 if how == "schedstat" else d), how


def system_busy_seconds():
    """Busy CPU seconds across all CPUs from /proc/stat, including steal (time the hypervisor
    gave to someone else) since that is disturbance too."""
    with open("/proc/stat") as f:
        parts = f.readline().split()
    v = [int(x) for x in parts[1:]]
    # user nice system idle iowait irq softirq steal guest guest_nice
    busy = v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)
    steal = v[7] if len(v) > 7 else 0
    return busy / CLK_TCK, steal / CLK_TCK


def vm_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def self_and_children_cpu():
    import resource
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime, c.ru_utime + c.ru_stime


def pin_self(cpu):
    try:
        os.sched_setaffinity(0, {cpu})
    except (AttributeError, OSError):
        pass


# ---------------------------------------------------------------------------------------------
# Bulk loading.

def set_commands(first, count, key_fmt, value_fn):
    """Yields RESP-encoded SET commands in chunks of ~1 MB."""
    chunk = []
    size = 0
    for i in range(first, first + count):
        k = (key_fmt % i).encode()
        v = value_fn(i)
        cmd = b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v)
        chunk.append(cmd)
        size += len(cmd)
        if size >= (1 << 20):
            yield b"".join(chunk)
            chunk, size = [], 0
    if chunk:
        yield b"".join(chunk)


def load_with_redis_cli(port, chunks, redis_cli="redis-cli", cpu=0, timeout=30):
    """Feeds generated RESP into `redis-cli --pipe`. Returns (errors, replies, output)."""
    argv = ["taskset", "-c", str(cpu), redis_cli, "-h", "127.0.0.1", "-p", str(port),
            "--pipe", "--pipe-timeout", str(timeout)]
    p = spawn(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        # redis-cli --pipe reads stdin fully while also reading replies, so writing it all
        # before reading its (small) output cannot deadlock.
        for c in chunks:
            p.stdin.write(c)
        p.stdin.close()
        out = p.stdout.read().decode(errors="replace")
        p.wait()
    finally:
        kill_proc(p)
    errors = replies = None
    for line in out.splitlines():
        if line.startswith("errors:"):
            # "errors: 0, replies: 1000000"
            try:
                a, b = line.split(",")
                errors = int(a.split(":")[1])
                replies = int(b.split(":")[1])
            except (ValueError, IndexError):
                pass
    if p.returncode != 0 or errors is None:
        hint = ""
        if "ECHO" in out:
            hint = "\n(redis-cli --pipe ends with an ECHO; use --loader python if the server lacks it)"
        raise RuntimeError("redis-cli --pipe failed (status %s):\n%s%s" % (p.returncode, out.strip(), hint))
    return errors, replies, out


def load_with_socket(port, chunks_of_cmds):
    """Pure-Python pipelined loader (fallback when the server lacks something redis-cli --pipe
    needs, e.g. ECHO). chunks_of_cmds yields (bytes, number_of_commands)."""
    errors = replies = 0
    first_error = None
    with Conn(port, timeout=60) as c:
        for data, n in chunks_of_cmds:
            c.sock.sendall(data)
            for _ in range(n):
                r = c.read_reply()
                replies += 1
                if isinstance(r, RespError):
                    errors += 1
                    first_error = first_error or str(r)
    return errors, replies, first_error


def set_command_batches(first, count, key_fmt, value_fn, batch=1000):
    """Like set_commands but yields (bytes, ncommands) batches for load_with_socket."""
    for start in range(first, first + count, batch):
        n = min(batch, first + count - start)
        yield b"".join(set_commands(start, n, key_fmt, value_fn)), n


def median(xs):
    s = sorted(xs)
    n = len(s)
    if n == 0:
        return float("nan")
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def geomean(xs):
    import math
    xs = [x for x in xs if x is not None and x > 0]
    if not xs:
        return None
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def git_describe():
    try:
        r = subprocess.run(["git", "-C", REPO_ROOT, "rev-parse", "--short", "HEAD"],
                           capture_output=True, text=True, timeout=5)
        h = r.stdout.strip()
        if h:
            d = subprocess.run(["git", "-C", REPO_ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5)
            return h + ("-dirty" if d.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return "unknown"


def wait_for_quiet(max_cores=0.05, window=0.5, timeout=120.0, say=None, pid=None):
    """Waits until CPU time used by everything except this process (and the idle server `pid`,
    whose background work is its own business) stays below max_cores averaged over `window`
    seconds, at most `timeout` seconds. Returns the seconds waited, or -1 on timeout."""
    t0 = time.monotonic()
    told = False
    slack = 2.0 * (os.cpu_count() or 1) / CLK_TCK
    while True:
        b0, _ = system_busy_seconds()
        s0, _ = self_and_children_cpu()
        p0 = CpuSnapshot(pid) if pid else None
        time.sleep(window)
        b1, _ = system_busy_seconds()
        s1, _ = self_and_children_cpu()
        used = (b1 - b0) - (s1 - s0)
        if pid:
            used -= cpu_delta_seconds(p0, CpuSnapshot(pid))[0]
        waited = time.monotonic() - t0
        if used <= max_cores * window + slack:
            return waited
        if waited >= timeout:
            return -1
        if say and not told:
            say("    machine busy (%.2f CPUs used by other processes); waiting up to %.0f s for quiet"
                % (used / window, timeout))
            told = True
