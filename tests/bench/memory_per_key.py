#!/usr/bin/python3
"""Memory per key of lattice-server against redis-server.

Each server is started fresh (pinned with taskset -c 1), then exactly N distinct keys
key:%012d with 100-byte values are loaded through `redis-cli --pipe` (pinned to CPU 0) fed with
generated RESP SET commands. Reported: VmRSS growth per key ((RSS after - RSS before) / N) for
each server and the ratio, plus used_memory from INFO memory where the server provides it.
(redis-benchmark -r N would create only ~63% of N distinct keys, hence the generated load.)

Quick smoke run:   tests/bench/memory_per_key.py -n 100000
Validate tooling:  tests/bench/memory_per_key.py --lattice /usr/bin/redis-server
"""

import argparse
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

KEY_FMT = "key:%012d"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--keys", type=int, default=1000000, help="distinct keys (default: %(default)s)")
    ap.add_argument("--value-size", type=int, default=100, help="bytes per value (default: %(default)s)")
    ap.add_argument("--lattice", default=bl.DEFAULT_LATTICE, help="default: %(default)s")
    ap.add_argument("--lattice-args", default=None,
                    help="argument template, {port} substituted (default: '%s'; or the Redis template "
                         "if --lattice is a redis-server binary)" % bl.LATTICE_ARGS)
    ap.add_argument("--redis", default=bl.DEFAULT_REDIS, help="default: %(default)s")
    ap.add_argument("--redis-args", default=bl.REDIS_ARGS, help="default: '%(default)s'")
    ap.add_argument("--redis-cli", default="redis-cli")
    ap.add_argument("--loader", choices=["redis-cli", "python"], default="redis-cli",
                    help="redis-cli --pipe (needs ECHO on the server), or a built-in pipelined "
                         "socket loader (default: %(default)s)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="fresh-process measurements per server, alternating; medians reported")
    ap.add_argument("--server-cpu", type=int, default=1)
    ap.add_argument("--load-cpu", type=int, default=0)
    ap.add_argument("--settle", type=float, default=1.0,
                    help="seconds to wait before each RSS reading (default: %(default)s)")
    ap.add_argument("--markdown", action="store_true", help="print the result table as Markdown")
    a = ap.parse_args()
    if a.lattice_args is None:
        a.lattice_args = bl.default_args_for(a.lattice, "lattice")
    if a.keys < 1 or a.value_size < 1 or a.rounds < 1:
        ap.error("--keys, --value-size and --rounds must be >= 1")
    return a


def value_for(size):
    # Distinct per key (the key number followed by padding) so nothing can be shared.
    pad = b"v" * size

    def f(i):
        s = b"%012d" % i
        return (s + pad)[:size] if size >= len(s) else s[-size:]
    return f


def measure(a, name, binary, tmpl):
    srv = bl.Server(name, binary, tmpl, a.server_cpu)
    srv.start()
    try:
        time.sleep(a.settle)
        rss0 = bl.vm_rss_kb(srv.pid)
        um0 = bl.info_field(srv.port, "memory", "used_memory")
        t0 = time.monotonic()
        vf = value_for(a.value_size)
        if a.loader == "redis-cli":
            errors, replies, _ = bl.load_with_redis_cli(
                srv.port, bl.set_commands(0, a.keys, KEY_FMT, vf), a.redis_cli, a.load_cpu)
            first = None
        else:
            errors, replies, first = bl.load_with_socket(
                srv.port, bl.set_command_batches(0, a.keys, KEY_FMT, vf))
        load_s = time.monotonic() - t0
        if errors or replies != a.keys:
            raise RuntimeError("%s: load gave %s errors, %s replies for %d keys%s" % (
                name, errors, replies, a.keys, (", first: " + first) if first else ""))
        if not srv.alive():
            raise RuntimeError("%s died during the load:\n%s" % (name, srv.log_tail()))
        dbsize = bl.try_call(srv.port, "DBSIZE")
        if isinstance(dbsize, int) and dbsize != a.keys:
            raise RuntimeError("%s: DBSIZE %d after loading %d distinct keys" % (name, dbsize, a.keys))
        # Spot-check a value round-trips.
        probe = a.keys // 2
        got = bl.try_call(srv.port, "GET", KEY_FMT % probe)
        if got != vf(probe):
            raise RuntimeError("%s: GET %s returned %r" % (name, KEY_FMT % probe, got))
        time.sleep(a.settle)
        rss1 = bl.vm_rss_kb(srv.pid)
        um1 = bl.info_field(srv.port, "memory", "used_memory")
    finally:
        srv.stop()
    r = {"server": name, "rss_before_kb": rss0, "rss_after_kb": rss1,
         "rss_per_key": (rss1 - rss0) * 1024.0 / a.keys, "load_s": load_s,
         "dbsize": dbsize if isinstance(dbsize, int) else None,
         "used_memory_before": int(um0) if um0 and um0.isdigit() else None,
         "used_memory_after": int(um1) if um1 and um1.isdigit() else None}
    if r["used_memory_before"] is not None and r["used_memory_after"] is not None:
        r["used_per_key"] = (r["used_memory_after"] - r["used_memory_before"]) / a.keys
    else:
        r["used_per_key"] = None
    return r


def fmt(x, spec):
    return "-" if x is None else spec.format(x)


def main():
    a = parse_args()
    bl.check_tools(a.lattice, a.redis, "taskset")
    if a.loader == "redis-cli":
        bl.check_tools(a.redis_cli)
    bl.install_cleanup()
    bl.pin_self(a.load_cpu)
    servers = {"lattice": (a.lattice, a.lattice_args), "redis": (a.redis, a.redis_args)}
    bl.log("lattice: %s %s" % servers["lattice"])
    bl.log("redis:   %s %s" % servers["redis"])
    runs = {"lattice": [], "redis": []}
    t_start = time.monotonic()
    for rnd in range(a.rounds):
        for name in (["lattice", "redis"] if rnd % 2 == 0 else ["redis", "lattice"]):
            r = measure(a, name, *servers[name])
            runs[name].append(r)
            bl.log("[round %d/%d] %-7s RSS %s -> %s kB: %.1f B/key; used_memory %s B/key; "
                   "loaded %d keys in %.1f s" % (
                       rnd + 1, a.rounds, name, fmt(r["rss_before_kb"], "{:,}"),
                       fmt(r["rss_after_kb"], "{:,}"), r["rss_per_key"],
                       fmt(r["used_per_key"], "{:.1f}"), a.keys, r["load_s"]))

    def med(name, field):
        xs = [r[field] for r in runs[name] if r[field] is not None]
        return bl.median(xs) if xs else None

    L = {f: med("lattice", f) for f in ("rss_per_key", "used_per_key", "rss_after_kb")}
    R = {f: med("redis", f) for f in ("rss_per_key", "used_per_key", "rss_after_kb")}
    ratio = R["rss_per_key"] / L["rss_per_key"] if L["rss_per_key"] and L["rss_per_key"] > 0 else None
    uratio = (R["used_per_key"] / L["used_per_key"]
              if L["used_per_key"] and R["used_per_key"] and L["used_per_key"] > 0 else None)
    desc = "%s keys `key:%%012d`, %d-byte values, loaded with %s into fresh processes%s" % (
        "{:,}".format(a.keys), a.value_size,
        "redis-cli --pipe" if a.loader == "redis-cli" else "a pipelined socket loader",
        ", median of %d rounds" % a.rounds if a.rounds > 1 else "")
    if a.markdown:
        print(desc + ". Ratio > 1.0 means Lattice uses less memory.")
        print()
        print("| server | RSS after load | RSS growth per key | used_memory growth per key |")
        print("|---|---:|---:|---:|")
        for n, d in (("Lattice", L), ("Redis", R)):
            print("| %s | %s MiB | %s B | %s |" % (
                n, fmt(d["rss_after_kb"] and d["rss_after_kb"] / 1024.0, "{:.1f}"),
                fmt(d["rss_per_key"], "{:.1f}"),
                fmt(d["used_per_key"], "{:.1f} B")))
        print("| **Redis/Lattice** | | **%s** | %s |" % (
            fmt(ratio, "{:.3f}x"), fmt(uratio, "{:.3f}x")))
    else:
        print(desc)
        print("%-9s %14s %16s %18s" % ("server", "RSS after kB", "RSS B/key", "used_memory B/key"))
        for n, d in (("lattice", L), ("redis", R)):
            print("%-9s %14s %16s %18s" % (n, fmt(d["rss_after_kb"], "{:,.0f}"),
                                             fmt(d["rss_per_key"], "{:.1f}"),
                                             fmt(d["used_per_key"], "{:.1f}")))
        print("ratio redis/lattice: RSS per key %s, used_memory per key %s (> 1.0: Lattice uses less)"
              % (fmt(ratio, "{:.3f}x"), fmt(uratio, "{:.3f}x")))
    print("finished in %.0f s" % (time.monotonic() - t_start))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        bl.die(str(e), 1)
