"""Multi-node helpers for Lattice's cluster integration tests.

- `Cluster`: a context manager that starts N lattice-server processes, node i
  on its own loopback address 127.0.0.i, all on one client port P (picked at
  random per cluster and checked free, together with the peer port P+10000,
  on every address) and each seeded with node 1's peer address. It waits
  until every node answers PING and every node's `LATTICE NODES` lists N
  alive, connected members. Nodes can be killed (SIGKILL), stopped (SIGTERM)
  and restarted with the same directory, node id and arguments. On leaving
  the context every node is stopped and its directory removed; if the block
  raised, the tail of every node's log is printed first. A node that died
  without being told to, or that does not exit with status 0 on SIGTERM,
  makes the block fail (a crash is never silent), as does a sanitizer or
  crash report in a node's output (harness.CRASH_MARKERS).
- `Partition`: cuts and heals the link between two nodes with nftables
  (the `nft` CLI, as root), in both directions, in a table of its own named
  `lattice_test_<pid>_<n>` that is deleted when the context ends, whatever
  happened. If nftables is not usable the context raises `PartitionError`,
  so a test that needs a partition fails with the reason instead of
  skipping.
- Convergence: `snapshot()` reads every key of a node (SCAN, then TYPE, GET
  and PEXPIRETIME); `wait_converged()` polls until every running node
  returns the same snapshot and no node has unacknowledged deltas for a
  running peer; `values()` / `converged(keys)` compare a given key set.

Why the partition filters on the peer port: the kernel gives a connection
to 127.0.0.j the source address 127.0.0.1 (`ip route get 127.0.0.2` says
`src 127.0.0.1`), so dropping everything between 127.0.0.1 and 127.0.0.2
would also cut the test's own client connections to node 2. Peers dial each
other from their own bind address to the peer port, so dropping TCP between
the two addresses to or from the peer port cuts exactly the node-to-node
link (gossip probes and delta streams) and nothing else.

Nodes are started from the thread that creates the Cluster (the tests' main
thread) with PR_SET_PDEATHSIG, so they die with the test process even if it
is killed; SIGTERM to the test process runs the cleanup (it is turned into
KeyboardInterrupt). The server binary is copied into the cluster's
directory at start, so a rebuild during a run cannot mix versions between a
node and its restart.

Environment (besides harness.py's LATTICE_SERVER and LATTICE_START_TIMEOUT):
  LATTICE_KEEP_DIRS=1  keep node directories (logs) of clusters whose block
                       failed, and print where they are.
"""

import contextlib
import ctypes
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import redis  # noqa: E402  (python3-redis)

PEER_PORT_OFFSET = 10000
# Client ports are drawn from here so that port + 10000 stays below the
# kernel's ephemeral range (32768 and up): an outgoing connection can then
# never hold a port a node is about to bind.
PORT_BASE_RANGE = (12000, 22000)
CLIENT_TIMEOUT = 5.0   # socket timeout of the redis-py clients
POLL = 0.05            # polling interval of the waits below


def node_host(i):
    """Loopback address of node i (1-based)."""
    return "127.0.0.%d" % i


# --------------------------------------------------------------------------
# Process hygiene
# --------------------------------------------------------------------------

def _sigterm_to_interrupt(signum, frame):
    raise KeyboardInterrupt("SIGTERM")


if threading.current_thread() is threading.main_thread() and \
        signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
    # A test runner that times out sends SIGTERM: unwind, so that every
    # context manager stops its nodes and deletes its nftables table.
    signal.signal(signal.SIGTERM, _sigterm_to_interrupt)

_PR_SET_PDEATHSIG = 1
try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover
    _libc = None


def _die_with_parent():
    """preexec_fn: the node gets SIGKILL when the thread that started it
    exits (the test process's main thread), so no node outlives a killed
    test run."""
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def server_binary(testcase):
    """lattice-server under test; skips `testcase` when LATTICE_SERVER names
    redis-server (which has no cluster of this kind), as config_test does."""
    env = os.environ.get("LATTICE_SERVER")
    if env and not harness.is_redis_binary(env):
        _stable_binary(env)  # a rebuild may be replacing it right now
    path = harness.lattice_server_path()
    if harness.is_redis_binary(path):
        testcase.skipTest("cluster tests need lattice-server (LATTICE_SERVER=%s)" % path)
    return path


def _stable_binary(path, timeout=300.0):
    """Waits until `path` is an executable file not modified for 2 seconds
    (a binary being relinked is briefly missing or growing); on a 2-core
    machine a relink can take minutes."""
    def ready():
        try:
            st = os.stat(path)
        except OSError:
            return False
        return os.access(path, os.X_OK) and time.time() - st.st_mtime >= 2.0
    harness.wait_until(ready, timeout, interval=0.2, what="a stable %s" % path)


def _port_free(host, port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def pick_port_base(n, rng=random, attempts=200):
    """A client port P such that P and P + 10000 are free on 127.0.0.1..n."""
    for _ in range(attempts):
        p = rng.randrange(*PORT_BASE_RANGE)
        if all(_port_free(node_host(i), port)
               for i in range(1, n + 1) for port in (p, p + PEER_PORT_OFFSET)):
            return p
    raise RuntimeError("no free port base for %d nodes after %d attempts" % (n, attempts))


# --------------------------------------------------------------------------
# LATTICE NODES
# --------------------------------------------------------------------------

class Member:
    """One line of LATTICE NODES:
    <name> <id> <client-addr> <peer-addr> zone=<z> <state> incarnation=<n>
    [myself | connected|disconnected acked_seq=<n> backlog=<n> [needs-repair]]"""

    def __init__(self, line):
        f = line.split()
        if len(f) < 8 or not f[4].startswith("zone=") or not f[6].startswith("incarnation="):
            raise ValueError("unexpected LATTICE NODES line %r" % line)
        self.line = line
        self.name, self.id, self.client_addr, self.peer_addr = f[0], int(f[1]), f[2], f[3]
        self.zone = f[4][len("zone="):]
        self.state = f[5]
        self.incarnation = int(f[6][len("incarnation="):])
        rest = f[7:]
        self.myself = rest == ["myself"]
        self.connected = bool(rest) and rest[0] == "connected"
        kv = dict(x.split("=", 1) for x in rest if "=" in x)
        self.acked_seq = int(kv["acked_seq"]) if "acked_seq" in kv else None
        self.backlog = int(kv["backlog"]) if "backlog" in kv else None
        self.needs_repair = "needs-repair" in rest

    def __repr__(self):
        return "Member(%r)" % self.line


def parse_nodes(text):
    """LATTICE NODES reply -> {name: Member}."""
    out = {}
    for line in text.splitlines():
        if line.strip():
            m = Member(line)
            out[m.name] = m
    return out


# --------------------------------------------------------------------------
# Nodes
# --------------------------------------------------------------------------

class Node:
    """One lattice-server process of a Cluster (index i: 127.0.0.i)."""

    def __init__(self, cluster, index, port, extra_args):
        self.cluster = cluster
        self.index = index
        self.name = "node%d" % index
        self.host = node_host(index)
        self.port = port
        self.peer_port = port + PEER_PORT_OFFSET
        self.dir = os.path.join(cluster.root, self.name)
        os.makedirs(self.dir, exist_ok=True)
        self.logpath = os.path.join(self.dir, "lattice.log")
        self.outpath = os.path.join(self.dir, "stdout-stderr.log")
        self.extra_args = list(extra_args)
        self.proc = None
        self.expected_down = False  # killed or stopped on purpose
        self._term_sent = False
        self._out = None
        self._client = None

    @property
    def addr(self):
        return "%s:%d" % (self.host, self.port)

    @property
    def peer_addr(self):
        return "%s:%d" % (self.host, self.peer_port)

    def argv(self):
        c = self.cluster
        args = [c.binary, "--bind", self.host, "--port", str(self.port),
                "--dir", self.dir, "--node-id", self.name,
                "--seeds", c.nodes[0].peer_addr,
                "--threads", str(c.threads), "--logfile", self.logpath,
                # No save points unless a test asks (as the Redis it is
                # compared with): a stopped node leaves no snapshot behind.
                "--save", ""]
        if c.consistency:
            args += ["--consistency", c.consistency]
        return args + c.extra_args + self.extra_args

    def start(self):
        self._drop_client()
        self._out = open(self.outpath, "ab")
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=self._out,
                                     stderr=subprocess.STDOUT, cwd=self.dir,
                                     preexec_fn=_die_with_parent)
        self.expected_down = False
        self._term_sent = False

    def wait_ready(self, timeout):
        """Polls PING until the node answers; raises with the log if the
        process exits or the deadline passes."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise harness.ServerError("%s exited with code %s during startup; log:\n%s"
                                          % (self.name, self.proc.returncode, self.log_tail()))
            if self.ping(timeout=1.0):
                return
            if time.monotonic() >= deadline:
                raise harness.ServerError("%s did not answer PING within %.0fs; log:\n%s"
                                          % (self.name, timeout, self.log_tail()))
            time.sleep(POLL)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def ping(self, timeout=2.0):
        try:
            with harness.RespClient(self.host, self.port, timeout=timeout) as c:
                return c.call("PING") == b"+PONG\r\n"
        except (OSError, TimeoutError, harness.ConnectionClosed, harness.ProtocolError):
            return False

    def client(self):
        """A shared redis-py client (decode_responses=True). Thread-safe;
        replaced after a kill or restart."""
        if self._client is None:
            self._client = self.new_client()
        return self._client

    def new_client(self, timeout=CLIENT_TIMEOUT):
        return redis.Redis(host=self.host, port=self.port, decode_responses=True,
                           socket_timeout=timeout, socket_connect_timeout=timeout)

    def _drop_client(self):
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
            self._client = None

    def kill(self):
        """SIGKILL and reap."""
        self.expected_down = True
        self._drop_client()
        if self.alive():
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait(timeout=10)
        self._close_out()

    def terminate(self):
        """Sends SIGTERM once (a second one could force a hasty exit)."""
        self.expected_down = True
        self._drop_client()
        if self.alive() and not self._term_sent:
            self._term_sent = True
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)

    def stop(self, grace=10.0):
        """SIGTERM, then SIGKILL after `grace` seconds. Returns the exit
        status (0 for a clean shutdown)."""
        self.terminate()
        if self.proc is None:
            return None
        if self.alive():
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                sys.stderr.write("warning: %s ignored SIGTERM for %.0fs; killing it\n"
                                 % (self.name, grace))
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._close_out()
        return self.proc.returncode

    def _close_out(self):
        if self._out is not None:
            self._out.close()
            self._out = None

    def log_tail(self, nbytes=3000):
        parts = []
        for path in (self.logpath, self.outpath):
            try:
                with open(path, "rb") as f:
                    f.seek(0, os.SEEK_END)
                    f.seek(max(0, f.tell() - nbytes))
                    parts.append("--- %s\n%s" % (path, f.read().decode("utf-8", "replace")))
            except OSError:
                parts.append("--- %s: <missing>" % path)
        return "\n".join(parts)

    def log_text(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # -- cluster views --
    def members(self):
        """{name: Member} from this node's LATTICE NODES."""
        return parse_nodes(self.client().execute_command("LATTICE", "NODES"))

    def info_replication(self):
        """INFO replication as a dict (peerK lines parsed into dicts)."""
        return self.client().info("replication")


# --------------------------------------------------------------------------
# Cluster
# --------------------------------------------------------------------------

class Cluster:
    """N lattice-server nodes on 127.0.0.1..N. Use as a context manager:

        with Cluster(3) as c:
            c.r(1).set("k", "v")
            c.wait_value("k", "v", nodes=[3])

    Node indices are 1-based everywhere. `consistency` is passed as
    --consistency when set; `extra_args` go to every node, `node_args`
    maps an index to arguments for that node only."""

    def __init__(self, n=3, binary=None, consistency=None, extra_args=(), node_args=None,
                 threads=2, start_timeout=None, healthy_timeout=30.0):
        self.n = n
        self.source_binary = binary or harness.lattice_server_path()
        self.consistency = consistency
        self.extra_args = list(extra_args)
        self.node_args = dict(node_args or {})
        self.threads = threads
        self.start_timeout = start_timeout if start_timeout is not None else float(
            os.environ.get("LATTICE_START_TIMEOUT", "30"))
        self.healthy_timeout = healthy_timeout
        self.root = None
        self.binary = None
        self.port = None
        self.nodes = []

    # -- lifecycle --
    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close(failed=True)
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        failed = exc_type is not None
        try:
            if not failed:
                self.check_running()
        except BaseException:
            failed = True
            raise
        finally:
            problems = self.close(failed=failed)
        if problems and not failed:
            raise AssertionError("unclean shutdown: " + "; ".join(problems))

    def start(self, attempts=3):
        self.root = tempfile.mkdtemp(prefix="lattice-cluster-")
        self.binary = os.path.join(self.root, "lattice-server")
        for attempt in range(3):
            _stable_binary(self.source_binary)
            try:
                shutil.copy2(self.source_binary, self.binary)
                break
            except OSError:  # replaced between the check and the copy
                if attempt == 2:
                    raise
        last = None
        for _ in range(attempts):
            self.port = pick_port_base(self.n)
            self.nodes = [Node(self, i, self.port, self.node_args.get(i, ()))
                          for i in range(1, self.n + 1)]
            try:
                for node in self.nodes:
                    node.start()
                for node in self.nodes:
                    node.wait_ready(self.start_timeout)
                break
            except harness.ServerError as e:
                last = e
                in_use = any("in use" in nd.log_tail().lower() for nd in self.nodes)
                for node in self.nodes:
                    node.kill()
                if not in_use:  # only a port race is worth another try
                    raise
                for node in self.nodes:
                    shutil.rmtree(node.dir, ignore_errors=True)
        else:
            raise last
        self.wait_healthy(self.healthy_timeout)

    def close(self, failed=False):
        """Stops every node (SIGTERM, then SIGKILL) and removes the
        directories (kept on failure with LATTICE_KEEP_DIRS=1). Returns the
        problems seen: nodes that did not exit with status 0 on SIGTERM (a
        crash or sanitizer report at shutdown)."""
        if failed and self.nodes:
            for node in self.nodes:
                sys.stderr.write("\n===== %s (%s) =====\n%s\n"
                                 % (node.name, node.addr, node.log_tail()))
        # SIGTERM to all first: a node takes about a second to leave, and
        # they may as well do it together.
        running = {node.index for node in self.nodes if node.alive()}
        for node in self.nodes:
            if node.index in running:
                node.terminate()
        problems = []
        for node in self.nodes:
            rc = node.stop()
            if node.index in running and rc not in (0, None):
                problems.append("%s exited with status %s on SIGTERM" % (node.name, rc))
                sys.stderr.write("warning: %s exited with status %s on SIGTERM; log:\n%s\n"
                                 % (node.name, rc, node.log_tail(1500)))
            # A sanitizer report does not always change the exit status (a
            # node killed on purpose, UBSan without halt_on_error).
            for path in (node.outpath, node.logpath):
                report = harness.crash_reports(path)
                if report:
                    problems.append("%s wrote a crash or sanitizer report to %s:\n%s"
                                    % (node.name, path, report))
        if self.root and os.path.isdir(self.root):
            if (failed or problems) and os.environ.get("LATTICE_KEEP_DIRS"):
                sys.stderr.write("note: cluster directories kept in %s\n" % self.root)
            else:
                shutil.rmtree(self.root, ignore_errors=True)
        return problems

    def check_running(self):
        """Raises AssertionError if a node exited without being killed or
        stopped by the test (a crash)."""
        dead = [nd for nd in self.nodes if not nd.expected_down and not nd.alive()]
        if dead:
            raise AssertionError("; ".join(
                "%s died unexpectedly with status %s; log:\n%s"
                % (nd.name, nd.proc.returncode if nd.proc else None, nd.log_tail())
                for nd in dead))

    # -- access --
    def node(self, i):
        return self.nodes[i - 1]

    def r(self, i):
        """Shared redis-py client of node i."""
        return self.node(i).client()

    def running(self):
        """Indices of the nodes whose processes run."""
        return [nd.index for nd in self.nodes if nd.alive()]

    def members(self, i):
        return self.node(i).members()

    def kill(self, i):
        self.node(i).kill()

    def stop(self, i):
        return self.node(i).stop()

    def restart(self, i, wait_ready=True):
        """Starts node i again with its directory, node id and arguments
        (after killing it if it still runs)."""
        node = self.node(i)
        if node.alive():
            node.kill()
        node.start()
        if wait_ready:
            node.wait_ready(self.start_timeout)
        return node

    # -- membership --
    def healthy(self, nodes=None):
        """True if each of `nodes` (default: all) lists every node of the
        cluster exactly once as alive, itself as `myself` and the others as
        connected."""
        nodes = nodes or [nd.index for nd in self.nodes]
        names = {nd.name for nd in self.nodes}
        for i in nodes:
            try:
                ms = self.members(i)
            except (redis.RedisError, ValueError):
                return False
            if set(ms) != names:
                return False
            for m in ms.values():
                if m.state != "alive":
                    return False
                if m.name == self.node(i).name:
                    if not m.myself:
                        return False
                elif not m.connected:
                    return False
        return True

    def wait_healthy(self, timeout=20.0, nodes=None):
        try:
            harness.wait_until(lambda: self.healthy(nodes), timeout, interval=POLL,
                               what="every node to see all %d members alive and connected"
                               % self.n)
        except TimeoutError as e:
            raise AssertionError("%s; views:\n%s" % (e, self.describe_views(nodes)))

    def describe_views(self, nodes=None):
        out = []
        for i in nodes or self.running():
            try:
                text = self.r(i).execute_command("LATTICE", "NODES")
            except redis.RedisError as e:
                text = "<%s>" % e
            out.append("%s:\n%s" % (self.node(i).name, text))
        return "\n".join(out)

    def member_state(self, observer, target):
        """State of node `target` as node `observer` sees it (None if it is
        not listed or the observer does not answer)."""
        try:
            m = self.members(observer).get(self.node(target).name)
        except redis.RedisError:
            return None
        return m.state if m else None

    def wait_member_state(self, observer, target, states, timeout):
        """Polls until node `observer` sees node `target` in one of `states`;
        returns that Member."""
        if isinstance(states, str):
            states = (states,)
        name = self.node(target).name

        def check():
            try:
                m = self.members(observer).get(name)
            except redis.RedisError:
                return None
            return m if m is not None and m.state in states else None
        try:
            return harness.wait_until(check, timeout, interval=POLL,
                                      what="%s to see %s %s" % (self.node(observer).name,
                                                                name, "|".join(states)))
        except TimeoutError as e:
            raise AssertionError("%s; views:\n%s" % (e, self.describe_views([observer])))

    # -- data --
    def values(self, i, keys):
        """MGET of `keys` on node i, as a list."""
        keys = list(keys)
        out = []
        for k in range(0, len(keys), 500):
            out += self.r(i).mget(keys[k:k + 500])
        return out

    def converged(self, keys, nodes=None):
        """True if every node of `nodes` (default: running) returns the same
        values for `keys`."""
        nodes = nodes or self.running()
        first = self.values(nodes[0], keys)
        return all(self.values(i, keys) == first for i in nodes[1:])

    def snapshot(self, i, match=None):
        """Every key of node i (SCAN), as {key: (type, value, pexpiretime)}.
        String keys carry their value, hashes a sorted tuple of (field,
        value), sets a sorted tuple of members, streams their entries and
        XINFO GROUPS."""
        r = self.r(i)
        keys = sorted(set(r.scan_iter(match=match, count=1000)))
        out = {}
        for k in range(0, len(keys), 1000):
            chunk = keys[k:k + 1000]
            pipe = r.pipeline(transaction=False)
            for key in chunk:
                pipe.type(key)
                pipe.get(key)
                pipe.execute_command("PEXPIRETIME", key)
            res = pipe.execute(raise_on_error=False)
            collections = []
            for j, key in enumerate(chunk):
                t, v, exp = res[3 * j:3 * j + 3]
                if isinstance(v, Exception):
                    v = "<%s>" % v
                out[key] = (t, v, exp)
                if t in ("hash", "set", "stream"):
                    collections.append(key)
            # Collections carry their contents, order-free.
            if collections:
                pipe = r.pipeline(transaction=False)
                for key in collections:
                    if out[key][0] == "hash":
                        pipe.hgetall(key)
                    elif out[key][0] == "stream":
                        # Entries in order, and each group's state.
                        pipe.execute_command("XRANGE", key, "-", "+")
                        pipe.execute_command("XINFO", "GROUPS", key)
                    else:
                        pipe.smembers(key)
                res = pipe.execute(raise_on_error=False)
                vals = []
                for key in collections:
                    if out[key][0] == "stream":
                        entries, groups = res.pop(0), res.pop(0)
                        vals.append(repr((entries, groups)))
                    else:
                        vals.append(res.pop(0))
                for key, v in zip(collections, vals):
                    if isinstance(v, dict):
                        v = tuple(sorted(v.items()))
                    elif isinstance(v, (set, list)):
                        v = tuple(sorted(v))
                    else:
                        v = "<%s>" % v
                    out[key] = (out[key][0], v, out[key][2])
        return out

    def unacked(self, nodes=None):
        """{(node, peer name): backlog} for every non-zero backlog a running
        node reports towards a running peer (deltas not yet acknowledged)."""
        nodes = nodes or self.running()
        names = {self.node(i).name for i in nodes}
        out = {}
        for i in nodes:
            info = self.node(i).info_replication()
            for k, v in info.items():
                if re.fullmatch(r"peer\d+", k) and isinstance(v, dict) and \
                        v.get("name") in names and int(v.get("backlog", 0)) != 0:
                    out[(self.node(i).name, v["name"])] = int(v["backlog"])
        return out

    def wait_converged(self, timeout=20.0, nodes=None, match=None):
        """Polls until every node of `nodes` (default: running) has no
        unacknowledged deltas towards the others and all return identical
        snapshots; returns the snapshot. On timeout raises AssertionError
        showing up to 20 differing keys."""
        nodes = nodes or self.running()
        deadline = time.monotonic() + timeout
        snaps, pending = None, None
        while True:
            try:
                pending = self.unacked(nodes)
                snaps = [self.snapshot(i, match) for i in nodes]
                if not pending and all(s == snaps[0] for s in snaps[1:]):
                    return snaps[0]
            except redis.RedisError as e:
                pending = {"error": str(e)}
            if time.monotonic() >= deadline:
                break
            time.sleep(POLL * 2)
        raise NotConverged("nodes %s did not converge within %.0fs: unacked %s; %s"
                           % ([self.node(i).name for i in nodes], timeout, pending,
                              describe_differences(nodes, snaps)),
                           nodes, snaps)

    def wait_value(self, key, value, timeout=10.0, nodes=None):
        """Polls until GET key == value on each of `nodes` (default: all
        running)."""
        nodes = nodes or self.running()

        def check():
            return all(self.r(i).get(key) == value for i in nodes)
        try:
            harness.wait_until(check, timeout, interval=POLL,
                               what="%s == %r on %s" % (key, value, nodes))
        except TimeoutError as e:
            seen = {self.node(i).name: self.r(i).get(key) for i in nodes}
            raise AssertionError("%s; values now %s" % (e, seen))


class NotConverged(AssertionError):
    """wait_converged() timed out. `snapshots` holds the last snapshot of
    each node of `nodes` (None if none was taken), `differing` the keys
    whose entries differ."""

    def __init__(self, msg, nodes, snapshots):
        super().__init__(msg)
        self.nodes = nodes
        self.snapshots = snapshots
        self.differing = differing_keys(snapshots) if snapshots else []


def differing_keys(snaps):
    keys = sorted(set().union(*[set(s) for s in snaps]))
    return [k for k in keys if len({repr(s.get(k)) for s in snaps}) > 1]


def describe_differences(nodes, snaps, limit=20):
    if not snaps:
        return "no snapshot taken"
    keys = sorted(set().union(*[set(s) for s in snaps]))
    diff = differing_keys(snaps)
    lines = ["%d keys differ (of %d):" % (len(diff), len(keys))]
    for k in diff[:limit]:
        lines.append("  %s: %s" % (k, ", ".join("node%d=%r" % (i, s.get(k))
                                             for i, s in zip(nodes, snaps))))
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Partitions (nftables)
# --------------------------------------------------------------------------

class PartitionError(RuntimeError):
    """nftables is not usable here (not root, nft missing, no kernel
    support): tests that need a partition fail with this."""


_table_seq = 0
_TABLE_RE = re.compile(r"^table inet (lattice_test_(\d+)_\d+)$")


def _nft(*args, stdin=None):
    try:
        # Generous: on a loaded 2-core machine (five nodes, their clients
        # and a build) one nft call was seen to take over 10 s.
        r = subprocess.run(["nft"] + list(args), input=stdin, capture_output=True, text=True,
                           timeout=60)
    except FileNotFoundError:
        raise PartitionError("the nft command is not installed (Debian package nftables); "
                             "partition tests need it and root privileges")
    if r.returncode != 0:
        raise PartitionError("nft %s failed (exit %d): %s%s"
                             % (" ".join(args), r.returncode, r.stderr.strip(),
                                "" if os.geteuid() == 0 else
                                " -- partition tests must run as root"))
    return r.stdout


def delete_stale_tables():
    """Deletes lattice_test_<pid>_<n> tables whose process is gone (left
    behind by a test run that was killed)."""
    for line in _nft("list", "tables").splitlines():
        m = _TABLE_RE.match(line.strip())
        if m and not os.path.exists("/proc/%s" % m.group(2)):
            with contextlib.suppress(PartitionError):
                _nft("delete", "table", "inet", m.group(1))


class Partition:
    """Cuts links between nodes of `cluster` with nftables:

        with Partition(cluster) as p:
            p.cut(1, 2)      # node 1 <-> node 2, both directions
            p.isolate(3)     # node 3 from everyone
            p.heal(1, 2)
            p.heal_all()

    Packets are dropped (not rejected), as a real partition would: open
    connections stall until keepalives give up. The table is deleted on
    leaving the context, whatever happened inside."""

    def __init__(self, cluster):
        global _table_seq
        _table_seq += 1
        self.cluster = cluster
        self.table = "lattice_test_%d_%d" % (os.getpid(), _table_seq)
        self.created = False
        self.cuts = set()

    def __enter__(self):
        if os.geteuid() != 0:
            raise PartitionError("partition tests need root to drive nftables "
                                 "(euid is %d); run them as root" % os.geteuid())
        delete_stale_tables()
        _nft("-f", "-", stdin="""
table inet %s {
  set cut { type ipv4_addr . ipv4_addr . inet_service; }
  chain input {
    type filter hook input priority 0; policy accept;
    ip saddr . ip daddr . tcp dport @cut drop
    ip saddr . ip daddr . tcp sport @cut drop
  }
}
""" % self.table)
        self.created = True
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.created:
            _nft("delete", "table", "inet", self.table)
            self.created = False
            self.cuts.clear()

    def _elements(self, i, j):
        a, b = self.cluster.node(i), self.cluster.node(j)
        # A connection a -> b's peer port: packets a->b (dport) and b->a
        # (sport) carry b's peer port; likewise for b -> a.
        pairs = {(a.host, b.host, b.peer_port), (b.host, a.host, b.peer_port),
                 (b.host, a.host, a.peer_port), (a.host, b.host, a.peer_port)}
        return "{ %s }" % ", ".join("%s . %s . %d" % p for p in sorted(pairs))

    def cut(self, i, j):
        """Drops all peer traffic between node i and node j."""
        if i == j:
            raise ValueError("cannot cut a node from itself")
        _nft("add", "element", "inet", self.table, "cut", self._elements(i, j))
        self.cuts.add(frozenset((i, j)))

    def isolate(self, i):
        """Cuts node i from every other node."""
        for nd in self.cluster.nodes:
            if nd.index != i:
                self.cut(i, nd.index)

    def heal(self, i, j):
        if frozenset((i, j)) in self.cuts:
            _nft("delete", "element", "inet", self.table, "cut", self._elements(i, j))
            self.cuts.discard(frozenset((i, j)))

    def heal_all(self):
        _nft("flush", "set", "inet", self.table, "cut")
        self.cuts.clear()


# --------------------------------------------------------------------------
# Test plumbing
# --------------------------------------------------------------------------

class ClusterTestCase(unittest.TestCase):
    """Base class: self.binary is lattice-server (the test is skipped when
    LATTICE_SERVER names redis-server); self.cluster(...) builds a Cluster
    with that binary."""

    maxDiff = None

    def setUp(self):
        self.binary = server_binary(self)

    def cluster(self, n=3, **kw):
        return Cluster(n, binary=self.binary, **kw)


def seed_from_env(default=None):
    """LATTICE_SEED, or a fresh seed; printed so a failing run can be
    repeated."""
    seed = os.environ.get("LATTICE_SEED")
    seed = int(seed) if seed else (default if default is not None
                                   else random.SystemRandom().randrange(1 << 31))
    sys.stdout.write("seed %d (set LATTICE_SEED=%d to repeat)\n" % (seed, seed))
    sys.stdout.flush()
    return seed
