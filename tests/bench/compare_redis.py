#!/usr/bin/python3
"""Throughput and server-CPU-per-request comparison of lattice-server against redis-server.

Method (see /work/shared/BENCHMARKING.md):
  * each server runs pinned to one core (taskset -c 1), redis-benchmark to the other (-c 0);
  * every measured run uses a fresh server process; Lattice and Redis alternate (A B, then B A
    in the next round, ...), --rounds runs each, and medians are compared;
  * before each run the keyspace key:000000000000 .. key:<keyspace-1> is preloaded with the
    same 3-byte values redis-benchmark writes, so GET hits and SET/MSET overwrite (--no-preload
    to start empty);
  * metrics: req/s reported by redis-benchmark (--csv) and server CPU time per request, i.e.
    utime+stime of all the server's threads (/proc/PID/task/*/schedstat, nanoseconds; falls
    back to /proc/PID/stat if a thread exited) over the run divided by the request count;
  * /proc/stat is read around each run: busy CPU time not accounted to the server, the load
    generator or this script (plus hypervisor steal) is "others"; a run where others exceed
    --disturb-threshold cores on average is flagged and rerun (--max-reruns).

At -P 1 redis-benchmark saturates its own core (~90k req/s) so the primary metric there is
CPU per request; at -P 16 it is throughput. Ratios are oriented so that > 1.0 favours Lattice:
throughput lattice/redis, CPU redis/lattice.

Quick smoke run:   tests/bench/compare_redis.py --requests 20000 --rounds 1
Validate tooling:  tests/bench/compare_redis.py --lattice /usr/bin/redis-server
"""

import argparse
import csv
import io
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

# name -> (redis-benchmark -t name, test name in the CSV output, probe command)
WORKLOADS = {
    "set":   ("set", "SET", ["SET", "key:000000000000", "xxx"]),
    "get":   ("get", "GET", ["GET", "key:000000000000"]),
    "incr":  ("incr", "INCR", ["INCR", "counter:000000000000"]),
    "mset":  ("mset", "MSET (10 keys)", ["MSET", "key:000000000000", "xxx", "key:000000000001", "xxx"]),
    "lpush": ("lpush", "LPUSH", ["LPUSH", "mylist", "xxx"]),
    "hset":  ("hset", "HSET", ["HSET", "myhash", "element:000000000000", "xxx"]),
    "sadd":  ("sadd", "SADD", ["SADD", "myset", "element:000000000000"]),
    "zadd":  ("zadd", "ZADD", ["ZADD", "myzset", "0", "element:000000000000"]),
}
LABEL = {"set": "SET", "get": "GET", "incr": "INCR", "mset": "MSET (10 keys)", "lpush": "LPUSH",
         "hset": "HSET", "sadd": "SADD", "zadd": "ZADD"}


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lattice", default=bl.DEFAULT_LATTICE,
                    help="lattice-server binary (default: %(default)s)")
    ap.add_argument("--lattice-args", default=None,
                    help="argument template for it, {port} substituted (default: '%s'; or the Redis "
                         "template if --lattice is a redis-server binary)" % bl.LATTICE_ARGS)
    ap.add_argument("--redis", default=bl.DEFAULT_REDIS, help="redis-server binary (default: %(default)s)")
    ap.add_argument("--redis-args", default=bl.REDIS_ARGS, help="default: '%(default)s'")
    ap.add_argument("--redis-benchmark", default="redis-benchmark")
    ap.add_argument("--workloads", default="set,get,incr,mset",
                    help="comma list from: %s (default: %%(default)s)" % ",".join(WORKLOADS))
    ap.add_argument("--pipelines", default="1,16", help="comma list of -P values (default: %(default)s)")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--keyspace", type=int, default=100000, help="redis-benchmark -r (default: %(default)s)")
    ap.add_argument("--requests", type=int, default=500000, help="requests per run (default: %(default)s)")
    ap.add_argument("--rounds", type=int, default=3, help="runs per server per workload (default: %(default)s)")
    ap.add_argument("--no-preload", action="store_true", help="do not preload the keyspace before each run")
    ap.add_argument("--server-cpu", type=int, default=1)
    ap.add_argument("--bench-cpu", type=int, default=0)
    ap.add_argument("--disturb-threshold", type=float, default=0.05,
                    help="flag a run when other processes (and steal) used more than this many CPUs "
                         "on average during it (default: %(default)s)")
    ap.add_argument("--max-reruns", type=int, default=2,
                    help="rerun a disturbed run up to this many times; 0 only flags (default: %(default)s)")
    ap.add_argument("--wait-quiet", type=float, default=120.0,
                    help="before each run wait up to this many seconds for other processes to stop "
                         "using CPU (0 disables; default: %(default)s)")
    ap.add_argument("--run-timeout", type=float, default=None,
                    help="seconds before a redis-benchmark run is killed (default: 60 + requests/5000)")
    ap.add_argument("--cpu-noise", type=float, default=0.03,
                    help="verdict band for the CPU ratio (default: %(default)s = +-3%%)")
    ap.add_argument("--thr-noise", type=float, default=0.07,
                    help="verdict band for the throughput ratio (default: %(default)s = +-7%%)")
    ap.add_argument("--markdown", action="store_true", help="print the result tables as Markdown")
    ap.add_argument("--json", metavar="FILE", help="also write every run's raw figures to FILE")
    ap.add_argument("--quiet", action="store_true", help="no per-run progress lines on stderr")
    a = ap.parse_args()
    a.workloads = [w.strip().lower() for w in a.workloads.split(",") if w.strip()]
    for w in a.workloads:
        if w not in WORKLOADS:
            ap.error("unknown workload %r" % w)
    a.pipelines = [int(p) for p in a.pipelines.split(",") if p.strip()]
    if a.lattice_args is None:
        a.lattice_args = bl.default_args_for(a.lattice, "lattice")
    if a.run_timeout is None:
        a.run_timeout = 60 + a.requests / 5000.0
    if a.rounds < 1 or a.requests < 1:
        ap.error("--rounds and --requests must be >= 1")
    return a


def preload(port, keyspace):
    errors, replies, first = bl.load_with_socket(
        port, bl.set_command_batches(0, keyspace, "key:%012d", lambda i: b"xxx"))
    if errors:
        raise RuntimeError("preload: %d of %d SETs failed, first: %s" % (errors, replies, first))


def parse_csv(out, test_name):
    for row in csv.reader(io.StringIO(out)):
        if len(row) >= 2 and row[0] == test_name:
            return float(row[1])
    return None


class Unsupported(Exception):
    pass


def one_run(a, name, binary, args_template, wl, pipeline):
    tflag, csv_name, probe = WORKLOADS[wl]
    srv = bl.Server(name, binary, args_template, a.server_cpu)
    srv.start()
    try:
        if not a.no_preload:
            preload(srv.port, a.keyspace)
        r = bl.try_call(srv.port, *probe)
        if isinstance(r, bl.RespError):
            raise Unsupported("%s: probe %s -> %s" % (name, " ".join(probe), r))
        if a.wait_quiet > 0:
            w = bl.wait_for_quiet(a.disturb_threshold, timeout=a.wait_quiet,
                                  say=None if a.quiet else bl.log, pid=srv.pid)
            if w < 0:
                bl.log("    still busy after %.0f s; running anyway" % a.wait_quiet)
        else:
            time.sleep(0.1)

        argv = ["taskset", "-c", str(a.bench_cpu), a.redis_benchmark, "-h", "127.0.0.1",
                "-p", str(srv.port), "-c", str(a.clients), "-n", str(a.requests),
                "-r", str(a.keyspace), "-P", str(pipeline), "-t", tflag, "--csv"]
        s0 = bl.CpuSnapshot(srv.pid)
        busy0, steal0 = bl.system_busy_seconds()
        self0, child0 = bl.self_and_children_cpu()
        t0 = time.monotonic()
        p = bl.spawn(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = p.communicate(timeout=a.run_timeout)
        except subprocess.TimeoutExpired:
            bl.kill_proc(p)
            raise RuntimeError("%s: redis-benchmark did not finish in %.0fs (server %s)" % (
                name, a.run_timeout, "alive" if srv.alive() else "DEAD"))
        finally:
            bl.kill_proc(p)
        wall = time.monotonic() - t0
        self1, child1 = bl.self_and_children_cpu()
        busy1, steal1 = bl.system_busy_seconds()
        if not srv.alive():
            raise RuntimeError("%s died during the run:\n%s" % (name, srv.log_tail()))
        s1 = bl.CpuSnapshot(srv.pid)
    finally:
        srv.stop()

    out = out.decode(errors="replace")
    rps = parse_csv(out, csv_name)
    if p.returncode != 0 or rps is None:
        raise RuntimeError("%s: redis-benchmark failed (status %s):\n%s\n%s" % (
            name, p.returncode, out.strip(), err.decode(errors="replace").strip()))
    server_cpu, how = bl.cpu_delta_seconds(s0, s1)
    bench_cpu = child1 - child0
    self_cpu = self1 - self0
    others = max(0.0, (busy1 - busy0) - server_cpu - bench_cpu - self_cpu)
    return {
        "server": name, "workload": wl, "pipeline": pipeline, "requests": a.requests,
        "rps": rps, "wall_s": wall, "server_cpu_s": server_cpu, "cpu_source": how,
        "us_per_req": server_cpu / a.requests * 1e6, "bench_cpu_s": bench_cpu,
        "others_cpu_s": others, "steal_s": steal1 - steal0,
        "others_cores": others / wall if wall > 0 else 0.0,
    }


def fmt_int(x):
    return "-" if x is None else "{:,.0f}".format(x)


def fmt_f(x, nd=2):
    return "-" if x is None else "{:.{}f}".format(x, nd)


def fmt_ratio(x):
    return "-" if x is None else "{:.3f}x".format(x)


def spread(xs):
    m = bl.median(xs)
    return (max(xs) - min(xs)) / m if xs and m else None


def verdict_word(ratio, band):
    if ratio is None:
        return "n/a"
    if ratio > 1 + band:
        return "Lattice ahead"
    if ratio < 1 - band:
        return "Lattice behind"
    return "on par (within +-%.0f%% noise)" % (band * 100)


def summarize(a, results):
    """results[(P, wl)] = {"lattice": [runs], "redis": [runs], "unsupported": msg}"""
    tables = {}
    for P in a.pipelines:
        rows = []
        for wl in a.workloads:
            cell = results.get((P, wl), {})
            L, R = cell.get("lattice", []), cell.get("redis", [])
            row = {"workload": LABEL[wl], "unsupported": cell.get("unsupported")}
            if L and R:
                row["l_rps"] = bl.median([r["rps"] for r in L])
                row["r_rps"] = bl.median([r["rps"] for r in R])
                row["l_us"] = bl.median([r["us_per_req"] for r in L])
                row["r_us"] = bl.median([r["us_per_req"] for r in R])
                row["thr_ratio"] = row["l_rps"] / row["r_rps"]
                row["cpu_ratio"] = row["r_us"] / row["l_us"] if row["l_us"] > 0 else None
                key = "us_per_req" if P == 1 else "rps"
                sp = [spread([r[key] for r in L]), spread([r[key] for r in R])]
                row["spread"] = max(s for s in sp if s is not None) if len(L) > 1 else None
                row["disturbed"] = sum(1 for r in L + R if r.get("disturbed"))
                row["runs"] = (len(L), len(R))
            rows.append(row)
        g_thr = bl.geomean([r.get("thr_ratio") for r in rows])
        g_cpu = bl.geomean([r.get("cpu_ratio") for r in rows])
        tables[P] = (rows, g_thr, g_cpu)
    return tables


def print_text(a, tables):
    for P, (rows, g_thr, g_cpu) in tables.items():
        primary = ("server CPU per request (redis-benchmark saturates at -P 1)" if P == 1
                   else "throughput")
        print()
        print("Pipeline -P %d, %d clients, -r %d, %d requests x %d rounds; primary metric: %s" % (
            P, a.clients, a.keyspace, a.requests, a.rounds, primary))
        hdr = "%-16s %13s %13s %9s %12s %12s %9s %8s %s" % (
            "workload", "lattice req/s", "redis req/s", "thr L/R", "lattice us/r",
            "redis us/r", "cpu R/L", "spread", "notes")
        print(hdr)
        print("-" * len(hdr))
        for r in rows:
            if "l_rps" not in r:
                print("%-16s %s" % (r["workload"], r.get("unsupported") or "no data"))
                continue
            notes = []
            if r["disturbed"]:
                notes.append("%d disturbed run(s) kept" % r["disturbed"])
            print("%-16s %13s %13s %9s %12s %12s %9s %8s %s" % (
                r["workload"], fmt_int(r["l_rps"]), fmt_int(r["r_rps"]), fmt_ratio(r["thr_ratio"]),
                fmt_f(r["l_us"], 3), fmt_f(r["r_us"], 3), fmt_ratio(r["cpu_ratio"]),
                "-" if r["spread"] is None else "%.1f%%" % (100 * r["spread"]), "; ".join(notes)))
        print("%-16s %13s %13s %9s %12s %12s %9s" % ("geomean", "", "", fmt_ratio(g_thr), "", "",
                                                      fmt_ratio(g_cpu)))
    print()
    print("thr L/R = lattice req/s / redis req/s; cpu R/L = redis us/req / lattice us/req; "
          "> 1.0 favours Lattice. spread = (max-min)/median of the primary metric, worst server.")


def print_markdown(a, tables, meta):
    print("Lattice %s vs Redis %s; server pinned to CPU %d, redis-benchmark to CPU %d; %d clients, "
          "random keys over %d, %d requests per run, fresh processes alternating, median of %d "
          "rounds; %s. Ratios > 1.0 favour Lattice." % (
              meta["lattice_rev"], meta["redis_version"], a.server_cpu, a.bench_cpu, a.clients,
              a.keyspace, a.requests, a.rounds,
              "keyspace preloaded" if not a.no_preload else "empty keyspace"))
    for P, (rows, g_thr, g_cpu) in tables.items():
        print()
        print("**-P %d** (primary metric: %s)" % (P, "server CPU per request" if P == 1 else "throughput"))
        print()
        print("| workload | Lattice req/s | Redis req/s | throughput Lattice/Redis | Lattice us/req "
              "| Redis us/req | CPU Redis/Lattice |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            if "l_rps" not in r:
                print("| %s | %s | | | | | |" % (
                    r["workload"], (r.get("unsupported") or "no data").split(":")[0].lower()))
                continue
            print("| %s | %s | %s | %s | %s | %s | %s |" % (
                r["workload"], fmt_int(r["l_rps"]), fmt_int(r["r_rps"]), fmt_ratio(r["thr_ratio"]),
                fmt_f(r["l_us"]), fmt_f(r["r_us"]), fmt_ratio(r["cpu_ratio"])))
        print("| **geomean** | | | **%s** | | | **%s** |" % (fmt_ratio(g_thr), fmt_ratio(g_cpu)))


def verdict(a, tables):
    parts = []
    for P, (rows, g_thr, g_cpu) in tables.items():
        if P == 1:
            parts.append("-P 1 CPU/request redis/lattice geomean %s: %s" % (
                fmt_ratio(g_cpu), verdict_word(g_cpu, a.cpu_noise)))
        else:
            parts.append("-P %d throughput lattice/redis geomean %s: %s" % (
                P, fmt_ratio(g_thr), verdict_word(g_thr, a.thr_noise)))
    return "VERDICT: " + "; ".join(parts)


def main():
    a = parse_args()
    bl.check_tools(a.lattice, a.redis, a.redis_benchmark, "taskset")
    ncpu = os.cpu_count() or 1
    if a.server_cpu == a.bench_cpu or max(a.server_cpu, a.bench_cpu) >= ncpu:
        bl.log("warning: server CPU %d / benchmark CPU %d on a %d-CPU machine" % (
            a.server_cpu, a.bench_cpu, ncpu))
    bl.install_cleanup()
    bl.pin_self(a.bench_cpu)  # keep this script off the server's core

    redis_version = "?"
    try:
        v = subprocess.run([a.redis, "--version"], capture_output=True, text=True, timeout=5).stdout
        redis_version = next((t.split("=")[1] for t in v.split() if t.startswith("v=")), v.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    meta = {"lattice": a.lattice, "lattice_args": a.lattice_args, "redis": a.redis,
            "redis_args": a.redis_args, "redis_version": redis_version,
            "lattice_rev": bl.git_describe(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    servers = {"lattice": (a.lattice, a.lattice_args), "redis": (a.redis, a.redis_args)}
    bl.log("lattice: %s %s" % (a.lattice, a.lattice_args))
    bl.log("redis:   %s %s" % (a.redis, a.redis_args))

    results = {}
    all_runs = []
    t_start = time.monotonic()
    for P in a.pipelines:
        for wl in a.workloads:
            cell = results.setdefault((P, wl), {"lattice": [], "redis": []})
            for rnd in range(a.rounds):
                if cell.get("unsupported"):
                    break
                order = ["lattice", "redis"] if rnd % 2 == 0 else ["redis", "lattice"]
                for name in order:
                    binary, tmpl = servers[name]
                    attempt = 0
                    while True:
                        try:
                            run = one_run(a, name, binary, tmpl, wl, P)
                        except Unsupported as e:
                            cell["unsupported"] = "UNSUPPORTED: %s" % e
                            bl.log("[-P %d %s] UNSUPPORTED %s" % (P, LABEL[wl], e))
                            break
                        except RuntimeError as e:
                            # A crash or hang of one server must not lose the other workloads.
                            cell["unsupported"] = "FAILED: %s" % str(e).splitlines()[0]
                            bl.log("[-P %d %s] FAILED %s" % (P, LABEL[wl], e))
                            break
                        run["round"] = rnd
                        run["attempt"] = attempt
                        # /proc/stat counts in clock ticks per CPU, so allow a few ticks of slack
                        # on top of the threshold (matters only for very short runs).
                        slack = 4.0 * (os.cpu_count() or 1) / bl.CLK_TCK
                        run["disturbed"] = run["others_cpu_s"] > a.disturb_threshold * run["wall_s"] + slack
                        all_runs.append(run)
                        if not a.quiet:
                            bl.log("[-P %-2d %-14s round %d/%d] %-7s %11s req/s %8.3f us/req  "
                                   "others %.3f CPUs (steal %.3f)%s%s" % (
                                       P, LABEL[wl], rnd + 1, a.rounds, name, fmt_int(run["rps"]),
                                       run["us_per_req"], run["others_cores"],
                                       run["steal_s"] / run["wall_s"] if run["wall_s"] else 0.0,
                                       " (stat ticks)" if run["cpu_source"] != "schedstat" else "",
                                       "  DISTURBED" if run["disturbed"] else ""))
                        if run["disturbed"] and attempt < a.max_reruns:
                            attempt += 1
                            bl.log("    rerunning (attempt %d of %d)" % (attempt, a.max_reruns))
                            continue
                        cell[name].append(run)
                        break
                    if cell.get("unsupported"):
                        break
            if cell.get("unsupported"):
                cell["lattice"], cell["redis"] = [], []

    elapsed = time.monotonic() - t_start
    tables = summarize(a, results)
    if a.markdown:
        print_markdown(a, tables, meta)
    else:
        print_text(a, tables)
    n_dist = sum(1 for r in all_runs if r["disturbed"])
    print()
    print("%d runs (%d flagged disturbed, %d reruns) in %.0f s" % (
        len(all_runs), n_dist, sum(1 for r in all_runs if r["attempt"] > 0), elapsed))
    print(verdict(a, tables))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"meta": meta, "args": vars(a), "runs": all_runs,
                       "unsupported": {"%d/%s" % k: v["unsupported"] for k, v in results.items()
                                       if v.get("unsupported")}}, f, indent=1)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        bl.die(str(e), 1)
