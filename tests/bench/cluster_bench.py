#!/usr/bin/env python3
"""Write throughput of a 3-node Lattice cluster against one standalone node,
replication lag at half of peak load, and bytes on the wire per replicated SET.

Set-up (2 cores; see docs/benchmarks.md):
- The node under test runs with --threads 1 pinned to core 1, exactly as in
  the standalone run. In the cluster run its two peers run pinned to core 0
  with redis-benchmark (they must apply every delta, which costs CPU the
  load generator would otherwise have), so the comparison that is fair to
  both is the node under test's own CPU time per SET, measured from
  /proc like compare_redis.py; throughput is reported too.
- Rounds alternate standalone and cluster with fresh processes.
- Lag: the node under test's histogram of write-to-acknowledgement times
  (INFO replication lattice_repl_lag_*; bucket upper bounds), read before and
  after a run at about half of the cluster's peak rate.
- Bytes per SET: TCP payload bytes the node under test sent on its peer
  connections (ss bytes_acked, HTTP/2 and gRPC framing included) divided by
  deltas sent, with 16-byte keys and 3-byte values as redis-benchmark makes.

Usage: tests/bench/cluster_bench.py [--lattice build/node/lattice-server] [--rounds 3]
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lattice", default=benchlib.DEFAULT_LATTICE)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--pipeline", type=int, default=16)
    ap.add_argument("--peak", type=float, default=0,
                    help="skip the throughput rounds and measure lag at half of this rate")
    return ap.parse_args()


class Node:
    def __init__(self, binary, idx, port, cpu, peers, workdir, extra=()):
        """cpu: the CPU to pin the node to (None: not pinned); peers: None for a
        standalone node; extra: more lattice-server arguments."""
        self.idx = idx
        self.addr = "127.0.0.%d" % idx
        self.port = port
        self.dir = os.path.join(workdir, "n%d" % idx)
        os.makedirs(self.dir, exist_ok=True)
        argv = ([] if cpu is None else ["taskset", "-c", str(cpu)]) + [
            binary, "--bind", self.addr, "--port", str(port), "--threads", "1",
            "--dir", self.dir, "--node-id", "bench%d" % idx,
            "--logfile", os.path.join(self.dir, "log")]
        if peers is None:
            argv += ["--peer-port", "0"]
        else:
            argv += ["--seeds", "127.0.0.1:%d" % (port + 10000)]
        argv += list(extra)
        self.proc = benchlib.spawn(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.cli("PING") == "PONG":
                return
            time.sleep(0.05)
        raise RuntimeError("node %d did not start" % idx)

    def cli(self, *args):
        r = subprocess.run(["redis-cli", "-h", self.addr, "-p", str(self.port)] + list(args),
                           capture_output=True, text=True, timeout=10)
        return r.stdout.strip()

    def info(self, section):
        out = {}
        for line in self.cli("INFO", section).splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                out[k] = v
        return out

    def stop(self):
        benchlib.kill_proc(self.proc)


def pick_port():
    """A client port P such that P and P+10000 are free on 127.0.0.1-3."""
    import random
    import socket
    for _ in range(200):
        port = random.randrange(20000, 40000)
        ok = True
        for host in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):
            for p in (port, port + 10000):
                with socket.socket() as sock:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    try:
                        sock.bind((host, p))
                    except OSError:
                        ok = False
        if ok:
            return port
    raise RuntimeError("no free port pair")


def run_benchmark(node, requests, clients, pipeline, extra=()):
    argv = ["taskset", "-c", "0", "redis-benchmark", "-h", node.addr, "-p", str(node.port),
            "-t", "set", "-n", str(requests), "-c", str(clients), "-P", str(pipeline),
            "-r", "100000", "--csv"] + list(extra)
    before = benchlib.CpuSnapshot(node.proc.pid)
    t0 = time.monotonic()
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600).stdout
    elapsed = time.monotonic() - t0
    after = benchlib.CpuSnapshot(node.proc.pid)
    cpu, _ = benchlib.cpu_delta_seconds(before, after)
    rps = None
    for line in out.splitlines():
        if line.startswith('"SET"'):
            rps = float(line.split(",")[1].strip('"'))
    return rps, cpu / requests * 1e6, elapsed


def peer_tcp_bytes(node):
    """Bytes acked on the node under test's outgoing peer connections."""
    out = subprocess.run(["ss", "-tinH", "src", node.addr], capture_output=True,
                         text=True).stdout
    total = 0
    lines = out.splitlines()
    for i, line in enumerate(lines):
        m = re.search(r"\s(\S+):(\d+)\s+(\S+):(\d+)", line)
        if not m or int(m.group(4)) != node.port + 10000 or m.group(3) == node.addr:
            continue
        detail = lines[i + 1] if i + 1 < len(lines) else ""
        b = re.search(r"bytes_acked:(\d+)", detail)
        if b:
            total += int(b.group(1))
    return total


def start_cluster(binary, port, work):
    nodes = [Node(binary, 1, port, 1, [], work)]
    for i in (2, 3):
        nodes.append(Node(binary, i, port, 0, [], work))
    deadline = time.monotonic() + 15
    while nodes[0].info("replication").get("lattice_peers_connected") != "2":
        if time.monotonic() > deadline:
            raise RuntimeError("cluster did not form")
        time.sleep(0.1)
    return nodes


def measure_lag(binary, port, peak):
    """Lag and bytes per SET at about half of `peak`: tries pipeline depths
    with 50 clients, keeps the one whose rate is closest to peak/2, then
    measures from a reset histogram."""
    work = tempfile.mkdtemp(prefix="lattice-cluster-lag-")
    nodes = []
    try:
        nodes = start_cluster(binary, port, work)
        best = None
        for pipeline in (1, 2, 3, 4, 6, 8):
            rps, _, _ = run_benchmark(nodes[0], 200000, 50, pipeline)
            benchlib.log("  pipeline %d: %.0f SET/s (target %.0f)" % (pipeline, rps, peak / 2))
            if best is None or abs(rps - peak / 2) < abs(best[1] - peak / 2):
                best = (pipeline, rps)
        sent0 = peer_tcp_bytes(nodes[0])
        d0 = deltas_sent(nodes[0])
        nodes[0].cli("CONFIG", "RESETSTAT")
        rps, _, _ = run_benchmark(nodes[0], 1000000, 50, best[0])
        time.sleep(1)
        p50, p99 = lag_quantiles(nodes[0])
        wire = (peer_tcp_bytes(nodes[0]) - sent0) / max(1, deltas_sent(nodes[0]) - d0)
        return rps, best[0], p50, p99, wire
    finally:
        for n in nodes:
            n.stop()
        shutil.rmtree(work, ignore_errors=True)


def deltas_sent(node):
    return sum(int(re.search(r"sent=(\d+)", v).group(1))
               for k, v in node.info("replication").items() if k.startswith("peer"))


def lag_quantiles(node):
    info = node.info("replication")
    return int(info.get("lattice_repl_lag_p50_us", 0)), int(info.get("lattice_repl_lag_p99_us", 0))


def main():
    a = parse_args()
    benchlib.check_tools(a.lattice, "redis-benchmark", "redis-cli", "taskset", "ss")
    port = pick_port()
    results = {"standalone": [], "cluster": []}
    if a.peak:
        rps, pipeline, p50, p99, wire = measure_lag(a.lattice, port, a.peak)
        print("Lag at %.0f SET/s (-P %d; %.0f%% of the %.0f peak): p50 <= %d us, p99 <= %d us; "
              "%.1f bytes on the wire per replicated SET" % (
                  rps, pipeline, 100 * rps / a.peak, a.peak, p50, p99, wire))
        return
    for rnd in range(a.rounds):
        for kind in ("standalone", "cluster"):
            work = tempfile.mkdtemp(prefix="lattice-cluster-bench-")
            nodes = []
            try:
                if kind == "standalone":
                    nodes.append(Node(a.lattice, 1, port, 1, None, work))
                else:
                    nodes = start_cluster(a.lattice, port, work)
                benchlib.wait_for_quiet(say=benchlib.log)
                rps, us, _ = run_benchmark(nodes[0], a.requests, a.clients, a.pipeline)
                if kind == "cluster":
                    # Let the peers drain before the next measurement.
                    deadline = time.monotonic() + 60
                    while time.monotonic() < deadline:
                        if all("backlog=0" in l for l in nodes[0].info("replication").values()
                               if l.startswith("name=")):
                            break
                        time.sleep(0.2)
                results[kind].append((rps, us))
                benchlib.log("round %d %-10s %9.0f SET/s  %.3f us CPU/SET" % (rnd, kind, rps, us))
            finally:
                for n in nodes:
                    n.stop()
                shutil.rmtree(work, ignore_errors=True)
    med = {k: (benchlib.median([r for r, _ in v]), benchlib.median([u for _, u in v]))
           for k, v in results.items()}
    print("| run | standalone SET/s | cluster SET/s | throughput ratio | standalone us CPU/SET "
          "| cluster us CPU/SET | CPU ratio |")
    print("|---|---|---|---|---|---|---|")
    for i in range(a.rounds):
        s, c = results["standalone"][i], results["cluster"][i]
        print("| %d | %.0f | %.0f | %.3f | %.3f | %.3f | %.3f |" % (
            i, s[0], c[0], c[0] / s[0], s[1], c[1], s[1] / c[1]))
    print("| median | %.0f | %.0f | %.3f | %.3f | %.3f | %.3f |" % (
        med["standalone"][0], med["cluster"][0], med["cluster"][0] / med["standalone"][0],
        med["standalone"][1], med["cluster"][1], med["standalone"][1] / med["cluster"][1]))
    peak = benchlib.median([r for r, _ in results["cluster"]])
    rps, pipeline, p50, p99, wire = measure_lag(a.lattice, port, peak)
    print("\nLag at %.0f SET/s (-P %d; %.0f%% of the %.0f cluster peak): p50 <= %d us, "
          "p99 <= %d us (histogram bucket bounds)" % (rps, pipeline, 100 * rps / peak, peak,
                                                     p50, p99))
    print("Bytes on the wire per replicated SET (TCP payload to one peer, gRPC framing "
          "included): %.1f" % wire)


if __name__ == "__main__":
    main()
