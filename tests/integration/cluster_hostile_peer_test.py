#!/usr/bin/python3
"""Hostile traffic on a node's peer port (gRPC over HTTP/2) must not hurt it.

Node 1 of a 3-node cluster gets, on raw TCP connections to its peer port:
seeded random garbage, an HTTP/1.1 request, a truncated HTTP/2 connection
preface, a preface followed by a frame header announcing a 16 MB frame
(cut off after a few bytes), a preface plus SETTINGS frame dropped with a
TCP reset mid-frame, and a byte-at-a-time trickle abandoned halfway; plus
IDLE connections that send nothing and stay open. (Well-formed gRPC calls
carrying malformed messages are covered by the C++ peer service tests.)

Asserted: node 1 closes every hostile connection by itself (at once for
bytes that cannot be HTTP/2 or a frame over its size limit; through its
keepalive for a preface that never completes), and, while the idle
connections are still open and again after they are closed:
- node 1 is alive and answers PING;
- data written before is intact on node 1;
- replication works both ways: a SET on node 2 is read on node 1, a SET on
  node 1 is read on nodes 2 and 3;
- membership is unaffected: every node still sees all three alive;
- once the idle connections are closed, node 1's open descriptors drop
  back to about what they were before (no leak).
Every hostile connection is closed by the test; none of it may crash any
node (checked when the cluster stops).

Environment: LATTICE_SERVER (see harness.py); LATTICE_SEED for the
garbage bytes (the seed is printed).
"""

import contextlib
import os
import random
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from cluster import ClusterTestCase, seed_from_env  # noqa: E402

IDLE = 50            # connections that send nothing
READ_WAIT = 2.0      # seconds to wait for the server's answer / close
# A connection whose HTTP/2 preface never completes is not refused at once
# (more bytes could come): the peer server's keepalive ping (after 2 s)
# goes unanswered for 2 s more, then it closes. Bound with slack.
KEEPALIVE_CLOSE_WAIT = 12.0
REPL_BOUND = 5.0
FD_SLACK = 5         # descriptors node 1 may hold beyond its count before the idle ones
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def frame_header(length, ftype, flags, stream):
    """An HTTP/2 frame header: 24-bit length, type, flags, 31-bit stream."""
    return struct.pack(">I", length)[1:] + bytes([ftype, flags]) + struct.pack(">I", stream)


def settings_frame():
    return frame_header(0, 0x4, 0, 0)


class HostilePeerTest(ClusterTestCase):
    def connect(self, node):
        s = socket.create_connection((node.host, node.peer_port), timeout=READ_WAIT)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def drain(self, s, wait=READ_WAIT):
        """Reads what the server sends until it closes or `wait` passes;
        returns (bytes, closed)."""
        data = b""
        deadline = time.monotonic() + wait
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return data, False
            s.settimeout(remaining)
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return data, False
            except (ConnectionResetError, BrokenPipeError):
                return data, True
            if not chunk:
                return data, True
            data += chunk

    def send_quietly(self, s, data):
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            s.sendall(data)

    def assert_healthy(self, c, tag):
        """Node 1 alive, answering, its data intact; replication both ways;
        membership unchanged."""
        n1 = c.node(1)
        self.assertTrue(n1.alive(), "node1 died (%s); log:\n%s" % (tag, n1.log_tail()))
        self.assertTrue(n1.ping(timeout=REPL_BOUND), "node1 does not answer PING (%s)" % tag)
        self.assertEqual(c.r(1).get("sentinel"), "written before")
        self.assertEqual(c.r(1).get("counter"), "3")
        c.r(2).set("from-2:" + tag, "x")
        c.wait_value("from-2:" + tag, "x", timeout=REPL_BOUND, nodes=[1, 3])
        c.r(1).set("from-1:" + tag, "y")
        c.wait_value("from-1:" + tag, "y", timeout=REPL_BOUND, nodes=[2, 3])
        c.r(1).incr("counter:" + tag)
        c.r(3).incr("counter:" + tag)
        c.wait_value("counter:" + tag, "2", timeout=REPL_BOUND)
        c.wait_healthy(REPL_BOUND)

    def test_garbage_on_the_peer_port(self):
        """Each kind of hostile input in turn, then idle connections; node 1
        keeps serving and replicating throughout."""
        rng = random.Random(seed_from_env())
        with self.cluster(3) as c:
            n1 = c.node(1)
            c.r(1).set("sentinel", "written before")
            for i in (1, 2, 3):
                c.r(i).incr("counter")
            c.wait_value("counter", "3", timeout=REPL_BOUND)
            c.wait_value("sentinel", "written before", timeout=REPL_BOUND)

            garbage = bytes(rng.randrange(256) for _ in range(64 * 1024))
            cases = [
                ("random garbage", [garbage], "close"),
                ("HTTP/1.1 request", [b"GET / HTTP/1.1\r\nHost: lattice\r\n"
                                      b"Connection: keep-alive\r\n\r\n"], "close"),
                ("truncated HTTP/2 preface", [PREFACE[:11]], "keepalive-close"),
                ("huge frame length", [PREFACE, settings_frame(),
                                       frame_header(0xFFFFFF, 0x0, 0, 1), b"\0" * 100],
                 "close"),
                ("huge HEADERS frame", [PREFACE, settings_frame(),
                                        frame_header(0xFFFFFF, 0x1, 0x4, 1), b"\x82" * 50],
                 "close"),
                ("reset mid-frame", [PREFACE, frame_header(6, 0x4, 0, 0)[:5]], "reset"),
                ("garbage after the preface", [PREFACE, garbage[:4096]], "close"),
            ]
            for name, chunks, ending in cases:
                with self.subTest(case=name):
                    s = self.connect(n1)
                    try:
                        for chunk in chunks:
                            self.send_quietly(s, chunk)
                        if ending == "reset":
                            # SO_LINGER 0: close() sends RST, as a crashed peer would.
                            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                         struct.pack("ii", 1, 0))
                        else:
                            wait = KEEPALIVE_CLOSE_WAIT if ending == "keepalive-close" \
                                else READ_WAIT
                            started = time.monotonic()
                            data, closed = self.drain(s, wait=wait)
                            sys.stdout.write("%s: server sent %d bytes%s after %.1fs\n"
                                             % (name, len(data), ", closed" if closed else "",
                                                time.monotonic() - started))
                            self.assertTrue(closed, "node1 did not close the connection "
                                            "within %.0fs after %s (it sent %r)"
                                            % (wait, name, data[:100]))
                    finally:
                        s.close()
                    self.assertTrue(n1.alive(), "node1 died after %s; log:\n%s"
                                    % (name, n1.log_tail()))
                    self.assertTrue(n1.ping(timeout=REPL_BOUND), "node1 silent after %s" % name)

            # A trickle abandoned halfway: preface one byte at a time.
            s = self.connect(n1)
            try:
                for b in PREFACE[:12]:
                    self.send_quietly(s, bytes([b]))
            finally:
                s.close()
            self.assert_healthy(c, "after-garbage")

            fds = lambda: len(os.listdir("/proc/%d/fd" % n1.proc.pid))  # noqa: E731
            fds_before = fds()
            idle = []
            try:
                for _ in range(IDLE):
                    idle.append(self.connect(n1))
                # Half of them get as far as the preface, then hang.
                for s in idle[::2]:
                    self.send_quietly(s, PREFACE)
                self.assert_healthy(c, "with-idle")
            finally:
                for s in idle:
                    s.close()
            self.assert_healthy(c, "after-idle")
            # The idle connections' descriptors are given back.
            try:
                harness.wait_until(lambda: fds() <= fds_before + FD_SLACK, REPL_BOUND,
                                   what="node1's descriptors to be given back")
            except TimeoutError as e:
                self.fail("%s: %d open, %d before the idle connections" % (e, fds(), fds_before))


if __name__ == "__main__":
    harness.main()
