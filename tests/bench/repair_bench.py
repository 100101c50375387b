#!/usr/bin/env python3
"""Anti-entropy cost: 1,000,000 keys, 1,000 of them made divergent on one
replica, repaired by one Merkle round; and an idle round between identical
replicas.

Two nodes (127.0.0.1 and .2, --threads 1 each). Node 1 is loaded through
redis-cli --pipe and the delta stream copies every key to node 2; then
`replication-stream no` on both, 1,000 random keys are overwritten on node
2, and `LATTICE REPAIR` on node 1 runs one round. The "full transfer" it is
compared with is what a snapshot of node 1 costs: a third node joins and
node 1's stream bytes to it are read once it holds every key.

Usage: tests/bench/repair_bench.py [--lattice build/node/lattice-server] [--keys 1000000]
"""

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
from cluster_bench import Node, pick_port  # noqa: E402


def repair(node, peer_name):
    out = node.cli("LATTICE", "REPAIR", peer_name).split()
    return {out[i]: int(out[i + 1]) for i in range(0, len(out) - 1, 2)}


def peer_field(node, peer_name, field):
    for k, v in node.info("replication").items():
        if k.startswith("peer") and ("name=%s," % peer_name) in v:
            m = re.search(r"%s=(\d+)" % field, v)
            return int(m.group(1))
    return None


def wait_keys(node, n, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if int(node.cli("DBSIZE") or 0) >= n:
            return
        time.sleep(0.5)
    raise RuntimeError("node %d did not reach %d keys" % (node.idx, n))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lattice", default=benchlib.DEFAULT_LATTICE)
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--diverge", type=int, default=1000)
    a = ap.parse_args()
    benchlib.check_tools(a.lattice, "redis-cli")
    port = pick_port()
    work = tempfile.mkdtemp(prefix="lattice-repair-bench-")
    nodes = []
    try:
        nodes.append(Node(a.lattice, 1, port, 1, [], work))
        nodes.append(Node(a.lattice, 2, port, 0, [], work))
        deadline = time.monotonic() + 15
        while nodes[0].info("replication").get("lattice_peers_connected") != "1":
            if time.monotonic() > deadline:
                raise RuntimeError("cluster did not form")
            time.sleep(0.1)
        lines = "".join("SET key:%012d %s\r\n" % (i, "v" * 100) for i in range(a.keys))
        subprocess.run(["redis-cli", "-h", nodes[0].addr, "-p", str(port), "--pipe"],
                       input=lines.encode(), capture_output=True, check=True, timeout=600)
        wait_keys(nodes[1], a.keys)
        for n in nodes:
            n.cli("CONFIG", "SET", "replication-stream", "no")
        rng = random.Random(7)
        picked = rng.sample(range(a.keys), a.diverge)
        changed = "".join("SET key:%012d changed-%d\r\n" % (i, i) for i in picked)
        subprocess.run(["redis-cli", "-h", nodes[1].addr, "-p", str(port), "--pipe"],
                       input=changed.encode(), capture_output=True, check=True, timeout=60)
        t0 = time.monotonic()
        st = repair(nodes[0], "bench2")
        wall = time.monotonic() - t0
        idle = repair(nodes[0], "bench2")
        # Check: the repaired keys now agree.
        for i in picked[:20]:
            k = "key:%012d" % i
            assert nodes[0].cli("GET", k) == nodes[1].cli("GET", k) == "changed-%d" % i
        # Full transfer: a snapshot of node 1 to a joining node.
        for n in nodes:
            n.cli("CONFIG", "SET", "replication-stream", "yes")
        nodes.append(Node(a.lattice, 3, port, 0, [], work))
        wait_keys(nodes[2], a.keys)
        time.sleep(1)
        full = peer_field(nodes[0], "bench3", "bytes")
        repair_bytes = st["bytes_sent"] + st["bytes_received"]
        print("| keys | divergent | repaired | leaves differing | keys compared | RPCs | "
              "repair bytes | full snapshot bytes | ratio | repair time |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        print("| %d | %d | %d | %d | %d | %d | %d | %d | %.2f%% | %.3f s (%.3f s wall) |" % (
            a.keys, a.diverge, st["keys_repaired"], st["leaves_differing"], st["keys_compared"],
            st["rpcs"], repair_bytes, full, 100.0 * repair_bytes / full, st["micros"] / 1e6,
            wall))
        print("\nIdle round between identical replicas: %d RPC, %d bytes, %.1f ms" % (
            idle["rpcs"], idle["bytes_sent"] + idle["bytes_received"], idle["micros"] / 1e3))
    finally:
        for n in nodes:
            n.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
