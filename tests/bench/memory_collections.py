#!/usr/bin/python3
"""Memory per element of collections, lattice-server against redis-server.

Each workload starts each server fresh (pinned with taskset -c 1, --threads 1
for Lattice), loads the data with a pipelined socket loader, and reports the
VmRSS growth divided by the number of elements, for both servers and the
ratio (Lattice / Redis; target <= 1.2). Workloads:

  hash   one hash of N fields    HSET big field:%012d <10-byte value>
  set    one set of N members    SADD big member:%012d
  zset   one sorted set of N     ZADD big <i> member:%012d
  list   one list of N elements  RPUSH big <10-byte value>
  small  N/5 hashes of 5 fields  HSET session:%09d f0 v0 ... f4 v4 (per field)
  stream one stream of N entries XADD ev * event completed jobId <5 digits>

Quick run:   tests/bench/memory_collections.py -n 100000
Full run:    tests/bench/memory_collections.py --markdown   (N = 1,000,000)
"""

import argparse
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402


def enc(args):
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in args)


def commands(workload, n):
    """Yields (bytes, count) batches of the workload's commands."""
    batch = 1000
    if workload == "small":
        keys = n // 5
        for start in range(0, keys, batch):
            k = min(batch, keys - start)
            data = b"".join(
                enc([b"HSET", b"session:%09d" % (start + j),
                     b"f0", b"user%06d" % (start + j), b"f1", b"1700000000",
                     b"f2", b"en-US", b"f3", b"active", b"f4", b"42"])
                for j in range(k))
            yield data, k
        return
    for start in range(0, n, batch):
        k = min(batch, n - start)
        if workload == "hash":
            cmds = [[b"HSET", b"big", b"field:%012d" % i, b"value%05d" % (i % 100000)]
                    for i in range(start, start + k)]
        elif workload == "set":
            cmds = [[b"SADD", b"big", b"member:%012d" % i] for i in range(start, start + k)]
        elif workload == "zset":
            cmds = [[b"ZADD", b"big", b"%d" % i, b"member:%012d" % i] for i in range(start, start + k)]
        elif workload == "stream":
            cmds = [[b"XADD", b"ev", b"*", b"event", b"completed", b"jobId", b"%05d" % (i % 100000)]
                    for i in range(start, start + k)]
        else:
            cmds = [[b"RPUSH", b"big", b"value%05d" % (i % 100000)] for i in range(start, start + k)]
        yield b"".join(enc(c) for c in cmds), k


def measure(a, name, binary, args, workload):
    srv = bl.Server(name, binary, args, a.server_cpu)
    srv.start()
    try:
        time.sleep(a.settle)
        before = bl.vm_rss_kb(srv.pid)
        errors, replies, first = bl.load_with_socket(srv.port, commands(workload, a.elements))
        if errors:
            raise RuntimeError("%s %s: %d errors, first: %s" % (name, workload, errors, first))
        time.sleep(a.settle)
        after = bl.vm_rss_kb(srv.pid)
    finally:
        srv.stop()
    return (after - before) * 1024.0 / a.elements


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--elements", type=int, default=1000000)
    ap.add_argument("--workloads", default="hash,set,zset,list,small")
    ap.add_argument("--lattice", default=bl.DEFAULT_LATTICE)
    ap.add_argument("--lattice-args", default=None)
    ap.add_argument("--redis", default=bl.DEFAULT_REDIS)
    ap.add_argument("--redis-args", default=bl.REDIS_ARGS)
    ap.add_argument("--server-cpu", type=int, default=1)
    ap.add_argument("--settle", type=float, default=1.0)
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    if a.lattice_args is None:
        a.lattice_args = bl.default_args_for(a.lattice, "lattice")
    bl.install_cleanup()
    bl.check_tools(a.lattice, a.redis, "taskset")
    rows = []
    for wl in a.workloads.split(","):
        r = measure(a, "redis", a.redis, a.redis_args, wl)
        lt = measure(a, "lattice", a.lattice, a.lattice_args, wl)
        rows.append((wl, r, lt))
        bl.log("%-6s redis %.1f B/element  lattice %.1f B/element  ratio %.2fx" % (wl, r, lt, lt / r))
    if a.markdown:
        print("| workload (%s elements) | Redis B/element | Lattice B/element | Lattice / Redis |" %
              "{:,}".format(a.elements))
        print("|---|---|---|---|")
        for wl, r, lt in rows:
            print("| %s | %.1f | %.1f | %.2fx |" % (wl, r, lt, lt / r))


if __name__ == "__main__":
    main()
