"""Randomized faults under concurrent load: exactly-once counters, no lost
acknowledged write, agreement within seconds of the heal.

Each run starts a cluster, puts two raw-socket clients on every node and,
while they run, cuts links between random groups of nodes with nftables
(1-3 s; only peer traffic between node addresses, so every client keeps
reaching its node) and pauses random nodes with SIGSTOP (0.5-2 s). Then
everything heals at once and, polling, the test requires within
LATTICE_FAULT_CONVERGE_SECONDS (5) of the heal:

- every counter (INCRBY only) equals the acknowledged increments plus at
  most the indeterminate ones (an error or timeout: may or may not have
  run), on every replica and read through every node;
- every register (one writer each, numbered values) holds its last
  acknowledged write or a later or indeterminate one, identical on every
  replica and through every node;
- a key whose DEL replied 1 and that was never written again is gone
  through every node and from every replica;
- no replica holds a key its peers lack (identical local state per key).

Set-ups (LATTICE_FAULT_SETUPS, comma separated): `partial` (5 nodes,
`replicas 3`, two zones, eventual) and `causal` (3 nodes, every node
holds every key, `consistency causal`) run by default; `full` (5 nodes,
`replicas all`) is the throughput reference tests/bench reports. Each set-up
runs once per seed: LATTICE_SEED repeats one seed, else LATTICE_FAULT_SEEDS
(default 2) fresh seeds, each printed. LATTICE_FAULT_SECONDS (default 12) is
the length of the fault phase.

Every run prints a line `fault-run setup=... seed=... ops=... ops/s=...
heal_to_agree_s=...` (tests/bench/README.md and docs/benchmarks.md use it).

Needs root and nft (Debian nftables), like every partition test; fails, never
skips, without them.
"""

import os
import random
import signal
import sys
import threading
import time
import unittest
import redis  # noqa: E402

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster  # noqa: E402
import harness  # noqa: E402
from cluster import ClusterTestCase, Partition  # noqa: E402

COUNTERS = ["ctr:%d" % i for i in range(4)]
REGISTERS_PER_CLIENT = 5
CLIENTS_PER_NODE = 2
CLIENT_TIMEOUT = 3.0


def env_float(name, default):
    v = os.environ.get(name)
    return float(v) if v else default


def seeds():
    if os.environ.get("LATTICE_SEED"):
        return [int(os.environ["LATTICE_SEED"])]
    n = int(os.environ.get("LATTICE_FAULT_SEEDS", "2"))
    rng = random.SystemRandom()
    return [rng.randrange(1 << 31) for _ in range(n)]


class Ledger:
    """What clients were told. Guarded by `mu`."""

    def __init__(self):
        self.mu = threading.Lock()
        self.acked = {k: 0 for k in COUNTERS}
        self.unsure = {k: 0 for k in COUNTERS}
        # register -> (last acknowledged sequence, {indeterminate sequences})
        self.last_acked = {}
        self.unsure_regs = {}
        self.deleted = set()   # DEL replied 1, never written again
        self.del_times = {}    # key -> (SET sent, DEL replied), seconds since t0
        self.t0 = time.monotonic()
        self.ops = 0
        self.errors = 0


class Client(threading.Thread):
    """One connection to one node, reconnecting after any error. Every
    reply is classified: acknowledged, or indeterminate (an error reply, a
    timeout, a closed connection)."""

    def __init__(self, node, name, ledger, stop, seed):
        super().__init__(daemon=True)
        self.node, self.name, self.ledger, self.stop = node, name, ledger, stop
        self.rng = random.Random(seed)
        self.conn = None
        self.seq = 0
        self.dels = 0
        self.failure = None

    def call(self, *args):
        """Returns the raw reply, or None when the outcome is unknown."""
        try:
            if self.conn is None:
                self.conn = harness.RespClient(self.node.host, self.node.port,
                                               timeout=CLIENT_TIMEOUT, connect_timeout=1.0)
            reply = self.conn.call(*args)
        except Exception:  # timeout, reset, closed: indeterminate
            if self.conn is not None:
                self.conn.close()
            else:
                time.sleep(0.05)  # could not connect: do not spin
            self.conn = None
            return None
        if reply.startswith(b"-"):
            return None
        return reply

    def run(self):
        try:
            self.loop()
        except Exception as e:  # a bug in the test itself: report it
            self.failure = e
        finally:
            if self.conn is not None:
                self.conn.close()

    def loop(self):
        led, rng = self.ledger, self.rng
        while not self.stop.is_set():
            op = rng.random()
            if op < 0.45:
                key, by = rng.choice(COUNTERS), rng.randint(1, 5)
                reply = self.call("INCRBY", key, str(by))
                with led.mu:
                    if reply is not None and reply.startswith(b":"):
                        led.acked[key] += by
                    else:
                        led.unsure[key] += by
                        led.errors += 1
                    led.ops += 1
            elif op < 0.75:
                key = "reg:%s:%d" % (self.name, rng.randrange(REGISTERS_PER_CLIENT))
                self.seq += 1
                reply = self.call("SET", key, "%s:%d" % (self.name, self.seq))
                with led.mu:
                    if reply == b"+OK\r\n":
                        led.last_acked[key] = self.seq
                    else:
                        led.unsure_regs.setdefault(key, set()).add(self.seq)
                        led.errors += 1
                    led.ops += 1
            elif op < 0.9:
                key = rng.choice(COUNTERS + ["reg:%s:0" % self.name])
                reply = self.call("GET", key)
                with led.mu:
                    led.ops += 1
                    led.errors += reply is None
            else:
                self.dels += 1
                key = "del:%s:%d" % (self.name, self.dels)
                t_set = time.monotonic() - led.t0
                if self.call("SET", key, "x") != b"+OK\r\n":
                    with led.mu:
                        led.ops += 1
                        led.errors += 1
                    continue  # never written again; a stray copy is allowed
                reply = self.call("DEL", key)
                with led.mu:
                    led.ops += 2
                    if reply == b":1\r\n":
                        led.deleted.add(key)
                        led.del_times[key] = (t_set, time.monotonic() - led.t0)
                    elif reply is None:
                        led.errors += 1


class Faults:
    """Random cuts between groups of nodes and SIGSTOP pauses, overlapping.
    Every fault ends by itself; heal() ends them all."""

    def __init__(self, c, part, rng):
        self.c, self.part, self.rng = c, part, rng
        self.cut_refs = {}   # frozenset pair -> active faults needing it
        self.active = []     # (end time, kind, data)
        self.paused = {}     # node index -> active pause count
        self.log = []

    def _cut(self, pairs):
        for p in pairs:
            if self.cut_refs.get(p, 0) == 0:
                i, j = sorted(p)
                self.part.cut(i, j)
            self.cut_refs[p] = self.cut_refs.get(p, 0) + 1

    def _uncut(self, pairs):
        for p in pairs:
            self.cut_refs[p] -= 1
            if self.cut_refs[p] == 0:
                i, j = sorted(p)
                self.part.heal(i, j)

    def _pause(self, i):
        if self.paused.get(i, 0) == 0:
            os.kill(self.c.node(i).proc.pid, signal.SIGSTOP)
        self.paused[i] = self.paused.get(i, 0) + 1

    def _resume(self, i):
        self.paused[i] -= 1
        if self.paused[i] == 0:
            os.kill(self.c.node(i).proc.pid, signal.SIGCONT)

    def step(self, now):
        for f in [f for f in self.active if f[0] <= now]:
            self.active.remove(f)
            if f[1] == "cut":
                self._uncut(f[2])
            else:
                self._resume(f[2])
        if len(self.active) >= 2 or self.rng.random() < 0.5:
            return
        n = self.c.n
        if self.rng.random() < 0.6:
            nodes = list(range(1, n + 1))
            self.rng.shuffle(nodes)
            k = self.rng.randint(1, n // 2)
            side, rest = nodes[:k], nodes[k:]
            pairs = {frozenset((a, b)) for a in side for b in rest}
            self._cut(pairs)
            dur = self.rng.uniform(1.0, 3.0)
            self.active.append((now + dur, "cut", pairs))
            self.log.append("t=%.1f cut %s | %s for %.1fs" % (now, sorted(side), sorted(rest), dur))
        else:
            i = self.rng.randint(1, n)
            self._pause(i)
            dur = self.rng.uniform(0.5, 2.0)
            self.active.append((now + dur, "pause", i))
            self.log.append("t=%.1f pause node%d for %.1fs" % (now, i, dur))

    def heal(self):
        for i, count in self.paused.items():
            if count > 0:
                os.kill(self.c.node(i).proc.pid, signal.SIGCONT)
        self.paused.clear()
        self.part.heal_all()
        self.cut_refs.clear()
        self.active.clear()


SETUPS = {
    "partial": dict(n=5, extra_args=["--replicas", "3"], zones=True),
    "causal": dict(n=3, consistency="causal"),
    "full": dict(n=5, extra_args=["--replicas", "all"], zones=True),
}


def local_state(c, i, keys):
    """Node i's own copy of each key it holds (SCAN lists only local keys,
    and reading a key the node holds never leaves the node)."""
    held = set(c.r(i).scan_iter(count=1000))
    mine = [k for k in keys if k in held]
    vals = c.values(i, mine) if mine else []
    return dict(zip(mine, vals))


class FaultTest(ClusterTestCase):
    def run_setup(self, name, seed):
        spec = SETUPS[name]
        n = spec["n"]
        node_args = ({i: ["--zone", "zone-a" if i % 2 else "zone-b"] for i in range(1, n + 1)}
                     if spec.get("zones") else None)
        duration = env_float("LATTICE_FAULT_SECONDS", 12.0)
        converge = env_float("LATTICE_FAULT_CONVERGE_SECONDS", 5.0)
        sys.stdout.write("fault run: setup=%s seed=%d (LATTICE_SEED=%d LATTICE_FAULT_SETUPS=%s "
                         "repeats it)\n" % (name, seed, seed, name))
        sys.stdout.flush()
        rng = random.Random(seed)
        ledger = Ledger()
        with self.cluster(n, threads=1, consistency=spec.get("consistency"),
                          extra_args=spec.get("extra_args", ()), node_args=node_args) as c, \
                Partition(c) as part:
            stop = threading.Event()
            clients = [Client(c.node(i), "n%dc%d" % (i, k), ledger, stop, rng.randrange(1 << 30))
                       for i in range(1, n + 1) for k in range(CLIENTS_PER_NODE)]
            faults = Faults(c, part, random.Random(rng.randrange(1 << 30)))
            start = ledger.t0 = time.monotonic()  # the fault log's t=0
            for cl in clients:
                cl.start()
            try:
                while time.monotonic() - start < duration:
                    faults.step(time.monotonic() - start)
                    time.sleep(0.25)
            finally:
                faults.heal()
            healed = time.monotonic()
            ops_during = ledger.ops
            stop.set()
            for cl in clients:
                cl.join(CLIENT_TIMEOUT * 3)
                self.assertFalse(cl.is_alive(), "client %s did not stop" % cl.name)
                if cl.failure:
                    raise cl.failure
            sys.stdout.write("faults: %s\n" % "; ".join(faults.log))
            problems = harness_poll(lambda: self.check(c, ledger), converge)
            agree_s = time.monotonic() - healed
            released = 0
            for i in range(1, n + 1):
                info = c.r(i).info("replication")
                released += int(info.get("lattice_causal_fetched", 0))
            sys.stdout.write(
                "fault-run setup=%s seed=%d nodes=%d ops=%d ops/s=%.0f errors=%d "
                "acked_incr=%d unsure_incr=%d causal_fetched=%d heal_to_agree_s=%.2f\n"
                % (name, seed, n, ops_during, ops_during / duration, ledger.errors,
                   sum(ledger.acked.values()), sum(ledger.unsure.values()), released,
                   agree_s if not problems else -1))
            sys.stdout.flush()
            if problems:
                if os.environ.get("LATTICE_FAULT_GDB"):  # debugging aid: every thread's stack
                    import subprocess
                    for i in range(1, n + 1):
                        out = subprocess.run(["gdb", "-p", str(c.node(i).proc.pid), "-batch",
                                              "-ex", "thread apply all bt"],
                                             capture_output=True, text=True, timeout=120).stdout
                        with open(os.environ["LATTICE_FAULT_GDB"] + ".node%d" % i, "w") as f:
                            f.write(out)
                self.describe_back(c, ledger, problems)
                for i in range(1, n + 1):
                    try:
                        sys.stdout.write("node%d INFO replication:\n%s\n" % (
                            i, c.r(i).execute_command("INFO", "replication")))
                    except Exception as e:
                        sys.stdout.write("node%d INFO failed: %r\n" % (i, e))
                self.fail("setup %s seed %d: not within %.0fs of the heal:\n  %s\nfaults: %s"
                          % (name, seed, converge, "\n  ".join(problems[:30]),
                             "; ".join(faults.log)))

    def describe_back(self, c, led, problems):
        """For each deleted key that came back: when it was written and
        deleted, where it lives and which nodes hold a copy."""
        back = sorted({p.split()[1] for p in problems if p.startswith("deleted ")})
        for k in back[:5]:
            t_set, t_del = led.del_times.get(k, (-1, -1))
            holders = []
            for i in range(1, c.n + 1):
                try:
                    if k in set(c.r(i).scan_iter(match=k, count=1000)):
                        holders.append(i)
                except redis.RedisError:
                    pass
            try:
                where = c.r(1).execute_command("LATTICE", "WHERE", k)
            except redis.RedisError as e:
                where = e
            sys.stdout.write("back: %s set at t=%.2f, deleted at t=%.2f; held by nodes %s; %s\n"
                             % (k, t_set, t_del, holders, where))

    def check(self, c, led):
        """Every violation seen now (empty: all good)."""
        problems = []
        n = c.n
        regs = sorted(set(led.last_acked) | set(led.unsure_regs))
        dels = sorted(led.deleted)
        keys = COUNTERS + regs + dels
        through = {}
        for i in range(1, n + 1):
            through[i] = dict(zip(keys, c.values(i, keys)))
        for k in COUNTERS:
            lo, hi = led.acked[k], led.acked[k] + led.unsure[k]
            seen = {i: through[i][k] for i in through}
            if len(set(seen.values())) != 1:
                problems.append("%s differs through nodes: %s" % (k, seen))
            for i, v in seen.items():
                if v is None or not lo <= int(v) <= hi:
                    problems.append("%s through node%d = %s, acknowledged %d, at most %d"
                                    % (k, i, v, lo, hi))
        for k in regs:
            last = led.last_acked.get(k, 0)
            unsure = led.unsure_regs.get(k, set())
            seen = {i: through[i][k] for i in through}
            if len(set(seen.values())) != 1:
                problems.append("%s differs through nodes: %s" % (k, seen))
            for i, v in seen.items():
                seq = int(v.rsplit(":", 1)[1]) if v else 0
                if seq < last and seq not in unsure:
                    problems.append("%s through node%d = %r, but write %d was acknowledged"
                                    % (k, i, v, last))
        for k in dels:
            for i in through:
                if through[i][k] is not None:
                    problems.append("deleted %s is back through node%d" % (k, i))
        # Replicas: every node's own copies agree key by key.
        copies = {}
        for i in range(1, n + 1):
            for k, v in local_state(c, i, keys).items():
                copies.setdefault(k, {})[i] = v
        for k, held in copies.items():
            if len(set(held.values())) != 1:
                problems.append("replicas of %s differ: %s" % (k, held))
        return problems


def harness_poll(check, timeout):
    """Runs check() until it returns no problem or `timeout` passes; returns
    the last problems (empty on success). A node that does not answer counts
    as a problem."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            problems = check()
        except Exception as e:  # a node not answering yet
            problems = ["check failed: %r" % e]
        if not problems or time.monotonic() >= deadline:
            return problems
        time.sleep(0.1)


def make_tests():
    names = [s for s in os.environ.get("LATTICE_FAULT_SETUPS", "partial,causal").split(",") if s]
    for name in names:
        if name not in SETUPS:
            raise SystemExit("unknown set-up %r (have %s)" % (name, ", ".join(SETUPS)))

        def test(self, name=name):
            for seed in seeds():
                self.run_setup(name, seed)
        test.__name__ = "test_%s" % name
        setattr(FaultTest, test.__name__, test)


make_tests()

if __name__ == "__main__":
    harness.main()
