#!/usr/bin/python3
"""Restart time from a snapshot and from the append-only log, lattice-server
against redis-server, side by side (see docs/benchmarks.md).

For each server and each way of persisting: start it pinned to one core
(Lattice with --threads 1) in a scratch directory, write --keys distinct
16-byte string keys with redis-benchmark (pipelined), persist (SAVE for
the snapshot; with `appendonly yes, appendfsync everysec` the log is
already written), stop it (SHUTDOWN NOSAVE), start it again in the same
directory and time from exec to the first PONG (Redis answers -LOADING
until its load is done). Also reported: the file sizes and the key count
after the restart, which must equal the count before.

    tests/bench/restart_bench.py --keys 1000000
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


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            if f.endswith(".log"):
                continue
            total += os.path.getsize(os.path.join(root, f))
    return total


def start(binary, args, cpu, workdir, port):
    argv = ["taskset", "-c", str(cpu), binary] + shlex.split(args.format(port=port))
    logf = open(os.path.join(workdir, "server.log"), "ab")
    t0 = time.monotonic()
    proc = bl.spawn(argv, cwd=workdir, stdin=subprocess.DEVNULL, stdout=logf,
                    stderr=subprocess.STDOUT)
    logf.close()
    while time.monotonic() - t0 < 600:
        if proc.poll() is not None:
            raise RuntimeError("server exited: %s" % " ".join(argv))
        if bl.try_call(port, "PING") == "PONG":
            return proc, time.monotonic() - t0
        time.sleep(0.005)
    raise RuntimeError("no PONG after 600 s")


def one(name, binary, base_args, mode, keys, cpu):
    workdir = tempfile.mkdtemp(prefix="lattice-restart-%s-" % name)
    port = bl.free_port()
    args = base_args.replace("--appendonly no", "")
    if mode == "log":
        args += " --appendonly yes --appendfsync everysec"
    elif name == "redis":
        args += " --appendonly no"
    try:
        proc, _ = start(binary, args, cpu, workdir, port)
        subprocess.run(["redis-benchmark", "-p", str(port), "-t", "set", "-n", str(keys),
                        "-r", str(keys * 1000), "-P", "64", "-d", "16", "-q"],
                       check=True, stdout=subprocess.DEVNULL)
        before = bl.Conn(port).call("DBSIZE")
        if mode == "snapshot":
            t0 = time.monotonic()
            bl.Conn(port).call("SAVE")
            save_s = time.monotonic() - t0
        else:
            save_s = 0.0
            time.sleep(1.5)  # everysec: the last second reaches the disk
        try:
            bl.Conn(port).call("SHUTDOWN", "NOSAVE")
        except Exception:  # noqa: BLE001  (the server closes the connection)
            pass
        proc.wait(60)
        size = dir_bytes(workdir)
        proc, secs = start(binary, args, cpu, workdir, port)
        after = bl.Conn(port).call("DBSIZE")
        bl.kill_proc(proc)
        if after != before:
            raise RuntimeError("%s %s: %d keys before, %d after" % (name, mode, before, after))
        return {"keys": after, "restart_s": secs, "bytes": size, "save_s": save_s}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lattice", default=bl.DEFAULT_LATTICE)
    ap.add_argument("--redis", default=bl.DEFAULT_REDIS)
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--server-cpu", type=int, default=1)
    a = ap.parse_args()
    bl.install_cleanup()
    print("%-9s %-8s %9s %10s %10s %9s" % ("mode", "server", "keys", "file MB", "SAVE s",
                                           "restart s"))
    for mode in ("snapshot", "log"):
        for name, binary, tmpl in (("lattice", a.lattice, bl.LATTICE_ARGS),
                                   ("redis", a.redis, bl.REDIS_ARGS)):
            r = one(name, binary, tmpl, mode, a.keys, a.server_cpu)
            print("%-9s %-8s %9d %10.1f %10.2f %9.2f" % (mode, name, r["keys"], r["bytes"] / 1e6,
                                                       r["save_s"], r["restart_s"]))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
