#!/usr/bin/python3
"""Throughput and server-CPU-per-request comparison of lattice-server against redis-server.

Method (see docs/benchmarks.md):
  * each server runs pinned to one core (taskset -c 1), redis-benchmark to the other (-c 0);
  * every measured run uses a fresh server process; a round is one Lattice run and one Redis run
    back to back (order A B, then B A in the next round, ...); --rounds rounds per workload;
  * ratios are computed per round (paired runs minutes apart share the machine's state, which
    on these shared VMs drifts by +-15% over minutes) and the median over rounds is reported;
    median absolute figures per server are shown alongside;
  * before each run the keyspace key:000000000000 .. key:<keyspace-1> is preloaded with the
    same 3-byte values redis-benchmark writes, so GET hits and SET/MSET overwrite (--no-preload
    to start empty);
  * metrics: req/s reported by redis-benchmark (--csv) and server CPU time per request, i.e.
    utime+stime of all the server's threads (/proc/PID/task/*/schedstat, nanoseconds; falls
    back to /proc/PID/stat if a thread exited) over the run divided by the request count;
  * /proc/stat is read around each run: busy CPU time not accounted to the server, the load
    generator or this script (plus hypervisor steal) is "others"; a run where others exceed
    --disturb-threshold cores on average is flagged, and its round (both runs) is rerun up to
    --max-reruns times; before each run the script waits (--wait-quiet) for the machine to be
    idle; disturbed rounds are left out of the figures unless every round was disturbed.

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

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
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
    "rpush": ("rpush", "RPUSH", ["RPUSH", "mylist", "xxx"]),
    "lpop":  ("lpop", "LPOP", ["LPOP", "mylist"]),
    "rpop":  ("rpop", "RPOP", ["RPOP", "mylist"]),
    "spop":  ("spop", "SPOP", ["SPOP", "myset"]),
    "zpopmin": ("zpopmin", "ZPOPMIN", ["ZPOPMIN", "myzset"]),
    "lrange_100": ("lrange_100", "LRANGE_100 (first 100 elements)", ["LRANGE", "mylist", "0", "99"]),
    "lrange_600": ("lrange_600", "LRANGE_600 (first 600 elements)", ["LRANGE", "mylist", "0", "599"]),
    # A small script by its SHA-1: the probe loads it, redis-benchmark runs
    # CUSTOM's command line (its CSV row is the first one).
    "evalsha": (None, None, ["SCRIPT", "LOAD", "return redis.call('incr', KEYS[1])"]),
}
# Workloads redis-benchmark has no -t test for: the command line it sends.
CUSTOM = {
    # sha1("return redis.call('incr', KEYS[1])")
    "evalsha": ["EVALSHA", "2bab3b661081db58bd2341920e0ba7cf5dc77b25", "1", "counter:__rand_int__"],
}
LABEL = {"set": "SET", "get": "GET", "incr": "INCR", "mset": "MSET (10 keys)", "lpush": "LPUSH",
         "hset": "HSET", "sadd": "SADD", "zadd": "ZADD", "rpush": "RPUSH", "lpop": "LPOP",
         "rpop": "RPOP", "spop": "SPOP", "zpopmin": "ZPOPMIN", "lrange_100": "LRANGE_100",
         "lrange_600": "LRANGE_600", "evalsha": "EVALSHA (INCR)"}


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
    ap.add_argument("--requests", type=int, default=500000,
                    help="requests per run at -P 1 (default: %(default)s)")
    ap.add_argument("--requests-pipelined", type=int, default=None,
                    help="requests per run at -P > 1 (default: 4 x --requests)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="rounds per workload, each one fresh run of each server back to back "
                         "(default: %(default)s)")
    ap.add_argument("--no-preload", action="store_true", help="do not preload the keyspace before each run")
    ap.add_argument("--server-cpu", type=int, default=1)
    ap.add_argument("--bench-cpu", type=int, default=0)
    ap.add_argument("--disturb-threshold", type=float, default=0.05,
                    help="flag a run when other processes (and steal) used more than this many CPUs "
                         "on average during it (default: %(default)s)")
    ap.add_argument("--max-reruns", type=int, default=2,
                    help="rerun a disturbed round up to this many times; 0 only flags (default: %(default)s)")
    ap.add_argument("--wait-quiet", type=float, default=120.0,
                    help="before each run wait up to this many seconds for other processes to stop "
                         "using CPU (0 disables; default: %(default)s)")
    ap.add_argument("--run-timeout", type=float, default=None,
                    help="seconds before a redis-benchmark run is killed (default: 60 + requests/5000)")
    ap.add_argument("--min-rounds-for-verdict", type=int, default=3, help=argparse.SUPPRESS)
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
    if a.requests_pipelined is None:
        a.requests_pipelined = 4 * a.requests
    if a.rounds < 1 or a.requests < 1 or a.requests_pipelined < 1:
        ap.error("--rounds and --requests must be >= 1")
    return a


def preload(port, keyspace):
    errors, replies, first = bl.load_with_socket(
        port, bl.set_command_batches(0, keyspace, "key:%012d", lambda i: b"xxx"))
    if errors:
        raise RuntimeError("preload: %d of %d SETs failed, first: %s" % (errors, replies, first))


# Pop workloads pop from a collection filled first, so every request pops an
# element (as after the pushes of a default redis-benchmark run).
POP_FILL = {
    "lpop": lambda i: [b"RPUSH", b"mylist", b"xxx"],
    "rpop": lambda i: [b"RPUSH", b"mylist", b"xxx"],
    "spop": lambda i: [b"SADD", b"myset", b"element:%012d" % i],
    "zpopmin": lambda i: [b"ZADD", b"myzset", b"%d" % i, b"element:%012d" % i],
}


def fill_for_pops(port, wl, n, batch=1000):
    make = POP_FILL[wl]

    def chunks():
        for start in range(0, n, batch):
            k = min(batch, n - start)
            yield b"".join(bl_encode(make(start + j)) for j in range(k)), k
    errors, replies, first = bl.load_with_socket(port, chunks())
    if errors:
        raise RuntimeError("fill for %s: %d of %d failed, first: %s" % (wl, errors, replies, first))


def bl_encode(args):
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in args)


def parse_csv(out, test_name):
    for row in csv.reader(io.StringIO(out)):
        if len(row) >= 2 and row[0] != "test" and (test_name is None or row[0] == test_name):
            return float(row[1])
    return None


class Unsupported(Exception):
    pass


def requests_for(a, pipeline):
    return a.requests if pipeline == 1 else a.requests_pipelined


def one_run(a, name, binary, args_template, wl, pipeline):
    tflag, csv_name, probe = WORKLOADS[wl]
    nreq = requests_for(a, pipeline)
    timeout = a.run_timeout if a.run_timeout else 60 + nreq / 5000.0
    srv = bl.Server(name, binary, args_template, a.server_cpu)
    srv.start()
    try:
        if not a.no_preload:
            preload(srv.port, a.keyspace)
        if wl in POP_FILL:
            fill_for_pops(srv.port, wl, nreq)
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
                "-p", str(srv.port), "-c", str(a.clients), "-n", str(nreq),
                "-r", str(a.keyspace), "-P", str(pipeline), "--csv"]
        argv += CUSTOM[wl] if wl in CUSTOM else ["-t", tflag]
        s0 = bl.CpuSnapshot(srv.pid)
        busy0, steal0 = bl.system_busy_seconds()
        self0, child0 = bl.self_and_children_cpu()
        t0 = time.monotonic()
        p = bl.spawn(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            bl.kill_proc(p)
            raise RuntimeError("%s: redis-benchmark did not finish in %.0fs (server %s)" % (
                name, timeout, "alive" if srv.alive() else "DEAD"))
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
    # /proc/stat counts in clock ticks per CPU: allow a few ticks of slack on top of the
    # threshold (matters only for very short runs).
    slack = 4.0 * (os.cpu_count() or 1) / bl.CLK_TCK
    return {
        "server": name, "workload": wl, "pipeline": pipeline, "requests": nreq,
        "rps": rps, "wall_s": wall, "server_cpu_s": server_cpu, "cpu_source": how,
        "us_per_req": server_cpu / nreq * 1e6, "bench_cpu_s": bench_cpu,
        "others_cpu_s": others, "steal_s": steal1 - steal0,
        "others_cores": others / wall if wall > 0 else 0.0,
        "disturbed": others > a.disturb_threshold * wall + slack,
    }


def fmt_int(x):
    return "-" if x is None else "{:,.0f}".format(x)


def fmt_f(x, nd=2):
    return "-" if x is None else "{:.{}f}".format(x, nd)


def fmt_ratio(x):
    return "-" if x is None else "{:.3f}x".format(x)


def fmt_pct(x):
    return "-" if x is None else "%.1f%%" % (100 * x)


def primary(P):
    return "cpu" if P == 1 else "thr"


def summarize(a, results):
    """results[(P, wl)] = {"rounds": [{"lattice": run, "redis": run, "disturbed": bool}],
    "skipped": msg}. Returns {P: (rows, geomean_thr, geomean_cpu, noise)}."""
    tables = {}
    for P in a.pipelines:
        rows = []
        for wl in a.workloads:
            cell = results.get((P, wl), {})
            rounds = cell.get("rounds", [])
            row = {"workload": LABEL[wl], "skipped": cell.get("skipped")}
            if rounds and not row["skipped"]:
                clean = [r for r in rounds if not r["disturbed"]]
                use = clean or rounds
                L = [r["lattice"] for r in use]
                R = [r["redis"] for r in use]
                row["l_rps"] = bl.median([r["rps"] for r in L])
                row["r_rps"] = bl.median([r["rps"] for r in R])
                row["l_us"] = bl.median([r["us_per_req"] for r in L])
                row["r_us"] = bl.median([r["us_per_req"] for r in R])
                thr = [r["lattice"]["rps"] / r["redis"]["rps"] for r in use]
                cpu = [r["redis"]["us_per_req"] / r["lattice"]["us_per_req"] for r in use]
                row["thr_ratio"] = bl.median(thr)
                row["cpu_ratio"] = bl.median(cpu)
                prim = cpu if primary(P) == "cpu" else thr
                # Half the range of the paired primary ratio, relative to its median.
                row["noise"] = ((max(prim) - min(prim)) / 2 / bl.median(prim)) if len(prim) > 1 else None
                row["used"] = len(use)
                row["all_disturbed"] = not clean
            rows.append(row)
        g_thr = bl.geomean([r.get("thr_ratio") for r in rows])
        g_cpu = bl.geomean([r.get("cpu_ratio") for r in rows])
        noises = [r["noise"] for r in rows if r.get("noise") is not None]
        noise = bl.median(noises) if noises else None
        tables[P] = (rows, g_thr, g_cpu, noise)
    return tables


def row_notes(r, rounds):
    notes = []
    if r.get("all_disturbed"):
        notes.append("all rounds disturbed, kept")
    elif r.get("used", rounds) < rounds:
        notes.append("%d disturbed round(s) left out" % (rounds - r["used"]))
    return "; ".join(notes)


def print_text(a, tables):
    for P, (rows, g_thr, g_cpu, noise) in tables.items():
        print()
        print("-P %d, %d clients, -r %d, %d requests per run, %d round(s); primary metric: %s" % (
            P, a.clients, a.keyspace, requests_for(a, P), a.rounds,
            "server CPU per request (redis-benchmark saturates at -P 1)" if P == 1 else "throughput"))
        fmt = "%-15s %13s %13s %9s %12s %12s %9s %7s  %s"
        hdr = fmt % ("workload", "lattice req/s", "redis req/s", "thr L/R", "lattice us/r",
                     "redis us/r", "cpu R/L", "+-", "notes")
        print(hdr)
        print("-" * len(hdr))
        for r in rows:
            if "l_rps" not in r:
                print("%-15s %s" % (r["workload"], r.get("skipped") or "no data"))
                continue
            print(fmt % (r["workload"], fmt_int(r["l_rps"]), fmt_int(r["r_rps"]),
                         fmt_ratio(r["thr_ratio"]), fmt_f(r["l_us"], 3), fmt_f(r["r_us"], 3),
                         fmt_ratio(r["cpu_ratio"]), fmt_pct(r["noise"]), row_notes(r, a.rounds)))
        print(fmt % ("geomean", "", "", fmt_ratio(g_thr), "", "", fmt_ratio(g_cpu), fmt_pct(noise), ""))
    print()
    print("req/s and us/req: medians per server. Ratios: median over rounds of the ratio within each "
          "round (paired runs);\nthr L/R = lattice/redis req/s, cpu R/L = redis/lattice us/req, so "
          "> 1.0 favours Lattice. +- = half the\nrange of the paired primary ratio over rounds "
          "(geomean row: median over workloads).")


def print_markdown(a, tables, meta):
    print("Lattice %s vs Redis %s on %d CPUs; server pinned to CPU %d, redis-benchmark to CPU %d; "
          "%d clients, random keys over %d (%s); fresh processes, Lattice and Redis alternating; "
          "figures are medians of %d round(s), ratios the median of the per-round ratios. "
          "Ratios > 1.0 favour Lattice. Generated by `tests/bench/compare_redis.py` on %s." % (
              meta["lattice_rev"], meta["redis_version"], os.cpu_count() or 0, a.server_cpu,
              a.bench_cpu, a.clients, a.keyspace,
              "preloaded" if not a.no_preload else "empty at start", a.rounds, meta["started"]))
    for P, (rows, g_thr, g_cpu, noise) in tables.items():
        print()
        print("**-P %d**, %s requests per run (primary metric: %s)" % (
            P, "{:,}".format(requests_for(a, P)), "server CPU per request" if P == 1 else "throughput"))
        print()
        print("| workload | Lattice req/s | Redis req/s | throughput Lattice/Redis | Lattice us/req "
              "| Redis us/req | CPU Redis/Lattice | +- |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            if "l_rps" not in r:
                print("| %s | %s | | | | | | |" % (
                    r["workload"], (r.get("skipped") or "no data").split(":")[0].lower()))
                continue
            print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                r["workload"], fmt_int(r["l_rps"]), fmt_int(r["r_rps"]), fmt_ratio(r["thr_ratio"]),
                fmt_f(r["l_us"]), fmt_f(r["r_us"]), fmt_ratio(r["cpu_ratio"]), fmt_pct(r["noise"])))
        print("| **geomean** | | | **%s** | | | **%s** | %s |" % (
            fmt_ratio(g_thr), fmt_ratio(g_cpu), fmt_pct(noise)))


def verdict(a, tables):
    parts = []
    for P, (rows, g_thr, g_cpu, noise) in tables.items():
        if P == 1:
            what, g, band = "-P 1 CPU/request redis/lattice", g_cpu, a.cpu_noise
        else:
            what, g, band = "-P %d throughput lattice/redis" % P, g_thr, a.thr_noise
        if g is None:
            parts.append("%s: n/a" % what)
            continue
        if g > 1 + band:
            word = "Lattice ahead"
        elif g < 1 - band:
            word = "Lattice behind"
        else:
            word = "on par (within +-%.0f%%)" % (band * 100)
        caveats = []
        if a.rounds < a.min_rounds_for_verdict:
            caveats.append("only %d round(s)" % a.rounds)
        if noise is not None and noise > band:
            caveats.append("noisy: rounds disagree by +-%.0f%%" % (100 * noise))
        if any(r.get("all_disturbed") for r in rows):
            caveats.append("disturbed runs kept")
        if caveats:
            word = "INCONCLUSIVE (%s), leaning %s" % (", ".join(caveats), word)
        parts.append("%s geomean %s: %s" % (what, fmt_ratio(g), word))
    return "VERDICT: " + "; ".join(parts)


def log_run(a, P, wl, rnd, run, attempt):
    if a.quiet:
        return
    bl.log("[-P %-2d %-14s round %d/%d%s] %-7s %11s req/s %8.3f us/req  others %.3f CPUs (steal %.3f)%s%s" % (
        P, LABEL[wl], rnd + 1, a.rounds, " try %d" % (attempt + 1) if attempt else "", run["server"],
        fmt_int(run["rps"]), run["us_per_req"], run["others_cores"],
        run["steal_s"] / run["wall_s"] if run["wall_s"] else 0.0,
        " (stat ticks)" if run["cpu_source"] != "schedstat" else "",
        "  DISTURBED" if run["disturbed"] else ""))


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
            "lattice_rev": bl.git_describe(), "started": time.strftime("%Y-%m-%d %H:%M")}
    servers = {"lattice": (a.lattice, a.lattice_args), "redis": (a.redis, a.redis_args)}
    bl.log("lattice: %s %s" % (a.lattice, a.lattice_args))
    bl.log("redis:   %s %s" % (a.redis, a.redis_args))

    results = {}
    all_runs = []
    t_start = time.monotonic()
    for P in a.pipelines:
        for wl in a.workloads:
            cell = results.setdefault((P, wl), {"rounds": []})
            for rnd in range(a.rounds):
                order = ["lattice", "redis"] if rnd % 2 == 0 else ["redis", "lattice"]
                attempt = 0
                while not cell.get("skipped"):
                    pair = {}
                    for name in order:
                        try:
                            run = one_run(a, name, servers[name][0], servers[name][1], wl, P)
                        except Unsupported as e:
                            cell["skipped"] = "UNSUPPORTED: %s" % e
                            bl.log("[-P %d %s] UNSUPPORTED %s" % (P, LABEL[wl], e))
                            break
                        except RuntimeError as e:
                            # A crash or hang of one server must not lose the other workloads.
                            cell["skipped"] = "FAILED: %s" % str(e).splitlines()[0]
                            bl.log("[-P %d %s] FAILED %s" % (P, LABEL[wl], e))
                            break
                        run["round"], run["attempt"] = rnd, attempt
                        all_runs.append(run)
                        log_run(a, P, wl, rnd, run, attempt)
                        pair[name] = run
                    if cell.get("skipped"):
                        break
                    pair["disturbed"] = pair["lattice"]["disturbed"] or pair["redis"]["disturbed"]
                    if pair["disturbed"] and attempt < a.max_reruns:
                        attempt += 1
                        bl.log("    disturbed: rerunning the round (attempt %d of %d)" % (
                            attempt + 1, a.max_reruns + 1))
                        continue
                    cell["rounds"].append(pair)
                    break
                if cell.get("skipped"):
                    break

    elapsed = time.monotonic() - t_start
    tables = summarize(a, results)
    if a.markdown:
        print_markdown(a, tables, meta)
    else:
        print_text(a, tables)
    n_dist = sum(1 for r in all_runs if r["disturbed"])
    n_rounds_dist = sum(1 for c in results.values() for r in c["rounds"] if r["disturbed"])
    print()
    print("%d runs, %d flagged disturbed (%d rounds rerun, %d disturbed rounds remaining), %.0f s" % (
        len(all_runs), n_dist, sum(1 for r in all_runs if r["attempt"] > 0) // 2, n_rounds_dist, elapsed))
    print(verdict(a, tables))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"meta": meta, "args": vars(a), "runs": all_runs,
                       "skipped": {"%d/%s" % k: v["skipped"] for k, v in results.items()
                                   if v.get("skipped")}}, f, indent=1)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        bl.die(str(e), 1)
