#!/usr/bin/python3
"""Transactions across connections and nodes.

Against redis-server and lattice-server side by side (transcripts must be
identical, and each scenario also asserts what Redis documents):
- WATCH is broken by another connection's write of the key, not by its
  read nor by a write of another key; by an expiry of the key between
  WATCH and EXEC (Redis 7.0), not by one that had happened before WATCH;
  the compare-and-set retry loop built on WATCH counts every increment.
Lattice alone, with four worker threads:
- EXEC is atomic across shards: clients incrementing two keys (on
  different shards) in one MULTI while others read both with MGET never
  see them differ, and every increment counts.
Two nodes (real processes on 127.0.0.x):
- a WATCH on node 1 is broken by a write made on node 2 once its delta
  arrived, and not by a write of another key;
- a transaction's writes reach the other node, and appear there all at
  once: a reader on node 2 (four shards) never sees part of one.

Environment: LATTICE_SERVER, REDIS_SERVER (see harness.py).
"""

import os
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import redis  # noqa: E402  (python3-redis)
from cluster import ClusterTestCase  # noqa: E402


class TransactionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.redis = harness.start_redis()
        cls.lattice = harness.start_lattice(threads=4)

    @classmethod
    def tearDownClass(cls):
        cls.lattice.stop()
        cls.redis.stop()

    def both(self, scenario):
        """scenario(a, b, srv) with two fresh connections to each server;
        returns Redis's transcript after checking Lattice's equals it."""
        out = {}
        for name, srv in (("redis", self.redis), ("lattice", self.lattice)):
            a, b = srv.client(), srv.client()
            a.call(b"FLUSHALL")
            try:
                out[name] = scenario(a, b, srv)
            finally:
                a.close()
                b.close()
        self.assertEqual(out["lattice"], out["redis"])
        return out["redis"]

    def test_another_connections_write_breaks_a_watch(self):
        def scenario(a, b, srv):
            t = [a.call(b"SET", b"k", b"1"), a.call(b"WATCH", b"k"),
                 b.call(b"GET", b"k"), b.call(b"SET", b"other", b"x")]
            t += [a.call(b"MULTI"), a.call(b"INCR", b"k"), a.call(b"EXEC")]  # not broken
            t += [a.call(b"WATCH", b"k"), b.call(b"SET", b"k", b"9"),
                  a.call(b"MULTI"), a.call(b"INCR", b"k"), a.call(b"EXEC"),  # broken
                  a.call(b"GET", b"k")]
            t += [a.call(b"WATCH", b"k"), b.call(b"DEL", b"k"),
                  a.call(b"MULTI"), a.call(b"SET", b"k", b"x"), a.call(b"EXEC")]
            t += [a.call(b"WATCH", b"h"), b.call(b"HSET", b"h", b"f", b"v"),
                  a.call(b"MULTI"), a.call(b"HGET", b"h", b"f"), a.call(b"EXEC")]
            return t
        t = self.both(scenario)
        self.assertEqual(t[6], b"*1\r\n:2\r\n")
        self.assertEqual(t[11], b"*-1\r\n")
        self.assertEqual(t[12], b"$1\r\n9\r\n")
        self.assertEqual(t[17], b"*-1\r\n")
        self.assertEqual(t[-1], b"*-1\r\n")

    def test_an_expiry_between_watch_and_exec_breaks_it(self):
        def scenario(a, b, srv):
            t = [a.call(b"SET", b"t", b"1", b"PX", b"100"), a.call(b"WATCH", b"t")]
            time.sleep(0.3)
            t += [a.call(b"MULTI"), a.call(b"SET", b"t", b"2"), a.call(b"EXEC"),
                  a.call(b"EXISTS", b"t")]
            # Expired before the WATCH: no effect.
            t += [a.call(b"SET", b"u", b"1", b"PX", b"50")]
            time.sleep(0.2)
            t += [a.call(b"WATCH", b"u"), a.call(b"MULTI"), a.call(b"SET", b"u", b"2"),
                  a.call(b"EXEC"), a.call(b"GET", b"u")]
            return t
        t = self.both(scenario)
        self.assertEqual(t[4], b"*-1\r\n")
        self.assertEqual(t[10], b"*1\r\n+OK\r\n")

    def test_watch_retry_loop_counts_every_increment(self):
        clients, rounds = 4, 150

        def worker(srv, errors):
            r = redis.Redis(host="127.0.0.1", port=srv.port)
            try:
                for _ in range(rounds):
                    while True:
                        with r.pipeline() as p:
                            try:
                                p.watch("counter")
                                v = int(p.get("counter") or 0)
                                p.multi()
                                p.set("counter", v + 1)
                                p.execute()
                                break
                            except redis.WatchError:
                                continue
            except Exception as e:  # reported by the main thread
                errors.append(e)
            finally:
                r.close()

        for srv in (self.redis, self.lattice):
            c = srv.client()
            c.call(b"FLUSHALL")
            errors = []
            threads = [threading.Thread(target=worker, args=(srv, errors))
                       for _ in range(clients)]
            for th in threads:
                th.start()
            for th in threads:
                th.join(120)
            self.assertEqual(errors, [])
            self.assertEqual(c.call(b"GET", b"counter"),
                             b"$%d\r\n%d\r\n" % (len(str(clients * rounds)), clients * rounds))
            c.close()

    def test_exec_is_atomic_across_shards(self):
        # x and y land on different shards of the four (the server's shard
        # hash is not visible here, so several pairs are used).
        pairs = [("x%d" % i, "y%d" % i) for i in range(8)]
        stop = threading.Event()
        errors, seen = [], [0]

        def writer():
            r = redis.Redis(host="127.0.0.1", port=self.lattice.port)
            try:
                for _ in range(300):
                    p = r.pipeline(transaction=True)
                    for x, y in pairs:
                        p.incr(x)
                        p.incr(y)
                    p.execute()
            except Exception as e:
                errors.append(e)

        def reader():
            r = redis.Redis(host="127.0.0.1", port=self.lattice.port)
            keys = [k for pair in pairs for k in pair]
            while not stop.is_set():
                vals = r.mget(keys)
                seen[0] += 1
                if len(set(vals)) != 1:
                    errors.append("MGET saw half a transaction: %r" % vals)
                    return

        c = self.lattice.client()
        c.call(b"FLUSHALL")
        writers = [threading.Thread(target=writer) for _ in range(3)]
        readers = [threading.Thread(target=reader) for _ in range(2)]
        for th in writers + readers:
            th.start()
        for th in writers:
            th.join(120)
        stop.set()
        for th in readers:
            th.join(30)
        self.assertEqual(errors, [])
        self.assertGreater(seen[0], 10)
        self.assertEqual(c.call(b"MGET", b"x0", b"y7"), b"*2\r\n$3\r\n900\r\n$3\r\n900\r\n")
        c.close()


class ClusterTransactionTest(ClusterTestCase):
    def test_a_transaction_appears_on_a_peer_all_at_once(self):
        pairs = [("x%d" % i, "y%d" % i) for i in range(8)]
        keys = [k for pair in pairs for k in pair]
        rounds = 300
        with self.cluster(2, threads=4) as c:
            stop = threading.Event()
            errors, seen = [], [0]

            def reader():
                r = c.node(2).new_client()
                while not stop.is_set():
                    vals = r.mget(keys)
                    seen[0] += 1
                    if len(set(vals)) != 1:
                        errors.append("node 2 saw half a transaction: %r" % vals)
                        return

            th = threading.Thread(target=reader)
            th.start()
            try:
                w = c.node(1).new_client()
                for _ in range(rounds):
                    p = w.pipeline(transaction=True)
                    for x, y in pairs:
                        p.incr(x)
                        p.incr(y)
                    p.execute()
                harness.wait_until(lambda: c.r(2).get("y7") == str(rounds), 10,
                                   what="every transaction on node 2")
            finally:
                stop.set()
                th.join(30)
            self.assertEqual(errors, [])
            self.assertGreater(seen[0], 10)
            self.assertEqual(c.r(2).mget(keys), [str(rounds)] * len(keys))

    def test_a_write_on_another_node_breaks_a_watch(self):
        with self.cluster(2) as c:
            r1 = c.node(1).new_client()
            r2 = c.r(2)
            r1.set("k", "1")
            harness.wait_until(lambda: r2.get("k") == "1", 10, what="k on node 2")
            with r1.pipeline() as p:
                p.watch("k")
                r2.set("other", "x")  # another key: no effect
                harness.wait_until(lambda: r1.get("other") == "x", 10, what="other on node 1")
                p.multi()
                p.incr("k")
                self.assertEqual(p.execute(), [2])
            harness.wait_until(lambda: r2.get("k") == "2", 10,
                               what="the transaction's write on node 2")
            with r1.pipeline() as p:
                p.watch("k")
                r2.set("k", "5")
                harness.wait_until(lambda: r1.get("k") == "5", 10, what="k = 5 on node 1")
                p.multi()
                p.incr("k")
                with self.assertRaises(redis.WatchError):
                    p.execute()
            self.assertEqual(r1.get("k"), "5")


if __name__ == "__main__":
    harness.main()
