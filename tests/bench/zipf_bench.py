#!/usr/bin/env python3
"""Skewed reads on a 3-node `replicas 1` cluster, with and without hot-key
replication: throughput and the share of reads served by the node the
client asked.

Set-up (2 cores; see docs/benchmarks.md):
- 3 nodes on 127.0.0.1-3 (--threads 1 each, all on both cores; the load
  generator shares them), `replicas 1`: each key lives on one node, so
  without hot-key replication about 2/3 of reads are forwarded.
- Keys z:0..N-1 (default 100,000), loaded once; reads pick keys from a Zipf
  distribution (skew 0.99, as YCSB) with tests/bench/zipf_load (C++,
  epoll, pipelined GETs), connections spread evenly over the 3 nodes.
- Each round starts a fresh cluster, loads, runs a warm-up (hot keys need a
  few seconds to be noticed, fetched and announced), then a measured run.
  Rounds alternate `hot-key-replication no` and `yes`; medians are
  reported.
- Hot keys: `hot-key-min-rate` 20 reads/s (--hot-min-rate; the default
  100 admits only the ~10 hottest keys per node at these rates) and the
  default `hot-key-factor` 100.
- Local share: the nodes' INFO lattice_reads_local / (local + forwarded),
  summed over the 3 nodes, over the measured run only.

Usage: tests/bench/zipf_bench.py [--lattice build/node/lattice-server]
       [--load build/tests/zipf_load] [--rounds 2] [--keys 100000] [--seconds 10]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
from cluster_bench import Node, pick_port  # noqa: E402


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lattice", default=benchlib.DEFAULT_LATTICE)
    ap.add_argument("--load", default=os.path.join(benchlib.REPO_ROOT, "build", "tests",
                                                   "zipf_load"))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--keys", type=int, default=100000)
    ap.add_argument("--skew", type=float, default=0.99)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=12)
    ap.add_argument("--conns", type=int, default=12)
    ap.add_argument("--pipeline", type=int, default=16)
    ap.add_argument("--hot-min-rate", type=int, default=20,
                    help="hot-key-min-rate of the nodes (reads/s through one node)")
    return ap.parse_args()


def reads(nodes):
    local = forwarded = held = 0
    for n in nodes:
        i = n.info("replication")
        local += int(i["lattice_reads_local"])
        forwarded += int(i["lattice_reads_forwarded"])
        held += int(i.get("lattice_hot_keys_held", 0))
    return local, forwarded, held


def load(args, nodes, seconds, extra=()):
    servers = ",".join("%s:%d" % (n.addr, n.port) for n in nodes)
    argv = [args.load, "--servers", servers, "--keys", str(args.keys), "--skew", str(args.skew),
            "--seconds", str(seconds), "--conns", str(args.conns),
            "--pipeline", str(args.pipeline)] + list(extra)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120)
    if out.returncode != 0:
        benchlib.die("zipf_load failed: %s %s" % (out.stdout, out.stderr))
    fields = dict(kv.split("=") for kv in out.stdout.split())
    return float(fields["ops_per_sec"])


def one_round(args, hot):
    workdir = tempfile.mkdtemp(prefix="lattice-zipf-")
    port = pick_port()
    nodes = []
    try:
        for i in (1, 2, 3):
            nodes.append(Node(args.lattice, i, port, None, [], workdir, extra=[
                "--replicas", "1", "--hot-key-replication", "yes" if hot else "no",
                "--hot-key-min-rate", str(args.hot_min_rate)]))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if all(n.info("replication").get("lattice_ring_members") == "3"
                       for n in nodes):
                    break
            except Exception:
                pass
            time.sleep(0.2)
        else:
            benchlib.die("the cluster did not form")
        time.sleep(2)  # ranges settle
        load(args, nodes[:1], 0.01, ["--load"])
        time.sleep(2)
        load(args, nodes, args.warmup)
        l0, f0, _ = reads(nodes)
        cpu0 = [benchlib.CpuSnapshot(n.proc.pid) for n in nodes]
        rate = load(args, nodes, args.seconds)
        cpu = sum(benchlib.cpu_delta_seconds(a, benchlib.CpuSnapshot(n.proc.pid))[0]
                  for a, n in zip(cpu0, nodes))
        l1, f1, held = reads(nodes)
        local = l1 - l0
        total = local + (f1 - f0)
        # Server CPU per GET over the three nodes, in microseconds.
        cpu_us = 1e6 * cpu / total if total else 0.0
        return rate, local / total if total else 0.0, held, cpu_us
    finally:
        for n in nodes:
            n.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    args = parse_args()
    benchlib.install_cleanup()
    benchlib.check_tools(args.lattice, args.load)
    results = {False: [], True: []}
    ratios, cpu_ratios = [], []
    for r in range(args.rounds):
        for hot in (False, True):
            rate, share, held, cpu_us = one_round(args, hot)
            benchlib.log("round %d hot-key-replication=%s: %.0f GET/s, %.1f%% local, %d extra "
                         "replicas, %.1f us server CPU per GET"
                         % (r + 1, "yes" if hot else "no", rate, 100 * share, held, cpu_us))
            results[hot].append((rate, share, held, cpu_us))
        # Paired within the round: the machine's speed drifts between rounds.
        ratios.append(results[True][-1][0] / results[False][-1][0])
        cpu_ratios.append(results[False][-1][3] / results[True][-1][3])
    print("| hot-key replication | GET/s (median) | reads served locally | extra replicas "
          "| server CPU per GET (3 nodes) |")
    print("|---|---|---|---|---|")
    for hot in (False, True):
        rs = results[hot]
        print("| %s | %.0f | %.1f%% | %d | %.1f us |" % (
            "yes" if hot else "no", statistics.median(x[0] for x in rs),
            100 * statistics.median(x[1] for x in rs), statistics.median(x[2] for x in rs),
            statistics.median(x[3] for x in rs)))
    print("throughput yes/no, median of per-round ratios: %.2fx (rounds: %s)"
          % (statistics.median(ratios), ", ".join("%.2f" % x for x in ratios)))
    print("CPU per GET no/yes, median of per-round ratios: %.2fx (rounds: %s)"
          % (statistics.median(cpu_ratios), ", ".join("%.2f" % x for x in cpu_ratios)))


if __name__ == "__main__":
    main()
