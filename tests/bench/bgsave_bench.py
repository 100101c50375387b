#!/usr/bin/python3
"""Memory during a background snapshot while writes go on, lattice-server
against redis-server, side by side (see docs/benchmarks.md).

For each server: start it pinned to one core (Lattice with --threads 1) in
a scratch directory, write --keys keys of --value bytes with
redis-benchmark, let it settle and read its steady memory; then start a
writer overwriting random keys of that keyspace (redis-benchmark SET,
pipelined, on another core), send BGSAVE and sample memory every 5 ms
until INFO says the save ended. Memory is the proportional set size (Pss,
/proc/PID/smaps_rollup) of the server and its children: Redis's fork
child shares the parent's pages until the parent writes them, and Pss
counts each physical page once, so the sum is what the machine holds.
Reported: steady MB, peak MB during the save, peak/steady, the save's
seconds and the writes served during it.

    tests/bench/bgsave_bench.py --keys 1000000 --value 100
"""

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def pss_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def total_kb(pid):
    return pss_kb(pid) + sum(pss_kb(c) for c in children(pid))


def one(name, binary, tmpl, keys, value, server_cpu, client_cpu):
    workdir = tempfile.mkdtemp(prefix="lattice-bgsave-%s-" % name)
    port = bl.free_port()
    argv = (["taskset", "-c", str(server_cpu), binary] +
            shlex.split(tmpl.format(port=port)) + ["--dir", workdir])
    logf = open(os.path.join(workdir, "server.log"), "ab")
    proc = bl.spawn(argv, cwd=workdir, stdin=subprocess.DEVNULL, stdout=logf,
                    stderr=subprocess.STDOUT)
    logf.close()
    writer = None
    try:
        deadline = time.monotonic() + 30
        while bl.try_call(port, "PING") != "PONG":
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("%s did not start" % name)
            time.sleep(0.01)
        # Key names key:000000000000 .. (redis-benchmark's __rand_int__).
        subprocess.run(["taskset", "-c", str(client_cpu), "redis-benchmark", "-p", str(port),
                        "-t", "set", "-n", str(keys * 3), "-r", str(keys), "-P", "64",
                        "-d", str(value), "-q"], check=True, stdout=subprocess.DEVNULL)
        loaded = bl.Conn(port).call("DBSIZE")
        time.sleep(1.0)
        steady = total_kb(proc.pid)
        before = int(bl.info_field(port, "stats", "total_commands_processed"))
        writer = subprocess.Popen(
            ["taskset", "-c", str(client_cpu), "redis-benchmark", "-p", str(port), "-t", "set",
             "-n", str(keys * 50), "-r", str(keys), "-P", "16", "-d", str(value), "-q"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        t0 = time.monotonic()
        started = bl.Conn(port).call("BGSAVE")
        peak = steady
        while True:
            peak = max(peak, total_kb(proc.pid))
            if bl.info_field(port, "persistence", "rdb_bgsave_in_progress") == "0":
                break
            if time.monotonic() - t0 > 300:
                raise RuntimeError("the save did not end")
            time.sleep(0.005)
        secs = time.monotonic() - t0
        during = int(bl.info_field(port, "stats", "total_commands_processed")) - before
        status = bl.info_field(port, "persistence", "rdb_last_bgsave_status")
        if status != "ok":
            raise RuntimeError("%s: BGSAVE status %s" % (name, status))
        return {"keys": loaded, "steady_mb": steady / 1024, "peak_mb": peak / 1024,
                "secs": secs, "during": during, "reply": started}
    finally:
        if writer:
            writer.kill()
            writer.wait()
        bl.kill_proc(proc)
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lattice", default=bl.DEFAULT_LATTICE)
    ap.add_argument("--redis", default=bl.DEFAULT_REDIS)
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--value", type=int, default=100)
    ap.add_argument("--server-cpu", type=int, default=1)
    ap.add_argument("--client-cpu", type=int, default=0)
    a = ap.parse_args()
    bl.install_cleanup()
    print("%-8s %9s %10s %9s %11s %7s %12s" % ("server", "keys", "steady MB", "peak MB",
                                             "peak/steady", "save s", "cmds during"))
    for name, binary, tmpl in (("lattice", a.lattice, bl.LATTICE_ARGS),
                               ("redis", a.redis, bl.REDIS_ARGS)):
        r = one(name, binary, tmpl, a.keys, a.value, a.server_cpu, a.client_cpu)
        print("%-8s %9d %10.1f %9.1f %11.2f %7.2f %12d" % (
            name, r["keys"], r["steady_mb"], r["peak_mb"], r["peak_mb"] / r["steady_mb"],
            r["secs"], r["during"]))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
