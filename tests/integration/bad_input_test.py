#!/usr/bin/python3
"""Bad and hostile input: lattice-server compared with real Redis.

For every scenario Redis defines, both servers get the same bytes and what a
client sees is compared: the reply bytes and whether the server closed the
connection. After each scenario the server must still answer PING on a new
connection and data written before (a sentinel key) must be intact.

Scenarios: malformed RESP (wrong type byte, bulk/multibulk lengths out of
range or malformed, oversized length lines and inline requests, unbalanced
quotes), inline and skipped frames, a command pipelined after a protocol
error (must not run), a client that sends half a frame and stalls (others
are served meanwhile; it completes when the rest arrives), a byte-at-a-time
sender, a client that vanishes mid-frame, 2000 idle connections, maxclients,
client-query-buffer-limit and a large pipeline. Every loop is bounded and
every wait has a deadline.

Environment: LATTICE_SERVER, REDIS_SERVER (see harness.py).
"""

import os
import socket
import sys
import time
import unittest

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import ConnectionClosed, encode_command  # noqa: E402

CLOSE_WAIT = 3.0      # seconds to wait for a server to close a connection
MARKER = encode_command("ECHO", "__marker__")
MARKER_REPLY = b"$10\r\n__marker__\r\n"
SENTINEL_KEY = b"sentinel:data"
SENTINEL_VAL = b"written before the bad input"

SERVERS = {}


def setUpModule():
    # 2000 idle connections per server, plus slack; servers inherit this.
    harness.raise_nofile_limit(16384)
    ref = harness.Server(harness.redis_server_path(), kind="redis", name="redis")
    unittest.addModuleCleanup(ref.stop)
    ref.start()
    lat = harness.Server(harness.lattice_server_path(), name="lattice")
    unittest.addModuleCleanup(lat.stop)
    lat.start()
    SERVERS["redis"], SERVERS["lattice"] = ref, lat
    for srv in (ref, lat):
        write_sentinel(srv)


def write_sentinel(srv):
    with srv.client() as c:
        assert c.call(b"SET", SENTINEL_KEY, SENTINEL_VAL) == b"+OK\r\n"


def send_quietly(conn, data, chunk=65536):
    """Sends data; a server that closes meanwhile is not an error here.
    Returns the number of bytes handed to the kernel."""
    sent = 0
    try:
        for i in range(0, len(data), chunk):
            conn.send_raw(data[i:i + chunk])
            sent += len(data[i:i + chunk])
    except (BrokenPipeError, ConnectionResetError):
        pass
    return sent


def observe(srv, payload, closes):
    """Sends payload on a new connection and returns (bytes_seen, closed).

    closes=True: read until the server closes (deadline CLOSE_WAIT).
    closes=False: the connection is expected to stay open; an ECHO marker is
    sent after the payload and bytes are read until its reply (then the
    connection is known to be open and every earlier reply has arrived)."""
    with srv.client(timeout=CLOSE_WAIT) as c:
        send_quietly(c, payload)
        if closes:
            return c.read_until_close(CLOSE_WAIT)
        send_quietly(c, MARKER)
        data = b""
        deadline = time.monotonic() + CLOSE_WAIT
        while not data.endswith(MARKER_REPLY):
            more, closed = c.read_until_close(min(0.05, max(0.0, deadline - time.monotonic())))
            data += more
            if closed:
                return data, True
            if time.monotonic() >= deadline:
                return data, False
        return data[:-len(MARKER_REPLY)], False


class Base(unittest.TestCase):
    maxDiff = None

    def assert_healthy(self, srv, sentinel=True):
        self.assertTrue(srv.alive(), "%s died; log:\n%s" % (srv.name, srv.log_tail()))
        self.assertTrue(srv.ping(), "%s does not answer PING; log:\n%s"
                        % (srv.name, srv.log_tail()))
        if sentinel:
            with srv.client() as c:
                self.assertEqual(c.call(b"GET", SENTINEL_KEY), b"$%d\r\n%s\r\n"
                                 % (len(SENTINEL_VAL), SENTINEL_VAL),
                                 "%s lost data written before" % srv.name)

    def compare(self, what, ref_obs, lat_obs):
        self.assertEqual(lat_obs, ref_obs,
                         "%s: lattice saw %r, Redis %r (bytes, closed)" % (what, lat_obs, ref_obs))


# (name, payload, closes, expected reply bytes from Redis or None)
PROTOCOL_CASES = [
    ("wrong_type_byte_in_multibulk", b"*1\r\n+foo\r\n", True,
     b"-ERR Protocol error: expected '$', got '+'\r\n"),
    ("nested_array_argument", b"*2\r\n$4\r\nECHO\r\n*1\r\n", True,
     b"-ERR Protocol error: expected '$', got '*'\r\n"),
    ("bulk_len_4294967296", b"*1\r\n$4294967296\r\n", True,
     b"-ERR Protocol error: invalid bulk length\r\n"),
    ("bulk_len_over_proto_max_bulk_len", b"*1\r\n$600000000\r\n", True,
     b"-ERR Protocol error: invalid bulk length\r\n"),
    ("bulk_len_negative", b"*1\r\n$-5\r\n", True,
     b"-ERR Protocol error: invalid bulk length\r\n"),
    ("bulk_len_leading_zero", b"*1\r\n$03\r\nabc\r\n", True,
     b"-ERR Protocol error: invalid bulk length\r\n"),
    ("bulk_len_plus_sign", b"*1\r\n$+3\r\nabc\r\n", True,
     b"-ERR Protocol error: invalid bulk length\r\n"),
    ("bulk_len_space", b"*1\r\n$ 4\r\nPING\r\n", True,
     b"-ERR Protocol error: invalid bulk length\r\n"),
    ("multibulk_2147483648", b"*2147483648\r\n", True,
     b"-ERR Protocol error: invalid multibulk length\r\n"),
    ("multibulk_not_a_number", b"*abc\r\n", True,
     b"-ERR Protocol error: invalid multibulk length\r\n"),
    ("multibulk_leading_zero", b"*01\r\n$4\r\nPING\r\n", True,
     b"-ERR Protocol error: invalid multibulk length\r\n"),
    ("multibulk_trailing_space", b"*1 \r\n$4\r\nPING\r\n", True,
     b"-ERR Protocol error: invalid multibulk length\r\n"),
    ("too_big_inline_request", b"A" * 70000, True,
     b"-ERR Protocol error: too big inline request\r\n"),
    ("too_big_mbulk_count_string", b"*" + b"1" * 70000, True,
     b"-ERR Protocol error: too big mbulk count string\r\n"),
    ("too_big_bulk_count_string", b"*1\r\n$" + b"1" * 70000, True,
     b"-ERR Protocol error: too big bulk count string\r\n"),
    ("unbalanced_double_quote", b'SET "foo bar\r\n', True,
     b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    ("unbalanced_single_quote", b"SET 'foo bar\r\n", True,
     b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    ("closing_quote_not_followed_by_space", b'SET k "a"b\r\n', True,
     b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    ("replies_before_the_error_are_sent", b"PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n+x\r\n", True,
     b"+PONG\r\n+PONG\r\n-ERR Protocol error: expected '$', got '+'\r\n"),
    # Frames Redis skips or accepts: the connection stays open.
    ("empty_lines_and_empty_multibulks", b"\r\n\r\n*0\r\n*-1\r\nPING\r\n", False,
     b"+PONG\r\n"),
    ("negative_multibulk_count_skipped", b"*-5\r\nPING\r\n", False, b"+PONG\r\n"),
    ("whitespace_only_inline", b"   \r\nPING\r\n", False, b"+PONG\r\n"),
    ("inline_double_quotes", b'SET bi:k "a b"\r\nGET bi:k\r\n', False,
     b"+OK\r\n$3\r\na b\r\n"),
    ("inline_single_quotes", b"ECHO 'x y'\r\n", False, b"$3\r\nx y\r\n"),
    ("inline_escapes", b'ECHO "\\x41\\n\\t\\"q"\r\n', False, b'$5\r\nA\n\t"q\r\n'),
    ("inline_lf_only", b"PING\n", False, b"+PONG\r\n"),
    ("inline_extra_spaces", b"  ECHO    hi   \r\n", False, b"$2\r\nhi\r\n"),
    ("inline_dollar_is_a_command_name", b"$4\r\nPING\r\n", False,
     b"-ERR unknown command '$4', with args beginning with: \r\n+PONG\r\n"),
    ("mixed_inline_and_multibulk", b"*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n",
     False, b"+PONG\r\n+PONG\r\n$1\r\nx\r\n"),
    ("binary_bulk_argument", b"*2\r\n$4\r\nECHO\r\n$4\r\n\r\n\x00\xff\r\n", False,
     b"$4\r\n\r\n\x00\xff\r\n"),
    ("inline_unknown_command", b"NOSUCHCMD a b\r\n", False,
     b"-ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b' \r\n"),
]


class ProtocolErrorTests(Base):
    def test_protocol_cases(self):
        for name, payload, closes, expected in PROTOCOL_CASES:
            with self.subTest(case=name):
                ref = observe(SERVERS["redis"], payload, closes)
                if expected is not None:
                    self.assertEqual(ref, (expected, closes),
                                     "TEST BUG: Redis does not behave as the case says")
                lat = observe(SERVERS["lattice"], payload, closes)
                self.compare(name, ref, lat)
                self.assert_healthy(SERVERS["lattice"])
        self.assert_healthy(SERVERS["redis"])

    def test_command_after_protocol_error_not_executed(self):
        payload = (b"SET pe:a 1\r\n*1\r\n+foo\r\nSET pe:b 2\r\n"
                   + encode_command("SET", "pe:c", "3"))
        obs = {}
        for name in ("redis", "lattice"):
            srv = SERVERS[name]
            with srv.client() as c:
                c.call(b"DEL", b"pe:a", b"pe:b", b"pe:c")
            obs[name] = observe(srv, payload, True)
            with srv.client() as c:
                after = [c.call(b"GET", k) for k in (b"pe:a", b"pe:b", b"pe:c")]
            self.assertEqual(after, [b"$1\r\n1\r\n", b"$-1\r\n", b"$-1\r\n"],
                             "%s: only the command before the error may run" % name)
            self.assert_healthy(srv)
        self.assertEqual(obs["redis"], (b"+OK\r\n-ERR Protocol error: expected '$', "
                                        b"got '+'\r\n", True))
        self.compare("pipelined after error", obs["redis"], obs["lattice"])


class SlowClientTests(Base):
    def stalled_half_frame(self, srv):
        """Returns what the stalled client saw, checking the semantics on the
        way: nothing before the rest arrives, others served meanwhile."""
        key = b"stall:k"
        with srv.client() as other:
            other.call(b"DEL", key)
        stalled = srv.client()
        self.addCleanup(stalled.close)
        frame = encode_command("SET", key, "hello")
        half = frame[:len(frame) - 4]  # "...$5\r\nhel"
        stalled.send_raw(half)
        # Other clients are served while the frame is incomplete.
        with srv.client(timeout=5) as other:
            t0 = time.monotonic()
            self.assertEqual(other.call(b"PING"), b"+PONG\r\n")
            self.assertEqual(other.call(b"SET", b"stall:other", b"v"), b"+OK\r\n")
            other.send_raw(encode_command("INCR", "stall:n") * 200)
            replies = other.read_replies(200)
            self.assertEqual(len(replies), 200)
            self.assertEqual(other.call(b"GET", key), b"$-1\r\n",
                             "%s ran a command before its frame was complete" % srv.name)
            self.assertLess(time.monotonic() - t0, 5.0)
        # The stalled client got nothing and is still connected.
        data, closed = stalled.read_until_close(0.3)
        self.assertEqual((data, closed), (b"", False),
                         "%s answered or closed an incomplete frame" % srv.name)
        stalled.send_raw(frame[len(half):])
        reply = stalled.read_reply(timeout=5)
        with srv.client() as other:
            value = other.call(b"GET", key)
        self.assert_healthy(srv)
        return reply, value

    def test_stalled_half_frame(self):
        ref = self.stalled_half_frame(SERVERS["redis"])
        self.assertEqual(ref, (b"+OK\r\n", b"$5\r\nhello\r\n"))
        lat = self.stalled_half_frame(SERVERS["lattice"])
        self.compare("stalled half frame", ref, lat)

    def test_byte_at_a_time(self):
        payload = (encode_command("SET", "bat:k", "v\r\nv") + b"GET bat:k\r\n"
                   + encode_command("ECHO", "") + b"*-1\r\n" + encode_command("STRLEN", "bat:k"))
        seen = {}
        for name in ("redis", "lattice"):
            srv = SERVERS[name]
            with srv.client() as c:
                for i in range(len(payload)):
                    c.send_raw(payload[i:i + 1])
                seen[name] = c.read_replies(4, timeout=5)
            self.assert_healthy(srv)
        self.assertEqual(seen["redis"], [b"+OK\r\n", b"$4\r\nv\r\nv\r\n", b"$0\r\n\r\n", b":4\r\n"])
        self.compare("byte at a time", seen["redis"], seen["lattice"])

    def test_client_vanishes_mid_frame(self):
        for name in ("redis", "lattice"):
            srv = SERVERS[name]
            for cut in (3, 17, 30):
                c = srv.client()
                frame = encode_command("SET", "vanish:k", "x" * 100)
                c.send_raw(frame[:cut])
                c.close()
            # A big announced bulk, then gone.
            c = srv.client()
            c.send_raw(b"*3\r\n$3\r\nSET\r\n$8\r\nvanish:k\r\n$10000000\r\nabc")
            c.close()
            with srv.client() as c:
                self.assertEqual(c.call(b"EXISTS", b"vanish:k"), b":0\r\n",
                                 "%s ran a partial command" % name)
            self.assert_healthy(srv)

    def test_large_pipeline_without_reading(self):
        """20000 commands written before any reply is read: the server must
        buffer the replies (or stop reading) without dropping any."""
        n = 20000
        payload = encode_command("INCR", "pipe:n") * n + encode_command("GET", "pipe:n")
        for name in ("redis", "lattice"):
            srv = SERVERS[name]
            with srv.client(timeout=30) as c:
                c.call(b"DEL", b"pipe:n")
                # Write everything, draining replies whenever the socket
                # would block, so neither side can wait on the other forever.
                view = memoryview(payload)
                pos = 0
                deadline = time.monotonic() + 30
                c.sock.setblocking(False)
                try:
                    while pos < len(view) and time.monotonic() < deadline:
                        try:
                            pos += c.sock.send(view[pos:pos + 65536])
                            continue
                        except BlockingIOError:
                            pass
                        try:
                            chunk = c.sock.recv(1 << 20)
                        except BlockingIOError:
                            time.sleep(0.001)
                            continue
                        self.assertTrue(chunk, "%s closed the connection" % name)
                        c.buf += chunk
                finally:
                    c.sock.setblocking(True)
                self.assertEqual(pos, len(view), "%s: could not send the pipeline" % name)
                replies = c.read_replies(n + 1, timeout=max(0.1, deadline - time.monotonic()))
                self.assertEqual(replies[0], b":1\r\n", name)
                self.assertEqual(replies[n - 1], b":%d\r\n" % n, name)
                self.assertEqual(replies[n], b"$5\r\n%d\r\n" % n, name)
            self.assert_healthy(srv)


class ConnectionLimitTests(Base):
    def test_many_idle_connections(self):
        soft = harness.raise_nofile_limit(16384)
        n = min(2000, soft - 300)
        if n < 2000:
            sys.stderr.write("note: RLIMIT_NOFILE %d allows only %d idle connections\n"
                             % (soft, n))
        for name in ("redis", "lattice"):
            srv = SERVERS[name]
            socks = []
            try:
                deadline = time.monotonic() + 60
                for _ in range(n):
                    self.assertLess(time.monotonic(), deadline, "%s: connecting too slow" % name)
                    s = socket.create_connection((srv.host, srv.port), timeout=10)
                    socks.append(s)
                # A new client is served while they are all idle.
                with srv.client(timeout=10) as c:
                    self.assertEqual(c.call(b"PING"), b"+PONG\r\n")
                    self.assertEqual(c.call(b"SET", b"idle:k", b"v"), b"+OK\r\n")
                    self.assertEqual(c.call(b"GET", b"idle:k"), b"$1\r\nv\r\n")
                # Every idle connection was accepted and works.
                ping = encode_command("PING")
                for s in socks:
                    s.sendall(ping)
                deadline = time.monotonic() + 30
                for i, s in enumerate(socks):
                    got = b""
                    while len(got) < 7:
                        s.settimeout(max(0.01, deadline - time.monotonic()))
                        chunk = s.recv(64)
                        self.assertTrue(chunk, "%s closed idle connection %d" % (name, i))
                        got += chunk
                    self.assertEqual(got, b"+PONG\r\n", "%s idle connection %d" % (name, i))
            finally:
                for s in socks:
                    s.close()
            self.assert_healthy(srv)

    def _fill(self, srv, count, deadline):
        """Opens `count` connections that each got +PONG, retrying while the
        server still counts connections we already closed."""
        conns = []
        while len(conns) < count:
            self.assertLess(time.monotonic(), deadline,
                            "%s: could not open %d connections" % (srv.name, count))
            c = srv.client(timeout=5)
            try:
                reply = c.call(b"PING")
            except ConnectionClosed as e:
                reply = e.partial
            if reply == b"+PONG\r\n":
                conns.append(c)
            else:
                c.close()
                time.sleep(0.05)
        return conns

    def maxclients_scenario(self, srv):
        write_sentinel(srv)
        conns = self._fill(srv, 10, time.monotonic() + 10)
        try:
            extra = srv.client(timeout=CLOSE_WAIT)
            seen = extra.read_until_close(CLOSE_WAIT)
            extra.close()
            # The ten are still served.
            for c in conns:
                self.assertEqual(c.call(b"PING"), b"+PONG\r\n")
            # Closing one makes room for a new client.
            conns.pop().close()
            conns += self._fill(srv, 1, time.monotonic() + 10)
            self.assertEqual(conns[-1].call(b"GET", SENTINEL_KEY)[:1], b"$")
        finally:
            for c in conns:
                c.close()
        self.assert_healthy(srv)
        return seen

    def test_maxclients(self):
        results = {}
        for name, path, kind in (("redis", harness.redis_server_path(), "redis"),
                                 ("lattice", harness.lattice_server_path(), None)):
            with harness.Server(path, [("maxclients", 10)], kind=kind, name=name) as srv:
                results[name] = self.maxclients_scenario(srv)
        self.assertEqual(results["redis"], (b"-ERR max number of clients reached\r\n", True))
        self.compare("11th client with maxclients 10", results["redis"], results["lattice"])

    def query_buffer_scenario(self, srv):
        write_sentinel(srv)
        # Under the limit: fine.
        with srv.client(timeout=10) as c:
            self.assertEqual(c.call(b"SET", b"qb:ok", b"x" * 500000), b"+OK\r\n")
        # A 3 MB bulk announced, 2 MB sent: the buffer passes 1 MB.
        with srv.client(timeout=10) as c:
            send_quietly(c, b"*3\r\n$3\r\nSET\r\n$5\r\nqb:no\r\n$3000000\r\n")
            send_quietly(c, b"x" * 2000000)
            seen = c.read_until_close(5.0)
        with srv.client() as c:
            self.assertEqual(c.call(b"EXISTS", b"qb:no"), b":0\r\n")
            self.assertEqual(c.call(b"STRLEN", b"qb:ok"), b":500000\r\n")
        self.assert_healthy(srv)
        return seen

    def test_query_buffer_limit(self):
        results = {}
        for name, path, kind in (("redis", harness.redis_server_path(), "redis"),
                                 ("lattice", harness.lattice_server_path(), None)):
            with harness.Server(path, [("client-query-buffer-limit", "1mb")], kind=kind,
                                name=name) as srv:
                results[name] = self.query_buffer_scenario(srv)
        # Redis closes without a reply (it logs "Closing client that reached
        # max query buffer length").
        self.assertEqual(results["redis"], (b"", True))
        self.compare("2MB partial bulk with a 1mb query buffer limit",
                     results["redis"], results["lattice"])


if __name__ == "__main__":
    harness.main()
