#!/usr/bin/python3
"""Publish/subscribe across connections, workers and nodes.

Against redis-server and lattice-server side by side (transcripts must be
identical; each scenario also asserts what Redis documents):
- SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE confirmations and counts, messages
  and pattern messages in RESP2 and RESP3 (pushes), the subscribed-mode
  refusal and PING reply in RESP2, UNSUBSCRIBE of everything, RESET,
  PUBLISH's receiver count, PUBSUB CHANNELS / NUMSUB / NUMPAT /
  SHARDCHANNELS / SHARDNUMSUB;
- the order of messages: one publisher's messages reach every subscriber
  in publish order, channel subscribers before pattern ones.
Lattice alone (four workers):
- subscribers spread over every worker all receive every message once;
- a subscriber that stops reading is disconnected once its output passes
  client-output-buffer-limit pubsub, and the server stays healthy.
Three nodes (real processes on 127.0.0.x):
- PUBLISH on node 1 reaches SUBSCRIBE and PSUBSCRIBE clients on nodes 2
  and 3 exactly once each, in publish order; PUBLISH answers the
  receivers on its own node (as a Redis Cluster node does).

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
from cluster import ClusterTestCase  # noqa: E402


def parse_all(client, idle=5.0, until=None):
    return harness.read_pending(client, idle, until)


class PubSubTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.redis = harness.start_redis()
        cls.lattice = harness.start_lattice(threads=4)

    @classmethod
    def tearDownClass(cls):
        cls.lattice.stop()
        cls.redis.stop()

    def both(self, scenario):
        out = {}
        for name, srv in (("redis", self.redis), ("lattice", self.lattice)):
            out[name] = scenario(srv)
        self.assertEqual(out["lattice"], out["redis"])
        return out["redis"]

    def test_subscriptions_messages_and_introspection_match_redis(self):
        def scenario(srv):
            s1, s2, s3, pub = (srv.client() for _ in range(4))
            t = [s1.call(b"SUBSCRIBE", b"news"),
                 s1.call(b"SUBSCRIBE", b"sport"),
                 s1.call(b"GET", b"x"), s1.call(b"PING"), s1.call(b"PING", b"hi"),
                 s2.call(b"PSUBSCRIBE", b"n*"),
                 s2.call(b"PSUBSCRIBE", b"*s"),
                 s3.call(b"HELLO", b"3")[:1],
                 s3.call(b"SUBSCRIBE", b"news"), s3.call(b"SSUBSCRIBE", b"shard1"),
                 s3.call(b"GET", b"x"), s3.call(b"PING")]
            t.append(pub.call(b"PUBLISH", b"news", b"first"))
            t.append(pub.call(b"PUBLISH", b"nothing-here", b"x"))
            t.append(pub.call(b"PUBLISH", b"sports", b"second"))
            t.append(pub.call(b"SPUBLISH", b"shard1", b"third"))
            t.append(pub.call(b"SPUBLISH", b"news", b"not-for-shard-subscribers"))
            # One message matching two patterns comes once per pattern, in
            # the order of Redis's pattern dictionary (a hash): sorted here.
            t += parse_all(s1, 1.0) + [b"--"] + sorted(parse_all(s2, 1.0)) + [b"--"]
            t += parse_all(s3, 1.0)
            t += [pub.call(b"PUBSUB", b"NUMSUB", b"news", b"sport", b"none"),
                  pub.call(b"PUBSUB", b"NUMPAT"),
                  pub.call(b"PUBSUB", b"CHANNELS", b"s*"),
                  pub.call(b"PUBSUB", b"SHARDCHANNELS"),
                  pub.call(b"PUBSUB", b"SHARDNUMSUB", b"shard1", b"x"),
                  pub.call(b"PUBSUB", b"CHANNELS", b"nomatch*")]
            t += [s1.call(b"UNSUBSCRIBE", b"sport"), s1.call(b"UNSUBSCRIBE", b"news"),
                  s1.call(b"UNSUBSCRIBE"), s1.call(b"GET", b"x"),
                  s2.call(b"PUNSUBSCRIBE", b"n*", b"never"), s2.read_reply(),
                  s3.call(b"RESET"), s3.call(b"GET", b"x")]
            t += [pub.call(b"PUBLISH", b"news", b"after"),
                  pub.call(b"PUBSUB", b"NUMPAT"), pub.call(b"PUBSUB", b"NUMSUB", b"news"),
                  pub.call(b"PUBSUB", b"HELP")[:40]]
            t += parse_all(s2, 0.5)
            for c in (s1, s2, s3, pub):
                c.close()
            return t

        t = self.both(scenario)
        self.assertEqual(t[0], b"*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n")
        self.assertEqual(t[2], b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / "
                         b"(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n")
        self.assertEqual(t[3], b"*2\r\n$4\r\npong\r\n$0\r\n\r\n")
        self.assertEqual(t[12], b":4\r\n")  # s1, s2 by n* and by *s, s3

    def test_one_publishers_messages_arrive_in_order_everywhere(self):
        def scenario(srv):
            subs = [srv.client() for _ in range(6)]
            for i, s in enumerate(subs):
                s.call(b"PSUBSCRIBE", b"q*") if i % 2 else s.call(b"SUBSCRIBE", b"queue")
            pub = srv.client()
            pub.send_raw(b"".join(harness.encode_command(b"PUBLISH", b"queue", b"m%d" % i)
                                  for i in range(500)))
            counts = pub.read_replies(500)
            got = [parse_all(s, 5.0, until=500) for s in subs]
            for c in subs + [pub]:
                c.close()
            return [sorted(set(counts))] + got

        t = self.both(scenario)
        self.assertEqual(t[0], [b":6\r\n"])
        self.assertEqual(t[1][499], b"*3\r\n$7\r\nmessage\r\n$5\r\nqueue\r\n$4\r\nm499\r\n")

    def test_subscribers_on_every_worker_get_every_message_once(self):
        subs = [self.lattice.client() for _ in range(16)]
        for s in subs:
            s.call(b"SUBSCRIBE", b"fan")
        pub = self.lattice.client()
        for i in range(100):
            self.assertEqual(pub.call(b"PUBLISH", b"fan", b"%d" % i), b":16\r\n")
        for s in subs:
            got = parse_all(s, 5.0, until=100)
            self.assertEqual([g.split(b"\r\n")[-2] for g in got],
                             [b"%d" % i for i in range(100)])
            self.assertEqual(parse_all(s, 0.2), [])  # nothing twice
            s.close()
        pub.close()

    def test_a_subscriber_that_stops_reading_is_dropped(self):
        c = self.lattice.client()
        c.call(b"CONFIG", b"SET", b"client-output-buffer-limit", b"pubsub 1mb 256kb 1")
        slow = harness.RespClient("127.0.0.1", self.lattice.port)
        slow.sock.setsockopt(__import__("socket").SOL_SOCKET, __import__("socket").SO_RCVBUF, 4096)
        slow.call(b"SUBSCRIBE", b"firehose")
        payload = b"x" * 10000
        dropped = False
        for i in range(2000):  # up to 20 MB, far past the limit
            n = c.call(b"PUBLISH", b"firehose", payload)
            if n == b":0\r\n":
                dropped = True
                break
        self.assertTrue(dropped, "the slow subscriber was never dropped")
        self.assertEqual(c.call(b"PUBSUB", b"NUMSUB", b"firehose"),
                         b"*2\r\n$8\r\nfirehose\r\n:0\r\n")
        self.assertEqual(c.call(b"PING"), b"+PONG\r\n")
        c.call(b"CONFIG", b"SET", b"client-output-buffer-limit", b"pubsub 32mb 8mb 60")
        slow.close()
        c.close()


class ClusterPubSubTest(ClusterTestCase):
    def test_publish_on_node_1_reaches_subscribers_on_every_node_once(self):
        with self.cluster(3, threads=2) as c:
            subs = {}
            for i in (1, 2, 3):
                n = c.node(i)
                a = harness.RespClient(n.host, n.port)
                a.call(b"SUBSCRIBE", b"events")
                b = harness.RespClient(n.host, n.port)
                b.call(b"HELLO", b"3")
                b.call(b"PSUBSCRIBE", b"ev*")
                subs[i] = (a, b)
            n1 = c.node(1)
            pub = harness.RespClient(n1.host, n1.port)
            # The relay sends to members it knows: wait until a probe message
            # reaches node 3 before counting.
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                pub.call(b"PUBLISH", b"events", b"probe")
                if parse_all(subs[3][0], 0.3):
                    break
            for i in (1, 2, 3):
                for s in subs[i]:
                    parse_all(s, 0.5)
            replies = [pub.call(b"PUBLISH", b"events", b"e%d" % k) for k in range(200)]
            self.assertEqual(set(replies), {b":2\r\n"})  # receivers on node 1
            for i in (1, 2, 3):
                a, b = subs[i]
                got_a = parse_all(a, 10.0, until=200)
                got_b = parse_all(b, 10.0, until=200)
                self.assertEqual([g.split(b"\r\n")[-2] for g in got_a],
                                 [b"e%d" % k for k in range(200)], "node %d" % i)
                self.assertEqual(got_b[0], b">4\r\n$8\r\npmessage\r\n$3\r\nev*\r\n$6\r\nevents\r\n"
                                 b"$2\r\ne0\r\n")
                self.assertEqual(len(got_b), 200)
                self.assertEqual(parse_all(a, 0.5) + parse_all(b, 0.1), [],
                                 "node %d delivered a message twice" % i)
            n3 = c.node(3)
            with harness.RespClient(n3.host, n3.port) as p3:
                self.assertEqual(p3.call(b"PUBLISH", b"events", b"from-3"), b":2\r\n")
            self.assertEqual(parse_all(subs[1][0], 10.0, until=1)[0].split(b"\r\n")[-2],
                             b"from-3")
            for pair in subs.values():
                for s in pair:
                    s.close()
            pub.close()


if __name__ == "__main__":
    harness.main()
