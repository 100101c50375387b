#!/usr/bin/python3
"""Server CPU per operation for workloads redis-benchmark cannot drive:
MULTI/EXEC of 3 commands, PUBLISH to 10 subscribers, EVALSHA of a small
script, XADD with MAXLEN ~ and auto ids, and SET under an append-only log
(--aof always|everysec|no turns the log on in both servers with that
fsync policy). lattice-server against redis-server, side by side (see
docs/benchmarks.md).

Method: each server runs pinned to one core (taskset -c 1, Lattice with
--threads 1), this script's load generator on the other (-c 0). The load is
pre-encoded RESP sent by raw sockets: --clients connections, each sending
its operations in pipelined chunks of --pipeline and reading the replies
back before the next chunk (subscribers drain their messages on threads of
their own). A round is one Lattice run and one Redis run (order alternating
between rounds); the ratio of server CPU time per operation (utime+stime of
the server's threads over the run, /proc) is taken per round and the median
over rounds reported, > 1.0 favouring Lattice.

    tests/bench/compare_commands.py --ops 200000 --rounds 3
    tests/bench/compare_commands.py --workloads set --aof always --ops 100000
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

SCRIPT = b"return redis.call('incr', KEYS[1])"


def enc(*args):
    return bl.Conn.encode(*args)


def drain_replies(sock, n_replies, counter):
    """Reads until `n_replies` complete top-level replies arrived (replies
    here are flat: simple strings, integers, bulk strings, or arrays of
    those, which `counter` counts)."""
    buf = b""
    got = 0
    while got < n_replies:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise RuntimeError("server closed the connection")
        buf += chunk
        got_now, rest = counter(buf)
        got += got_now
        buf = rest
    return got


def count_simple(buf):
    """Counts complete replies in buf among +/-/: lines and $ bulks and *
    arrays of such; returns (count, unconsumed tail)."""
    n = 0
    pos = 0
    while True:
        end = _reply_end(buf, pos)
        if end is None:
            return n, buf[pos:]
        n += 1
        pos = end


def _reply_end(buf, pos):
    if pos >= len(buf):
        return None
    eol = buf.find(b"\r\n", pos)
    if eol < 0:
        return None
    t = buf[pos:pos + 1]
    if t in (b"+", b"-", b":", b"_", b","):
        return eol + 2
    n = int(buf[pos + 1:eol])
    if t == b"$":
        if n < 0:
            return eol + 2
        end = eol + 2 + n + 2
        return end if end <= len(buf) else None
    if t in (b"*", b">"):
        p = eol + 2
        for _ in range(max(n, 0)):
            p = _reply_end(buf, p)
            if p is None:
                return None
        return p
    raise RuntimeError("unexpected reply type %r" % t)


def workload(name, port, ops, clients, pipeline):
    """Runs `ops` operations; returns the number of operations done."""
    setup = bl.Conn(port)
    subs, drainers = [], []
    if name == "evalsha":
        sha = setup.call(b"SCRIPT", b"LOAD", SCRIPT)
        op = lambda i: enc(b"EVALSHA", sha, b"1", b"counter:%d" % (i % 1000))  # noqa: E731
        per_op_replies = 1
    elif name == "multi_exec":
        def op(i):
            k = b"key:%d" % (i % 1000)
            return (enc(b"MULTI") + enc(b"SET", k, b"xxx") + enc(b"INCR", b"ctr:%d" % (i % 1000)) +
                    enc(b"GET", k) + enc(b"EXEC"))
        per_op_replies = 5
    elif name == "publish":
        stop = threading.Event()
        for _ in range(10):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(enc(b"SUBSCRIBE", b"bench"))
            s.recv(1024)
            subs.append(s)

        def drain(s):
            s.settimeout(0.5)
            while not stop.is_set():
                try:
                    if not s.recv(1 << 20):
                        return
                except socket.timeout:
                    pass
        drainers = [threading.Thread(target=drain, args=(s,), daemon=True) for s in subs]
        for t in drainers:
            t.start()
        op = lambda i: enc(b"PUBLISH", b"bench", b"message-%08d" % i)  # noqa: E731
        per_op_replies = 1
    elif name == "xadd":
        # An event log as BullMQ keeps one: auto ids, two fields, capped.
        op = lambda i: enc(b"XADD", b"events:%d" % (i % 10), b"MAXLEN", b"~", b"10000",  # noqa: E731
                           b"*", b"event", b"completed", b"jobId", b"%d" % i)
        per_op_replies = 1
    elif name == "set":
        op = lambda i: enc(b"SET", b"key:%d" % (i % 100000), b"value-%010d" % i)  # noqa: E731
        per_op_replies = 1
    else:
        raise SystemExit("unknown workload %s" % name)
    setup.close()

    per_client = ops // clients
    done = [0]
    errors = []

    def client(ci):
        try:
            s = socket.create_connection(("127.0.0.1", port))
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            base = ci * per_client
            i = 0
            while i < per_client:
                n = min(pipeline, per_client - i)
                s.sendall(b"".join(op(base + i + k) for k in range(n)))
                drain_replies(s, n * per_op_replies, count_simple)
                i += n
            done[0] += per_client
            s.close()
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if subs:
        stop.set()
        for t in drainers:
            t.join()
        for s in subs:
            s.close()
    if errors:
        raise RuntimeError("client failed: %r" % errors[0])
    return done[0]


def one_run(a, name, binary, template, wl):
    srv = bl.Server(name, binary, template, a.server_cpu)
    srv.start()
    try:
        time.sleep(0.2)
        s0 = bl.CpuSnapshot(srv.pid)
        t0 = time.monotonic()
        n = workload(wl, srv.port, a.ops, a.clients, a.pipeline)
        wall = time.monotonic() - t0
        s1 = bl.CpuSnapshot(srv.pid)
        if not srv.alive():
            raise RuntimeError("%s died:\n%s" % (name, srv.log_tail()))
    finally:
        srv.stop()
    cpu, _ = bl.cpu_delta_seconds(s0, s1)
    return {"us_per_op": cpu / n * 1e6, "ops_per_s": n / wall}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lattice", default=bl.DEFAULT_LATTICE)
    ap.add_argument("--redis", default=bl.DEFAULT_REDIS)
    ap.add_argument("--workloads", default="evalsha,multi_exec,publish,xadd")
    ap.add_argument("--ops", type=int, default=200000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--pipeline", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--server-cpu", type=int, default=1)
    ap.add_argument("--bench-cpu", type=int, default=0)
    ap.add_argument("--aof", choices=["off", "always", "everysec", "no"], default="off",
                    help="run both servers with the append-only log and this appendfsync")
    a = ap.parse_args()
    lattice_args, redis_args = bl.LATTICE_ARGS, bl.REDIS_ARGS
    if a.aof != "off":
        lattice_args += " --appendonly yes --appendfsync " + a.aof
        redis_args = redis_args.replace("--appendonly no", "--appendonly yes --appendfsync " + a.aof)
    bl.install_cleanup()
    os.sched_setaffinity(0, {a.bench_cpu})
    print("%-12s %12s %12s %10s %10s %8s" % ("workload", "lattice op/s", "redis op/s", "L us/op",
                                              "R us/op", "cpu R/L"))
    for wl in a.workloads.split(","):
        ratios, lat_us, red_us, lat_rate, red_rate = [], [], [], [], []
        for rnd in range(a.rounds):
            order = [("lattice", a.lattice, lattice_args), ("redis", a.redis, redis_args)]
            if rnd % 2:
                order.reverse()
            res = {}
            for name, binary, template in order:
                res[name] = one_run(a, name, binary, template, wl)
            ratios.append(res["redis"]["us_per_op"] / res["lattice"]["us_per_op"])
            lat_us.append(res["lattice"]["us_per_op"])
            red_us.append(res["redis"]["us_per_op"])
            lat_rate.append(res["lattice"]["ops_per_s"])
            red_rate.append(res["redis"]["ops_per_s"])
        print("%-12s %12.0f %12.0f %10.2f %10.2f %7.3fx  (rounds: %s)" % (
            wl, statistics.median(lat_rate), statistics.median(red_rate),
            statistics.median(lat_us), statistics.median(red_us), statistics.median(ratios),
            " ".join("%.3f" % r for r in ratios)))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
