#!/usr/bin/python3
"""Blocking pops (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP), the same scenarios
against redis-server and lattice-server; each scenario's transcript (what
every client read, in order) must be identical, and each also asserts the
behaviour Redis documents, so the test checks itself:

- clients blocked on one key are served in the order they blocked, one
  element each, and a client still waiting keeps waiting;
- any writer wakes a waiter: LPUSH, RPUSH, LMOVE and RPOPLPUSH into the key,
  RENAME and COPY of a list onto it, a BLMOVE served into it;
- BLPOP on several keys is served by the key that received data;
- BLMPOP pops up to COUNT elements;
- timeouts: null (RESP2 *-1, RESP3 _) after about the timeout, and a
  later command on the same connection is answered after it;
- a client that disconnects while blocked loses nothing: the element goes to
  the next waiter;
- a blocked client does not delay other clients.

Environment: LATTICE_SERVER, REDIS_SERVER (see harness.py).
"""

import os
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SETTLE = 0.15  # lets a blocking command reach the server before the next step


class BlockingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.raise_nofile_limit(4096)
        cls.redis = harness.start_redis()
        cls.lattice = harness.start_lattice()

    @classmethod
    def tearDownClass(cls):
        cls.lattice.stop()
        cls.redis.stop()

    def both(self, scenario):
        """Runs scenario(server) on both servers; returns Lattice's
        transcript after checking it equals Redis's."""
        out = {}
        for name, srv in (("redis", self.redis), ("lattice", self.lattice)):
            c = srv.client()
            c.call(b"FLUSHALL")
            c.close()
            out[name] = scenario(srv)
        self.assertEqual(out["lattice"], out["redis"])
        self.assertTrue(self.lattice.alive(), self.lattice.log_tail())
        return out["redis"]

    def test_waiters_are_served_in_arrival_order(self):
        def scenario(srv):
            waiters = [srv.client() for _ in range(3)]
            for w in waiters:
                w.send(b"BLPOP", b"q", b"0")
                time.sleep(SETTLE)
            p = srv.client()
            t = [p.call(b"RPUSH", b"q", b"1", b"2")]
            t += [waiters[0].read_reply(), waiters[1].read_reply()]
            with self.assertRaises(TimeoutError):
                waiters[2].read_reply(timeout=0.3)
            t.append(p.call(b"RPUSH", b"q", b"3"))
            t.append(waiters[2].read_reply())
            t.append(p.call(b"EXISTS", b"q"))
            for c in waiters + [p]:
                c.close()
            return t
        t = self.both(scenario)
        self.assertEqual(t[1], b"*2\r\n$1\r\nq\r\n$1\r\n1\r\n")
        self.assertEqual(t[2], b"*2\r\n$1\r\nq\r\n$1\r\n2\r\n")
        self.assertEqual(t[4], b"*2\r\n$1\r\nq\r\n$1\r\n3\r\n")

    def test_every_writer_wakes_a_waiter(self):
        writers = [
            [(b"LPUSH", b"w", b"a")],
            [(b"RPUSH", b"src", b"a"), (b"LMOVE", b"src", b"w", b"LEFT", b"RIGHT")],
            [(b"RPUSH", b"src", b"a"), (b"RPOPLPUSH", b"src", b"w")],
            [(b"RPUSH", b"src", b"a", b"b"), (b"RENAME", b"src", b"w")],
            [(b"RPUSH", b"src", b"a"), (b"COPY", b"src", b"w")],
        ]
        for steps in writers:
            with self.subTest(steps=steps[-1][0]):
                def scenario(srv, steps=steps):
                    w = srv.client()
                    w.send(b"BLPOP", b"w", b"5")
                    time.sleep(SETTLE)
                    p = srv.client()
                    t = [p.call(*s) for s in steps]
                    t.append(w.read_reply(timeout=3))
                    w.close()
                    p.close()
                    return t
                t = self.both(scenario)
                self.assertTrue(t[-1].startswith(b"*2\r\n$1\r\nw\r\n"), t)

    def test_a_served_blmove_wakes_the_next_list_and_multi_key_waits(self):
        def scenario(srv):
            a, b, p = srv.client(), srv.client(), srv.client()
            b.send(b"BLPOP", b"k1", b"dst", b"5")
            time.sleep(SETTLE)
            a.send(b"BLMOVE", b"src", b"dst", b"LEFT", b"LEFT", b"5")
            time.sleep(SETTLE)
            t = [p.call(b"RPUSH", b"src", b"x"), a.read_reply(timeout=3), b.read_reply(timeout=3)]
            t.append(p.call(b"EXISTS", b"src", b"dst"))
            for c in (a, b, p):
                c.close()
            return t
        t = self.both(scenario)
        self.assertEqual(t[1], b"$1\r\nx\r\n")
        self.assertEqual(t[2], b"*2\r\n$3\r\ndst\r\n$1\r\nx\r\n")

    def test_blmpop_takes_up_to_count(self):
        def scenario(srv):
            a, p = srv.client(), srv.client()
            a.send(b"BLMPOP", b"5", b"2", b"m1", b"m2", b"RIGHT", b"COUNT", b"2")
            time.sleep(SETTLE)
            t = [p.call(b"RPUSH", b"m2", b"1", b"2", b"3"), a.read_reply(timeout=3),
                 p.call(b"LRANGE", b"m2", b"0", b"-1")]
            a.close()
            p.close()
            return t
        t = self.both(scenario)
        self.assertEqual(t[1], b"*2\r\n$2\r\nm2\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n")

    def test_sorted_set_pops_block_and_wake(self):
        def scenario(srv):
            a, b, p = srv.client(), srv.client(), srv.client()
            a.send(b"BZPOPMIN", b"z1", b"z2", b"5")
            time.sleep(SETTLE)
            b.send(b"BZMPOP", b"5", b"1", b"z2", b"MAX", b"COUNT", b"2")
            time.sleep(SETTLE)
            t = [p.call(b"ZADD", b"z2", b"1", b"a", b"2", b"b", b"3", b"c"),
                 a.read_reply(timeout=3), b.read_reply(timeout=3),
                 p.call(b"ZRANGE", b"z2", b"0", b"-1", b"WITHSCORES"),
                 p.call(b"BZPOPMAX", b"none", b"0.05"),
                 p.call(b"BZMPOP", b"0.05", b"1", b"none", b"MIN"),
                 p.call(b"SET", b"str", b"v"), p.call(b"BZPOPMIN", b"str", b"0"),
                 p.call(b"BZPOPMIN", b"z2", b"-1"), p.call(b"BZMPOP", b"0", b"0", b"z2", b"MIN")]
            for c in (a, b, p):
                c.close()
            return t
        t = self.both(scenario)
        self.assertEqual(t[1], b"*3\r\n$2\r\nz2\r\n$1\r\na\r\n$1\r\n1\r\n")

    def test_timeouts_answer_null_and_the_connection_goes_on(self):
        def scenario(srv):
            c = srv.client()
            t = []
            for proto in (b"2", b"3"):
                c.call(b"HELLO", proto)
                start = time.monotonic()
                c.send(b"BLPOP", b"none", b"0.3")
                c.send(b"PING")
                t.append(c.read_reply(timeout=5))
                waited = time.monotonic() - start
                self.assertGreaterEqual(waited, 0.25, srv.name)
                self.assertLess(waited, 2.5, srv.name)
                t.append(c.read_reply(timeout=1))
                t.append(c.call(b"BLMOVE", b"none", b"x", b"LEFT", b"LEFT", b"0.1"))
                t.append(c.call(b"BLMPOP", b"0.1", b"1", b"none", b"LEFT"))
            c.close()
            return t
        t = self.both(scenario)
        self.assertEqual(t[0], b"*-1\r\n")
        self.assertEqual(t[4], b"_\r\n")

    def test_a_client_that_leaves_while_blocked_loses_nothing(self):
        def scenario(srv):
            gone, stays, p = srv.client(), srv.client(), srv.client()
            gone.send(b"BLPOP", b"q", b"0")
            time.sleep(SETTLE)
            stays.send(b"BRPOP", b"q", b"0")
            time.sleep(SETTLE)
            gone.close()
            time.sleep(SETTLE)
            t = [p.call(b"RPUSH", b"q", b"only"), stays.read_reply(timeout=3),
                 p.call(b"LLEN", b"q")]
            stays.close()
            p.close()
            return t
        t = self.both(scenario)
        self.assertEqual(t[1], b"*2\r\n$1\r\nq\r\n$4\r\nonly\r\n")

    def test_a_blocked_client_does_not_delay_others(self):
        def scenario(srv):
            blocked = [srv.client() for _ in range(20)]
            for i, c in enumerate(blocked):
                c.send(b"BLPOP", b"never%d" % (i % 3), b"0")
            time.sleep(SETTLE)
            p = srv.client()
            start = time.monotonic()
            t = [p.call(b"SET", b"k", b"v"), p.call(b"GET", b"k")]
            self.assertLess(time.monotonic() - start, 1.0)
            for c in blocked + [p]:
                c.close()
            return t
        self.both(scenario)


if __name__ == "__main__":
    harness.main()
