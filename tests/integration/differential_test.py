#!/usr/bin/python3
"""Differential test: lattice-server against real Redis, reply byte for byte.

Both servers are started side by side; every command is sent to both over raw
sockets and the raw reply bytes are compared. Two parts:

(a) Deterministic cases, one test method per command family (test_family_*).
    Each family starts on fresh connections after FLUSHALL. Some cases carry
    `expect`: the reply real Redis must give. That checks the test itself (a
    case that no longer tests what it says fails as a TEST BUG) and documents
    the semantics; Lattice is only ever compared with Redis.

(b) A randomized command stream (test_random_stream): LATTICE_RANDOM_COUNT
    (default 100000) commands in databases 0-2, with edge-case arguments,
    pipelined in batches. Keys are drawn from a skewed key space: a few hot
    keys (most commands, so types and values collide: integers meet text,
    INCR meets floats) and a larger pool of cold keys (mostly missing; a
    TTL, rename or copy stays in place for many commands; bigger
    KEYS/SCAN/RANDOMKEY/DBSIZE results). The seed is printed; rerun with LATTICE_SEED=<seed> to
    reproduce. Any divergence fails the test and the first ones are
    reported with the command and both replies.

A transport error on either side (a timeout, a closed connection, bytes
that are not RESP) is always a failure, never an agreement, even when both
servers fail the same way: the replies were not compared. In the random
stream it also stops the stream (replies can no longer be matched to
commands); in the follow-up calls of SCAN and RANDOMKEY it raises, which
fails the test as an error.

Normalization of nondeterministic replies (everything else is compared byte
for byte):
  sorted     KEYS: both replies parsed, compared as sorted lists (Redis's
             order is its hash table's order, not part of the contract).
  scan       SCAN: each server is iterated from cursor 0 until it returns
             cursor 0 again; the unions of keys are compared (cursors and
             page boundaries are implementation details). Error replies to
             the first call are compared byte for byte.
  approx     TTL, PTTL, EXPIRETIME, PEXPIRETIME of relative expirations and
             OBJECT IDLETIME: integers compared within a tolerance (the two
             servers execute at slightly different times). Negative results
             (-1 no expiry, -2 no key) and non-integer replies must match
             exactly. Absolute expirations (EXPIREAT / PXAT) are exact.
  randomkey  RANDOMKEY: both null (exact), or both a bulk string naming a
             key that EXISTS on that server.
  hello      HELLO: the map (RESP3) or flat array (RESP2) is compared with
             the values of "server", "version" and "id" masked; proto, mode,
             role, modules and the reply type must match.
  stream     Streams (fam_streams) where a reply holds wall-clock values:
             both parsed; auto-generated entry ids ("<13-digit ms>-<seq>")
             are compared by their ms part, and integers >= 10**12 (absolute
             ms times: XINFO STREAM FULL's seen-time and delivery times) and
             idle times (XPENDING's extended form, XINFO CONSUMERS) within
             TTL_TOL_MS; XINFO STREAM's radix-tree-nodes (a count of Redis's
             rax nodes, a memory-layout detail) is masked. Everything else,
             reply types included, must match exactly.
  skip       OBJECT FREQ: sent to both, not compared. It is only meaningful
             under an LFU maxmemory-policy, which Lattice does not have
             (Redis answers with an error there).
Random stream only: LCS is run only when STRLEN of both keys is small (the
LCS table is O(len1*len2) memory in Redis); RELATIVE expirations never use
GT/LT (whether "now + N" is greater than an expiry set a few milliseconds
earlier with the same N depends on the clock), absolute ones may.

Environment: LATTICE_SERVER (server under test), REDIS_SERVER (reference),
LATTICE_SEED, LATTICE_RANDOM_COUNT, LATTICE_BATCH (default 100).
"""

import os
import random
import re
import sys
import time
import unittest

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (ConnectionClosed, ProtocolError, encode_command,  # noqa: E402
                     parse_reply)

# Absolute expiry far in the future (2100-01-01T00:00:00Z), so EXPIRETIME etc.
# are exact.
FUTURE_S = 4102444800
FUTURE_MS = FUTURE_S * 1000 + 123

# Tolerances for "approx": deterministic cases run one command at a time;
# the random stream pipelines batches, so it gets more slack.
TTL_TOL_S = 2
TTL_TOL_MS = 2000
RANDOM_TOL_S = 5
RANDOM_TOL_MS = 5000

MAX_REPORTED = 10   # divergences printed in detail
MAX_DIVERGENCES = 25  # random stream stops after this many

# Random stream defaults (LATTICE_RANDOM_COUNT / LATTICE_BATCH override):
# about 2.5 s against an optimized lattice-server and about 3 s under ASan
# (the Python side is most of it).
RANDOM_COUNT = 100000
RANDOM_BATCH = 100


# --------------------------------------------------------------------------
# Steps and comparison
# --------------------------------------------------------------------------

class Step:
    """One command and how to compare its replies."""
    __slots__ = ("args", "norm", "tol", "expect", "note")

    def __init__(self, args, norm="exact", tol=0, expect=None, note=None):
        self.args = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        self.norm = norm
        self.tol = tol
        self.expect = expect
        self.note = note

    def __repr__(self):
        return "Step(%s)" % fmt_args(self.args)


def C(*args, **kw):
    """A step compared exactly (or as given by norm=...)."""
    return Step(args, **kw)


def E(expect, *args, **kw):
    """A step whose Redis reply is also asserted to be `expect` (str or bytes;
    a str without a leading type byte is taken as an error text)."""
    if isinstance(expect, str):
        expect = expect.encode()
    if expect[:1] not in b"+-:$*_,#(!=%~>|":
        expect = b"-" + expect
    if not expect.endswith(b"\r\n"):
        expect += b"\r\n"
    return Step(args, expect=expect, **kw)


def TTL(*args, ms=False):
    return Step(args, norm="approx", tol=TTL_TOL_MS if ms else TTL_TOL_S)


def ERR_ARITY(name, *args):
    return E("ERR wrong number of arguments for '%s' command" % name, *args)


def fmt_args(args, limit=200):
    s = " ".join(repr(a)[1:] if isinstance(a, bytes) else repr(a) for a in args)
    return s if len(s) <= limit else s[:limit] + "..."


class TransportError(str):
    """What Pair._read returns instead of reply bytes when none could be
    read: a timeout, a closed connection or an unparsable reply. Never
    compared as a reply: a step with one on either side fails."""


def transport_failure(ref, lat):
    """A reason string if either side got no reply (see TransportError)."""
    bad = [(who, x) for who, x in (("redis", ref), ("lattice", lat))
           if isinstance(x, TransportError)]
    if not bad:
        return None
    return "transport error (%s): not a comparison" % "; ".join(
        "%s: %s" % (who, x) for who, x in bad)


def fmt_reply(raw, limit=300):
    if raw is None:
        return "<none>"
    if isinstance(raw, str):
        return raw
    s = repr(raw)
    return s if len(s) <= limit else s[:limit] + "...(%d bytes)" % len(raw)


def _safe_parse(raw):
    if not isinstance(raw, bytes) or isinstance(raw, TransportError):
        return None
    try:
        return parse_reply(raw)
    except (ProtocolError, ValueError, IndexError):
        return None


def _is_null(node):
    return node is not None and (node[0] == "_" or (node[0] in "$*" and node[1] is None))


def _hello_view(raw):
    node = _safe_parse(raw)
    if node is None or node[0] not in "%*":
        return raw
    t, v = node
    if t == "%":
        pairs = v
    else:
        if len(v) % 2:
            return raw
        pairs = list(zip(v[0::2], v[1::2]))
    out = []
    for k, val in pairs:
        if k[1] in (b"server", b"version", b"id"):
            val = ("masked", k[1])
        out.append((k, val))
    return (t, out)


def compare_plain(step, ref, lat):
    """Compares two raw replies under a batchable normalization. Returns None
    when they agree, else a short reason."""
    norm = step.norm
    if norm == "skip":
        return None
    if ref == lat:
        return None
    if norm in ("exact", "fixed"):   # "fixed": exact, but never mutated by the stream
        return "replies differ"
    if norm == "sorted":
        a, b = _safe_parse(ref), _safe_parse(lat)
        if a and b and a[0] == b[0] and a[0] in "*~" and a[1] is not None and b[1] is not None:
            if sorted(x[1] for x in a[1]) == sorted(x[1] for x in b[1]) and \
                    [x[0] for x in a[1]] == [x[0] for x in b[1]]:
                return None
            return "different sets of elements"
        return "replies differ"
    if norm == "approx":
        a, b = _safe_parse(ref), _safe_parse(lat)
        if a and b and a[0] == ":" and b[0] == ":":
            if a[1] < 0 or b[1] < 0:
                return "replies differ"
            if abs(a[1] - b[1]) <= step.tol:
                return None
            return "differ by %d (tolerance %d)" % (abs(a[1] - b[1]), step.tol)
        return "replies differ"
    if norm == "hello":
        return None if _hello_view(ref) == _hello_view(lat) else \
            "HELLO replies differ (server/version/id masked)"
    if norm in ("unordered", "pairs"):
        a, b = _safe_parse(ref), _safe_parse(lat)
        if a and b and a[0] == b[0] and a[0] in "*~%" and a[1] is not None and \
                b[1] is not None:
            if _unordered_view(a, norm == "pairs") == _unordered_view(b, norm == "pairs"):
                return None
            return "different elements"
        return "replies differ"
    if norm == "shape":
        a, b = _safe_parse(ref), _safe_parse(lat)
        if a and b and a[0] == b[0] == "$" and a[1] is not None and b[1] is not None:
            return None  # one random element each
        if a and b and a[0] == b[0] == ":":
            return None  # a figure each
        if a and b and a[0] == b[0] and a[0] in "*~%" and a[1] is not None and \
                b[1] is not None and len(a[1]) == len(b[1]):
            return None
        return "reply shapes differ"
    if norm == "subcommands":
        return compare_subcommand_subset(ref, lat)
    if norm == "deep":
        a, b = _safe_parse(ref), _safe_parse(lat)
        if a and b and _canon(a) == _canon(b):
            return None
        return "different elements (in any order, at any depth)"
    if norm == "stream":
        a, b = _safe_parse(ref), _safe_parse(lat)
        if a and b and _approx_eq(_stream_view(step.args, a), _stream_view(step.args, b),
                                  step.tol or TTL_TOL_MS):
            return None
        return "replies differ (stream times compared within %d ms, radix-tree-nodes masked)" \
            % (step.tol or TTL_TOL_MS)
    raise AssertionError("compare_plain: unknown normalization %r" % norm)


def _canon(node):
    """A reply with every array, set and map put in a canonical order, at
    every depth (FUNCTION LIST: Redis lists libraries and functions in its
    dictionaries' hash order)."""
    kind, value = node[0], node[1]
    if kind == "%" and isinstance(value, list):
        return (kind, tuple(sorted(((_canon(k), _canon(v)) for k, v in value), key=repr)))
    if kind in "*~>" and isinstance(value, list):
        return (kind, tuple(sorted((_canon(x) for x in value), key=repr)))
    return (kind, repr(value))


def _unordered_view(node, pairs):
    """A collection reply as a sorted list of its items (of item pairs when
    `pairs`: a RESP2 HGETALL-like flat array, or any RESP3 map)."""
    items = node[1]
    if node[0] == "%":
        return sorted(repr(kv) for kv in items)
    if pairs and not all(x[0] == "*" for x in items):   # RESP3 nests the pairs already
        if len(items) % 2:
            return ["<odd>"] + sorted(repr(x) for x in items)
        return sorted(repr((items[i], items[i + 1])) for i in range(0, len(items), 2))
    return sorted(repr(x) for x in items)


# "stream" normalization (see the module docstring). A time is marked
# ("~time", ms) and compared within a tolerance; a masked value is ("~masked",).
_STREAM_AUTO_ID = re.compile(rb"^([0-9]{13})-([0-9]+)$")
STREAM_ABS_TIME = 10 ** 12   # integers from here on are Unix times in ms (2001 on)


def _map_items(node):
    """(key, value) pairs of a RESP3 map or of a RESP2 flat key/value array,
    else None."""
    if node[0] == "%":
        return list(node[1])
    if node[0] == "*" and node[1] is not None and len(node[1]) % 2 == 0 and \
            all(k[0] == "$" for k in node[1][0::2]):
        return list(zip(node[1][0::2], node[1][1::2]))
    return None


def _rebuild_map(node, items):
    if node[0] == "%":
        return ("%", items)
    return ("*", [x for kv in items for x in kv])


def _stream_generic(node):
    """Marks, at any depth, auto-generated entry ids ("<13-digit ms>-<seq>",
    compared by their ms part) and integers that are absolute ms times."""
    kind, value = node[0], node[1]
    if kind == "$" and isinstance(value, bytes):
        m = _STREAM_AUTO_ID.match(value)
        if m:
            return ("~time", int(m.group(1)))
    if kind == ":" and value >= STREAM_ABS_TIME:
        return ("~time", value)
    if kind in "*~>" and isinstance(value, list):
        return (kind, [_stream_generic(x) for x in value])
    if kind == "%" and isinstance(value, list):
        return (kind, [(_stream_generic(k), _stream_generic(v)) for k, v in value])
    return node


def _mark_fields(node, times=(), masked=()):
    """A map node with the values of the fields in `times` marked as times and
    of those in `masked` masked."""
    items = _map_items(node)
    if items is None:
        return node
    out = []
    for k, v in items:
        if k[1] in masked:
            v = ("~masked",)
        elif k[1] in times and v[0] == ":":
            v = ("~time", v[1])
        out.append((k, v))
    return _rebuild_map(node, out)


def _stream_view(args, node):
    """The reply with its wall-clock parts marked (for _approx_eq):
      - everywhere: auto-generated ids and absolute ms times (_stream_generic);
      - XPENDING, extended form: each entry's idle time (third element);
      - XINFO CONSUMERS: each consumer's "idle";
      - XINFO STREAM: "radix-tree-nodes" masked: the node count of Redis's
        radix tree (rax) depends on its key compression and on the history of
        insertions and deletions, a memory-layout detail. radix-tree-keys (the
        number of listpack nodes) is compared: it follows from the node size
        limits, which ~ trimming makes observable anyway."""
    node = _stream_generic(node)
    cmd = [a.upper() for a in args[:2]]
    if cmd[0] == b"XPENDING" and node[0] == "*" and node[1] and \
            all(x[0] == "*" and x[1] is not None and len(x[1]) == 4 for x in node[1]):
        node = ("*", [("*", x[1][:2] + [("~time", x[1][2][1]) if x[1][2][0] == ":"
                                          else x[1][2]] + x[1][3:]) for x in node[1]])
    elif cmd == [b"XINFO", b"CONSUMERS"] and node[0] == "*" and node[1]:
        node = ("*", [_mark_fields(x, times=(b"idle",)) for x in node[1]])
    elif cmd == [b"XINFO", b"STREAM"]:
        node = _mark_fields(node, masked=(b"radix-tree-nodes",))
    return node


def _approx_eq(a, b, tol):
    """Structural equality, except that two ("~time", ms) marks agree when
    within `tol` of each other."""
    if isinstance(a, tuple) and a[:1] == ("~time",):
        return isinstance(b, tuple) and b[:1] == ("~time",) and abs(a[1] - b[1]) <= tol
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and \
            all(_approx_eq(x, y, tol) for x, y in zip(a, b))
    return a == b


def cscan_all(conn, args, max_calls=100000):
    """Iterates HSCAN/SSCAN/ZSCAN (args: name, key, cursor, options...) from cursor
    0 to cursor 0. Returns ("error", raw), ("bad", raw) or ("ok", sorted
    items (pairs for HSCAN and ZSCAN))."""
    name, key, extra = args[0], args[1], list(args[3:])
    cursor = b"0"
    items = set()
    for _ in range(max_calls):
        raw = conn.call(name, key, cursor, *extra)
        node = _safe_parse(raw)
        if node is None:
            return ("bad", raw)
        if node[0] == "-":
            return ("error", raw)
        if node[0] != "*" or len(node[1]) != 2 or node[1][1][0] != "*":
            return ("bad", raw)
        cursor = node[1][0][1]
        flat = [x[1] for x in node[1][1][1]]
        if name.upper().startswith((b"H", b"Z")):
            items.update((flat[i], flat[i + 1]) for i in range(0, len(flat) - 1, 2))
        else:
            items.update(flat)
        if cursor == b"0":
            return ("ok", sorted(items))
    return ("bad", b"no return to cursor 0")


def scan_all(conn, extra, max_calls=10000):
    """Iterates SCAN from cursor 0 to cursor 0. Returns ("error", raw) if a
    call fails, ("bad", raw) on a malformed reply, else ("ok", set_of_keys,
    calls)."""
    cursor = b"0"
    keys = set()
    for calls in range(1, max_calls + 1):
        raw = conn.call(b"SCAN", cursor, *extra)
        node = _safe_parse(raw)
        if node is None:
            return ("bad", raw)
        if node[0] == "-":
            return ("error", raw)
        if node[0] != "*" or node[1] is None or len(node[1]) != 2 or \
                node[1][0][0] != "$" or node[1][1][0] != "*":
            return ("bad", raw)
        cursor = node[1][0][1]
        for item in node[1][1][1]:
            if item[0] != "$":
                return ("bad", raw)
            keys.add(item[1])
        if cursor == b"0":
            return ("ok", frozenset(keys))
    return ("bad", b"SCAN did not return to cursor 0 after %d calls" % max_calls)


class Pair:
    """One connection to each server, used in lockstep."""

    def __init__(self, ref_server, lat_server):
        self.ref = ref_server.client()
        self.lat = lat_server.client()

    def close(self):
        self.ref.close()
        self.lat.close()

    def both(self, *args):
        """Sends one command to both; returns (ref_raw, lat_raw)."""
        self.ref.send(*args)
        self.lat.send(*args)
        return self._read(self.ref), self._read(self.lat)

    @staticmethod
    def _read(conn):
        """One reply's bytes, or a TransportError saying why none came."""
        try:
            return conn.read_reply()
        except ConnectionClosed as e:
            return TransportError("<connection closed; partial %r>" % e.partial[:200])
        except TimeoutError as e:
            return TransportError("<timeout: %s>" % e)
        except ProtocolError as e:
            return TransportError("<unparsable reply: %s; buffer %r>" % (e, conn.buf[:200]))
        except OSError as e:
            return TransportError("<socket error: %r>" % e)

    def run_step(self, step):
        """Runs one step of any normalization. Returns (ref, lat, reason)."""
        args = step.args
        if step.norm == "scan":
            r = scan_all(self.ref, args[1:])
            lt = scan_all(self.lat, args[1:])
            if r == lt:
                return r, lt, None
            if r[0] == "error" or lt[0] == "error" or r[0] != lt[0]:
                return r, lt, "SCAN replies differ"
            return (r[0], sorted(r[1])), (lt[0], sorted(lt[1])), \
                "SCAN iterations cover different keys"
        if step.norm == "cscan":
            r = cscan_all(self.ref, [a if isinstance(a, bytes) else str(a).encode()
                                     for a in args])
            lt = cscan_all(self.lat, [a if isinstance(a, bytes) else str(a).encode()
                                      for a in args])
            return r, lt, None if r == lt else "scans differ"
        ref, lat = self.both(*args)
        failure = transport_failure(ref, lat)
        if failure:
            return ref, lat, failure
        if step.norm == "randomkey":
            a, b = _safe_parse(ref), _safe_parse(lat)
            if a is None or b is None or _is_null(a) or _is_null(b) or a[0] != "$" or b[0] != "$":
                return ref, lat, (None if ref == lat else "replies differ")
            ra = self.ref.call(b"EXISTS", a[1])
            la = self.lat.call(b"EXISTS", b[1])
            if ra != b":1\r\n" or la != b":1\r\n":
                return ref, lat, "RANDOMKEY returned a missing key (EXISTS: %r / %r)" % (ra, la)
            return ref, lat, None
        return ref, lat, compare_plain(step, ref, lat)


# --------------------------------------------------------------------------
# Deterministic cases, per family
# --------------------------------------------------------------------------

def fam_connection():
    return [
        E("+PONG", "PING"),
        E("$5\r\nhello", "PING", "hello"),
        E("$0\r\n\r\n", "PING", ""),
        ERR_ARITY("ping", "PING", "a", "b"),
        C("ping"), C("PiNg"),
        E("$2\r\nhi", "ECHO", "hi"),
        C("ECHO", ""),
        C("ECHO", b"bin\x00\r\n\xff"),
        ERR_ARITY("echo", "ECHO"),
        ERR_ARITY("echo", "ECHO", "a", "b"),
        C("HELLO", norm="hello"),
        C("HELLO", "2", norm="hello"),
        E("NOPROTO unsupported protocol version", "HELLO", "4"),
        E("NOPROTO unsupported protocol version", "HELLO", "1"),
        E("NOPROTO unsupported protocol version", "HELLO", "0"),
        E("NOPROTO unsupported protocol version", "HELLO", "-1"),
        E("ERR Protocol version is not an integer or out of range", "HELLO", "abc"),
        E("ERR Protocol version is not an integer or out of range", "HELLO", "3.0"),
        E("ERR Syntax error in HELLO option 'FOO'", "HELLO", "3", "FOO"),
        C("HELLO", norm="hello"),  # still RESP2 after the failed HELLOs
        C("HELLO", "3", norm="hello"),
        E("+PONG", "PING"),
        C("PING", "x"),
        C("ECHO", "x"),
        C("HELLO", norm="hello"),
        C("HELLO", "2", norm="hello"),
        C("GET", "missing"),
    ]


def fam_select_db():
    return [
        C("SELECT", "0"), C("SET", "a", "db0"),
        E("+OK", "SELECT", "1"), E("$-1", "GET", "a"), E(":0", "DBSIZE"),
        C("SET", "a", "db1"), C("SET", "b", "x"), E(":2", "DBSIZE"),
        E("+OK", "SELECT", "15"), C("DBSIZE"),
        E("ERR DB index is out of range", "SELECT", "16"),
        E("ERR DB index is out of range", "SELECT", "-1"),
        E("ERR DB index is out of range", "SELECT", "99999"),
        E("ERR value is not an integer or out of range", "SELECT", "abc"),
        E("ERR value is not an integer or out of range", "SELECT", "1.5"),
        E("ERR value is not an integer or out of range", "SELECT", ""),
        E("ERR value is out of range, value must between -2147483648 and 2147483647",
          "SELECT", "99999999999"),
        ERR_ARITY("select", "SELECT"),
        ERR_ARITY("select", "SELECT", "1", "2"),
        C("SELECT", "0"), E("$3\r\ndb0", "GET", "a"), E(":1", "DBSIZE"),
        ERR_ARITY("dbsize", "DBSIZE", "x"),
        E("+OK", "SAVE"), ERR_ARITY("save", "SAVE", "x"),
        E("ERR syntax error", "BGSAVE", "now"), E("ERR syntax error", "BGSAVE", "schedule", "x"),
        # MEMORY: the figures differ by design (another layout), the shapes
        # and the error texts do not.
        C("SET", "mem", "v" * 100), C("HSET", "memh", "f", "v"),
        C("MEMORY", "USAGE", "mem", norm="shape"), C("MEMORY", "USAGE", "memh", norm="shape"),
        C("MEMORY", "USAGE", "mem", "SAMPLES", "0", norm="shape"),
        E("$-1", "MEMORY", "USAGE", "no-such-key"),
        E("ERR syntax error", "MEMORY", "USAGE", "mem", "SAMPLES", "-1"),
        E("ERR syntax error", "MEMORY", "USAGE", "mem", "SAMPLES"),
        E("ERR syntax error", "MEMORY", "USAGE", "mem", "FOO", "1"),
        E("ERR value is not an integer or out of range", "MEMORY", "USAGE", "mem", "SAMPLES", "x"),
        ERR_ARITY("memory|usage", "MEMORY", "USAGE"),
        E("+OK", "MEMORY", "PURGE"),
        C("MEMORY", "DOCTOR", norm="shape"),
        E("ERR unknown subcommand 'NOPE'. Try MEMORY HELP.", "MEMORY", "NOPE"),
        # DUMP/RESTORE: a string's payload is Redis's byte for byte; the
        # argument checks come in Redis's order.
        C("SET", "dmp", "hello"), C("SET", "dmpi", "12345"), C("SET", "dmpl", "ab" * 40),
        C("DUMP", "dmp"), C("DUMP", "dmpi"), C("DUMP", "dmpl"), E("$-1", "DUMP", "no-such-key"),
        E("BUSYKEY Target key name already exists.", "RESTORE", "dmp", "0",
          b"\x00\x05hello\n\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
        E("ERR DUMP payload version or checksum are wrong", "RESTORE", "dmp2", "0", "junk"),
        E("ERR Invalid TTL value, must be >= 0", "RESTORE", "dmp2", "-5", "junk"),
        E("ERR syntax error", "RESTORE", "dmp2", "0", "junk", "NOPE"),
        E("ERR Invalid FREQ value, must be >= 0 and <= 255", "RESTORE", "dmp2", "0", "junk",
          "FREQ", "300"),
        ERR_ARITY("restore", "RESTORE", "dmp2", "0"), ERR_ARITY("dump", "DUMP"),
        ERR_ARITY("lastsave", "LASTSAVE", "x"),
        E("+OK", "FLUSHDB"), E(":0", "DBSIZE"),
        C("SELECT", "1"), E("$3\r\ndb1", "GET", "a"), E(":2", "DBSIZE"),
        E("ERR syntax error", "FLUSHDB", "FOO"),
        C("FLUSHDB", "ASYNC"), C("DBSIZE"),
        C("SET", "c", "1"), C("FLUSHDB", "sync"), C("DBSIZE"),
        C("SET", "c", "1"), C("SELECT", "2"), C("SET", "d", "1"),
        E("ERR syntax error", "FLUSHALL", "FOO"),
        E("ERR syntax error", "FLUSHDB", "ASYNC", "SYNC"),
        E("+OK", "FLUSHALL"), C("DBSIZE"), C("SELECT", "1"), C("DBSIZE"),
        C("SET", "e", "1"), C("FLUSHALL", "ASYNC"), C("DBSIZE"),
        C("SET", "e", "1"), C("FLUSHALL", "SYNC"), C("DBSIZE"),
    ]


def fam_keyspace():
    binkey = b"k\x00\r\n\xff"
    return [
        C("MSET", "a", "1", "b", "2", "c", "3"),
        E(":1", "EXISTS", "a"),
        E(":3", "EXISTS", "a", "a", "a"),
        E(":2", "EXISTS", "a", "x", "b"),
        ERR_ARITY("exists", "EXISTS"),
        E(":1", "DEL", "a", "a"),
        E(":0", "DEL", "x"),
        ERR_ARITY("del", "DEL"),
        E(":2", "UNLINK", "b", "c", "x", "b"),
        ERR_ARITY("unlink", "UNLINK"),
        E("+none", "TYPE", "a"),
        C("SET", "s", "v"), E("+string", "TYPE", "s"),
        ERR_ARITY("type", "TYPE"), ERR_ARITY("type", "TYPE", "a", "b"),
        E(":2", "TOUCH", "s", "s", "x"),
        ERR_ARITY("touch", "TOUCH"),
        C("SET", binkey, b"bin\x00value"), C("GET", binkey), C("EXISTS", binkey),
        C("TYPE", binkey), C("STRLEN", binkey),
        C("SET", "", "emptykey"), C("GET", ""), C("EXISTS", ""),
        C("KEYS", "*", norm="sorted"),
        C("DEL", binkey, ""), C("EXISTS", binkey, ""),
        C("DBSIZE"),
    ]


def fam_keys():
    names = ["a", "ab", "abc", "b", "k1", "k2", "k10", "h?llo", "hello", "hallo",
             "hxllo", "heeello", "*star", "[br]", "x\\y", "KEYS", "k-1"]
    steps = [C("MSET", *sum(([n, "v"] for n in names), []))]
    for pat in ["*", "a*", "?", "k?", "k*", "*1*", "h[ae]llo", "h[^e]llo", "h[a-b]llo",
                "h[b-a]llo", "h\\?llo", "h?llo", "\\*star", "*star", "\\[br]", "[[]br]",
                "x\\\\y", "nomatch", "[", "h[a-", "k[!1]", "keys", "*e*l*o", "", "[a-c]*",
                "a\\", "h*o", "H*"]:
        steps.append(C("KEYS", pat, norm="sorted"))
    steps += [
        ERR_ARITY("keys", "KEYS"),
        ERR_ARITY("keys", "KEYS", "*", "x"),
        C("SELECT", "1"), E("*0", "KEYS", "*"), C("SET", "only1", "v"),
        C("KEYS", "*", norm="sorted"),
    ]
    return steps


def fam_scan():
    steps = [
        C("SCAN", "0", norm="scan"),  # empty database
        C("MSET", *sum(([("k%d" % i), str(i)] for i in range(60)), [])),
        C("MSET", "user:1", "a", "user:2", "b", "other", "c"),
    ]
    for extra in [[], ["COUNT", "5"], ["COUNT", "1"], ["COUNT", "1000"],
                  ["MATCH", "k1*"], ["MATCH", "user:*", "COUNT", "2"],
                  ["MATCH", "nomatch*"], ["TYPE", "string"], ["TYPE", "list"],
                  ["TYPE", "STRING"], ["TYPE", "foo"],
                  ["MATCH", "k?", "COUNT", "3", "TYPE", "string"],
                  ["match", "*5", "count", "7"], ["COUNT", "2", "COUNT", "9"]]:
        steps.append(C("SCAN", "0", *extra, norm="scan"))
    steps += [
        E("ERR invalid cursor", "SCAN", "abc"),
        E("ERR invalid cursor", "SCAN", " 0"),
        E("ERR invalid cursor", "SCAN", "1.5"),
        E("ERR syntax error", "SCAN", "0", "COUNT", "0"),
        E("ERR syntax error", "SCAN", "0", "COUNT", "-1"),
        E("ERR value is not an integer or out of range", "SCAN", "0", "COUNT", "abc"),
        E("ERR syntax error", "SCAN", "0", "FOO"),
        E("ERR syntax error", "SCAN", "0", "MATCH"),
        E("ERR syntax error", "SCAN", "0", "TYPE"),
        ERR_ARITY("scan", "SCAN"),
        C("SELECT", "1"), C("SCAN", "0", norm="scan"),
    ]
    return steps


def fam_randomkey():
    return [
        E("$-1", "RANDOMKEY"),
        C("SET", "only", "v"), E("$4\r\nonly", "RANDOMKEY"),
        C("MSET", "a", "1", "b", "2", "c", "3", "d", "4"),
    ] + [C("RANDOMKEY", norm="randomkey") for _ in range(8)] + [
        ERR_ARITY("randomkey", "RANDOMKEY", "x"),
        C("SELECT", "1"), C("RANDOMKEY"),
    ]


def fam_rename_copy():
    return [
        E("ERR no such key", "RENAME", "nokey", "b"),
        E("ERR no such key", "RENAMENX", "nokey", "b"),
        C("SET", "a", "1"),
        E("+OK", "RENAME", "a", "a"), C("GET", "a"),
        E(":0", "RENAMENX", "a", "a"),
        E("+OK", "RENAME", "a", "b"), C("EXISTS", "a"), C("GET", "b"),
        C("SET", "c", "3"), E(":0", "RENAMENX", "b", "c"), C("GET", "c"),
        E(":1", "RENAMENX", "b", "d"), C("GET", "d"), C("EXISTS", "b"),
        C("SET", "t", "v", "EX", "100"), C("RENAME", "t", "t2"), TTL("TTL", "t2"),
        C("SET", "x", "v", "EX", "100"), C("SET", "y", "w"), C("RENAME", "y", "x"),
        E(":-1", "TTL", "x"), C("GET", "x"),
        C("SET", "x2", "v", "EX", "100"), C("SET", "y2", "w"), C("RENAMENX", "x2", "y2"),
        TTL("TTL", "x2"),
        ERR_ARITY("rename", "RENAME", "a"), ERR_ARITY("renamenx", "RENAMENX", "a"),
        ERR_ARITY("rename", "RENAME", "a", "b", "c"),
        # COPY
        C("SET", "src", "hello"),
        E(":1", "COPY", "src", "dst"), C("GET", "dst"),
        E(":0", "COPY", "src", "dst"),
        C("SET", "src", "world"),
        E(":1", "COPY", "src", "dst", "REPLACE"), C("GET", "dst"),
        E(":0", "COPY", "missing", "dst"), C("GET", "dst"),
        E(":0", "COPY", "missing", "dst", "REPLACE"),
        E("ERR source and destination objects are the same", "COPY", "src", "src"),
        E(":1", "COPY", "src", "src", "DB", "1"),
        E(":0", "COPY", "src", "src", "DB", "1"),
        E(":1", "COPY", "src", "src", "DB", "1", "REPLACE"),
        C("COPY", "src", "other", "REPLACE", "DB", "1"),
        E("ERR DB index is out of range", "COPY", "src", "dst", "DB", "16"),
        E("ERR DB index is out of range", "COPY", "src", "dst", "DB", "-1"),
        E("ERR value is not an integer or out of range", "COPY", "src", "dst", "DB", "x"),
        E("ERR syntax error", "COPY", "src", "dst", "FOO"),
        E("ERR syntax error", "COPY", "src", "dst", "DB"),
        ERR_ARITY("copy", "COPY", "src"),
        C("SET", "ttlsrc", "v", "EX", "1000"), C("COPY", "ttlsrc", "ttldst"),
        TTL("TTL", "ttldst"),
        C("COPY", "ttlsrc", "ttldst", "DB", "2"),
        C("SELECT", "1"), C("KEYS", "*", norm="sorted"), C("GET", "src"), C("GET", "other"),
        C("SELECT", "2"), TTL("TTL", "ttldst"),
        C("SELECT", "0"), C("SET", "n", "42"), C("COPY", "n", "n2"), C("INCR", "n2"),
        C("GET", "n"), C("GET", "n2"),
        C("APPEND", "src", "!"), C("GET", "src"), C("SELECT", "1"), C("GET", "src"),
    ]


def fam_expire():
    return [
        C("SET", "a", "v"),
        E(":-1", "TTL", "a"), E(":-1", "PTTL", "a"),
        E(":-2", "TTL", "missing"), E(":-2", "PTTL", "missing"),
        E(":-1", "EXPIRETIME", "a"), E(":-2", "EXPIRETIME", "missing"),
        E(":-1", "PEXPIRETIME", "a"), E(":-2", "PEXPIRETIME", "missing"),
        E(":1", "EXPIRE", "a", "100"), TTL("TTL", "a"), TTL("PTTL", "a", ms=True),
        TTL("EXPIRETIME", "a"), TTL("PEXPIRETIME", "a", ms=True),
        E(":0", "EXPIRE", "missing", "100"),
        E("ERR value is not an integer or out of range", "EXPIRE", "a", "abc"),
        E("ERR value is not an integer or out of range", "EXPIRE", "a", "1.5"),
        E("ERR value is not an integer or out of range", "EXPIRE", "a", ""),
        E("ERR invalid expire time in 'expire' command", "EXPIRE", "a", "9223372036854775807"),
        E("ERR invalid expire time in 'expire' command", "EXPIRE", "a", "-9223372036854775808"),
        E("ERR invalid expire time in 'pexpire' command", "PEXPIRE", "a", "9223372036854775807"),
        E("ERR invalid expire time in 'expireat' command", "EXPIREAT", "a", "9223372036854775807"),
        ERR_ARITY("expire", "EXPIRE", "a"),
        ERR_ARITY("ttl", "TTL"), ERR_ARITY("ttl", "TTL", "a", "b"),
        ERR_ARITY("pttl", "PTTL"), ERR_ARITY("expiretime", "EXPIRETIME"),
        ERR_ARITY("persist", "PERSIST"),
        E(":1", "PERSIST", "a"), E(":-1", "TTL", "a"), E(":0", "PERSIST", "a"),
        E(":0", "PERSIST", "missing"),
        # NX / XX / GT / LT
        E(":0", "EXPIRE", "a", "100", "XX"),
        E(":1", "EXPIRE", "a", "100", "NX"),
        E(":0", "EXPIRE", "a", "200", "NX"), TTL("TTL", "a"),
        E(":1", "EXPIRE", "a", "200", "XX"), TTL("TTL", "a"),
        E(":0", "EXPIRE", "a", "100", "GT"), TTL("TTL", "a"),
        E(":1", "EXPIRE", "a", "300", "GT"), TTL("TTL", "a"),
        E(":0", "EXPIRE", "a", "400", "LT"),
        E(":1", "EXPIRE", "a", "50", "LT"), TTL("TTL", "a"),
        E(":1", "EXPIRE", "a", "60", "xx", "gt"), TTL("TTL", "a"),
        C("PERSIST", "a"),
        E(":0", "EXPIRE", "a", "100", "GT"),  # no TTL counts as infinite
        E(":1", "EXPIRE", "a", "100", "LT"), TTL("TTL", "a"),
        E(":0", "EXPIRE", "missing", "100", "LT"),
        E("ERR NX and XX, GT or LT options at the same time are not compatible",
          "EXPIRE", "a", "100", "NX", "XX"),
        E("ERR NX and XX, GT or LT options at the same time are not compatible",
          "EXPIRE", "a", "100", "NX", "GT"),
        E("ERR GT and LT options at the same time are not compatible",
          "EXPIRE", "a", "100", "GT", "LT"),
        E("ERR Unsupported option FOO", "EXPIRE", "a", "100", "FOO"),
        C("PEXPIRE", "a", "100", "BAR"),
        # PEXPIRE, absolute forms
        E(":1", "PEXPIRE", "a", "100000"), TTL("PTTL", "a", ms=True), TTL("TTL", "a"),
        E(":1", "EXPIREAT", "a", str(FUTURE_S)),
        E(":%d" % FUTURE_S, "EXPIRETIME", "a"),
        E(":%d" % (FUTURE_S * 1000), "PEXPIRETIME", "a"),
        TTL("TTL", "a"),
        E(":1", "PEXPIREAT", "a", str(FUTURE_MS)),
        C("PEXPIRETIME", "a"), C("EXPIRETIME", "a"),
        E(":0", "PEXPIREAT", "a", str(FUTURE_MS - 1), "GT"),
        E(":1", "PEXPIREAT", "a", str(FUTURE_MS + 1), "GT"), C("PEXPIRETIME", "a"),
        E(":0", "EXPIREAT", "a", str(FUTURE_S + 5), "NX"),
        E(":1", "EXPIREAT", "a", str(FUTURE_S + 5), "XX"), C("EXPIRETIME", "a"),
        E(":1", "PEXPIREAT", "a", "9223372036854775807"),
        C("PEXPIRETIME", "a"), C("EXPIRETIME", "a"), TTL("TTL", "a"),
        # Non-positive and past times delete the key at once.
        C("SET", "d1", "v"), E(":1", "EXPIRE", "d1", "0"), E(":0", "EXISTS", "d1"),
        C("SET", "d2", "v"), E(":1", "EXPIRE", "d2", "-5"), E(":0", "EXISTS", "d2"),
        C("SET", "d3", "v"), E(":1", "EXPIREAT", "d3", "1"), E(":0", "EXISTS", "d3"),
        C("SET", "d4", "v"), E(":1", "PEXPIREAT", "d4", "1000"), E(":-2", "TTL", "d4"),
        C("SET", "d5", "v"), E(":1", "PEXPIRE", "d5", "-1"), C("GET", "d5"),
        C("SET", "d6", "v"), E(":0", "EXPIRE", "d6", "-5", "XX"), C("EXISTS", "d6"),
        C("DBSIZE"),
        # SET and friends and TTL
        C("SET", "s", "v", "EX", "100"), TTL("TTL", "s"),
        C("SET", "s", "v2", "KEEPTTL"), TTL("TTL", "s"),
        C("SET", "s", "v3"), E(":-1", "TTL", "s"),
        C("SET", "s", "v", "PX", "100000"), TTL("PTTL", "s", ms=True),
        C("SET", "s", "v", "EXAT", str(FUTURE_S)), C("EXPIRETIME", "s"),
        C("SET", "s", "v", "PXAT", str(FUTURE_MS)), C("PEXPIRETIME", "s"),
        C("GETSET", "s", "v4"), E(":-1", "TTL", "s"),
        C("SETEX", "s", "100", "v"), TTL("TTL", "s"),
        C("PSETEX", "s", "100000", "v"), TTL("PTTL", "s", ms=True),
        C("APPEND", "s", "x"), TTL("PTTL", "s", ms=True),
        C("INCR", "cnt"), C("EXPIRE", "cnt", "100"), C("INCR", "cnt"), TTL("TTL", "cnt"),
        C("SETRANGE", "s", "0", "z"), TTL("TTL", "s"),
        C("INCRBYFLOAT", "cnt", "1.5"), TTL("TTL", "cnt"),
    ]


def fam_set_get():
    return [
        E("$-1", "GET", "k"),
        E("+OK", "SET", "k", "v"), E("$1\r\nv", "GET", "k"),
        ERR_ARITY("get", "GET"), ERR_ARITY("get", "GET", "a", "b"),
        ERR_ARITY("set", "SET", "k"), C("get", "k"),
        E("$-1", "SET", "k", "v2", "NX"), C("GET", "k"),
        E("+OK", "SET", "new", "v", "NX"),
        E("$-1", "SET", "missing", "v", "XX"), C("EXISTS", "missing"),
        E("+OK", "SET", "k", "v3", "XX"), C("GET", "k"),
        E("$2\r\nv3", "SET", "k", "v4", "GET"),
        E("$-1", "SET", "newer", "v", "GET"), C("GET", "newer"),
        E("$2\r\nv4", "SET", "k", "v5", "NX", "GET"), C("GET", "k"),
        E("$2\r\nv4", "SET", "k", "v6", "XX", "GET"), C("GET", "k"),
        E("$-1", "SET", "nx2", "v", "NX", "GET"), C("GET", "nx2"),
        E("$-1", "SET", "xx2", "v", "XX", "GET"), C("EXISTS", "xx2"),
        C("SET", "k", "v7", "get", "ex", "100"), TTL("TTL", "k"),
        C("SET", "k", "v8", "KEEPTTL", "GET"), TTL("TTL", "k"),
        E("ERR invalid expire time in 'set' command", "SET", "k", "v", "EX", "0"),
        E("ERR invalid expire time in 'set' command", "SET", "k", "v", "PX", "0"),
        E("ERR invalid expire time in 'set' command", "SET", "k", "v", "EX", "-1"),
        E("ERR invalid expire time in 'set' command", "SET", "k", "v", "EXAT", "0"),
        E("ERR invalid expire time in 'set' command", "SET", "k", "v", "PXAT", "-1"),
        E("ERR invalid expire time in 'set' command", "SET", "k", "v", "EX", "9223372036854775807"),
        C("SET", "k", "v", "PX", "9223372036854775807"),
        E("ERR value is not an integer or out of range", "SET", "k", "v", "EX", "abc"),
        E("ERR value is not an integer or out of range", "SET", "k", "v", "EX", "1.5"),
        E("ERR syntax error", "SET", "k", "v", "EX"),
        E("ERR syntax error", "SET", "k", "v", "EX", "100", "PX", "100"),
        E("ERR syntax error", "SET", "k", "v", "EX", "100", "KEEPTTL"),
        E("ERR syntax error", "SET", "k", "v", "KEEPTTL", "PXAT", str(FUTURE_MS)),
        E("ERR syntax error", "SET", "k", "v", "NX", "XX"),
        E("ERR syntax error", "SET", "k", "v", "FOO"),
        C("SET", "k", "v", "GET", "GET"),
        C("SET", "k", "v", "NX", "NX"),
        C("SET", "k", "v", "EX", "100", "EX", "200"),
        C("GET", "k"), C("SET", "k", "v9", "xx", "px", "100000"), TTL("PTTL", "k", ms=True),
        # SETNX SETEX PSETEX GETSET GETDEL
        E(":1", "SETNX", "snx", "a"), E(":0", "SETNX", "snx", "b"), C("GET", "snx"),
        ERR_ARITY("setnx", "SETNX", "a"),
        E("+OK", "SETEX", "sex", "100", "v"), TTL("TTL", "sex"), C("GET", "sex"),
        E("ERR invalid expire time in 'setex' command", "SETEX", "sex", "0", "v"),
        E("ERR invalid expire time in 'setex' command", "SETEX", "sex", "-1", "v"),
        E("ERR value is not an integer or out of range", "SETEX", "sex", "abc", "v"),
        E("ERR invalid expire time in 'setex' command", "SETEX", "sex", "9223372036854775807", "v"),
        ERR_ARITY("setex", "SETEX", "sex", "100"),
        E("+OK", "PSETEX", "psex", "100000", "v"), TTL("PTTL", "psex", ms=True),
        E("ERR invalid expire time in 'psetex' command", "PSETEX", "psex", "0", "v"),
        ERR_ARITY("psetex", "PSETEX", "psex"),
        E("$-1", "GETSET", "gs", "a"), E("$1\r\na", "GETSET", "gs", "b"), C("GET", "gs"),
        ERR_ARITY("getset", "GETSET", "gs"),
        E("$1\r\nb", "GETDEL", "gs"), E("$-1", "GETDEL", "gs"), C("EXISTS", "gs"),
        ERR_ARITY("getdel", "GETDEL"),
        # GETEX
        C("SET", "gx", "val"),
        E("$3\r\nval", "GETEX", "gx"), E(":-1", "TTL", "gx"),
        C("GETEX", "gx", "EX", "100"), TTL("TTL", "gx"),
        C("GETEX", "gx"), TTL("TTL", "gx"),
        C("GETEX", "gx", "PERSIST"), E(":-1", "TTL", "gx"),
        C("GETEX", "gx", "PX", "100000"), TTL("PTTL", "gx", ms=True),
        C("GETEX", "gx", "EXAT", str(FUTURE_S)), C("EXPIRETIME", "gx"),
        C("GETEX", "gx", "PXAT", str(FUTURE_MS)), C("PEXPIRETIME", "gx"),
        C("GETEX", "gx", "persist"), C("TTL", "gx"),
        E("ERR invalid expire time in 'getex' command", "GETEX", "gx", "EX", "0"),
        E("ERR invalid expire time in 'getex' command", "GETEX", "gx", "PX", "-5"),
        E("ERR invalid expire time in 'getex' command", "GETEX", "gx", "EX", "9223372036854775807"),
        E("ERR value is not an integer or out of range", "GETEX", "gx", "EX", "x"),
        E("ERR syntax error", "GETEX", "gx", "EX", "100", "PX", "100"),
        E("ERR syntax error", "GETEX", "gx", "PERSIST", "EX", "100"),
        E("ERR syntax error", "GETEX", "gx", "EX"),
        E("ERR syntax error", "GETEX", "gx", "FOO"),
        E("$-1", "GETEX", "missing", "EX", "100"), C("EXISTS", "missing"),
        E("ERR syntax error", "GETEX", "missing", "FOO"),
        ERR_ARITY("getex", "GETEX"),
        C("SET", "gx", "v"), C("GETEX", "gx", "PXAT", "1"), C("EXISTS", "gx"),
        # MGET MSET MSETNX
        C("MSET", "m1", "a", "m2", "b"), E("+OK", "MSET", "m3", "c"),
        C("MGET", "m1", "nope", "m2", "m3", "m1"),
        ERR_ARITY("mget", "MGET"),
        ERR_ARITY("mset", "MSET", "a"), ERR_ARITY("mset", "MSET", "a", "1", "b"),
        ERR_ARITY("mset", "MSET"),
        C("MSET", "dup", "1", "dup", "2"), C("GET", "dup"),
        E(":1", "MSETNX", "n1", "a", "n2", "b"),
        E(":0", "MSETNX", "n3", "c", "n1", "x"), C("EXISTS", "n3"), C("GET", "n1"),
        C("MSETNX", "n4", "a", "n4", "b"), C("GET", "n4"),
        ERR_ARITY("msetnx", "MSETNX", "a", "1", "b"),
        C("SET", "bin", b"\x00\x01\r\n\xff\xfe"), C("GET", "bin"),
        C("SET", "empty", ""), C("GET", "empty"), C("STRLEN", "empty"), C("EXISTS", "empty"),
        C("SET", "big", "x" * 100000), C("STRLEN", "big"), C("GET", "big"),
    ]


def fam_append_range():
    return [
        E(":5", "APPEND", "s", "hello"), E(":11", "APPEND", "s", " world"),
        E(":11", "APPEND", "s", ""), C("GET", "s"),
        E(":0", "APPEND", "e", ""), C("EXISTS", "e"), C("GET", "e"),
        ERR_ARITY("append", "APPEND", "s"),
        E(":11", "STRLEN", "s"), E(":0", "STRLEN", "missing"),
        ERR_ARITY("strlen", "STRLEN"),
        C("SET", "n", "10"), C("APPEND", "n", "5"), C("GET", "n"), C("INCR", "n"),
        C("SET", "n", "12345"), C("STRLEN", "n"),
        C("GETRANGE", "s", "0", "-1"), C("GETRANGE", "s", "0", "0"),
        C("GETRANGE", "s", "-5", "-1"), C("GETRANGE", "s", "6", "100"),
        C("GETRANGE", "s", "100", "200"), C("GETRANGE", "s", "3", "1"),
        C("GETRANGE", "s", "-1", "-100"), C("GETRANGE", "s", "-3", "2"),
        C("GETRANGE", "s", "0", "9223372036854775807"),
        C("GETRANGE", "s", "-9223372036854775808", "-1"),
        C("GETRANGE", "s", "-9223372036854775808", "9223372036854775807"),
        E("$0\r\n\r\n", "GETRANGE", "missing", "0", "-1"),
        C("GETRANGE", "n", "1", "3"), C("GETRANGE", "n", "-2", "-1"),
        E("ERR value is not an integer or out of range", "GETRANGE", "s", "a", "b"),
        E("ERR value is not an integer or out of range", "GETRANGE", "s", "0", "9223372036854775808"),
        ERR_ARITY("getrange", "GETRANGE", "s", "0"),
        C("SET", "empty", ""), C("GETRANGE", "empty", "0", "-1"),
        C("GETRANGE", "empty", "0", "0"),
        C("SUBSTR", "s", "1", "3"), C("SUBSTR", "s", "-3", "-1"), C("SUBSTR", "missing", "0", "1"),
        ERR_ARITY("substr", "SUBSTR", "s"),
        # SETRANGE
        E(":6", "SETRANGE", "p", "5", "x"), E("$6\r\n\x00\x00\x00\x00\x00x", "GET", "p"),
        E(":6", "SETRANGE", "p", "0", "ab"), C("GET", "p"),
        E(":10", "SETRANGE", "p", "8", "yz"), C("GET", "p"),
        C("SETRANGE", "s", "6", "WORLD"), C("GET", "s"),
        C("SETRANGE", "s", "11", "!"), C("GET", "s"),
        E(":0", "SETRANGE", "nokey", "0", ""), E(":0", "EXISTS", "nokey"),
        E(":0", "SETRANGE", "nokey", "100", ""), E(":0", "EXISTS", "nokey"),
        E(":12", "SETRANGE", "s", "100", ""), C("STRLEN", "s"),
        E("ERR offset is out of range", "SETRANGE", "s", "-1", "x"),
        E("ERR string exceeds maximum allowed size (proto-max-bulk-len)",
          "SETRANGE", "s", "536870912", "x"),
        E("ERR string exceeds maximum allowed size (proto-max-bulk-len)",
          "SETRANGE", "s", "536870911", "xy"),
        E("ERR string exceeds maximum allowed size (proto-max-bulk-len)",
          "SETRANGE", "nokey", "536870912", "x"),
        C("SETRANGE", "nokey", "536870912", ""), C("SETRANGE", "s", "536870911", ""),
        E("ERR value is not an integer or out of range", "SETRANGE", "s", "abc", "x"),
        ERR_ARITY("setrange", "SETRANGE", "s", "0"),
        C("SET", "n", "12345"), C("SETRANGE", "n", "1", "9"), C("GET", "n"), C("INCR", "n"),
        C("SETRANGE", "bin", "2", b"\x00\r\n"), C("GET", "bin"),
    ]


def fam_incr():
    steps = [
        E(":1", "INCR", "c"), E(":2", "INCR", "c"), E(":1", "DECR", "c"),
        E(":11", "INCRBY", "c", "10"), E(":-9", "INCRBY", "c", "-20"),
        E(":-14", "DECRBY", "c", "5"), E(":-9", "DECRBY", "c", "-5"),
        C("GET", "c"), E(":-1", "DECR", "d"),
        E("ERR value is not an integer or out of range", "INCRBY", "c", "abc"),
        E("ERR value is not an integer or out of range", "INCRBY", "c", "1.5"),
        E("ERR value is not an integer or out of range", "INCRBY", "c", ""),
        E("ERR value is not an integer or out of range", "INCRBY", "c", "9223372036854775808"),
        E("ERR value is not an integer or out of range", "DECRBY", "c", "-9223372036854775809"),
        C("SET", "c", "9223372036854775807"),
        E("ERR increment or decrement would overflow", "INCR", "c"),
        E("ERR increment or decrement would overflow", "INCRBY", "c", "1"),
        E(":9223372036854775806", "DECR", "c"),
        C("SET", "c", "-9223372036854775808"),
        E("ERR increment or decrement would overflow", "DECR", "c"),
        E("ERR increment or decrement would overflow", "DECRBY", "c", "1"),
        E("ERR increment or decrement would overflow", "INCRBY", "c", "-1"),
        E(":-1", "INCRBY", "c", "9223372036854775807"),
        C("SET", "c", "0"),
        E("ERR decrement would overflow", "DECRBY", "c", "-9223372036854775808"),
        E(":-9223372036854775808", "INCRBY", "c", "-9223372036854775808"),
        C("SET", "c", "5"), E(":-9223372036854775802", "DECRBY", "c", "9223372036854775807"),
        ERR_ARITY("incr", "INCR"), ERR_ARITY("incr", "INCR", "a", "b"),
        ERR_ARITY("incrby", "INCRBY", "c"), ERR_ARITY("decrby", "DECRBY", "c"),
        ERR_ARITY("decr", "DECR"),
    ]
    for bad in ["abc", " 1", "1 ", "01", "+1", "-0", "1.0", "", "12345678901234567890",
                "9223372036854775808", "1e3", "0x10", b"1\x00"]:
        steps += [C("SET", "v", bad),
                  E("ERR value is not an integer or out of range", "INCR", "v"),
                  C("DECRBY", "v", "1"), C("GET", "v")]
    for ok in ["0", "-1", "-9223372036854775807", "9223372036854775806", "42"]:
        steps += [C("SET", "v", ok), C("INCR", "v"), C("GET", "v"), C("STRLEN", "v")]
    # INCRBYFLOAT
    steps += [
        E("$3\r\n1.5", "INCRBYFLOAT", "f", "1.5"),
        C("SET", "f", "10.50"), E("$4\r\n10.6", "INCRBYFLOAT", "f", "0.1"),
        C("SET", "f", "5.0e3"), E("$4\r\n5200", "INCRBYFLOAT", "f", "2.0e2"),
        C("SET", "f", "3.0"), E("$1\r\n3", "INCRBYFLOAT", "f", "0"),
        C("SET", "f", "0"), C("INCRBYFLOAT", "f", "0.1"), E("$3\r\n0.3", "INCRBYFLOAT", "f", "0.2"),
        C("INCRBYFLOAT", "f", "-0.3"), C("GET", "f"),
        C("INCRBYFLOAT", "f", "-1.25"), C("INCRBYFLOAT", "f", "1e-5"),
        C("INCRBYFLOAT", "f", "1e10"), C("INCRBYFLOAT", "f", "-1e10"),
        C("INCRBYFLOAT", "f", "123456789.123456789"), C("INCRBYFLOAT", "f", "1E3"),
        C("INCRBYFLOAT", "f", ".5"), C("INCRBYFLOAT", "f", "5."), C("INCRBYFLOAT", "f", "-.5"),
        C("INCRBYFLOAT", "f", "+1.5"), C("INCRBYFLOAT", "f", "1e20"), C("INCRBYFLOAT", "f", "-1e20"),
        C("SET", "f", "1e20"), C("INCRBYFLOAT", "f", "1"),
        C("SET", "f", "-0"), C("INCRBYFLOAT", "f", "0"),
        C("SET", "f", "7"), C("INCRBYFLOAT", "f", "-0.0"),
        C("SET", "f", "100"), C("INCRBYFLOAT", "f", "5e-324"),
        E("ERR value is not a valid float", "INCRBYFLOAT", "f", "abc"),
        E("ERR value is not a valid float", "INCRBYFLOAT", "f", "nan"),
        E("ERR value is not a valid float", "INCRBYFLOAT", "f", ""),
        E("ERR value is not a valid float", "INCRBYFLOAT", "f", " 1"),
        E("ERR value is not a valid float", "INCRBYFLOAT", "f", "1 "),
        E("ERR value is not a valid float", "INCRBYFLOAT", "f", "1.5.5"),
        E("ERR increment would produce NaN or Infinity", "INCRBYFLOAT", "f", "inf"),
        E("ERR increment would produce NaN or Infinity", "INCRBYFLOAT", "f", "-inf"),
        C("INCRBYFLOAT", "f", "+inf"), C("INCRBYFLOAT", "f", "Infinity"),
        C("SET", "f", "abc"), E("ERR value is not a valid float", "INCRBYFLOAT", "f", "1"),
        C("SET", "f", "inf"), C("INCRBYFLOAT", "f", "1"),
        C("SET", "f", "1 "), C("INCRBYFLOAT", "f", "1"),
        C("SET", "f", "42"), C("INCRBYFLOAT", "f", "0.5"), C("INCR", "f"),
        C("SET", "f", "42"), C("INCRBYFLOAT", "f", "1"), C("INCR", "f"), C("GET", "f"),
        ERR_ARITY("incrbyfloat", "INCRBYFLOAT", "f"),
    ]
    return steps


def fam_lcs():
    return [
        C("MSET", "key1", "ohmytext", "key2", "mynewtext"),
        E("$6\r\nmytext", "LCS", "key1", "key2"),
        E(":6", "LCS", "key1", "key2", "LEN"),
        C("LCS", "key1", "key2", "IDX"),
        C("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4"),
        C("LCS", "key1", "key2", "IDX", "WITHMATCHLEN"),
        C("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"),
        C("LCS", "key1", "key2", "WITHMATCHLEN", "IDX", "MINMATCHLEN", "2"),
        C("LCS", "key1", "key2", "idx", "minmatchlen", "0"),
        C("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "-1"),
        C("LCS", "key1", "key2", "LEN", "MINMATCHLEN", "3"),
        C("LCS", "key1", "key2", "MINMATCHLEN", "3"),
        C("LCS", "key1", "key2", "WITHMATCHLEN"),
        C("LCS", "key2", "key1", "IDX", "WITHMATCHLEN"),
        E("$0\r\n\r\n", "LCS", "missing", "missing2"),
        C("LCS", "key1", "missing"), C("LCS", "missing", "key1", "LEN"),
        C("LCS", "missing", "key1", "IDX"),
        C("LCS", "key1", "key1"), C("LCS", "key1", "key1", "IDX", "WITHMATCHLEN"),
        E("ERR If you want both the length and indexes, please just use IDX.",
          "LCS", "key1", "key2", "LEN", "IDX"),
        E("ERR syntax error", "LCS", "key1", "key2", "FOO"),
        E("ERR syntax error", "LCS", "key1", "key2", "IDX", "MINMATCHLEN"),
        E("ERR value is not an integer or out of range",
          "LCS", "key1", "key2", "IDX", "MINMATCHLEN", "abc"),
        ERR_ARITY("lcs", "LCS", "key1"),
        C("MSET", "a", "ACCGGTCGAGTGCGCGGAAGCCGGCCGAA", "b", "GTCGTTCGGAATGCCGTTGCTCTGTAAA"),
        C("LCS", "a", "b"), C("LCS", "a", "b", "LEN"), C("LCS", "a", "b", "IDX"),
        C("LCS", "a", "b", "IDX", "WITHMATCHLEN", "MINMATCHLEN", "3"),
        C("MSET", "x", b"\x00ab\r\nc", "y", b"ab\x00\r\n"), C("LCS", "x", "y"),
        C("LCS", "x", "y", "IDX", "WITHMATCHLEN"),
        C("SET", "n", "12345"), C("SET", "m", "2345"), C("LCS", "n", "m"),
        C("LCS", "n", "m", "IDX"),
        C("SET", "e", ""), C("LCS", "e", "key1", "IDX"),
    ]


def fam_object():
    return [
        C("SET", "i", "12345"), E("$3\r\nint", "OBJECT", "ENCODING", "i"),
        C("SET", "neg", "-5"), E("$3\r\nint", "OBJECT", "ENCODING", "neg"),
        C("SET", "max", "9223372036854775807"), C("OBJECT", "ENCODING", "max"),
        C("SET", "min", "-9223372036854775808"), C("OBJECT", "ENCODING", "min"),
        C("SET", "e", "hello"), E("$6\r\nembstr", "OBJECT", "ENCODING", "e"),
        C("SET", "e44", "x" * 44), E("$6\r\nembstr", "OBJECT", "ENCODING", "e44"),
        C("SET", "r45", "x" * 45), E("$3\r\nraw", "OBJECT", "ENCODING", "r45"),
        C("SET", "big", "12345678901234567890"), C("OBJECT", "ENCODING", "big"),
        C("SET", "lead0", "007"), C("OBJECT", "ENCODING", "lead0"),
        C("SET", "flt", "1.5"), C("OBJECT", "ENCODING", "flt"),
        C("SET", "sp", " 1"), C("OBJECT", "ENCODING", "sp"),
        C("SET", "empty", ""), C("OBJECT", "ENCODING", "empty"),
        C("APPEND", "e", "x"), E("$3\r\nraw", "OBJECT", "ENCODING", "e"),
        C("SET", "sr", "hello"), C("SETRANGE", "sr", "0", "j"), C("OBJECT", "ENCODING", "sr"),
        C("SET", "n", "5"), C("APPEND", "n", "0"), C("OBJECT", "ENCODING", "n"),
        C("INCR", "n"), E("$3\r\nint", "OBJECT", "ENCODING", "n"),
        C("INCR", "fresh"), C("OBJECT", "ENCODING", "fresh"),
        C("INCRBY", "fresh", "100000"), C("OBJECT", "ENCODING", "fresh"),
        C("MSET", "m1", "77", "m2", "seventy"), C("OBJECT", "ENCODING", "m1"),
        C("OBJECT", "ENCODING", "m2"),
        C("SETNX", "snx", "88"), C("OBJECT", "ENCODING", "snx"),
        C("SETEX", "sx", "100", "99"), C("OBJECT", "ENCODING", "sx"),
        C("GETSET", "sx", "text"), C("OBJECT", "ENCODING", "sx"),
        C("COPY", "r45", "r45c"), C("OBJECT", "ENCODING", "r45c"),
        C("COPY", "i", "ic"), C("OBJECT", "ENCODING", "ic"),
        C("RENAME", "e44", "e44r"), C("OBJECT", "ENCODING", "e44r"),
        E("$-1", "OBJECT", "ENCODING", "missing"),
        E("$-1", "OBJECT", "IDLETIME", "missing"),
        E("$-1", "OBJECT", "REFCOUNT", "missing"),
        E(":1", "OBJECT", "REFCOUNT", "e"),
        C("OBJECT", "REFCOUNT", "r45"),
        C("OBJECT", "IDLETIME", "e", norm="approx", tol=2),
        C("OBJECT", "idletime", "i", norm="approx", tol=2),
        C("OBJECT", "FREQ", "e", norm="skip"),
        C("object", "encoding", "i"),
        E("ERR unknown subcommand 'FOO'. Try OBJECT HELP.", "OBJECT", "FOO", "e"),
        E("ERR unknown subcommand 'foo'. Try OBJECT HELP.", "OBJECT", "foo"),
        ERR_ARITY("object|encoding", "OBJECT", "ENCODING"),
        ERR_ARITY("object|encoding", "OBJECT", "ENCODING", "a", "b"),
        ERR_ARITY("object|idletime", "OBJECT", "IDLETIME"),
        ERR_ARITY("object|refcount", "OBJECT", "REFCOUNT"),
        ERR_ARITY("object", "OBJECT"),
    ]


def fam_quirks():
    """Redis 7.0 behaviour that an implementation following the docs might
    not reproduce; kept apart so each one is easy to judge."""
    return [
        # Integers 0..9999 are shared objects: OBJECT REFCOUNT says INT_MAX.
        C("SET", "small", "123"), E(":2147483647", "OBJECT", "REFCOUNT", "small"),
        C("SET", "large", "50000"), E(":1", "OBJECT", "REFCOUNT", "large"),
        # GETRANGE clamps a negative end to 0 before the empty check, so an
        # all-negative out-of-range window returns the first byte.
        C("SET", "s", "hello"), E("$1\r\nh", "GETRANGE", "s", "-100", "-50"),
        C("GETRANGE", "s", "-100", "-6"),
        # INCRBYFLOAT parses with strtold: hex floats are accepted...
        E("$2\r\n16", "INCRBYFLOAT", "hex", "0x10"),
        # ...works in long double and prints with "%.17Lf", trailing zeros cut.
        C("INCRBYFLOAT", "huge", "1e308"), C("INCRBYFLOAT", "huge", "1e308"),
        C("GET", "huge"),
        C("INCRBYFLOAT", "tiny", "5e-324"),
        C("INCRBYFLOAT", "third", "0.333333333333333333333"),
        # INCRBYFLOAT stores a plain string: "3" ends up embstr, not int.
        C("INCRBYFLOAT", "fi", "3"), E("$6\r\nembstr", "OBJECT", "ENCODING", "fi"),
        # PEXPIREAT with LLONG_MAX is accepted (no unit conversion to overflow).
        C("SET", "p", "v"), E(":1", "PEXPIREAT", "p", "9223372036854775807"),
        E(":9223372036854775807", "PEXPIRETIME", "p"),
        # EXPIRE-family options are compared and echoed as C strings: the
        # option ends at its first NUL byte ("xx\0" is XX; found by the
        # random stream, seeds 2112584421 and 1906681707 at 100,000 commands).
        C("SET", "e", "v"), E(":0", "EXPIRE", "e", "100", b"xx\x00"),
        E("ERR Unsupported option a", "EXPIRE", "e", "100", b"a\x00b"),
        E("ERR Unsupported option ", "PEXPIREAT", "e", str(FUTURE_MS), "NX", b"\r\x00"),
        C("TTL", "e"),
    ]


def fam_unknown_command():
    return [
        E("ERR unknown command 'foo', with args beginning with: 'a' ", "foo", "a"),
        E("ERR unknown command 'FOO', with args beginning with: ", "FOO"),
        C("foo", "a", "b", "c"),
        E("ERR unknown command '', with args beginning with: ", ""),
        C(b"x" * 200, "a"),
        C("foo", "x" * 200),
        C("foo", "a" * 68, "b" * 67, "c", "d"),
        E("ERR unknown command 'foo', with args beginning with: 'a  b' ", "foo", b"a\r\nb"),
        C("foo", b"\x00\xff"),
        C("GETT", "k"), C("OBJECTS", "ENCODING", "k"),
        C("CONFIG_GET_NOT_A_COMMAND"),
    ]


def fam_arity():
    """Wrong number of arguments for every command of the set."""
    too_few = {
        "ECHO": [], "SELECT": [], "DEL": [], "UNLINK": [], "EXISTS": [], "TYPE": [],
        "KEYS": [], "SCAN": [], "RENAME": ["a"], "RENAMENX": ["a"], "COPY": ["a"],
        "TOUCH": [], "EXPIRE": ["a"], "PEXPIRE": ["a"], "EXPIREAT": ["a"],
        "PEXPIREAT": ["a"], "TTL": [], "PTTL": [], "EXPIRETIME": [], "PEXPIRETIME": [],
        "PERSIST": [], "GET": [], "SET": ["a"], "SETNX": ["a"], "SETEX": ["a", "1"],
        "PSETEX": ["a", "1"], "GETSET": ["a"], "GETDEL": [], "GETEX": [], "MGET": [],
        "MSET": [], "MSETNX": [], "APPEND": ["a"], "STRLEN": [], "GETRANGE": ["a", "0"],
        "SETRANGE": ["a", "0"], "SUBSTR": ["a", "0"], "INCR": [], "DECR": [],
        "INCRBY": ["a"], "DECRBY": ["a"], "INCRBYFLOAT": ["a"], "LCS": ["a"],
    }
    too_many = {
        "PING": ["a", "b"], "ECHO": ["a", "b"], "SELECT": ["0", "1"], "DBSIZE": ["x"],
        "TYPE": ["a", "b"], "KEYS": ["a", "b"], "RANDOMKEY": ["x"],
        "RENAME": ["a", "b", "c"], "RENAMENX": ["a", "b", "c"], "TTL": ["a", "b"],
        "PTTL": ["a", "b"], "EXPIRETIME": ["a", "b"], "PEXPIRETIME": ["a", "b"],
        "PERSIST": ["a", "b"], "GET": ["a", "b"], "SETNX": ["a", "b", "c"],
        "SETEX": ["a", "1", "v", "x"], "PSETEX": ["a", "1", "v", "x"],
        "GETSET": ["a", "b", "c"], "GETDEL": ["a", "b"], "APPEND": ["a", "b", "c"],
        "STRLEN": ["a", "b"], "GETRANGE": ["a", "0", "1", "2"],
        "SETRANGE": ["a", "0", "x", "y"], "SUBSTR": ["a", "0", "1", "2"],
        "INCR": ["a", "b"], "DECR": ["a", "b"], "INCRBY": ["a", "1", "2"],
        "DECRBY": ["a", "1", "2"], "INCRBYFLOAT": ["a", "1", "2"],
    }
    steps = []
    for cmd, args in sorted(too_few.items()):
        steps.append(ERR_ARITY(cmd.lower(), cmd, *args))
    for cmd, args in sorted(too_many.items()):
        steps.append(ERR_ARITY(cmd.lower(), cmd, *args))
    steps += [ERR_ARITY("get", "get"), ERR_ARITY("get", "GeT"),
              ERR_ARITY("mset", "MSET", "a", "1", "b"),
              C("EXPIRE", "a", "1", "NX", "XX", "GT"),
              C("FLUSHALL", "ASYNC", "SYNC"),
              ERR_ARITY("object|refcount", "OBJECT", "REFCOUNT", "a", "b")]
    return steps


def fam_resp3():
    return [
        C("HELLO", "3", norm="hello"),
        E("_", "GET", "missing"),
        C("SET", "k", "v"), C("GET", "k"),
        C("MGET", "k", "missing", "k"),
        E("_", "SET", "new", "v", "GET"),
        C("SET", "k", "v2", "GET"),
        E("_", "SET", "k", "x", "NX"),
        E("_", "GETDEL", "missing"), E("_", "GETEX", "missing"), E("_", "GETSET", "gs", "1"),
        C("MSET", "key1", "ohmytext", "key2", "mynewtext"),
        C("LCS", "key1", "key2"), C("LCS", "key1", "key2", "LEN"),
        C("LCS", "key1", "key2", "IDX"),
        C("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"),
        C("KEYS", "*", norm="sorted"), C("KEYS", "key*", norm="sorted"),
        C("SCAN", "0", norm="scan"), C("SCAN", "0", "MATCH", "k*", "COUNT", "2", norm="scan"),
        C("INCRBYFLOAT", "f", "1.5"), C("INCRBYFLOAT", "f", "abc"),
        C("INCR", "i"), C("INCRBY", "i", "abc"),
        C("SET", "t", "v", "EX", "100"), TTL("TTL", "t"), TTL("PTTL", "t", ms=True),
        C("EXPIRE", "t", "50", "GT"), C("TTL", "missing"),
        C("EXPIREAT", "t", str(FUTURE_S)), C("EXPIRETIME", "t"),
        C("OBJECT", "ENCODING", "missing"), C("OBJECT", "ENCODING", "i"),
        C("OBJECT", "ENCODING", "k"), C("OBJECT", "REFCOUNT", "k"),
        C("EXISTS", "k", "k", "missing"), C("TYPE", "k"), C("TYPE", "missing"),
        C("DBSIZE"), C("COPY", "k", "k2"), C("RENAME", "k2", "k3"), C("RENAMENX", "k3", "k"),
        C("PERSIST", "t"), C("TOUCH", "k", "t"), C("STRLEN", "k"), C("APPEND", "k", "x"),
        C("GETRANGE", "k", "0", "-1"), C("SETRANGE", "k", "3", "yy"), C("MSETNX", "k", "v"),
        C("SETNX", "k", "v"), C("GETEX", "k", "PERSIST"),
        C("ECHO", "x"), C("PING"), C("PING", "x"),
        C("SELECT", "1"), E("_", "RANDOMKEY"), C("SELECT", "0"),
        C("RANDOMKEY", norm="randomkey"),
        C("GET"), C("foo", "bar"), C("SELECT", "99"),
        C("HELLO", norm="hello"),
        C("HELLO", "2", norm="hello"),
        E("$-1", "GET", "missing"), C("MGET", "missing"),
    ]


def fam_hash():
    """Hashes: small ones stay listpack (insertion order, compared exactly),
    bigger or longer ones convert to hashtable (order unspecified)."""
    long = "v" * 65
    return [
        E(":2", "HSET", "h", "f1", "v1", "f2", "v2"), E(":0", "HSET", "h", "f1", "x"),
        E("+OK", "HMSET", "h", "f3", "3", "f4", "4"),
        ERR_ARITY("hset", "HSET", "h", "f1"), ERR_ARITY("hmset", "HMSET", "h", "a", "b", "c"),
        C("HGETALL", "h"), C("HKEYS", "h"), C("HVALS", "h"), C("HLEN", "h"),
        C("HGET", "h", "f1"), C("HGET", "h", "nope"), C("HGET", "missing", "f"),
        C("HMGET", "h", "f1", "nope", "f3"), C("HMGET", "missing", "a", "b"),
        C("HEXISTS", "h", "f2"), C("HEXISTS", "h", "zz"), C("HSTRLEN", "h", "f2"),
        C("HSTRLEN", "h", "zz"), C("HSTRLEN", "missing", "zz"),
        E(":0", "HSETNX", "h", "f1", "y"), E(":1", "HSETNX", "h", "f5", "y"),
        E(":1", "HSETNX", "newh", "a", "b"),
        E("$8\r\nlistpack", "OBJECT", "ENCODING", "h"), E("+hash", "TYPE", "h"),
        C("HDEL", "h", "f2", "nope", "f2"), C("HGETALL", "h"), C("HDEL", "missing", "a"),
        C("HINCRBY", "h", "f3", "10"), C("HINCRBY", "h", "new", "-5"), C("HGET", "h", "new"),
        E("ERR hash value is not an integer", "HINCRBY", "h", "f1", "1"),
        E("ERR value is not an integer or out of range", "HINCRBY", "h", "f3", "x"),
        C("HSET", "h", "big", "9223372036854775800"),
        E("ERR increment or decrement would overflow", "HINCRBY", "h", "big", "100"),
        C("HINCRBY", "h", "big", "-9223372036854775807"),
        C("HINCRBYFLOAT", "h", "f3", "1.5"), C("HINCRBYFLOAT", "h", "fl", "0.1"),
        C("HINCRBYFLOAT", "h", "fl", "0.2"), C("HINCRBYFLOAT", "h", "f3", "1e3"),
        E("ERR hash value is not a float", "HINCRBYFLOAT", "h", "f1", "1"),
        E("ERR value is not a valid float", "HINCRBYFLOAT", "h", "f3", "abc"),
        C("HINCRBYFLOAT", "h", "f3", "inf"), C("HSET", "h", "inf", "1e308"),
        C("HINCRBYFLOAT", "h", "inf", "1e308"), C("OBJECT", "ENCODING", "h"),
        C("HGETALL", "h", norm="pairs"),
        C("HSET", "h2", "a", "1"), C("HSET", "h2", "b", long), C("OBJECT", "ENCODING", "h2"),
        C("HSET", "h3", "x" * 65, "1"), C("OBJECT", "ENCODING", "h3"),
        C("HSET", "h4", "a", "1"), C("HINCRBYFLOAT", "h4", "a", "1e60"),
        C("OBJECT", "ENCODING", "h4"), C("HGET", "h4", "a"),
        C("CONFIG", "SET", "hash-max-listpack-entries", "3"),
        C("HSET", "h5", "a", "1", "b", "2", "c", "3"), C("OBJECT", "ENCODING", "h5"),
        C("HSET", "h5", "d", "4"), C("OBJECT", "ENCODING", "h5"),
        C("HGETALL", "h5", norm="pairs"), C("HDEL", "h5", "a", "b", "c"),
        C("OBJECT", "ENCODING", "h5"), C("HGETALL", "h5"),
        C("CONFIG", "SET", "hash-max-listpack-entries", "128"),
        C("CONFIG", "GET", "hash-max-listpack-entries"),
        C("CONFIG", "GET", "hash-max-listpack-value"),
        C("HDEL", "h5", "d"), C("EXISTS", "h5"), C("TYPE", "h5"),
        C("HRANDFIELD", "missing"), C("HRANDFIELD", "missing", "3"),
        C("HRANDFIELD", "missing", "3", "WITHVALUES"),
        C("HSET", "r", "a", "1", "b", "2", "c", "3"),
        C("HRANDFIELD", "r", "10"), C("HRANDFIELD", "r", "3", "WITHVALUES"),
        C("HRANDFIELD", "r", "0"), C("HRANDFIELD", "r", "-5", norm="shape"),
        C("HRANDFIELD", "r", "-5", "WITHVALUES", norm="shape"),
        C("HRANDFIELD", "r", "2", norm="shape"),
        C("HRANDFIELD", "r", "2", "WITHVALUES", "x"), C("HRANDFIELD", "r", "x"),
        C("HRANDFIELD", "r", "1", "BAD"),
        C("HSCAN", "r", "0"), C("HSCAN", "r", "0", "MATCH", "a*"), C("HSCAN", "r", "0", "COUNT", "1"),
        C("HSCAN", "r", "x"), C("HSCAN", "r", "0", "COUNT", "0"), C("HSCAN", "r", "0", "BAD"),
        C("HSCAN", "missing", "0"), C("HSCAN", "missing", "0", "BAD"),
        C("HSCAN", "r", "0", "TYPE", "string"), C("HSCAN", "r", "0", "COUNT", "x"),
        C("SET", "str", "v"),
        C("HSET", "str", "a", "b"), C("HGET", "str", "a"), C("HGETALL", "str"),
        C("HDEL", "str", "a"), C("HINCRBY", "str", "a", "1"), C("HLEN", "str"),
        C("HSCAN", "str", "0"), C("HRANDFIELD", "str"), C("HSETNX", "str", "a", "b"),
        C("GET", "h"), C("APPEND", "h", "x"), C("INCR", "h"), C("SET", "h", "now-a-string"),
        C("GET", "h"), C("TYPE", "h"),
        C("HSET", "c", "a", "1"), C("COPY", "c", "c2"), C("HGETALL", "c2"),
        C("RENAME", "c", "c3"), C("HGETALL", "c3"), C("EXISTS", "c"),
        C("EXPIRE", "c3", "100"), TTL("TTL", "c3"), C("PERSIST", "c3"), C("TTL", "c3"),
        C("HSET", "c3", "b", "2"), C("HGETALL", "c3"),
        C("SCAN", "0", "TYPE", "hash", norm="scan"), C("DEL", "c3"), C("EXISTS", "c3"),
        C("HELLO", "3", norm="hello"), C("HGETALL", "r"), C("HRANDFIELD", "r", "3", "WITHVALUES"),
        C("HMGET", "r", "a", "zz"), C("HGETALL", "missing"), C("HGET", "r", "zz"),
        C("HSCAN", "r", "0"), C("HELLO", "2", norm="hello"),
    ]


def fam_set():
    """Sets: all-integer small sets are intsets (ascending order, compared
    exactly); others are hashtables (compared as sets)."""
    return [
        E(":3", "SADD", "s", "3", "1", "2"), E(":0", "SADD", "s", "1"),
        E(":1", "SADD", "s", "2", "10", "2"),
        C("SMEMBERS", "s"), E("$6\r\nintset", "OBJECT", "ENCODING", "s"), E("+set", "TYPE", "s"),
        C("SCARD", "s"), C("SISMEMBER", "s", "2"), C("SISMEMBER", "s", "9"),
        C("SMISMEMBER", "s", "1", "9", "10"), C("SMISMEMBER", "missing", "1"),
        C("SREM", "s", "2", "9"), C("SMEMBERS", "s"),
        C("SADD", "s", "-5", "9223372036854775807", "-9223372036854775808"), C("SMEMBERS", "s"),
        C("SADD", "s", "01"), C("OBJECT", "ENCODING", "s"), C("SMEMBERS", "s", norm="unordered"),
        C("SADD", "t", "a", "b", "c"), C("OBJECT", "ENCODING", "t"),
        C("SADD", "u", "b", "c", "d", "1"),
        C("SINTER", "t", "u", norm="unordered"), C("SUNION", "t", "u", norm="unordered"),
        C("SDIFF", "t", "u", norm="unordered"), C("SDIFF", "u", "t", "missing", norm="unordered"),
        C("SINTER", "t", "missing"), C("SINTER", "missing", "t"), C("SUNION", "missing"),
        C("SINTERCARD", "2", "t", "u"), C("SINTERCARD", "2", "t", "u", "LIMIT", "1"),
        C("SINTERCARD", "2", "t", "u", "LIMIT", "0"),
        C("SINTERCARD", "0", "t"), C("SINTERCARD", "3", "t", "u"),
        C("SINTERCARD", "2", "t", "u", "LIMIT", "-1"), C("SINTERCARD", "x", "t"),
        C("SINTERCARD", "1", "t", "BAD"), C("SINTERCARD", "1", "missing"),
        C("SINTERSTORE", "dst", "t", "u"), C("SMEMBERS", "dst", norm="unordered"),
        C("SUNIONSTORE", "dst", "t", "u"), C("SCARD", "dst"),
        C("SDIFFSTORE", "dst", "t", "t"), C("EXISTS", "dst"),
        C("SET", "dst", "string"), C("SUNIONSTORE", "dst", "t"), C("TYPE", "dst"),
        C("SINTERSTORE", "t", "t", "u"), C("SMEMBERS", "t", norm="unordered"),
        C("SADD", "n", "5", "3"), C("SUNIONSTORE", "n2", "n", "n"), C("SMEMBERS", "n2"),
        C("OBJECT", "ENCODING", "n2"),
        C("SMOVE", "u", "n", "d"), C("SMEMBERS", "n", norm="unordered"), C("SMOVE", "u", "n", "zz"),
        C("SMOVE", "u", "u", "b"), C("SMOVE", "u", "u", "zz"), C("SMOVE", "missing", "n", "a"),
        C("SMOVE", "u", "newset", "b"), C("SMEMBERS", "newset"),
        C("SET", "str", "v"), C("SMOVE", "u", "str", "c"), C("SMOVE", "str", "u", "c"),
        C("SISMEMBER", "u", "c"),
        C("SADD", "p", "1", "2", "3"), C("SPOP", "p", "0"), C("SPOP", "p", "-1"),
        C("SPOP", "p", "10"), C("EXISTS", "p"), C("SPOP", "p"), C("SPOP", "p", "3"),
        C("SADD", "p", "x"), C("SPOP", "p"), C("EXISTS", "p"),
        C("SPOP", "p", "x"), C("SPOP", "p", "1", "2"),
        C("SADD", "q", "1", "2", "3"), C("SRANDMEMBER", "q", "10"), C("SRANDMEMBER", "q", "0"),
        C("SRANDMEMBER", "q", "-5", norm="shape"), C("SRANDMEMBER", "q", "2", norm="shape"),
        C("SRANDMEMBER", "missing"), C("SRANDMEMBER", "missing", "3"), C("SRANDMEMBER", "q", "x"),
        C("SRANDMEMBER", "q", "1", "2"),
        C("SSCAN", "q", "0"), C("SSCAN", "q", "0", "MATCH", "1*"), C("SSCAN", "missing", "0"),
        C("SSCAN", "q", "x"), C("SSCAN", "q", "0", "COUNT", "0"),
        C("CONFIG", "SET", "set-max-intset-entries", "3"),
        C("SADD", "w", "1", "2", "3"), C("OBJECT", "ENCODING", "w"), C("SADD", "w", "4"),
        C("OBJECT", "ENCODING", "w"), C("SREM", "w", "1", "2", "3"), C("OBJECT", "ENCODING", "w"),
        C("CONFIG", "SET", "set-max-intset-entries", "512"),
        C("CONFIG", "GET", "set-max-intset-entries"),
        C("SADD", "str", "a"), C("SREM", "str", "a"), C("SMEMBERS", "str"), C("SCARD", "str"),
        C("SISMEMBER", "str", "a"), C("SINTER", "str", "q"), C("SINTER", "q", "str"),
        C("SUNION", "q", "str"), C("SDIFF", "missing", "str"), C("SINTERSTORE", "d2", "q", "str"),
        C("SPOP", "str"), C("SRANDMEMBER", "str"), C("SSCAN", "str", "0"),
        C("SINTERCARD", "1", "str"),
        C("GET", "q"), C("HSET", "q", "a", "b"), C("HGET", "q", "a"),
        C("SREM", "q", "1", "2", "3"), C("EXISTS", "q"),
        C("SADD", "c", "1", "a"), C("COPY", "c", "c2"), C("SMEMBERS", "c2", norm="unordered"),
        C("RENAME", "c", "c3"), C("SCARD", "c3"), C("SCAN", "0", "TYPE", "set", norm="scan"),
        C("HELLO", "3", norm="hello"), C("SMEMBERS", "n2"), C("SINTER", "n2", "n2"),
        C("SPOP", "n2", "5"), C("SRANDMEMBER", "c3", "5", norm="unordered"),
        C("SMISMEMBER", "c3", "1", "x"), C("SINTERCARD", "1", "c3"),
        C("SSCAN", "c3", "0", norm="cscan"),
        C("HELLO", "2", norm="hello"),
    ]


def fam_list():
    """Lists (Redis 7.0: always quicklist): pushes, pops with and without
    counts, ranges with every index form, LINSERT/LREM/LTRIM/LPOS/LSET, LMOVE
    and LMPOP, errors, WRONGTYPE, and the blocking forms when they need not
    block (data present, or a timeout)."""
    return [
        E(":3", "RPUSH", "l", "a", "b", "c"), E(":5", "LPUSH", "l", "y", "z"), C("LLEN", "l"),
        C("LRANGE", "l", "0", "-1"), C("LRANGE", "l", "-2", "100"), C("LRANGE", "l", "3", "1"),
        C("LRANGE", "l", "-100", "-4"), C("LRANGE", "l", "x", "1"), C("LRANGE", "missing", "0", "-1"),
        C("LINDEX", "l", "0"), C("LINDEX", "l", "-1"), C("LINDEX", "l", "9"), C("LINDEX", "l", "x"),
        E("$9\r\nquicklist", "OBJECT", "ENCODING", "l"), E("+list", "TYPE", "l"),
        C("LPUSHX", "missing", "a"), C("RPUSHX", "l", "d", "e"), C("LRANGE", "l", "0", "-1"),
        C("LPOP", "l"), C("RPOP", "l"), C("LPOP", "l", "2"), C("RPOP", "l", "0"),
        C("LPOP", "missing"), C("LPOP", "missing", "2"), C("LPOP", "l", "-1"), C("LPOP", "l", "x"),
        C("RPUSH", "l", "x", "a", "x", "b", "x"), C("LRANGE", "l", "0", "-1"),
        C("LREM", "l", "2", "x"), C("LRANGE", "l", "0", "-1"), C("LREM", "l", "-1", "x"),
        C("LREM", "l", "0", "a"), C("LRANGE", "l", "0", "-1"), C("LREM", "missing", "0", "a"),
        C("LINSERT", "l", "BEFORE", "b", "B0"), C("LINSERT", "l", "after", "b", "B1"),
        C("LINSERT", "l", "AFTER", "nope", "q"), C("LINSERT", "missing", "AFTER", "a", "q"),
        C("LINSERT", "l", "MIDDLE", "b", "q"), C("LRANGE", "l", "0", "-1"),
        C("LSET", "l", "0", "first"), C("LSET", "l", "-1", "last"), C("LSET", "l", "99", "v"),
        C("LSET", "missing", "0", "v"), C("LRANGE", "l", "0", "-1"),
        C("RPUSH", "p", "a", "b", "c", "a", "b", "c", "a"),
        C("LPOS", "p", "a"), C("LPOS", "p", "a", "RANK", "2"), C("LPOS", "p", "a", "RANK", "-1"),
        C("LPOS", "p", "a", "COUNT", "0"), C("LPOS", "p", "a", "COUNT", "2", "RANK", "-1"),
        C("LPOS", "p", "a", "MAXLEN", "3", "COUNT", "0"), C("LPOS", "p", "zz"),
        C("LPOS", "p", "zz", "COUNT", "2"), C("LPOS", "p", "a", "RANK", "0"),
        C("LPOS", "p", "a", "COUNT", "-1"), C("LPOS", "p", "a", "MAXLEN", "-1"),
        C("LPOS", "p", "a", "FOO", "1"), C("LPOS", "p", "a", "RANK"), C("LPOS", "missing", "a"),
        C("LTRIM", "p", "1", "-2"), C("LRANGE", "p", "0", "-1"), C("LTRIM", "p", "5", "1"),
        C("EXISTS", "p"), C("RPUSH", "p", "1", "2", "3"), C("LTRIM", "p", "-2", "100"),
        C("LRANGE", "p", "0", "-1"), C("LTRIM", "missing", "0", "1"), C("LTRIM", "p", "x", "1"),
        C("RPUSH", "m", "1", "2", "3"), C("LMOVE", "m", "m2", "LEFT", "RIGHT"),
        C("LMOVE", "m", "m2", "RIGHT", "LEFT"), C("LRANGE", "m2", "0", "-1"),
        C("LMOVE", "m", "m", "LEFT", "RIGHT"), C("LRANGE", "m", "0", "-1"),
        C("LMOVE", "missing", "m", "LEFT", "LEFT"), C("LMOVE", "m", "m2", "UP", "LEFT"),
        C("RPOPLPUSH", "m", "m3"), C("LRANGE", "m3", "0", "-1"), C("EXISTS", "m"),
        C("LMPOP", "2", "missing", "m2", "LEFT"), C("LMPOP", "1", "m2", "RIGHT", "COUNT", "10"),
        C("LMPOP", "1", "missing", "LEFT"), C("LMPOP", "0", "m2", "LEFT"),
        C("LMPOP", "2", "m2", "LEFT"), C("LMPOP", "1", "m2", "MIDDLE"),
        C("LMPOP", "1", "m2", "LEFT", "COUNT", "0"), C("LMPOP", "1", "m2", "LEFT", "COUNT"),
        C("LMPOP", "x", "m2", "LEFT"),
        C("RPUSH", "b", "1", "2"), C("BLPOP", "missing", "b", "0"), C("BRPOP", "b", "0.1"),
        C("BLPOP", "missing", "0.05"), C("BLPOP", "b", "-1"), C("BLPOP", "b", "abc"),
        C("BLMOVE", "missing", "b", "LEFT", "LEFT", "0.05"), C("RPUSH", "b", "x"),
        C("BLMOVE", "b", "b9", "LEFT", "RIGHT", "0"), C("BRPOPLPUSH", "missing", "b", "0.05"),
        C("BLMPOP", "0.05", "1", "missing", "LEFT"), C("RPUSH", "b", "y", "z"),
        C("BLMPOP", "0", "2", "missing", "b", "RIGHT", "COUNT", "5"),
        C("BLMPOP", "-1", "1", "b", "LEFT"), C("BLMPOP", "0", "1", "b", "LEFT", "COUNT", "-2"),
        C("SET", "str", "v"), C("LPUSH", "str", "a"), C("RPUSHX", "str", "a"), C("LPOP", "str"),
        C("LRANGE", "str", "0", "1"), C("LLEN", "str"), C("LINDEX", "str", "0"),
        C("LSET", "str", "0", "a"), C("LINSERT", "str", "BEFORE", "a", "b"), C("LREM", "str", "0", "a"),
        C("LTRIM", "str", "0", "1"), C("LPOS", "str", "a"), C("LMOVE", "str", "b", "LEFT", "LEFT"),
        C("RPUSH", "b", "q"), C("LMOVE", "b", "str", "LEFT", "LEFT"), C("LLEN", "b"),
        C("BLPOP", "str", "0"), C("LMPOP", "2", "missing", "str", "LEFT"),
        C("BLMPOP", "0", "1", "str", "LEFT"), C("BLMOVE", "b", "str", "LEFT", "LEFT", "0"),
        C("RPUSH", "c", "1"), C("COPY", "c", "c2"), C("LRANGE", "c2", "0", "-1"),
        C("RENAME", "c", "c3"), C("LRANGE", "c3", "0", "-1"), C("SCAN", "0", "TYPE", "list", norm="scan"),
        C("HELLO", "3", norm="hello"), C("LPOP", "c3", "5"), C("LPOP", "missing", "1"),
        C("BLPOP", "missing", "0.05"), C("BLMOVE", "missing", "x", "LEFT", "LEFT", "0.05"),
        C("RPUSH", "r3", "a", "b"), C("BLPOP", "r3", "0"), C("LMPOP", "1", "r3", "LEFT"),
        C("LPOS", "r3", "zz"), C("LRANGE", "missing", "0", "1"),
        C("HELLO", "2", norm="hello"),
    ]


def fam_zset():
    """Sorted sets: replies are ordered by (score, member) in both encodings,
    so almost everything compares exactly; scores print as "%.17g" (0.1,
    1e300, inf; -0 survives only in a skiplist, a listpack stores 0)."""
    long = "M" * 65
    return [
        E(":4", "ZADD", "z", "0.1", "a", "1e300", "b", "inf", "c", "-0", "d"),
        E("$19\r\n0.10000000000000001", "ZSCORE", "z", "a"), C("ZSCORE", "z", "b"),
        C("ZSCORE", "z", "c"), E("$1\r\n0", "ZSCORE", "z", "d"), C("ZSCORE", "z", "nope"),
        C("ZSCORE", "missing", "a"), C("ZRANGE", "z", "0", "-1", "WITHSCORES"),
        E("$8\r\nlistpack", "OBJECT", "ENCODING", "z"), E("+zset", "TYPE", "z"),
        C("ZCARD", "z"), C("ZCARD", "missing"), C("ZMSCORE", "z", "a", "nope", "c"),
        C("ZMSCORE", "missing", "a", "b"),
        # ZADD options and their errors.
        E("ERR XX and NX options at the same time are not compatible",
          "ZADD", "z", "NX", "XX", "1", "a"),
        E("ERR GT, LT, and/or NX options at the same time are not compatible",
          "ZADD", "z", "GT", "LT", "1", "a"),
        C("ZADD", "z", "NX", "GT", "1", "a"),
        E("ERR INCR option supports a single increment-element pair",
          "ZADD", "z", "INCR", "1", "a", "2", "b"),
        ERR_ARITY("zadd", "ZADD", "z", "1"), C("ZADD", "z", "1", "a", "2"),
        C("ZADD", "z", "NX"), E("ERR value is not a valid float", "ZADD", "z", "x", "a"),
        C("ZADD", "z", "nan", "a"), C("ZADD", "z", " 1", "a"), C("ZADD", "z", "1 ", "a"),
        C("ZADD", "z", "", "a"), C("ZADD", "z", "1e400", "a"), C("ZADD", "z", "1e-400", "a"),
        C("ZADD", "z", "0x10", "h"), C("ZADD", "z", "1e-320", "f"), C("ZSCORE", "z", "f"),
        C("ZADD", "z", "NX", "5", "a", "6", "new"), C("ZADD", "z", "XX", "5", "a", "6", "new2"),
        C("ZADD", "z", "XX", "CH", "7", "a", "7", "new"), C("ZADD", "z", "GT", "CH", "1", "a"),
        C("ZADD", "z", "GT", "CH", "8", "a"), C("ZADD", "z", "LT", "CH", "9", "a", "1", "new"),
        C("ZADD", "z", "lt", "ch", "-1", "brandnew"), C("ZADD", "z", "CH", "1", "new"),
        C("ZADD", "z", "INCR", "2.5", "a"), C("ZADD", "z", "INCR", "XX", "1", "nope"),
        C("ZADD", "z", "INCR", "NX", "1", "a"), C("ZADD", "z", "INCR", "GT", "-1", "a"),
        C("ZADD", "z", "INCR", "LT", "-1", "a"), C("ZADD", "z", "INCR", "0", "a"),
        C("ZADD", "z", "INCR", "-inf", "c"),
        E("ERR resulting score is not a number (NaN)", "ZADD", "z", "INCR", "-inf", "c"),
        C("ZADD", "z", "INCR", "-0", "q"), C("ZSCORE", "z", "q"),
        C("ZADD", "xx", "XX", "1", "a"), C("EXISTS", "xx"), C("ZADD", "xx", "XX", "INCR", "1", "a"),
        C("ZADD", "z", "nx\x00junk", "1", "nx0"),
        C("ZINCRBY", "z", "1", "a"), C("ZINCRBY", "z", "0.1", "fl"), C("ZINCRBY", "z", "0.2", "fl"),
        C("ZINCRBY", "z", "x", "a"), C("ZINCRBY", "z", "nan", "a"), C("ZINCRBY", "z", "-inf", "b"),
        C("ZINCRBY", "z", "inf", "b"), C("ZINCRBY", "newz", "-0", "m"), C("ZSCORE", "newz", "m"),
        C("ZRANGE", "z", "0", "-1", "WITHSCORES"),
        # Ranks and counts.
        C("ZRANK", "z", "a"), C("ZREVRANK", "z", "a"), C("ZRANK", "z", "nope"),
        C("ZRANK", "missing", "a"), C("ZREVRANK", "z", "c"),
        C("ZCOUNT", "z", "-inf", "+inf"), C("ZCOUNT", "z", "(0", "(8"), C("ZCOUNT", "z", "8", "1"),
        C("ZCOUNT", "z", "x", "1"), C("ZCOUNT", "z", "1", "(x"), C("ZCOUNT", "z", "", "("),
        C("ZCOUNT", "z", "nan", "1"), C("ZCOUNT", "missing", "0", "1"), C("ZCOUNT", "z", " 0", "inf"),
        C("ZCOUNT", "z", "1e400", "-1e400"), C("ZCOUNT", "z", "-1e400", "1e400"),
        # Rank ranges.
        C("ZRANGE", "z", "0", "2"), C("ZRANGE", "z", "-3", "-1", "WITHSCORES"),
        C("ZRANGE", "z", "5", "1"), C("ZRANGE", "z", "-100", "100"), C("ZRANGE", "z", "100", "200"),
        C("ZRANGE", "z", "0", "-1", "REV"), C("ZRANGE", "z", "1", "3", "REV", "WITHSCORES"),
        C("ZREVRANGE", "z", "0", "1", "WITHSCORES"), C("ZREVRANGE", "z", "0", "1", "LIMIT", "0", "1"),
        C("ZRANGE", "z", "0", "1", "LIMIT", "0", "1"), C("ZRANGE", "z", "0", "1", "LIMIT", "0", "-1"),
        C("ZRANGE", "z", "x", "1"), C("ZRANGE", "z", "0", "1", "BAD"), C("ZRANGE", "missing", "0", "1"),
        C("ZRANGE", "z", "0", "1", "LIMIT", "0"), C("ZRANGE", "z", "0", "1", "LIMIT", "x", "1"),
        # Score ranges.
        C("ZRANGEBYSCORE", "z", "-inf", "inf", "WITHSCORES"),
        C("ZRANGEBYSCORE", "z", "(0", "10", "LIMIT", "1", "2"),
        C("ZRANGEBYSCORE", "z", "0", "10", "LIMIT", "-1", "2"),
        C("ZRANGEBYSCORE", "z", "0", "10", "LIMIT", "1", "-1"),
        C("ZRANGEBYSCORE", "z", "0", "10", "LIMIT", "100", "1"),
        C("ZRANGEBYSCORE", "z", "0", "10", "LIMIT", "1", "0"),
        C("ZREVRANGEBYSCORE", "z", "+inf", "-inf", "WITHSCORES", "LIMIT", "0", "3"),
        C("ZREVRANGEBYSCORE", "z", "5", "(1"), C("ZRANGEBYSCORE", "z", "0", "1", "REV"),
        C("ZRANGEBYSCORE", "z", "0", "1", "BYLEX"), C("ZRANGEBYSCORE", "z", "a", "1"),
        C("ZRANGE", "z", "(1", "inf", "BYSCORE"), C("ZRANGE", "z", "inf", "(1", "BYSCORE", "REV"),
        C("ZRANGE", "z", "-inf", "inf", "BYSCORE", "LIMIT", "2", "2", "WITHSCORES"),
        C("ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"), C("ZRANGE", "z", "0", "1", "REV", "REV"),
        C("ZRANGEBYSCORE", "z", "1\x00x", "9"),
        # Lexicographic ranges (one score).
        C("ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "", "0", "b\x00"),
        C("ZRANGEBYLEX", "l", "-", "+"), C("ZRANGEBYLEX", "l", "[b", "(d"),
        C("ZRANGEBYLEX", "l", "(b", "+", "LIMIT", "1", "2"), C("ZREVRANGEBYLEX", "l", "+", "[b"),
        C("ZREVRANGEBYLEX", "l", "(d", "-", "LIMIT", "0", "2"), C("ZRANGEBYLEX", "l", "+", "-"),
        C("ZRANGEBYLEX", "l", "-", "-"), C("ZRANGEBYLEX", "l", "[", "+"), C("ZRANGEBYLEX", "l", "a", "+"),
        C("ZRANGEBYLEX", "l", "", "+"), C("ZRANGEBYLEX", "l", "+x", "+"), C("ZRANGEBYLEX", "l", "-\x00z", "+"),
        C("ZRANGEBYLEX", "l", "-", "+", "WITHSCORES"), C("ZRANGE", "l", "[c", "-", "BYLEX", "REV"),
        C("ZLEXCOUNT", "l", "-", "+"), C("ZLEXCOUNT", "l", "[b", "[c"), C("ZLEXCOUNT", "l", "(e", "+"),
        C("ZLEXCOUNT", "l", "x", "+"), C("ZLEXCOUNT", "missing", "-", "+"),
        C("ZRANGEBYLEX", "z", "-", "+"), C("ZLEXCOUNT", "z", "[b", "[m"),
        # Removal by member and by range.
        C("ZREM", "l", "a", "nope", "a"), C("ZREM", "missing", "a"),
        C("ZREMRANGEBYLEX", "l", "[b", "(d"), C("ZRANGE", "l", "0", "-1"),
        C("ZREMRANGEBYLEX", "l", "x", "+"), C("ZREMRANGEBYLEX", "missing", "-", "+"),
        C("ZREMRANGEBYRANK", "z", "0", "1"), C("ZREMRANGEBYRANK", "z", "-2", "-1"),
        C("ZREMRANGEBYRANK", "z", "5", "1"), C("ZREMRANGEBYRANK", "z", "x", "1"),
        C("ZREMRANGEBYSCORE", "z", "(0", "5"), C("ZREMRANGEBYSCORE", "z", "x", "5"),
        C("ZRANGE", "z", "0", "-1", "WITHSCORES"), C("ZREMRANGEBYSCORE", "z", "-inf", "inf"),
        C("EXISTS", "z"), C("ZREMRANGEBYRANK", "missing", "0", "-1"),
        # Pops.
        C("ZADD", "p", "1", "a", "2", "b", "3", "c", "4", "d"), C("ZPOPMIN", "p"),
        C("ZPOPMAX", "p"), C("ZPOPMIN", "p", "0"), C("ZPOPMIN", "p", "-1"), C("ZPOPMIN", "p", "x"),
        C("ZPOPMAX", "p", "10"), C("EXISTS", "p"), C("ZPOPMIN", "missing"), C("ZPOPMIN", "missing", "2"),
        C("ZPOPMIN", "p", "1", "2"),
        C("ZADD", "p", "1", "a", "2", "b", "3", "c"), C("ZADD", "p2", "5", "x"),
        C("ZMPOP", "2", "missing", "p", "MIN"), C("ZMPOP", "2", "missing", "p", "MAX", "COUNT", "5"),
        C("ZMPOP", "1", "missing", "MIN"), C("ZMPOP", "0", "p2", "MIN"), C("ZMPOP", "x", "p2", "MIN"),
        C("ZMPOP", "1", "p2", "MIDDLE"), C("ZMPOP", "1", "p2", "MIN", "COUNT", "0"),
        C("ZMPOP", "1", "p2", "MIN", "COUNT"), C("ZMPOP", "1", "p2", "MIN", "COUNT", "1", "COUNT", "1"),
        C("ZMPOP", "3", "p2", "MIN"), C("ZMPOP", "1", "p2", "min", "count", "9"),
        # Random members (only the deterministic shapes are compared exactly).
        C("ZADD", "r", "1", "a", "2", "b", "3", "c"),
        C("ZRANDMEMBER", "r", "10"), C("ZRANDMEMBER", "r", "3", "WITHSCORES"),
        C("ZRANDMEMBER", "r", "0"), C("ZRANDMEMBER", "r", "-5", norm="shape"),
        C("ZRANDMEMBER", "r", "-5", "WITHSCORES", norm="shape"),
        C("ZRANDMEMBER", "r", "2", norm="shape"), C("ZRANDMEMBER", "r", "1", "WITHSCORES", norm="shape"),
        C("ZRANDMEMBER", "r", "2", "WITHSCORES", "x"), C("ZRANDMEMBER", "r", "x"),
        C("ZRANDMEMBER", "r", "1", "BAD"), C("ZRANDMEMBER", "missing"),
        C("ZRANDMEMBER", "missing", "3"), C("ZRANDMEMBER", "r", "-9223372036854775808"),
        C("ZRANDMEMBER", "r", "-9223372036854775807", "WITHSCORES"),
        # Union, intersection, difference (sets score 1).
        C("ZADD", "u1", "1", "a", "2", "b", "3", "c"), C("ZADD", "u2", "10", "b", "20", "c", "30", "d"),
        C("SADD", "s1", "a", "d", "e"),
        C("ZUNION", "2", "u1", "u2"), C("ZUNION", "2", "u1", "u2", "WITHSCORES"),
        C("ZUNION", "3", "u1", "u2", "s1", "WEIGHTS", "1", "2", "3", "WITHSCORES"),
        C("ZUNION", "2", "u1", "u2", "AGGREGATE", "MIN", "WITHSCORES"),
        C("ZUNION", "2", "u1", "u2", "AGGREGATE", "max", "WITHSCORES"),
        C("ZUNION", "2", "u1", "u2", "AGGREGATE", "avg"), C("ZUNION", "2", "u1", "u2", "WEIGHTS", "1"),
        C("ZUNION", "2", "u1", "u2", "WEIGHTS", "1", "x"), C("ZUNION", "0", "u1"),
        C("ZUNION", "3", "u1", "u2"), C("ZUNION", "x", "u1"), C("ZUNION", "1", "missing"),
        C("ZUNION", "2", "u1", "u2", "WEIGHTS", "inf", "-inf", "WITHSCORES"),
        C("ZUNION", "1", "u1", "WEIGHTS", "-1", "WITHSCORES"),
        C("ZINTER", "2", "u1", "u2", "WITHSCORES"), C("ZINTER", "2", "u1", "u1", "WITHSCORES"),
        C("ZINTER", "3", "u1", "u2", "s1"), C("ZINTER", "2", "u2", "s1", "WITHSCORES"),
        C("ZINTER", "2", "u1", "missing"), C("ZINTER", "2", "u1", "u2", "WEIGHTS", "0", "inf", "WITHSCORES"),
        C("ZINTER", "2", "u1", "u2", "AGGREGATE", "MAX", "WITHSCORES"),
        C("ZDIFF", "2", "u1", "u2", "WITHSCORES"), C("ZDIFF", "2", "u1", "u1"),
        C("ZDIFF", "2", "u2", "s1", "WITHSCORES"), C("ZDIFF", "1", "missing"),
        C("ZDIFF", "2", "u1", "u2", "WEIGHTS", "1", "2"), C("ZDIFF", "2", "u1", "u2", "AGGREGATE", "SUM"),
        C("ZINTERCARD", "2", "u1", "u2"), C("ZINTERCARD", "2", "u1", "u2", "LIMIT", "1"),
        C("ZINTERCARD", "2", "u1", "u2", "LIMIT", "0"), C("ZINTERCARD", "2", "u1", "u2", "LIMIT", "-1"),
        C("ZINTERCARD", "0", "u1"), C("ZINTERCARD", "3", "u1", "u2"), C("ZINTERCARD", "x", "u1"),
        C("ZINTERCARD", "1", "u1", "WITHSCORES"), C("ZINTERCARD", "2", "u1", "s1"),
        C("ZUNIONSTORE", "dst", "2", "u1", "u2"), C("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        C("OBJECT", "ENCODING", "dst"), C("ZINTERSTORE", "dst", "2", "u1", "u2", "WEIGHTS", "2", "1"),
        C("ZRANGE", "dst", "0", "-1", "WITHSCORES"), C("ZDIFFSTORE", "dst", "2", "u1", "u1"),
        C("EXISTS", "dst"), C("SET", "dst", "string"), C("ZUNIONSTORE", "dst", "1", "u1"),
        C("TYPE", "dst"), C("ZUNIONSTORE", "dst", "1", "u1", "WITHSCORES"),
        C("ZUNIONSTORE", "u1", "2", "u1", "u2"), C("ZRANGE", "u1", "0", "-1", "WITHSCORES"),
        C("ZUNIONSTORE", "neg", "1", "u2", "WEIGHTS", "-0"), C("ZRANGE", "neg", "0", "-1", "WITHSCORES"),
        C("ZUNION", "1", "u2", "WEIGHTS", "-0", "WITHSCORES"),
        C("ZINTERSTORE", "dst", "0", "u1"), C("ZDIFFSTORE", "dst", "1"),
        # ZRANGESTORE.
        C("ZRANGESTORE", "rs", "u1", "0", "1"), C("ZRANGE", "rs", "0", "-1", "WITHSCORES"),
        C("ZRANGESTORE", "rs", "u1", "(1", "+inf", "BYSCORE", "LIMIT", "1", "1"),
        C("ZRANGE", "rs", "0", "-1", "WITHSCORES"), C("ZRANGESTORE", "rs", "u1", "0", "-1", "WITHSCORES"),
        C("ZRANGESTORE", "rs", "missing", "0", "-1"), C("EXISTS", "rs"),
        C("ZRANGESTORE", "rs", "l", "[c", "-", "BYLEX", "REV"), C("ZRANGE", "rs", "0", "-1"),
        C("ZRANGESTORE", "rs", "u1", "5", "1"), C("EXISTS", "rs"),
        # ZSCAN.
        C("ZSCAN", "u1", "0"), C("ZSCAN", "u1", "0", "MATCH", "a*"), C("ZSCAN", "u1", "0", "COUNT", "1"),
        C("ZSCAN", "u1", "x"), C("ZSCAN", "u1", "0", "COUNT", "0"), C("ZSCAN", "u1", "0", "BAD"),
        C("ZSCAN", "missing", "0"), C("ZSCAN", "u1", "0", norm="cscan"),
        # Encodings: listpack limits, one-way conversion, -0 in a skiplist.
        C("CONFIG", "SET", "zset-max-listpack-entries", "3"),
        C("ZADD", "e", "1", "a", "2", "b", "3", "c"), C("OBJECT", "ENCODING", "e"),
        C("ZADD", "e", "4", "d"), C("OBJECT", "ENCODING", "e"), C("ZREM", "e", "a", "b", "c"),
        C("OBJECT", "ENCODING", "e"), C("ZADD", "e", "-0", "z"), C("ZSCORE", "e", "z"),
        C("ZRANGE", "e", "0", "-1", "WITHSCORES"), C("ZSCAN", "e", "0", norm="cscan"),
        C("ZUNIONSTORE", "e2", "1", "e"), C("OBJECT", "ENCODING", "e2"), C("ZSCORE", "e2", "z"),
        C("ZADD", "e3", "1", "a", "1", "a"), C("OBJECT", "ENCODING", "e3"),
        C("CONFIG", "SET", "zset-max-listpack-entries", "0"), C("ZADD", "e4", "1", "a"),
        C("OBJECT", "ENCODING", "e4"), C("CONFIG", "SET", "zset-max-listpack-entries", "128"),
        C("CONFIG", "GET", "zset-max-listpack-entries"), C("CONFIG", "GET", "zset-max-listpack-value"),
        C("ZADD", "e5", "1", "a", "2", long), C("OBJECT", "ENCODING", "e5"),
        C("ZADD", "e6", "1", long), C("OBJECT", "ENCODING", "e6"),
        C("ZRANGESTORE", "e7", "e5", "0", "0"), C("OBJECT", "ENCODING", "e7"),
        C("ZRANGESTORE", "e7", "e5", "0", "-1"), C("OBJECT", "ENCODING", "e7"),
        # A big skiplist: ranks and ranges over many members.
        C("ZADD", "big", *[x for i in range(300) for x in (str(i % 97), "m%03d" % i)]),
        C("OBJECT", "ENCODING", "big"), C("ZCARD", "big"), C("ZRANK", "big", "m150"),
        C("ZREVRANK", "big", "m150"), C("ZRANGE", "big", "100", "110", "WITHSCORES"),
        C("ZRANGE", "big", "-5", "-1", "REV"), C("ZRANGEBYSCORE", "big", "(10", "12", "LIMIT", "3", "5"),
        C("ZCOUNT", "big", "10", "20"), C("ZREMRANGEBYRANK", "big", "50", "99"),
        C("ZREMRANGEBYSCORE", "big", "90", "+inf"), C("ZCARD", "big"),
        C("ZRANGE", "big", "0", "-1", "WITHSCORES"), C("ZPOPMAX", "big", "3"),
        C("ZRANDMEMBER", "big", "1000"), C("ZSCAN", "big", "0", norm="cscan"),
        # Wrong types both ways.
        C("SET", "str", "v"), C("ZADD", "str", "1", "a"), C("ZSCORE", "str", "a"),
        C("ZRANGE", "str", "0", "1"), C("ZRANGE", "missing", "x", "1"), C("ZRANGE", "str", "x", "1"),
        C("ZINCRBY", "str", "1", "a"), C("ZREM", "str", "a"), C("ZCARD", "str"), C("ZPOPMIN", "str"),
        C("ZMPOP", "2", "missing", "str", "MIN"), C("ZUNION", "2", "u1", "str"),
        C("ZUNIONSTORE", "d", "2", "str", "u1"), C("ZRANGESTORE", "d", "str", "0", "1"),
        C("ZSCAN", "str", "0"), C("ZRANDMEMBER", "str"), C("ZREMRANGEBYRANK", "str", "0", "1"),
        C("ZINTERCARD", "1", "str"), C("ZRANGESTORE", "str", "u1", "0", "1"), C("TYPE", "str"),
        C("GET", "u1"), C("SADD", "u1", "x"), C("HSET", "u1", "a", "b"),
        # Copies and renames keep the contents; TTLs as for any key.
        C("ZADD", "c", "1.5", "a", "2", "b"), C("COPY", "c", "c2"), C("ZRANGE", "c2", "0", "-1", "WITHSCORES"),
        C("RENAME", "c", "c3"), C("ZRANGE", "c3", "0", "-1", "WITHSCORES"), C("EXISTS", "c"),
        C("EXPIRE", "c3", "100"), TTL("TTL", "c3"), C("ZADD", "c3", "3", "c"), TTL("TTL", "c3"),
        C("SCAN", "0", "TYPE", "zset", norm="scan"), C("DEL", "c3"), C("EXISTS", "c3"),
        # RESP3: doubles, nested pairs.
        C("HELLO", "3", norm="hello"), C("ZSCORE", "u1", "a"), C("ZMSCORE", "u1", "a", "zz"),
        C("ZRANGE", "u1", "0", "-1", "WITHSCORES"), C("ZRANGEBYSCORE", "u1", "-inf", "inf", "WITHSCORES"),
        C("ZINCRBY", "u1", "0.5", "a"), C("ZADD", "u1", "INCR", "1", "a"), C("ZADD", "u1", "XX", "INCR", "1", "no"),
        C("ZUNION", "2", "u1", "u2", "WITHSCORES"), C("ZPOPMIN", "u1"), C("ZPOPMIN", "u1", "2"),
        C("ZPOPMAX", "u1", "1"), C("ZPOPMIN", "missing", "1"), C("ZMPOP", "1", "u2", "MAX"),
        C("ZMPOP", "1", "missing", "MAX"), C("ZRANDMEMBER", "u2", "10", "WITHSCORES"),
        C("ZRANDMEMBER", "u2", "-3", "WITHSCORES", norm="shape"), C("ZRANDMEMBER", "missing"),
        C("ZSCAN", "u2", "0"), C("ZSCORE", "u2", "nope"), C("ZRANK", "u2", "nope"),
        C("ZADD", "inf", "inf", "a", "-inf", "b"), C("ZRANGE", "inf", "0", "-1", "WITHSCORES"),
        C("ZSCORE", "neg", "b"),
        C("HELLO", "2", norm="hello"),
        # Leaves Redis's errno clear (1e-320 and 1e400 above set ERANGE, which
        # a later numeric SORT would trip over: see fam_sort).
        C("ZADD", "__errno", "abc", "x"),
    ]


def _command_names(server):
    conn = server.client()
    try:
        node = parse_reply(conn.call(b"COMMAND", b"LIST"))
    finally:
        conn.close()
    return [x[1] for x in node[1]]


def _drop_subcommands(node, keep):
    """A COMMAND INFO or COMMAND DOCS reply tree without the subcommands whose
    names are not in `keep` (INFO: the array at position 9 of each entry;
    DOCS: the "subcommands" map of each entry), the rest sorted: Redis lists
    subcommands in its hash table's order, which changes with the hash seed
    of each process."""
    t, v = node
    if t == "*" and v and all(e[0] == "*" and len(e[1]) == 10 for e in v):   # INFO
        out = []
        for e in v:
            f = list(e[1])
            if f[9][0] == "*":
                f[9] = ("*", sorted((s for s in f[9][1] if s[1][0][1] in keep), key=repr))
            out.append(("*", f))
        return (t, out)
    if t == "%" or (t == "*" and len(v) % 2 == 0):                          # DOCS
        pairs = v if t == "%" else list(zip(v[0::2], v[1::2]))
        out = []
        for name, body in pairs:
            bt, bv = body
            fields = bv if bt == "%" else list(zip(bv[0::2], bv[1::2]))
            new = []
            for k, val in fields:
                if k[1] == b"subcommands":
                    subs = val[1] if val[0] == "%" else list(zip(val[1][0::2], val[1][1::2]))
                    val = (val[0], sorted((kv for kv in subs if kv[0][1] in keep), key=repr))
                new.append((k, val))
            out.append((name, (bt, new)))
        return (t, out)
    return node


def compare_subcommand_subset(ref, lat):
    """norm="subcommands", for containers (CLIENT, COMMAND, CONFIG, OBJECT):
    both replies are compared as trees, each keeping only the subcommands
    both servers list in COMMAND LIST (Lattice lacks some of Redis's and has
    CLIENT SETINFO from 7.2), in any order (Redis's order is its hash
    table's); everything else must match."""
    a, b = _safe_parse(ref), _safe_parse(lat)
    if a is None or b is None:
        return "replies differ"
    keep = _COMMON_COMMANDS
    return None if _drop_subcommands(a, keep) == _drop_subcommands(b, keep) else \
        "replies differ (subcommands both servers know)"


_COMMON_COMMANDS = set()


def fam_command_info():
    """COMMAND INFO and COMMAND DOCS of every command (and subcommand) that
    both servers list in COMMAND LIST, in RESP2 and RESP3, byte for byte:
    ACL categories, flags, tips, key specs, docs and arguments must be Redis
    7.0.15's (node/command_meta.h). Containers are compared as trees over
    the subcommands both servers have, in any order (norm "subcommands");
    each of those subcommands is also compared on its own, byte for byte.
    The list is computed from both servers at test time."""
    ref = _command_names(SERVERS["ref"])
    lat = _command_names(SERVERS["lat"])
    common = [n for n in lat if n in set(ref)]
    if len(common) < 100 or b"get" not in common or b"config|get" not in common:
        raise AssertionError("COMMAND LIST: only %d commands in common" % len(common))
    _COMMON_COMMANDS.clear()
    _COMMON_COMMANDS.update(common)
    containers = {n.split(b"|")[0] for n in ref + lat if b"|" in n}
    # COMMAND COUNT counts the top-level commands COMMAND LIST names (the
    # servers' counts differ: Lattice has fewer commands).
    for server, names in ((SERVERS["ref"], ref), (SERVERS["lat"], lat)):
        conn = server.client()
        try:
            count = conn.call(b"COMMAND", b"COUNT")
        finally:
            conn.close()
        top = sum(1 for n in names if b"|" not in n)
        if count != b":%d\r\n" % top:
            raise AssertionError("%s: COMMAND COUNT %r, COMMAND LIST has %d commands"
                                 % (server.name, count, top))
    steps = []
    for proto in ("3", "2"):
        steps.append(C("HELLO", proto, norm="hello"))
        for n in common:
            norm = "subcommands" if n in containers else "exact"
            steps.append(C("COMMAND", "INFO", n, norm=norm))
            steps.append(C("COMMAND", "DOCS", n, norm=norm))
        steps.append(C("COMMAND", "INFO", "get", "nosuchcommand", "zadd"))
        steps.append(C("COMMAND", "DOCS", "get", "nosuchcommand", "zadd"))
    return steps


def fam_sort():
    """SORT / SORT_RO on lists, sets (intset and hashtable) and sorted sets:
    numeric and ALPHA, ASC/DESC, LIMIT in every clamped form, BY nosort,
    BY weight keys and hash fields (ties included: Redis's stable qsort
    and, with LIMIT, its partial quicksort decide their order), GET
    (several, #, hash fields, NUL bytes in patterns), STORE (replaces the
    destination, deletes it when empty), errors and WRONGTYPE; then MOVE.
    A sort of a hashtable set with BY nosort is compared unordered (its
    order is the hash table's).

    Redis's numeric SORT checks errno == ERANGE without clearing it first,
    so a leftover ERANGE from an earlier float parse (a subnormal ZADD
    score, a ZRANGEBYSCORE bound of 1e400, a SORT of "1e-320") fails it.
    A ZADD with an unparsable score clears errno in Redis (strtod sets
    nothing on "abc"): that step precedes numeric sorts that could follow
    such a parse."""
    reset = C("ZADD", "__errno", "abc", "x")
    return [
        reset,
        E(":6", "RPUSH", "l", "3", "1", "2", "10", "-5", "1.5"),
        E("*6\r\n$2\r\n-5\r\n$1\r\n1\r\n$3\r\n1.5\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10",
          "SORT", "l"),
        C("SORT", "l", "DESC"), C("SORT", "l", "ALPHA"), C("SORT", "l", "alpha", "desc"),
        C("SORT", "l", "DESC", "ASC"), C("SORT_RO", "l"), C("SORT_RO", "l", "ALPHA", "DESC"),
        C("SORT", "l", "LIMIT", "1", "2"), C("SORT", "l", "LIMIT", "-1", "2"),
        C("SORT", "l", "LIMIT", "2", "-1"), C("SORT", "l", "LIMIT", "10", "2"),
        C("SORT", "l", "LIMIT", "0", "0"), C("SORT", "l", "LIMIT", "5", "100"),
        C("SORT", "l", "LIMIT", "-9223372036854775808", "9223372036854775807"),
        E("ERR value is not an integer or out of range", "SORT", "l", "LIMIT", "x", "1"),
        C("SORT", "l", "LIMIT", "1", "1.5"), C("SORT", "l", "LIMIT", "0", "9223372036854775808"),
        E("ERR syntax error", "SORT", "l", "LIMIT", "1"), C("SORT", "l", "LIMIT"),
        C("SORT", "l", "BY", "nosort"), C("SORT", "l", "BY", "nosort", "DESC"),
        C("SORT", "l", "BY", "nosort", "LIMIT", "1", "2"),
        C("SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "2"),
        C("SORT", "l", "BY", "nosort", "DESC", "LIMIT", "10", "2"),
        C("SORT", "l", "BY", "nosort", "LIMIT", "-3", "-1"),
        C("SORT", "l", "BY", "nosort", "BY", "w_*"), C("SORT", "l", "BY", "w_\x00*"),
        C("MSET", "w_3", "30", "w_1", "10", "w_2", "20", "w_10", "5", "w_1.5", "x1"),
        C("SORT", "l", "BY", "w_*"),
        C("DEL", "w_1.5"), C("SORT", "l", "BY", "w_*"), C("SORT", "l", "BY", "w_*", "DESC"),
        C("SORT", "l", "BY", "w_*", "GET", "#", "GET", "w_*"),
        C("SORT", "l", "BY", "w_*", "LIMIT", "0", "3"),
        C("SORT", "l", "BY", "w_*", "DESC", "LIMIT", "2", "3"),
        C("SORT", "l", "BY", "w_*", "ALPHA"), C("SORT", "l", "BY", "w_*", "ALPHA", "LIMIT", "1", "3"),
        C("SORT", "l", "BY", "w_*", "ALPHA", "DESC"),
        C("HSET", "h_1", "f", "9", "g", "a"), C("HSET", "h_3", "f", "1"), C("SET", "h_2", "str"),
        C("SORT", "l", "BY", "h_*->f", "GET", "h_*->g", "GET", "#", "GET", "h_*->f"),
        C("SORT", "l", "BY", "h_*->f", "ALPHA"), C("SORT", "l", "BY", "h_*->nofield", "DESC"),
        C("SORT", "l", "GET", "h_*->"), C("SORT", "l", "GET", "h_*-"), C("SORT", "l", "GET", "->h_*"),
        C("SORT", "l", "GET", "#"), C("SORT", "l", "GET", "#\x00zz"), C("SORT", "l", "GET", ""),
        C("SORT", "l", "GET", "#x"), C("SORT", "l", "GET", "**"), C("SORT", "l", "GET", "w*_*"),
        C("SORT", "l", "GET", "nokey_*", "GET", "w_*"),
        C("SET", "w_1\x00abc", "5"), C("SORT", "l", "GET", "w_*\x00abc"),
        C("HSET", "hx_2", "f\x00", "q", "f", "r"), C("SORT", "l", "GET", "hx_*->f\x00"),
        C("SORT", "l", "GET", "hx_*->f"), C("SORT", "l", "ASC\x00junk", "DESC\x00"),
        # Ties (missing and equal weights) with and without LIMIT, over
        # more than 40 elements (the partial quicksort's median of nine).
        C("RPUSH", "t", *["e%02d" % i for i in range(50)], "e07", "e03"),
        C("MSET", *sum([["tw_e%02d" % i, str(i % 4)] for i in range(0, 50, 3)], [])),
        C("SORT", "t", "BY", "tw_*", "ALPHA", "LIMIT", "3", "10"),
        C("SORT", "t", "BY", "tw_*", "ALPHA", "LIMIT", "0", "20"),
        C("SORT", "t", "BY", "tw_*", "ALPHA", "DESC", "LIMIT", "5", "7"),
        C("SORT", "t", "BY", "tw_*", "ALPHA", "DESC", "LIMIT", "45", "10"),
        C("SORT", "t", "BY", "tw_*", "ALPHA"), C("SORT", "t", "BY", "tw_*", "ALPHA", "DESC"),
        C("SORT", "t", "BY", "tw_*", "LIMIT", "3", "10"), C("SORT", "t", "BY", "tw_*", "DESC"),
        C("SORT", "t", "BY", "none_*", "ALPHA", "LIMIT", "2", "9"),
        C("SORT", "t", "BY", "none_*", "ALPHA", "DESC", "LIMIT", "2", "9"),
        C("SORT", "t", "BY", "none_*", "ALPHA", "DESC"),
        C("SORT", "t", "BY", "tw_*", "ALPHA", "LIMIT", "3", "12", "STORE", "tdst"),
        C("LRANGE", "tdst", "0", "-1"),
        C("RPUSH", "t6", "b", "a", "c", "a", "d", "b"),
        C("SORT", "t6", "BY", "none_*", "ALPHA", "LIMIT", "1", "3"),
        C("SORT", "t6", "BY", "none_*", "LIMIT", "1", "3"),
        # Numeric conversion: strtod over the C string.
        C("RPUSH", "num", "", "0", " 1", "0x10", "inf", "-inf", "1e300", "infinity", "-0", "2\x00x"),
        C("SORT", "num"), C("SORT", "num", "DESC"), C("SORT", "num", "ALPHA"),
        C("RPUSH", "bad", "a", "1"),
        E("ERR One or more scores can't be converted into double", "SORT", "bad"),
        C("SORT", "bad", "ALPHA"), C("SORT", "bad", "LIMIT", "0", "0"), C("SORT", "bad", "BY", "nosort"),
        C("SORT", "bad", "STORE", "bd"), C("EXISTS", "bd"),
        C("RPUSH", "bad2", "1 "), C("SORT", "bad2"), C("RPUSH", "bad3", "nan"), C("SORT", "bad3"),
        C("RPUSH", "bad4", "1e400"), C("SORT", "bad4"), reset,
        C("RPUSH", "bad5", "1e-320"), C("SORT", "bad5"), reset,
        C("SORT", "l", "BY", "h_*->g"), C("SORT", "l", "BY", "h_*"),
        # STORE: a list, replacing whatever was there, deleted when empty.
        C("SET", "dst", "old", "EX", "100"), E(":6", "SORT", "l", "STORE", "dst"),
        C("LRANGE", "dst", "0", "-1"), C("TYPE", "dst"), C("OBJECT", "ENCODING", "dst"),
        C("TTL", "dst"),
        C("SORT", "l", "BY", "w_*", "GET", "w_*", "GET", "#", "STORE", "dst"),
        C("LRANGE", "dst", "0", "-1"),
        C("SORT", "l", "GET", "nokey_*", "STORE", "dst"), C("LRANGE", "dst", "0", "-1"),
        C("SORT", "l", "LIMIT", "0", "0", "STORE", "dst"), C("EXISTS", "dst"),
        C("SORT", "missing", "STORE", "l2"), C("RPUSH", "l2", "x"),
        C("SORT", "missing", "STORE", "l2"), C("EXISTS", "l2"),
        C("SORT", "l", "DESC", "STORE", "l"), C("LRANGE", "l", "0", "-1"),
        C("SORT", "l", "STORE", "a", "STORE", "b"), C("EXISTS", "a", "b"),
        E("ERR syntax error", "SORT_RO", "l", "STORE", "x"), C("EXISTS", "x"),
        C("SORT", "l", "STORE"), C("SORT", "l", "BY"), C("SORT", "l", "GET"), C("SORT", "l", "foo"),
        C("SORT", "missing"), C("SORT_RO", "missing"), C("SORT", "missing", "BY", "nosort"),
        C("SORT", "missing", "LIMIT", "0", "1"), C("SORT", "missing", "GET", "#"),
        C("SET", "str", "x"), E("WRONGTYPE Operation against a key holding the wrong kind of value",
                                "SORT", "str"),
        C("SORT_RO", "str"), C("SORT", "str", "BY", "nosort"), C("SORT", "str", "foo"),
        C("SORT", "str", "LIMIT", "a", "b"), C("SORT", "h_1"), C("SORT", "missing", "STORE", "str"),
        C("TYPE", "str"),
        # Sets: an intset in ascending order, a hashtable in no order (SORT
        # orders it; BY nosort does not, but STORE sorts it).
        C("SADD", "s", "5", "3", "9", "1"), C("SORT", "s"), C("SORT", "s", "DESC", "LIMIT", "1", "2"),
        C("SORT", "s", "BY", "nosort"), C("SORT", "s", "BY", "nosort", "DESC", "LIMIT", "1", "2"),
        C("SORT", "s", "BY", "nosort", "STORE", "sd"), C("LRANGE", "sd", "0", "-1"),
        C("SORT", "s", "BY", "w_*", "GET", "#", "GET", "w_*"),
        C("SADD", "hs", "b", "a", "c", "10", "2", "m\x00", "", "M" * 70),
        C("SORT", "hs", "ALPHA"), C("SORT", "hs", "ALPHA", "DESC"),
        C("SORT", "hs", "ALPHA", "LIMIT", "2", "3"), C("SORT", "hs"),
        C("SORT", "hs", "BY", "nosort", norm="unordered"),
        C("SORT", "hs", "BY", "nosort", "GET", "#", "GET", "w_*", norm="unordered"),
        C("SORT", "hs", "BY", "nosort", "STORE", "hsd"), C("LRANGE", "hsd", "0", "-1"),
        C("SORT", "hs", "BY", "nosort", "DESC", "LIMIT", "1", "3", "STORE", "hsd"),
        C("LRANGE", "hsd", "0", "-1"),
        C("SADD", "hn", "3", "1.5", "-2", "x1"), C("SORT", "hn"), reset,
        C("SREM", "hn", "x1"), C("SORT", "hn"), C("SORT", "hn", "BY", "w_*"),
        C("SORT", "hn", "BY", "w_*", "LIMIT", "1", "2"),
        # Sorted sets: member order by score (BY nosort), else sorted like
        # the others; SORT converts a listpack zset to a skiplist for good.
        C("ZADD", "z", "3", "a", "1", "b", "2", "c", "2", "d"),
        E("$8\r\nlistpack", "OBJECT", "ENCODING", "z"),
        C("SORT", "z", "ALPHA"), E("$8\r\nskiplist", "OBJECT", "ENCODING", "z"),
        C("ZADD", "z2", "1", "x"), C("SORT_RO", "z2", "foo"), C("OBJECT", "ENCODING", "z2"),
        C("SORT_RO", "z2", "ALPHA"), C("OBJECT", "ENCODING", "z2"),
        C("SORT", "z", "BY", "nosort"), C("SORT", "z", "BY", "nosort", "DESC"),
        C("SORT", "z", "BY", "nosort", "LIMIT", "1", "2"),
        C("SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "5"),
        C("SORT", "z", "BY", "nosort", "DESC", "LIMIT", "5", "5"),
        C("SORT", "z", "BY", "nosort", "LIMIT", "5", "5"),
        C("SORT", "z", "BY", "nosort", "GET", "#", "GET", "w_*", "STORE", "zd"),
        C("LRANGE", "zd", "0", "-1"), C("SORT", "z"), C("SORT", "z", "BY", "w_*", "DESC"),
        C("ZADD", "zn", "5", "10", "1", "2", "3", "-1"), C("SORT", "zn"), C("SORT", "zn", "DESC"),
        C("SORT", "zn", "BY", "nosort", "DESC"), C("ZADD", "z3", "-0", "m"),
        C("SORT", "z3", "BY", "nosort"), C("ZADD", "z3", "-0", "n"),
        C("ZRANGE", "z3", "0", "-1", "WITHSCORES"),
        # Converting a listpack with a subnormal score leaves errno at
        # ERANGE in Redis: every value the sort parses with strtod fails,
        # integer-encoded weights (no strtod) do not.
        C("ZADD", "zsub", "1e-320", "1", "2", "2"), C("SORT", "zsub"), reset,
        C("SORT", "zsub"), C("SORT", "zsub", "ALPHA"), C("SORT", "zsub", "BY", "nosort"),
        C("ZADD", "zsub2", "1e-320", "1", "2", "2"), C("MSET", "iw_1", "5", "iw_2", "7"),
        C("SORT", "zsub2", "BY", "iw_*"), reset, C("DEL", "zsub2"),
        C("ZADD", "zsub2", "1e-320", "1", "2", "2"), C("SET", "iw_2", "7.5"),
        C("SORT", "zsub2", "BY", "iw_*"), reset,
        C("HSET", "ih_1", "f", "3"), C("HSET", "ih_2", "f", "4"), C("DEL", "zsub2"),
        C("ZADD", "zsub2", "1e-320", "1", "2", "2"), C("SORT", "zsub2", "BY", "ih_*->f"), reset,
        C("HELLO", "3", norm="hello"),
        C("SORT", "l", "GET", "#", "GET", "nokey_*"), C("SORT", "missing"),
        C("SORT", "l", "LIMIT", "0", "1"), C("SORT", "l", "STORE", "r3"), C("SORT_RO", "missing"),
        C("SORT", "s", "BY", "nosort", "GET", "w_*"), C("SORT", "z", "BY", "nosort"),
        C("HELLO", "2", norm="hello"),
        # MOVE: every type, with its TTL; 0 when missing or already there.
        C("RPUSH", "mv", "a", "b"), E(":1", "MOVE", "mv", "1"), E(":0", "MOVE", "mv", "1"),
        E("ERR source and destination objects are the same", "MOVE", "mv", "0"),
        E("ERR DB index is out of range", "MOVE", "mv", "16"), C("MOVE", "mv", "-1"),
        C("MOVE", "mv", "x"), C("MOVE", "mv", "99999999999"), C("MOVE", "mv", "1.0"),
        C("MOVE", "missing", "1"), C("MOVE", "missing", "0"), C("MOVE", "missing", "16"),
        C("SELECT", "1"), C("LRANGE", "mv", "0", "-1"), C("SET", "mv", "v"), C("MOVE", "mv", "0"),
        C("GET", "mv"), C("SELECT", "0"), C("EXISTS", "mv"),
        C("SET", "ks", "v", "EX", "1000"), C("MOVE", "ks", "2"), C("EXISTS", "ks"),
        C("INCR", "ki"), C("MOVE", "ki", "2"), C("HSET", "kh", "a", "1", "b", "2"),
        C("MOVE", "kh", "2"), C("SADD", "kz", "1", "x"), C("MOVE", "kz", "2"),
        C("ZADD", "kzz", "1", "a", "2", "b"), C("PEXPIRE", "kzz", "500000"), C("MOVE", "kzz", "2"),
        C("SELECT", "2"), C("TTL", "ks", norm="approx", tol=TTL_TOL_S), C("GET", "ks"),
        C("GET", "ki"), C("OBJECT", "ENCODING", "ki"), C("INCR", "ki"), C("HGETALL", "kh"),
        C("SMEMBERS", "kz", norm="unordered"), C("ZRANGE", "kzz", "0", "-1", "WITHSCORES"),
        C("PTTL", "kzz", norm="approx", tol=TTL_TOL_MS), C("OBJECT", "ENCODING", "kzz"),
        C("MOVE", "kzz", "0"), C("SELECT", "0"), C("ZCARD", "kzz"), C("DBSIZE"),
        C("MOVE"), C("MOVE", "a"), C("MOVE", "a", "1", "2"), C("SORT"),
        C("COMMAND", "GETKEYS", "SORT", "k", "BY", "w_*", "GET", "x_*", "STORE", "d", "LIMIT", "0", "1"),
        C("COMMAND", "GETKEYS", "SORT", "k", "STORE", "d1", "STORE", "d2"),
        C("COMMAND", "GETKEYS", "SORT", "k"), C("COMMAND", "GETKEYS", "SORT", "k", "STORE"),
    ]


def fam_bitmap():
    """Bitmaps (SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO):
    strings addressed bit by bit, bit 0 the most significant bit of the
    first byte. An integer-encoded string reads as its decimal bytes and
    becomes raw when written; BITOP stores a raw string and deletes the
    destination when the result is empty. Redis 7.0 looks the key up before
    parsing BITCOUNT's and BITPOS's range (a missing key answers whatever
    follows); option words compare as C strings (up to a NUL byte)."""
    off_err = "ERR bit offset is not an integer or out of range"
    bit_err = "ERR bit is not an integer or out of range"
    type_err = ("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not "
                "supported but i64 is.")
    not_int = "ERR value is not an integer or out of range"
    return [
        # SETBIT / GETBIT
        E(":0", "SETBIT", "b", "7", "1"), E("$1\r\n\x01", "GET", "b"),
        E(":1", "SETBIT", "b", "7", "0"), E(":0", "SETBIT", "b", "7", "0"),
        E(":0", "SETBIT", "b", "0", "1"), E(b"$1\r\n\x80", "GET", "b"),
        E(":0", "SETBIT", "b", "23", "1"), E(b"$3\r\n\x80\x00\x01", "GET", "b"),
        E(":1", "GETBIT", "b", "0"), E(":0", "GETBIT", "b", "1"), E(":1", "GETBIT", "b", "23"),
        E(":0", "GETBIT", "b", "24"), E(":0", "GETBIT", "b", "4294967295"),
        E(":0", "GETBIT", "missing", "0"), E(":0", "EXISTS", "missing"),
        C("TYPE", "b"), C("STRLEN", "b"), C("OBJECT", "ENCODING", "b"),
        E(off_err, "GETBIT", "b", "4294967296"), E(off_err, "GETBIT", "b", "-1"),
        E(off_err, "GETBIT", "missing", "-1"), E(off_err, "GETBIT", "b", "x"),
        E(off_err, "GETBIT", "b", "01"), E(off_err, "GETBIT", "b", "1.0"),
        E(off_err, "SETBIT", "b", "4294967296", "1"), E(off_err, "SETBIT", "b", "-1", "1"),
        E(off_err, "SETBIT", "b", "-1", "2"),
        E(bit_err, "SETBIT", "b", "0", "2"), E(bit_err, "SETBIT", "b", "0", "-1"),
        E(bit_err, "SETBIT", "b", "0", "x"), E(bit_err, "SETBIT", "b", "0", "01"),
        E(bit_err, "SETBIT", "b", "0", ""), E(bit_err, "SETBIT", "missing", "4294967295", "2"),
        E(":0", "EXISTS", "missing"),
        ERR_ARITY("setbit", "SETBIT", "b", "0"), ERR_ARITY("getbit", "GETBIT", "b"),
        # Integer-encoded and embstr strings: decimal bytes, raw once written.
        C("SET", "i", "12345"), E(":0", "GETBIT", "i", "0"), E(":1", "GETBIT", "i", "2"),
        E(":1", "GETBIT", "i", "3"), C("OBJECT", "ENCODING", "i"),
        E(":0", "SETBIT", "i", "6", "1"), E("$5\r\n32345", "GET", "i"),
        C("OBJECT", "ENCODING", "i"), E(":22345", "INCRBY", "i", "-10000"),
        E(":0", "SETBIT", "i", "47", "1"), C("GET", "i"), C("INCR", "i"),
        C("SET", "c", "10"), C("INCR", "c"), C("SETBIT", "c", "15", "0"), C("GET", "c"),
        C("SET", "emb", "foo"), C("OBJECT", "ENCODING", "emb"), C("SETBIT", "emb", "0", "0"),
        C("OBJECT", "ENCODING", "emb"), C("GET", "emb"),
        C("SETBIT", "nk", "100", "1"), C("OBJECT", "ENCODING", "nk"), C("STRLEN", "nk"),
        # A TTL survives SETBIT; the value grows in place.
        C("SET", "t", "ab", "EX", "1000"), C("SETBIT", "t", "1000", "1"), TTL("TTL", "t"),
        C("STRLEN", "t"), C("GETRANGE", "t", "0", "1"),
        # Offsets up to proto-max-bulk-len * 8 - 1 (1mb here: 8388607).
        E("+OK", "CONFIG", "SET", "proto-max-bulk-len", "1mb"),
        E(":0", "SETBIT", "big", "8388607", "1"), E(":1048576", "STRLEN", "big"),
        E(":1", "GETBIT", "big", "8388607"), E(off_err, "GETBIT", "big", "8388608"),
        E(off_err, "SETBIT", "big", "8388608", "1"), E(":1", "BITCOUNT", "big"),
        E(":8388607", "BITPOS", "big", "1"), E(":0", "BITPOS", "big", "0"),
        E(":8388600", "BITPOS", "big", "0", "-1", "-1", "BYTE"),
        E(":8388607", "BITPOS", "big", "1", "-1"),
        E("*1\r\n:1", "BITFIELD", "big", "GET", "u1", "8388607"),
        E(off_err, "BITFIELD", "big", "GET", "u8", "8388608"),
        E("*1\r\n:1", "BITFIELD", "big", "GET", "u8", "#1048575"),
        E(off_err, "BITFIELD", "big", "GET", "u8", "#1048576"),
        E("*1\r\n:2", "BITFIELD", "big", "SET", "u2", "8388607", "0"),
        E(":1048577", "STRLEN", "big"), E(":0", "BITCOUNT", "big"),
        E(":1048577", "BITOP", "NOT", "big", "big"), E(":8388616", "BITCOUNT", "big"),
        E(":1", "DEL", "big"),
        E("+OK", "CONFIG", "SET", "proto-max-bulk-len", "512mb"),
        E(":0", "GETBIT", "missing", "4294967295"),
        # BITCOUNT
        C("SET", "s", "foobar"), E(":26", "BITCOUNT", "s"),
        E(":4", "BITCOUNT", "s", "0", "0"), E(":6", "BITCOUNT", "s", "1", "1"),
        E(":10", "BITCOUNT", "s", "0", "1"), E(":26", "BITCOUNT", "s", "0", "-1"),
        E(":4", "BITCOUNT", "s", "-1", "-1"), E(":26", "BITCOUNT", "s", "-100", "100"),
        E(":0", "BITCOUNT", "s", "3", "1"), E(":0", "BITCOUNT", "s", "-1", "-5"),
        E(":0", "BITCOUNT", "s", "6", "10"),
        C("BITCOUNT", "s", "0", "0", "BYTE"), C("BITCOUNT", "s", "1", "1", "byte"),
        E(":17", "BITCOUNT", "s", "5", "30", "BIT"), E(":26", "BITCOUNT", "s", "0", "-1", "BIT"),
        C("BITCOUNT", "s", "-5", "-1", "bit"), C("BITCOUNT", "s", "-20", "-3", "BIT"),
        C("BITCOUNT", "s", "1", "1", "BIT"), C("BITCOUNT", "s", "3", "2", "BIT"),
        C("BITCOUNT", "s", "7", "8", "BIT"), C("BITCOUNT", "s", "47", "100", "BIT"),
        C("BITCOUNT", "s", "-9223372036854775808", "9223372036854775807", "BIT"),
        C("BITCOUNT", "s", "-9223372036854775808", "9223372036854775807"),
        C("BITCOUNT", "s", "9223372036854775807", "-9223372036854775808"),
        C("BITCOUNT", "s", "0", "1", "BIT\x00x"),
        E("ERR syntax error", "BITCOUNT", "s", "0"),
        E("ERR syntax error", "BITCOUNT", "s", "0", "1", "FOO"),
        E(":0", "BITCOUNT", "s", "-1", "-5", "FOO"),
        E("ERR syntax error", "BITCOUNT", "s", "0", "-1", "FOO"),
        E("ERR syntax error", "BITCOUNT", "s", "0", "1", "BIT", "x"),
        E(not_int, "BITCOUNT", "s", "a", "1"), E(not_int, "BITCOUNT", "s", "0", "b"),
        E(not_int, "BITCOUNT", "s", "0", "9223372036854775808"),
        E(":0", "BITCOUNT", "missing"), E(":0", "BITCOUNT", "missing", "0"),
        E(":0", "BITCOUNT", "missing", "a", "b"), E(":0", "BITCOUNT", "missing", "0", "1", "FOO"),
        E(":0", "BITCOUNT", "missing", "0", "1", "BIT", "x"),
        C("SET", "e", ""), E(":0", "BITCOUNT", "e"), E(":0", "BITCOUNT", "e", "0", "-1"),
        E(":0", "BITCOUNT", "e", "0", "-1", "BIT"),
        C("SET", "i", "-123"), C("BITCOUNT", "i"), C("BITCOUNT", "i", "1", "2"),
        C("BITCOUNT", "i", "3", "12", "BIT"),
        C("SET", "long", b"\xff" * 37 + b"\x0f" * 40 + b"\x01"), C("BITCOUNT", "long"),
        C("BITCOUNT", "long", "3", "-3"), C("BITCOUNT", "long", "5", "600", "BIT"),
        ERR_ARITY("bitcount", "BITCOUNT"),
        # BITPOS
        C("SET", "p", b"\x00\xff\xf0"), E(":8", "BITPOS", "p", "1"), E(":0", "BITPOS", "p", "0"),
        E(":8", "BITPOS", "p", "1", "0"), E(":16", "BITPOS", "p", "1", "2"),
        E(":20", "BITPOS", "p", "0", "2"), E(":-1", "BITPOS", "p", "1", "3"),
        E(":-1", "BITPOS", "p", "0", "3"), E(":16", "BITPOS", "p", "1", "-1"),
        E(":20", "BITPOS", "p", "0", "-1"), E(":-1", "BITPOS", "p", "1", "3", "-1"),
        E(":8", "BITPOS", "p", "1", "0", "-1"), E(":20", "BITPOS", "p", "0", "1", "-1"),
        E(":-1", "BITPOS", "p", "0", "1", "1"), E(":-1", "BITPOS", "p", "1", "0", "0"),
        E(":8", "BITPOS", "p", "1", "0", "-1", "BYTE"),
        E(":8", "BITPOS", "p", "1", "7", "15", "BIT"), E(":8", "BITPOS", "p", "1", "8", "8", "BIT"),
        E(":-1", "BITPOS", "p", "1", "0", "7", "BIT"),
        E(":20", "BITPOS", "p", "0", "9", "-1", "BIT"),
        E(":-1", "BITPOS", "p", "0", "8", "19", "BIT"),
        E(":3", "BITPOS", "p", "0", "3", "-1", "bit"),
        C("BITPOS", "p", "1", "-9", "-2", "BIT"), C("BITPOS", "p", "0", "-5", "-1", "BIT"),
        C("BITPOS", "p", "1", "23", "23", "BIT"), C("BITPOS", "p", "0", "23", "23", "BIT"),
        C("BITPOS", "p", "1", "10", "3", "BIT"), C("BITPOS", "p", "0", "100", "200", "BIT"),
        C("BITPOS", "p", "1", "-9223372036854775808", "9223372036854775807", "BIT"),
        C("BITPOS", "p", "0", "-9223372036854775808", "9223372036854775807"),
        C("BITPOS", "p", "1", "9223372036854775807"),
        C("SET", "ones", b"\xff\xff\xff"), E(":24", "BITPOS", "ones", "0"),
        E(":24", "BITPOS", "ones", "0", "1"), E(":-1", "BITPOS", "ones", "0", "0", "-1"),
        E(":-1", "BITPOS", "ones", "0", "0", "23", "BIT"),
        E(":-1", "BITPOS", "ones", "0", "5", "12", "BIT"),
        E(":0", "BITPOS", "ones", "1"),
        C("SET", "z", b"\x00" * 20), E(":-1", "BITPOS", "z", "1"), E(":0", "BITPOS", "z", "0"),
        E(":-1", "BITPOS", "z", "1", "3", "-1"), E(":-1", "BITPOS", "z", "1", "7", "150", "BIT"),
        C("SET", "long", b"\xff" * 37 + b"\xfe" + b"\x00" * 40 + b"\x01"),
        C("BITPOS", "long", "0"), C("BITPOS", "long", "1", "38"),
        C("BITPOS", "long", "0", "1", "40"),
        C("BITPOS", "long", "1", "300", "-1", "BIT"), C("BITPOS", "long", "0", "9", "302", "BIT"),
        C("SET", "i", "255"), C("BITPOS", "i", "0"), C("BITPOS", "i", "1", "1"),
        C("BITPOS", "e", "0"), C("BITPOS", "e", "1"), C("BITPOS", "e", "0", "0"),
        C("BITPOS", "e", "0", "0", "-1", "BIT"),
        E(":0", "BITPOS", "missing", "0"), E(":-1", "BITPOS", "missing", "1"),
        E(":-1", "BITPOS", "missing", "1", "a"), E(":0", "BITPOS", "missing", "0", "1", "2", "FOO"),
        E(":-1", "BITPOS", "missing", "1", "0", "1", "BIT", "x"),
        E("ERR The bit argument must be 1 or 0.", "BITPOS", "p", "2"),
        E("ERR The bit argument must be 1 or 0.", "BITPOS", "missing", "-1"),
        E(not_int, "BITPOS", "missing", "a"), E(not_int, "BITPOS", "p", "1", "a"),
        E(not_int, "BITPOS", "p", "1", "0", "a"), E(not_int, "BITPOS", "p", "1", "a", "1", "FOO"),
        E("ERR syntax error", "BITPOS", "p", "1", "0", "a", "FOO"),
        E("ERR syntax error", "BITPOS", "p", "1", "0", "1", "FOO"),
        E("ERR syntax error", "BITPOS", "p", "1", "0", "1", "BIT", "x"),
        ERR_ARITY("bitpos", "BITPOS", "p"),
        # BITOP
        C("SET", "a", b"\x0f\xf0\xaa"), C("SET", "b2", b"\xff\x00"),
        E(":3", "BITOP", "AND", "d", "a", "b2"), E("$3\r\n\x0f\x00\x00", "GET", "d"),
        C("OBJECT", "ENCODING", "d"), C("TYPE", "d"),
        E(":3", "BITOP", "OR", "d", "a", "b2"), E(b"$3\r\n\xff\xf0\xaa", "GET", "d"),
        E(":3", "BITOP", "XOR", "d", "a", "b2"), E(b"$3\r\n\xf0\xf0\xaa", "GET", "d"),
        E(":3", "BITOP", "NOT", "d", "a"), E(b"$3\r\n\xf0\x0f\x55", "GET", "d"),
        E(":3", "BITOP", "and", "d", "a", "missing"), E("$3\r\n\x00\x00\x00", "GET", "d"),
        E(":3", "BITOP", "or", "d", "missing", "a", "missing"), C("GET", "d"),
        E(":3", "BITOP", "xor", "d", "a", "a", "a"), C("GET", "d"),
        E(":3", "BITOP", "AND", "d", "a"), C("GET", "d"),
        E(":3", "BITOP", "OR", "a", "a", "b2"), C("GET", "a"),
        C("SET", "i", "12"), C("SET", "j", "-7"), C("BITOP", "XOR", "d", "i", "j"), C("GET", "d"),
        C("BITOP", "NOT", "d", "i"), C("GET", "d"), C("BITOP", "AND", "d", "i", "e"),
        C("SET", "long", b"\x5a" * 100), C("SET", "long2", b"\xc3" * 70),
        C("BITOP", "AND", "d", "long", "long2", "a"), C("GET", "d"),
        C("BITOP", "OR", "d", "long", "long2"), C("GET", "d"),
        C("BITOP", "XOR", "d", "long", "long2", "long"), C("GET", "d"),
        C("BITOP", "NOT", "d", "long"), C("GET", "d"),
        # An empty result deletes the destination (whatever it held).
        C("SET", "d", "x", "EX", "100"), E(":0", "BITOP", "AND", "d", "missing", "e"),
        E(":0", "EXISTS", "d"), E(":0", "BITOP", "NOT", "d", "missing"), E(":0", "EXISTS", "d"),
        C("SET", "d", "v", "EX", "100"), E(":3", "BITOP", "NOT", "d", "a"), C("TTL", "d"),
        C("LPUSH", "lst", "x"), E(":3", "BITOP", "NOT", "lst", "a"), C("TYPE", "lst"),
        C("GET", "lst"), C("LPUSH", "lst2", "x"), E(":0", "BITOP", "OR", "lst2", "missing"),
        E(":0", "EXISTS", "lst2"),
        C("LPUSH", "l", "x"), C("SET", "d", "keep"),
        E("WRONGTYPE Operation against a key holding the wrong kind of value",
          "BITOP", "AND", "d", "l", "a"),
        E("WRONGTYPE Operation against a key holding the wrong kind of value",
          "BITOP", "OR", "d", "a", "missing", "l"),
        E("WRONGTYPE Operation against a key holding the wrong kind of value",
          "BITOP", "NOT", "d", "l"),
        E("$4\r\nkeep", "GET", "d"),
        E("ERR syntax error", "BITOP", "NAND", "d", "a"),
        E("ERR syntax error", "BITOP", "", "d", "a"),
        C("BITOP", "AND\x00x", "d", "a"),
        E("ERR BITOP NOT must be called with a single source key.", "BITOP", "NOT", "d", "a", "a"),
        E("ERR BITOP NOT must be called with a single source key.", "BITOP", "not", "d", "l", "l"),
        ERR_ARITY("bitop", "BITOP", "NOT", "d"), ERR_ARITY("bitop", "BITOP", "AND"),
        # BITFIELD
        E("*1\r\n:0", "BITFIELD", "f", "SET", "u8", "0", "255"), E(b"$1\r\n\xff", "GET", "f"),
        E("*2\r\n:255\r\n:-2", "BITFIELD", "f", "GET", "u8", "0", "GET", "i8", "1"),
        C("BITFIELD", "f", "GET", "i8", "0", "GET", "u1", "0", "GET", "i1", "0", "GET", "u63", "0",
          "GET", "i64", "0", "GET", "i64", "1", "GET", "u4", "6"),
        C("BITFIELD", "f", "SET", "i5", "3", "-3", "GET", "i5", "3", "GET", "u8", "0"),
        C("BITFIELD", "f", "SET", "u8", "#1", "170", "SET", "u8", "#3", "1", "GET", "u32", "0"),
        C("GET", "f"), C("STRLEN", "f"),
        C("BITFIELD", "f", "GET", "u16", "#1", "GET", "i16", "#-0", "GET", "u8", "#0"),
        # INCRBY and OVERFLOW, per op from where it is given.
        C("BITFIELD", "g", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "1"),
        C("BITFIELD", "g", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "1"),
        C("BITFIELD", "g", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "1"),
        C("BITFIELD", "g", "OVERFLOW", "FAIL", "INCRBY", "u2", "102", "1", "INCRBY", "u2", "102", "-1"),
        C("BITFIELD", "g", "OVERFLOW", "fail", "INCRBY", "u2", "102", "-5"),
        C("BITFIELD", "g", "OVERFLOW", "sat", "INCRBY", "u2", "102", "-5", "OVERFLOW", "WRAP",
          "INCRBY", "u2", "102", "-5"),
        C("BITFIELD", "h", "SET", "i8", "0", "127", "INCRBY", "i8", "0", "1", "INCRBY", "i8", "0", "-1"),
        C("BITFIELD", "h", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "200", "INCRBY", "i8", "0", "-1000",
          "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "-1", "INCRBY", "i8", "0", "255"),
        C("BITFIELD", "h", "OVERFLOW", "WRAP", "SET", "i8", "0", "200", "SET", "u8", "0", "-1",
          "SET", "u8", "0", "256", "GET", "u8", "0"),
        C("BITFIELD", "h", "OVERFLOW", "SAT", "SET", "i8", "0", "200", "SET", "i8", "0", "-200",
          "SET", "u8", "0", "-1", "SET", "u8", "0", "300", "GET", "u8", "0"),
        C("BITFIELD", "h", "OVERFLOW", "FAIL", "SET", "i8", "0", "200", "SET", "u8", "0", "-1",
          "SET", "u8", "0", "255", "GET", "u8", "0"),
        C("BITFIELD", "h", "SET", "i64", "0", "9223372036854775807", "INCRBY", "i64", "0", "1",
          "OVERFLOW", "SAT", "INCRBY", "i64", "0", "9223372036854775807",
          "INCRBY", "i64", "0", "-9223372036854775808", "INCRBY", "i64", "0", "-9223372036854775808",
          "OVERFLOW", "FAIL", "INCRBY", "i64", "0", "-1", "GET", "i64", "0"),
        C("BITFIELD", "h", "SET", "u63", "0", "9223372036854775807", "INCRBY", "u63", "0", "1",
          "OVERFLOW", "SAT", "INCRBY", "u63", "0", "-1", "INCRBY", "u63", "0", "-9223372036854775808",
          "SET", "u63", "0", "-1", "OVERFLOW", "FAIL", "INCRBY", "u63", "0", "-1", "GET", "u63", "0"),
        C("BITFIELD", "h", "SET", "i1", "3", "-1", "INCRBY", "i1", "3", "1", "OVERFLOW", "SAT",
          "INCRBY", "i1", "3", "5", "INCRBY", "u1", "3", "5", "GET", "i1", "3"),
        C("GET", "h"),
        # A write creates (or grows) the key even if every write fails.
        E("*1\r\n$-1", "BITFIELD", "nf", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "100"),
        E(":1", "EXISTS", "nf"), E("$1\r\n\x00", "GET", "nf"),
        C("BITFIELD", "nf", "OVERFLOW", "FAIL", "SET", "u8", "100", "256"), C("STRLEN", "nf"),
        # Reads of a missing key do not create it.
        E("*2\r\n:0\r\n:0", "BITFIELD", "nr", "GET", "u8", "0", "GET", "i64", "1000"),
        E(":0", "EXISTS", "nr"), E("*0", "BITFIELD", "nr"),
        E("*0", "BITFIELD", "nr", "OVERFLOW", "SAT"),
        E(":0", "EXISTS", "nr"),
        # Integer-encoded strings.
        C("SET", "i", "12345"), C("BITFIELD", "i", "GET", "u8", "0", "GET", "i16", "#2"),
        C("BITFIELD", "i", "INCRBY", "u8", "#4", "1"), C("GET", "i"), C("OBJECT", "ENCODING", "i"),
        # Offsets: #N is N * width; beyond the range is an error.
        E("*1\r\n:0", "BITFIELD", "nr", "GET", "u8", "#2305843009213693952"),
        E(off_err, "BITFIELD", "nr", "GET", "u8", "#1152921504606846976"),
        E(off_err, "BITFIELD", "nr", "GET", "i64", "#-1"),
        E(off_err, "BITFIELD", "nr", "GET", "u8", "#"),
        E(off_err, "BITFIELD", "nr", "GET", "u8", "#x"),
        E(off_err, "BITFIELD", "nr", "GET", "u8", "#\x001"),
        E(off_err, "BITFIELD", "nr", "GET", "u8", "4294967296"),
        E("*1\r\n:0", "BITFIELD", "nr", "GET", "u8", "4294967295"),
        E(off_err, "BITFIELD", "nr", "GET", "u8", "-1"),
        E(off_err, "BITFIELD", "nr", "GET", "u8", "x"),
        E(off_err, "BITFIELD", "nr", "SET", "u8", "0", "1", "GET", "u8", "x"),
        E(":0", "EXISTS", "nr"),
        # Types.
        E(type_err, "BITFIELD", "nr", "GET", "u64", "0"),
        E(type_err, "BITFIELD", "nr", "GET", "i65", "0"),
        E(type_err, "BITFIELD", "nr", "GET", "u0", "0"),
        E(type_err, "BITFIELD", "nr", "GET", "i0", "0"),
        E(type_err, "BITFIELD", "nr", "GET", "U8", "0"),
        E(type_err, "BITFIELD", "nr", "GET", "x8", "0"),
        E(type_err, "BITFIELD", "nr", "GET", "i", "0"),
        E(type_err, "BITFIELD", "nr", "GET", "", "0"),
        E(type_err, "BITFIELD", "nr", "GET", "\x00", "0"),
        E(type_err, "BITFIELD", "nr", "GET", "u-1", "0"),
        E(type_err, "BITFIELD", "nr", "GET", "u08", "0"),
        C("BITFIELD", "f", "GET", "u8\x00zz", "0"), C("BITFIELD", "f", "GET\x00y", "u8", "0"),
        C("BITFIELD", "f", "OVERFLOW", "SAT\x00", "GET", "u8", "0"),
        # Syntax.
        E("ERR syntax error", "BITFIELD", "f", "GET", "u8"),
        E("ERR syntax error", "BITFIELD", "f", "SET", "u8", "0"),
        E("ERR syntax error", "BITFIELD", "f", "INCRBY", "u8", "0"),
        E("ERR syntax error", "BITFIELD", "f", "GET", "u8", "0", "OVERFLOW"),
        E("ERR syntax error", "BITFIELD", "f", "FOO", "u8", "0"),
        E("ERR Invalid OVERFLOW type specified", "BITFIELD", "f", "OVERFLOW", "FOO"),
        E("ERR Invalid OVERFLOW type specified", "BITFIELD", "f", "OVERFLOW", "FOO", "GET", "u64", "0"),
        E(not_int, "BITFIELD", "f", "SET", "u8", "0", "x"),
        E(not_int, "BITFIELD", "f", "INCRBY", "u8", "0", "9223372036854775808"),
        E(type_err, "BITFIELD", "f", "SET", "u8", "0", "1", "GET", "u64", "0"),
        C("GET", "f"),
        ERR_ARITY("bitfield", "BITFIELD"),
        # BITFIELD_RO: GET only, checked once every op parsed.
        C("BITFIELD_RO", "f", "GET", "u8", "0", "GET", "u8", "1000"),
        E("*0", "BITFIELD_RO", "f"), E("*0", "BITFIELD_RO", "f", "OVERFLOW", "WRAP"),
        E("ERR BITFIELD_RO only supports the GET subcommand", "BITFIELD_RO", "f", "SET", "u8", "0", "1"),
        E("ERR BITFIELD_RO only supports the GET subcommand",
          "BITFIELD_RO", "f", "GET", "u8", "0", "INCRBY", "u8", "0", "1"),
        E("ERR BITFIELD_RO only supports the GET subcommand", "BITFIELD_RO", "l", "SET", "u8", "0", "1"),
        E(type_err, "BITFIELD_RO", "f", "SET", "u8", "0", "1", "GET", "u64", "0"),
        E("ERR syntax error", "BITFIELD_RO", "f", "GET", "u8"),
        C("BITFIELD_RO", "missing", "SET", "u8", "0", "1"), E(":0", "EXISTS", "missing"),
        ERR_ARITY("bitfield_ro", "BITFIELD_RO"),
        # WRONGTYPE (after the arguments are checked).
        C("BITCOUNT", "l"), C("BITCOUNT", "l", "0"), C("BITCOUNT", "l", "a", "b"),
        C("BITPOS", "l", "1"), C("BITPOS", "l", "3"), C("BITPOS", "l", "1", "a"),
        C("GETBIT", "l", "0"), C("GETBIT", "l", "-1"), C("SETBIT", "l", "0", "1"),
        C("SETBIT", "l", "0", "2"), C("BITFIELD", "l", "GET", "u8", "0"),
        C("BITFIELD", "l", "SET", "u8", "0", "1"), C("BITFIELD", "l", "OVERFLOW", "SAT"),
        C("BITFIELD", "l", "GET", "u64", "0"), C("BITFIELD_RO", "l", "GET", "u8", "0"),
        C("BITFIELD", "l"), C("TYPE", "l"), C("LLEN", "l"),
        # Other string commands over bitmaps.
        C("SETBIT", "m", "12", "1"), C("APPEND", "m", "xy"), C("BITCOUNT", "m"),
        C("SETRANGE", "m", "10", "z"), C("BITPOS", "m", "1", "3"), C("GETRANGE", "m", "0", "-1"),
        C("INCR", "m"), C("SET", "m", "99"), C("SETBIT", "m", "0", "1"), C("INCR", "m"),
        C("DBSIZE"),
        # RESP3: a failed BITFIELD write is a null.
        C("HELLO", "3", norm="hello"),
        C("BITFIELD", "h", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "100", "GET", "u8", "0",
          "SET", "i8", "0", "1"),
        C("BITFIELD_RO", "h", "GET", "u8", "0"), C("BITFIELD", "missing"),
        C("SETBIT", "h", "1", "1"), C("GETBIT", "h", "1"), C("BITCOUNT", "h"),
        C("BITPOS", "h", "0"),
        C("BITOP", "NOT", "d", "h"), C("BITOP", "AND", "d", "missing"), C("BITCOUNT", "missing"),
        C("BITFIELD", "l", "GET", "u8", "0"),
        C("HELLO", "2", norm="hello"),
    ]


def fam_hll():
    """HyperLogLog (PFADD PFCOUNT PFMERGE PFDEBUG): Redis 7.0's exact string
    representation, so GET returns the same bytes and PFCOUNT the same
    estimate. A new HLL is sparse and turns dense past hll-sparse-max-bytes
    (3000) or a register above 32; the cached cardinality (header bytes
    8..15) is refreshed by a single-key PFCOUNT and marked stale by writes.
    Strings that are no HLL answer WRONGTYPE (HLL text), corrupted sparse
    opcodes INVALIDOBJ; Redis-made bytes SET into a key work as HLLs."""
    not_hll = "WRONGTYPE Key is not a valid HyperLogLog string value."
    corrupt = "INVALIDOBJ Corrupted HLL object detected"
    rng = random.Random(20140402)

    def hdr(enc, card=b"\x00" * 7 + b"\x80"):
        return b"HYLL" + bytes([enc]) + b"\x00\x00\x00" + card

    empty_sparse = hdr(1) + b"\x7f\xff"
    steps = [
        E(":1", "PFADD", "h"), C("GET", "h"), E(":0", "PFCOUNT", "h"), C("GET", "h"),
        C("OBJECT", "ENCODING", "h"), C("TYPE", "h"),
        E(":1", "PFADD", "h", "a", "b", "c"), E(":0", "PFADD", "h", "a"), C("GET", "h"),
        E(":3", "PFCOUNT", "h"), C("GET", "h"), E(":3", "PFCOUNT", "h"),
        E(":1", "PFADD", "h", "", "\x00", "bin\r\n\xff"), C("PFCOUNT", "h"), C("GET", "h"),
        E(":0", "PFCOUNT", "missing"), E(":0", "EXISTS", "missing"),
        C("PFDEBUG", "ENCODING", "h"), C("PFDEBUG", "DECODE", "h"),
        C("PFDEBUG", "ENCODING", "missing"), C("PFDEBUG", "NOPE", "h"),
        ERR_ARITY("pfadd", "PFADD"), ERR_ARITY("pfcount", "PFCOUNT"),
        ERR_ARITY("pfmerge", "PFMERGE"),
        # A TTL survives PFADD and PFMERGE into the key.
        C("PFADD", "t", "x"), C("EXPIRE", "t", "1000"), C("PFADD", "t", "y", "z"),
        TTL("TTL", "t"), C("PFMERGE", "t", "h"), TTL("TTL", "t"), C("GET", "t"),
    ]
    # 10k elements in PFADDs of 100: sparse, then dense past 3000 bytes.
    for i in range(100):
        steps.append(C("PFADD", "big", *["el:%d" % (i * 100 + j) for j in range(100)]))
        if i % 5 == 4:
            steps += [C("PFCOUNT", "big"), C("STRLEN", "big"), C("PFDEBUG", "ENCODING", "big")]
    steps += [C("GET", "big"), C("PFCOUNT", "big"), C("GET", "big"),
              C("PFADD", "big", *["el:%d" % j for j in range(50)]), C("PFCOUNT", "big")]
    # Random binary elements, many small HLLs.
    for k in range(20):
        els = [bytes(rng.randrange(256) for _ in range(rng.randint(0, 24)))
               for _ in range(rng.randint(1, 60))]
        steps += [C("PFADD", "r%d" % k, *els), C("PFCOUNT", "r%d" % k), C("GET", "r%d" % k)]
    # Larger sets: 30k random numbers.
    for i in range(100):
        steps.append(C("PFADD", "huge", *[str(rng.randrange(10 ** 12)) for _ in range(300)]))
        if i % 20 == 0:
            steps.append(C("PFCOUNT", "huge"))
    steps += [C("PFCOUNT", "huge"), C("GET", "huge")]
    # PFCOUNT of several keys merges on the fly (and caches nothing).
    steps += [C("PFCOUNT", "h", "big"), C("PFCOUNT", "r0", "r1", "r2", "missing"),
              C("PFCOUNT", "big", "huge", "h"), C("PFCOUNT", "missing", "missing2"),
              C("GET", "r0")]
    # PFMERGE: creates the destination, merges into an existing one (a
    # source too), takes the dense encoding when a source is dense.
    steps += [C("PFMERGE", "m1", "r0", "r1", "r2"), C("GET", "m1"), C("PFCOUNT", "m1"),
              C("PFMERGE", "m1", "r3"), C("GET", "m1"), C("PFCOUNT", "m1"),
              C("PFMERGE", "m2", "h", "big"), C("PFDEBUG", "ENCODING", "m2"), C("GET", "m2"),
              C("PFCOUNT", "m2"), C("PFMERGE", "m3"), C("GET", "m3"), C("PFCOUNT", "m3"),
              C("PFMERGE", "m4", "missing"), C("GET", "m4"), C("PFMERGE", "r4", "r4"),
              C("GET", "r4"), C("PFMERGE", "h", "huge", "m1"), C("GET", "h"), C("PFCOUNT", "h")]
    # A small hll-sparse-max-bytes promotes early.
    steps += [E("+OK", "CONFIG", "SET", "hll-sparse-max-bytes", "100"),
              C("CONFIG", "GET", "hll-sparse-max-bytes")]
    for i in range(12):
        steps += [C("PFADD", "p", *["p%d" % (i * 7 + j) for j in range(7)]), C("STRLEN", "p")]
    steps += [C("GET", "p"), C("PFMERGE", "p2", "r5", "r6"), C("GET", "p2"),
              E("+OK", "CONFIG", "SET", "hll-sparse-max-bytes", "3000")]
    # Hand-made and Redis-made bytes SET into keys.
    dense_zero = hdr(0) + b"\x00" * 12288
    steps += [
        C("SET", "cp", empty_sparse), C("OBJECT", "ENCODING", "cp"), E(":0", "PFCOUNT", "cp"),
        C("OBJECT", "ENCODING", "cp"), C("GET", "cp"), E(":1", "PFADD", "cp", "q"), C("GET", "cp"),
        C("SET", "cp2", empty_sparse), E(":0", "PFADD", "cp2"), C("OBJECT", "ENCODING", "cp2"),
        C("SET", "dz", dense_zero), E(":0", "PFCOUNT", "dz"), C("PFADD", "dz", "a", "b"),
        C("PFCOUNT", "dz"), C("GETRANGE", "dz", "0", "40"), C("PFMERGE", "dz", "r7"),
        C("PFCOUNT", "dz"), C("PFMERGE", "r8", "dz"), C("PFDEBUG", "ENCODING", "r8"),
        C("SET", "sat", hdr(0) + b"\xff" * 12288), C("PFCOUNT", "sat"), C("PFADD", "sat", "a"),
        C("PFCOUNT", "sat", "h"),
        # A cached cardinality is believed as it is.
        C("SET", "cached", hdr(1, b"\x2a" + b"\x00" * 7) + b"\x7f\xff"),
        E(":42", "PFCOUNT", "cached"), C("PFCOUNT", "cached", "missing"),
    ]
    # Not an HLL: WRONGTYPE with the HLL text (or the usual one for
    # another type); corrupted sparse opcodes: INVALIDOBJ.
    steps += [C("SET", "str", "hello"), E(not_hll, "PFADD", "str", "a"),
              E(not_hll, "PFCOUNT", "str"), E(not_hll, "PFCOUNT", "h", "str"),
              E(not_hll, "PFMERGE", "str", "h"), E(not_hll, "PFMERGE", "h", "str"),
              C("GET", "str"), C("SET", "int", "12345"), E(not_hll, "PFADD", "int", "a"),
              C("SET", "short", "HYLL"), E(not_hll, "PFCOUNT", "short"),
              C("SET", "magic", b"HYLX" + empty_sparse[4:]), E(not_hll, "PFCOUNT", "magic"),
              C("SET", "enc2", hdr(2) + b"\x7f\xff"), E(not_hll, "PFADD", "enc2", "a"),
              C("SET", "dshort", hdr(0) + b"\x00" * 100), E(not_hll, "PFCOUNT", "dshort"),
              C("LPUSH", "list", "a"), C("PFADD", "list", "a"), C("PFCOUNT", "list"),
              C("PFCOUNT", "h", "list"), C("PFMERGE", "list", "h"), C("PFMERGE", "h", "list"),
              C("SET", "trunc", hdr(1) + b"\x7f\xf0"), E(corrupt, "PFCOUNT", "trunc"),
              E(corrupt, "PFCOUNT", "trunc", "h"), E(corrupt, "PFMERGE", "m5", "trunc"),
              C("EXISTS", "m5"), C("PFADD", "trunc", "a", "b", "c"), C("GET", "trunc"),
              C("SET", "over", hdr(1) + b"\x7f\xff\x80"), E(corrupt, "PFCOUNT", "over"),
              C("PFADD", "over", "a"), C("GET", "over"),
              # A truncated XZERO last (its second byte read as 0): Redis
              # splits it and drops the last byte of the new opcodes.
              C("SET", "odd", hdr(1) + b"\x7f"), C("PFCOUNT", "odd"), C("PFADD", "odd", "x"),
              C("PFADD", "odd", "a"), C("GET", "odd"), C("PFADD", "odd", "b", "c", "d", "e"),
              C("GET", "odd"), C("SET", "odd2", hdr(1) + b"\x7f\xf0\x7f"),
              C("PFADD", "odd2", "a", "b"), C("GET", "odd2"),
              C("SET", "vals", hdr(1) + b"\xff" * 4096), C("PFCOUNT", "vals"),
              C("PFADD", "vals", "a"), C("PFCOUNT", "vals", "h"), C("PFMERGE", "vals2", "vals"),
              C("GET", "vals2"),
              # An HLL written by other string commands.
              C("APPEND", "r9", "x"), C("PFCOUNT", "r9"), C("PFADD", "r9", "y"),
              C("SETRANGE", "r10", "16", "\x7f"), C("PFCOUNT", "r10"), C("PFADD", "r10", "q"),
              C("GET", "r10"),
              # PFDEBUG turns a sparse HLL dense (GETREG, TODENSE); PFSELFTEST.
              C("PFDEBUG", "GETREG", "r11"), C("GET", "r11"), C("PFDEBUG", "DECODE", "r11"),
              C("PFDEBUG", "TODENSE", "r12"), C("PFDEBUG", "TODENSE", "r12"), C("GET", "r12"),
              C("PFDEBUG", "GETREG", "str"), C("PFDEBUG", "todense", "trunc"),
              E("+OK", "PFSELFTEST")]
    return steps


def fam_wrongtype():
    """Only if the server under test has a non-string type (probed with
    LPUSH); Lattice's command set is strings only, so this is normally
    skipped there."""
    steps = [C("LPUSH", "l", "a", "b")]
    for args in [["GET", "l"], ["SET", "l", "v", "GET"], ["GETSET", "l", "v"],
                 ["GETDEL", "l"], ["GETEX", "l"], ["APPEND", "l", "x"], ["STRLEN", "l"],
                 ["GETRANGE", "l", "0", "1"], ["SETRANGE", "l", "0", "x"], ["INCR", "l"],
                 ["INCRBYFLOAT", "l", "1"], ["LCS", "l", "l"], ["MGET", "l"],
                 ["TYPE", "l"], ["OBJECT", "ENCODING", "l"]]:
        steps.append(C(*args))
    steps += [C("SET", "l", "v"), C("GET", "l")]
    return steps


def fam_geo():
    """Geo sets are sorted sets of 52-bit geohash scores: GEOADD's options,
    GEOPOS/GEOHASH/GEODIST (coordinates in ld2string's human form, distances
    "%.4f"), the radius and box searches with every option in RESP2 and
    RESP3, the STORE variants, and the error texts in Redis's order of
    checks. Without ASC/DESC (and without COUNT) GEOSEARCH lists points in
    the order its box scan meets them, so those compare unordered."""
    U = "unordered"
    sicily = ["13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"]
    more = ["12.758489", "38.788135", "edge1", "17.241510", "38.788135", "edge2",
            "13.5", "38.1", "near", "15.087269", "37.502669", "twin"]
    search = []
    for cmd in (["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"],
                ["GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "400", "400", "km"],
                ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "160", "500", "mi"],
                ["GEORADIUS", "Sicily", "15", "37", "200", "km"],
                ["GEORADIUS_RO", "Sicily", "15", "37", "650000", "ft"],
                ["GEORADIUSBYMEMBER", "Sicily", "Palermo", "250", "km"],
                ["GEORADIUSBYMEMBER_RO", "Sicily", "Catania", "200000", "m"]):
        search += [
            C(*cmd, norm=U), C(*cmd, "WITHDIST", norm=U),
            C(*cmd, "ASC"), C(*cmd, "DESC"),
            C(*cmd, "WITHDIST", "WITHCOORD", "WITHHASH", "ASC"),
            C(*cmd, "DESC", "WITHHASH", "withcoord"),
            C(*cmd, "COUNT", "2"), C(*cmd, "COUNT", "2", "DESC", "WITHDIST"),
            C(*cmd, "COUNT", "1", "ANY"), C(*cmd, "COUNT", "100", "ANY", "ASC"),
            E("ERR the ANY argument requires COUNT argument", *cmd, "ANY"),
            E("ERR COUNT must be > 0", *cmd, "COUNT", "0"),
            E("ERR COUNT must be > 0", *cmd, "COUNT", "-3"),
            E("ERR value is not an integer or out of range", *cmd, "COUNT", "x"),
            E("ERR syntax error", *cmd, "COUNT"), E("ERR syntax error", *cmd, "BOGUS"),
        ]
    radius_errors = [
        E("ERR need numeric radius", "GEORADIUS", "Sicily", "15", "37", "x", "km"),
        E("ERR radius cannot be negative", "GEORADIUS", "Sicily", "15", "37", "-1", "km"),
        E("ERR unsupported unit provided. please use M, KM, FT, MI",
          "GEORADIUS", "Sicily", "15", "37", "1", "yd"),
        C("GEORADIUS", "Sicily", "15", "37", "1", "KM"),
        E("ERR invalid longitude,latitude pair 181.000000,37.000000",
          "GEORADIUS", "Sicily", "181", "37", "1", "km"),
        E("ERR value is not a valid float", "GEORADIUS", "Sicily", "a", "37", "1", "km"),
        E("ERR could not decode requested zset member",
          "GEORADIUSBYMEMBER", "Sicily", "nope", "1", "km"),
        E("*0", "GEORADIUSBYMEMBER", "missing", "nope", "1", "badunit"),
        E("*0", "GEORADIUS", "missing", "15", "37", "1", "km"),
        E("ERR unsupported unit provided. please use M, KM, FT, MI",
          "GEORADIUS", "missing", "15", "37", "1", "yd"),
        E("ERR syntax error", "GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STORE", "d"),
        E("ERR syntax error", "GEORADIUSBYMEMBER_RO", "Sicily", "Palermo", "200", "km",
          "STOREDIST", "d"),
        E("ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and "
          "WITHCOORD options", "GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "d",
          "WITHDIST"),
        E("ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and "
          "WITHCOORD options", "GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km",
          "WITHCOORD", "STOREDIST", "d"),
    ]
    search_errors = [
        E("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH",
          "GEOSEARCH", "Sicily", "BYRADIUS", "200", "km", "ASC", "WITHDIST"),
        E("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for geosearch",
          "geosearch", "Sicily", "BYRADIUS", "200", "km", "ASC", "WITHDIST"),
        E("ERR exactly one of BYRADIUS and BYBOX can be specified for GEOSEARCH",
          "GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "ASC", "WITHDIST", "ANY"),
        E("ERR syntax error", "GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "FROMLONLAT",
          "1", "1", "BYRADIUS", "200", "km"),
        E("ERR syntax error", "GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS",
          "200", "km", "BYBOX", "1", "1", "km"),
        E("ERR syntax error", "GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS",
          "200", "km", "STORE", "d"),
        E("ERR syntax error", "GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS",
          "200", "km", "STOREDIST"),
        E("ERR could not decode requested zset member",
          "GEOSEARCH", "Sicily", "FROMMEMBER", "nope", "BYRADIUS", "200", "km"),
        E("*0", "GEOSEARCH", "missing", "FROMMEMBER", "nope", "BYRADIUS", "200", "km"),
        E("ERR height or width cannot be negative",
          "GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "-1", "1", "km"),
        E("ERR need numeric width",
          "GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "w", "1", "km"),
        E("ERR need numeric height",
          "GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "1", "h", "km"),
        E("ERR unsupported unit provided. please use M, KM, FT, MI",
          "GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "1", "1", "kmx"),
        E("ERR invalid longitude,latitude pair 10.000000,-86.000000",
          "GEOSEARCH", "Sicily", "FROMLONLAT", "10", "-86", "BYRADIUS", "1", "km"),
        E("ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
          "GEOSEARCHSTORE", "d", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km",
          "WITHHASH"),
    ]
    stores = [
        C("GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "dst"),
        C("ZRANGE", "dst", "0", "-1", "WITHSCORES"), C("OBJECT", "ENCODING", "dst"),
        C("GEORADIUS", "Sicily", "15", "37", "200", "km", "STOREDIST", "dst", "COUNT", "2"),
        C("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        C("GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "mi", "STORE", "x", "STOREDIST",
          "dst", "DESC"),
        C("ZRANGE", "dst", "0", "-1", "WITHSCORES"), C("EXISTS", "x"),
        C("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400",
          "km", "ASC", "COUNT", "3"),
        C("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        C("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400",
          "km", "STOREDIST"),
        C("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        # Nothing found, or no source: the destination goes.
        C("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m"),
        C("EXISTS", "dst"), C("SET", "dst", "string"),
        C("GEORADIUS", "missing", "15", "37", "200", "km", "STORE", "dst"), C("EXISTS", "dst"),
        C("SET", "dst", "string"),
        C("GEOSEARCHSTORE", "dst", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "10", "km"),
        C("TYPE", "dst"), C("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        # The source as its own destination.
        C("COPY", "Sicily", "self"),
        C("GEOSEARCHSTORE", "self", "self", "FROMMEMBER", "Palermo", "BYRADIUS", "100", "km"),
        C("ZRANGE", "self", "0", "-1", "WITHSCORES"),
        C("COMMAND", "GETKEYS", "GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "d"),
        C("COMMAND", "GETKEYS", "GEOSEARCHSTORE", "d", "Sicily", "FROMMEMBER", "Palermo",
          "BYRADIUS", "10", "km"),
    ]
    # Scores that are no geohash (a zset of any scores decodes too).
    weird = [
        C("ZADD", "weird", "-1", "a", "inf", "b", "1e300", "c", "0.5", "d", "1e19", "e",
          "-1e19", "f", "4503599627370496", "g", "4503599627370495", "h", "-inf", "i"),
        C("GEOPOS", "weird", "a", "b", "c", "d", "e", "f", "g", "h", "i"),
        C("GEOHASH", "weird", "a", "b", "c", "d", "e", "f", "g", "h", "i"),
        C("GEODIST", "weird", "a", "b"), C("GEODIST", "weird", "c", "h", "km"),
        C("GEOSEARCH", "weird", "FROMMEMBER", "d", "BYRADIUS", "50000", "km", "ASC", "WITHHASH"),
    ]
    poles = [
        C("GEOADD", "poles", "180", "85.05112878", "ne", "-180", "-85.05112878", "sw",
          "179.999", "85", "n2", "-179.999", "85", "n3", "0", "0", "origin", "0", "85", "n4"),
        C("GEOPOS", "poles", "ne", "sw", "n2", "n3", "origin"),
        C("GEOHASH", "poles", "ne", "sw", "n2", "n3", "origin"),
        C("GEODIST", "poles", "n2", "n3"), C("GEODIST", "poles", "ne", "sw", "mi"),
        C("GEOSEARCH", "poles", "FROMMEMBER", "n2", "BYRADIUS", "100", "km", "ASC", "WITHDIST"),
        C("GEOSEARCH", "poles", "FROMLONLAT", "180", "85", "BYBOX", "500", "100", "km", "ASC"),
        C("GEOSEARCH", "poles", "FROMLONLAT", "0", "0", "BYRADIUS", "20000", "km", "DESC",
          "WITHDIST"),
        C("GEOSEARCH", "poles", "FROMLONLAT", "0", "0", "BYRADIUS", "0", "m", "WITHCOORD"),
    ]
    return [
        E(":2", "GEOADD", "Sicily", *sicily),
        E(":0", "GEOADD", "Sicily", *sicily), C("GEOADD", "Sicily", "CH", *sicily),
        C("GEOADD", "Sicily", "NX", "1", "1", "Palermo", *more[:3]),
        C("GEOADD", "Sicily", "XX", "CH", "13.361389", "38.2", "Palermo", "1", "1", "notyet"),
        C("GEOADD", "Sicily", "XX", "CH", *sicily[:3]),
        C("GEOADD", "Sicily", "ch", "nx", *more), C("EXISTS", "notyet"),
        C("GEOADD", "Sicily", "nx\x00junk", "2", "2", "nxz"), C("ZREM", "Sicily", "nxz"),
        E("ERR syntax error", "GEOADD", "Sicily", "NX", "XX", "1", "1", "a"),
        E("ERR syntax error", "GEOADD", "Sicily", "1", "1", "a", "2"),
        E("ERR syntax error", "GEOADD", "Sicily", "CH", "CH", "CH"),
        ERR_ARITY("geoadd", "GEOADD", "Sicily", "1", "1"),
        E("ERR invalid longitude,latitude pair 200.000000,1.000000",
          "GEOADD", "Sicily", "1", "1", "ok", "200", "1", "bad"),
        C("GEOADD", "Sicily", "1", "-85.06", "bad"), C("GEOADD", "Sicily", "1", "x", "bad"),
        C("GEOADD", "Sicily", "nan", "1", "bad"), C("GEOADD", "Sicily", " 1", "1", "bad"),
        C("GEOADD", "Sicily", "0x10", "1e1", "hex"), C("EXISTS", "ok"),
        C("GEOADD", "created", "XX", "1", "1", "a"), C("EXISTS", "created"),
        C("ZRANGE", "Sicily", "0", "-1", "WITHSCORES"), C("ZCARD", "Sicily"),
        C("OBJECT", "ENCODING", "Sicily"), C("TYPE", "Sicily"),
        C("GEOPOS", "Sicily", "Palermo", "Catania", "nope", "edge1", "hex"),
        C("GEOPOS", "missing", "a", "b"), C("GEOPOS", "Sicily"),
        C("GEOHASH", "Sicily", "Palermo", "Catania", "nope", "edge2", "near"),
        C("GEOHASH", "missing", "a"), C("GEOHASH", "Sicily"),
        E("$11\r\n166274.1516", "GEODIST", "Sicily", "Palermo", "Catania"),
        C("GEODIST", "Sicily", "Palermo", "Catania", "km"),
        C("GEODIST", "Sicily", "Palermo", "Catania", "MI"),
        C("GEODIST", "Sicily", "Palermo", "Catania", "ft"),
        C("GEODIST", "Sicily", "Catania", "twin"), C("GEODIST", "Sicily", "Palermo", "nope"),
        C("GEODIST", "missing", "a", "b"),
        E("ERR unsupported unit provided. please use M, KM, FT, MI",
          "GEODIST", "Sicily", "Palermo", "Catania", "yards"),
        E("ERR unsupported unit provided. please use M, KM, FT, MI",
          "GEODIST", "missing", "a", "b", "yards"),
        E("ERR syntax error", "GEODIST", "Sicily", "Palermo", "Catania", "km", "x"),
        *search, *radius_errors, *search_errors, *stores, *weird, *poles,
        # A listpack and a skiplist reply alike.
        C("CONFIG", "SET", "zset-max-listpack-entries", "2"),
        C("GEOADD", "big", *sicily, *more), C("OBJECT", "ENCODING", "big"),
        C("GEOSEARCH", "big", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km", "ASC",
          "WITHDIST", "WITHHASH"),
        C("GEOSEARCHSTORE", "bigdst", "big", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km"),
        C("OBJECT", "ENCODING", "bigdst"),
        C("CONFIG", "SET", "zset-max-listpack-entries", "128"),
        # Wrong types.
        C("SET", "str", "x"), C("GEOADD", "str", "1", "1", "a"), C("GEOPOS", "str", "a"),
        C("GEOHASH", "str", "a"), C("GEODIST", "str", "a", "b"),
        C("GEORADIUS", "str", "1", "1", "1", "km"), C("GEORADIUS", "str", "1", "1", "x", "km"),
        C("GEORADIUSBYMEMBER", "str", "a", "1", "km"),
        C("GEOSEARCH", "str", "FROMMEMBER", "a", "BYRADIUS", "1", "km"),
        C("GEOSEARCHSTORE", "dst", "str", "FROMMEMBER", "a", "BYRADIUS", "1", "km"),
        C("GEOSEARCHSTORE", "str", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km"),
        C("TYPE", "str"),
        # RESP3: coordinates are doubles, distances stay bulk strings.
        C("HELLO", "3", norm="hello"),
        C("GEOPOS", "Sicily", "Palermo", "nope"), C("GEOPOS", "missing", "a"),
        C("GEOHASH", "Sicily", "Palermo", "nope"),
        C("GEODIST", "Sicily", "Palermo", "Catania"), C("GEODIST", "Sicily", "Palermo", "nope"),
        C("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "ASC",
          "WITHDIST", "WITHCOORD", "WITHHASH"),
        C("GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHCOORD", "COUNT", "1"),
        C("GEORADIUSBYMEMBER_RO", "Sicily", "Palermo", "200", "km", "DESC", "WITHDIST"),
        C("GEORADIUS", "missing", "15", "37", "200", "km"),
        C("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km",
          "WITHCOORD", norm=U),
        C("HELLO", "2", norm="hello"),
    ]


def fam_multi():
    """MULTI / EXEC / DISCARD / WATCH / UNWATCH on one connection: queuing,
    EXECABORT after a refused command, run-time errors inside EXEC, WATCH
    broken by the connection's own write and by a flush, blocking commands
    inside MULTI, SELECT inside EXEC, RESP3's null. (Other connections'
    writes and expiries: transaction_test.py.)"""
    return [
        C("FLUSHALL"),
        E("+OK", "MULTI"), E("+QUEUED", "SET", "a", "1"), E("+QUEUED", "INCR", "a"),
        C("GET", "a"), C("EXEC"),
        E("ERR EXEC without MULTI", "EXEC"), E("ERR DISCARD without MULTI", "DISCARD"),
        C("MULTI"), E("ERR MULTI calls can not be nested", "MULTI"), C("SET", "b", "x"),
        C("EXEC"), C("GET", "b"),
        C("MULTI"), C("SET", "a", "gone"), E("+OK", "DISCARD"), C("GET", "a"),
        C("MULTI"), C("NOSUCHCOMMAND", "x"), C("SET", "c", "1"), C("EXEC"), C("EXISTS", "c"),
        C("MULTI"), ERR_ARITY("set", "SET", "c"), C("SET", "c", "1"), C("EXEC"),
        C("EXISTS", "c"),
        C("MULTI"), C("SET", "k", "v"), C("LPUSH", "k", "x"), C("INCR", "k"), C("GET", "k"),
        C("EXEC"),
        C("MULTI"), E("ERR WATCH inside MULTI is not allowed", "WATCH", "k"), C("GET", "k"),
        C("EXEC"),
        C("MULTI"), C("EXEC"),
        C("MULTI"), C("UNWATCH"), C("PING"), C("ECHO", "e"), C("EXEC"),
        # WATCH: the connection's own write breaks it; UNWATCH forgets it.
        C("WATCH", "k"), C("SET", "k", "2"), C("MULTI"), C("GET", "k"), C("EXEC"),
        C("WATCH", "k"), C("UNWATCH"), C("SET", "k", "3"), C("MULTI"), C("GET", "k"),
        C("EXEC"),
        C("WATCH", "k", "nokey"), C("MULTI"), C("SET", "nokey", "1"), C("EXEC"),
        C("WATCH", "k"), C("GET", "k"), C("MULTI"), C("INCR", "k"), C("EXEC"),
        C("WATCH", "k"), C("MULTI"), C("DISCARD"), C("SET", "k", "5"), C("MULTI"),
        C("GET", "k"), C("EXEC"),
        # A flush breaks a WATCH of a key it removed, not of a missing one.
        C("WATCH", "k"), C("FLUSHDB"), C("MULTI"), C("SET", "k", "6"), C("EXEC"),
        C("WATCH", "absent"), C("FLUSHDB"), C("MULTI"), C("SET", "k", "7"), C("EXEC"),
        C("GET", "k"),
        # Blocking commands inside MULTI answer at once.
        C("MULTI"), C("BLPOP", "nolist", "0"), C("BRPOP", "nolist", "1"),
        C("BLMOVE", "nolist", "dst", "LEFT", "RIGHT", "0"), C("BRPOPLPUSH", "nolist", "d", "0"),
        C("BZPOPMIN", "noz", "0"),
        C("BLMPOP", "0", "1", "nolist", "LEFT"), C("BZMPOP", "0", "1", "noz", "MIN"),
        C("EXEC"),
        C("RPUSH", "l", "x", "y"), C("MULTI"), C("BLPOP", "l", "0"), C("BRPOPLPUSH", "l", "l2", "0"),
        C("EXEC"), C("LRANGE", "l2", "0", "-1"),
        # SELECT inside EXEC changes the connection's database.
        C("MULTI"), C("SELECT", "1"), C("SET", "a", "db1"), C("EXEC"), C("GET", "a"),
        C("SELECT", "0"), C("GET", "a"),
        # Collections and a multi-key command in one transaction.
        C("MULTI"), C("HSET", "h", "f", "1"), C("SADD", "s1", "a", "b"), C("SADD", "s2", "b"),
        C("SINTERSTORE", "s3", "s1", "s2"), C("ZADD", "z", "1", "m"), C("HGETALL", "h"),
        C("SMEMBERS", "s3"), C("EXEC"),
        C("HELLO", "3", norm="hello"),
        C("WATCH", "k"), C("SET", "k", "8"), C("MULTI"), C("GET", "k"), C("EXEC"),
        C("MULTI"), C("GET", "k"), C("HGETALL", "h"), C("EXEC"),
        # RESET: back to RESP2, database 0, no name, no transaction or WATCH.
        C("CLIENT", "SETNAME", "conn1"), C("SELECT", "3"), C("WATCH", "k"), C("MULTI"),
        C("SET", "k", "queued"), E("+RESET", "RESET"), C("CLIENT", "GETNAME"), C("GET", "k"),
        C("EXEC"), C("HGETALL", "h"),
        C("HELLO", "2", norm="hello"),
    ]


def fam_scripting():
    """EVAL, EVALSHA, EVAL_RO, SCRIPT: redis.call / pcall and their errors,
    the Lua <-> RESP2/RESP3 conversions, the sandbox (read-only globals and
    libraries, missing globals, removed functions), shebang flags,
    math.random's sequence, cjson / cmsgpack / struct / bit, SELECT inside
    a script. (Busy scripts and SCRIPT KILL: scripting_test.py.)"""
    ev = lambda body, *rest: C("EVAL", body, *rest) if rest else C("EVAL", body, "0")
    steps = [
        C("FLUSHALL"), C("SCRIPT", "FLUSH"),
        ev("return redis.call('set', KEYS[1], ARGV[1])", "1", "k", "v"),
        ev("return redis.call('get', KEYS[1])", "1", "k"),
        ev("return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}", "2", "a", "b", "x", "y"),
        ev("return redis.call('get', KEYS[1])", "1", "missing"),
        ev("return redis.call('incr', 'a', 'b')"),
        ev("return redis.call('nosuch')"), ev("return redis.call()"),
        ev("return redis.call('set', 'x', {})"), ev("return redis.pcall('set', 'x', true)"),
        ev("return redis.call('object', 'nosub', 'x')", "1", "x"),
        ev("return redis.call('GET', KEYS[1])", "1", "k"),
        ev("return redis.call('set', KEYS[1], 3.5)", "1", "n"), ev("return redis.call('get', KEYS[1])", "1", "n"),
        ev("return redis.call('set', KEYS[1], 12345678901234567890)", "1", "n"),
        ev("return redis.call('get', KEYS[1])", "1", "n"),
        ev("return redis.call('lpush', KEYS[1], 'a')", "1", "k"),
        ev("return redis.pcall('lpush', KEYS[1], 'a')", "1", "k"),
        ev("local e = redis.pcall('incr', KEYS[1]); return e['err']", "1", "k"),
        ev("local ok, e = pcall(redis.call, 'incr', KEYS[1]); return {ok, e}", "1", "k"),
        ev("return {pcall(redis.call, 'nosuch')}"),
        ev("local ok, e = pcall(error, 'x'); return e"),
        # Errors raised by the script.
        ev("error('boom')"), ev("error({err='MY thing'})"), ev("error()"), ev("error(5)"),
        ev("error('x', 0)"), ev("local function f() error('deep') end\nlocal x = 1\nf()"),
        ev("\n\nredis.call('nosuchcmd')"),
        ev("return redis.error_reply('OOPS bad')"), ev("return redis.error_reply('bad')"),
        ev("return redis.error_reply('-')"), ev("return redis.error_reply('')"),
        ev("return redis.error_reply('-X')"), ev("return redis.error_reply(5)"),
        ev("return redis.status_reply('FINE')"), ev("return redis.status_reply()"),
        ev("return redis.status_reply('a\\nb')"), ev("return {err='line1\\r\\nline2'}"),
        ev("return {ok='line1\\r\\nline2'}"), ev("return 'a' .. "),
        # Lua -> reply.
        ev("return {1, 2, 3.7, 'a', nil, 5}"), ev("return {1, {2, {err='E x'}}, true, false}"),
        ev("return {1, 2, {3, {4}}, 'x', {ok='fine'}}"), ev("return {err='X y', 1}"),
        ev("return 3.99"), ev("return -3.99"), ev("return 1e20"), ev("return 0/0"),
        ev("return -0.5"), ev("return true"), ev("return false"), ev("return nil"),
        ev("return {double=3.5}"), ev("return {map={a=1}}"), ev("return {set={a=true}}"),
        ev("return {big_number='123'}"),
        ev("return {verbatim_string={format='txt', string='hi'}}"),
        ev("return tostring(3.5)"), ev("return tostring(1e100)"), ev("return _VERSION"),
        # Reply -> Lua.
        C("HSET", "h", "f", "v"), C("SADD", "s", "m"), C("ZADD", "z", "1.5", "m"),
        ev("return redis.call('hgetall', KEYS[1])", "1", "h"),
        ev("return redis.call('smembers', KEYS[1])", "1", "s"),
        ev("return redis.call('zrange', KEYS[1], 0, -1, 'WITHSCORES')", "1", "z"),
        ev("return redis.call('zscore', KEYS[1], 'm')", "1", "z"),
        ev("return redis.call('ping')"), ev("return redis.call('ping', 'x')"),
        ev("return type(redis.call('ping'))"), ev("return redis.call('ping')['ok']"),
        ev("local t = redis.call('hget', KEYS[1], 'x'); return type(t)", "1", "nope"),
        ev("return redis.call('exists', KEYS[1])", "1", "h"),
        ev("return redis.call('type', KEYS[1])", "1", "h"),
        ev("redis.setresp(3); return redis.call('hgetall', KEYS[1])", "1", "h"),
        ev("redis.setresp(3); return redis.call('smembers', KEYS[1])", "1", "s"),
        ev("redis.setresp(3); return redis.call('zscore', KEYS[1], 'm')", "1", "z"),
        ev("redis.setresp(3); local t = redis.call('hget', KEYS[1], 'x'); return type(t)", "1", "nope"),
        ev("redis.setresp(3); return redis.call('hget', KEYS[1], 'x')", "1", "nope"),
        ev("redis.setresp(3); return redis.call('smembers', KEYS[1])", "1", "nos"),
        ev("redis.setresp(3); return true"),
        ev("redis.setresp(4)"), ev("redis.setresp()"),
        # The redis table.
        ev("return redis.REDIS_VERSION"), ev("return redis.REDIS_VERSION_NUM"),
        ev("redis.log(redis.LOG_WARNING, 'from a script', 'x'); return 1"),
        ev("redis.log(99, 'hello'); return 1"), ev("redis.log('x'); return 1"),
        ev("return redis.set_repl(redis.REPL_ALL)"), ev("return redis.set_repl(99)"),
        ev("return redis.sha1hex('')"), ev("return redis.sha1hex('abc')"),
        ev("return redis.sha1hex()"), ev("return redis.replicate_commands()"),
        ev("return redis.breakpoint()"), ev("return redis.acl_check_cmd('get', 'x')"),
        ev("local t={} for k,v in pairs(redis) do t[#t+1]=k end table.sort(t) return t"),
        # The sandbox.
        ev("x = 5"), ev("return y"), ev("return tostring(os)"), ev("return loadfile"),
        ev("return print"), ev("return require"), ev("return getfenv"), ev("return setfenv"),
        ev("return dofile"), ev("return debug"), ev("return newproxy"), ev("return module"),
        ev("string.foo = 1 return 1"), ev("cjson.foo = 1 return 1"), ev("redis.call = nil return 1"),
        ev("_G.x = 1 return 1"), ev("rawset(_G, 'x', 1) return 1"),
        ev("setmetatable(_G, nil) return 1"), ev("getmetatable('').__index.foo = 1 return 1"),
        ev("local f = loadstring('x = 1') f() return 1"),
        ev("local f = loadstring('return 1+1') return f()"),
        ev("local t = {} t.x = 1 return t.x"), ev("KEYS[1] = 'z' return KEYS[1]", "1", "a"),
        ev("return ('abc'):upper()"), ev("return string.format('%d %s', 5, 'x')"),
        ev("return table.concat({1, 2, 3}, ',')"), ev("return type(coroutine.wrap)"),
        ev("return gcinfo() > 0"), ev("return type(rawget(_G, 'redis'))"),
        ev("local n=0 for k,v in pairs(_G) do n=n+1 end return n"),
        ev("local t={} for k,v in pairs(_G) do t[#t+1]=k end table.sort(t) return t"),
        ev("local t={} for k,v in pairs(string) do t[#t+1]=k end table.sort(t) return t"),
        ev("local t={} for k,v in pairs(math) do t[#t+1]=k end table.sort(t) return t"),
        ev("for _, g in ipairs({'type', 'unpack', 'select', 'xpcall', 'load', 'next'}) do "
           "assert(_G[g] ~= nil, g) end return 1"),
        # math.random: Redis's sequence, shared by every script.
        ev("return tostring(math.random())"),
        ev("return {math.random(100), math.random(10, 20)}"),
        ev("math.randomseed(5); return tostring(math.random())"),
        ev("return math.random(0)"),
        # Libraries.
        ev("return cjson.encode({a=1, b={1, 2}})"),
        ev("return cjson.decode('[1,2,{\"a\":null}]')[3].a == cjson.null"),
        ev("return cjson.encode(cjson.decode('{\"a\":[1,2.5,\"x\",true,false,null]}'))"),
        ev("return cjson.decode('[1,')"),
        ev("return cmsgpack.pack({1, 2, 'x'})"),
        ev("return cmsgpack.unpack(cmsgpack.pack({1, 2, 'x', {a=1}}))"),
        ev("return {cmsgpack.unpack(cmsgpack.pack(1, 2, 3))}"),
        ev("return cmsgpack.pack({a=1, b=2.5, c=true, d='x'}, -1, 2^40, 300, 70000, -300, "
           "-70000, -2^40, 1.1, string.rep('x', 40), string.rep('y', 300))"),
        ev("local t = {cmsgpack.unpack(cmsgpack.pack(-1, 2^40, 300, 70000, -300, -70000, "
           "-2^40, string.rep('x', 40)))} return t"),
        ev("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2))}"),
        ev("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}"),
        ev("return struct.pack('>I2', 513)"), ev("return {struct.unpack('>I2', '\\1\\2')}"),
        ev("return {struct.unpack('<i4 b', struct.pack('<i4 b', -5, -1))}"),
        ev("return struct.size('>I4 h d')"), ev("return struct.pack('s c3', 'ab', 'xyz')"),
        ev("return bit.band(7, 3)"), ev("return bit.tohex(255)"), ev("return bit.bxor(5, 3)"),
        ev("return bit.lshift(1, 40)"),
        # Commands a script may not call.
        ev("return redis.call('multi')"), ev("return redis.call('exec')"),
        ev("return redis.call('watch', 'x')"), ev("return redis.call('blpop', 'x', 0)"),
        ev("return redis.call('client', 'list')"), ev("return redis.call('eval', 'return 1', 0)"),
        ev("return redis.call('script', 'load', 'return 1')"),
        ev("return redis.call('config', 'get', 'maxmemory')"),
        ev("return redis.call('shutdown')"), ev("return redis.call('hello')"),
        # SELECT inside a script changes the script's database only.
        ev("redis.call('select', '3'); return redis.call('set', KEYS[1], 'db3')", "1", "zz"),
        C("GET", "zz"), C("SELECT", "3"), C("GET", "zz"), C("SELECT", "0"),
        ev("return redis.call('select', 'x')"), ev("return redis.call('select', '99')"),
        # Keys: argument checks.
        E("ERR Number of keys can't be negative", "EVAL", "return 1", "-1"),
        E("ERR Number of keys can't be greater than number of args", "EVAL", "return 1", "2", "a"),
        C("EVAL", "return 1", "abc"), ERR_ARITY("eval", "EVAL", "return 1"),
        ev("return 1 +"),
        # Shebangs.
        ev("#!lua flags=no-writes\nreturn redis.call('set', KEYS[1], '1')", "1", "a"),
        ev("#!lua flags=no-writes,allow-oom\nreturn redis.call('get', KEYS[1])", "1", "k"),
        ev("#!lua flags=bogus\nreturn 1"), ev("#!lua name=x\nreturn 1"),
        ev("#!python\nreturn 1"), ev("#!lua\nreturn 1"), ev("#!lua flags=\nreturn 1"),
        ev("#!lua\nerror('line two')"),
        C("EVAL_RO", "return redis.call('get', KEYS[1])", "1", "k"),
        C("EVAL_RO", "return redis.call('set', KEYS[1], 'v')", "1", "k"),
        # The cache.
        E("$40\r\ne0e1f9fabfc9d4800c877a703b823ac0578ff8db", "SCRIPT", "LOAD", "return 1"),
        C("EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"),
        C("EVALSHA", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "0"),
        C("EVALSHA_RO", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"),
        E("NOSCRIPT No matching script. Please use EVAL.", "EVALSHA",
          "ffffffffffffffffffffffffffffffffffffffff", "0"),
        C("EVALSHA", "fff", "0"),
        C("SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
          "ffffffffffffffffffffffffffffffffffffffff"),
        C("SCRIPT", "LOAD", "return 1 +"), C("SCRIPT", "EXISTS"), C("SCRIPT", "HELP"),
        C("SCRIPT", "FLUSH", "bogus"), C("SCRIPT", "FLUSH", "a", "b"),
        C("SCRIPT", "FLUSH", "ASYNC"),
        C("SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"),
        C("EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"),
        E("NOTBUSY No scripts in execution right now.", "SCRIPT", "KILL"),
        C("SCRIPT", "FOO"),
        # Scripts inside MULTI.
        C("MULTI"), ev("return redis.call('incr', KEYS[1])", "1", "cnt"),
        C("SCRIPT", "LOAD", "return 2"), ev("return redis.call('incr', KEYS[1])", "1", "cnt"),
        C("EXEC"),
        # RESP3 callers.
        C("HELLO", "3", norm="hello"),
        ev("return {map={a=1}}"), ev("return {double=3.5}"), ev("return true"),
        ev("return false"), ev("return nil"), ev("return {set={a=true}}"),
        ev("return {big_number='123'}"), ev("redis.setresp(3); return true"),
        ev("redis.setresp(3); return false"),
        ev("redis.setresp(3); return redis.call('hgetall', KEYS[1])", "1", "h"),
        ev("return redis.call('hgetall', KEYS[1])", "1", "h"),
        ev("return {map={a={1,2}}, set={}}"),
        ev("return {verbatim_string={format='txt', string='hi'}}"),
        ev("return redis.call('get', KEYS[1])", "1", "missing"),
        C("HELLO", "2", norm="hello"),
    ]
    return steps


def fam_functions():
    """FUNCTION LOAD (its metadata and registration errors), FCALL and
    FCALL_RO (errors, flags, KEYS/ARGV as arguments), FUNCTION LIST /
    STATS / DELETE / FLUSH / HELP / KILL, and RESTORE of bad payloads.
    (DUMP payloads restored across servers: scripting_test.py.)"""
    lib = ("#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return "
           "redis.call('incr', keys[1]) end)\nredis.register_function{function_name='ro', "
           "callback=function(keys, args) return args[1] end, flags={'no-writes'}, "
           "description='read'}")
    steps = [C("FLUSHALL"), C("FUNCTION", "FLUSH"),
             E("$5\r\nmylib", "FUNCTION", "LOAD", lib), C("FUNCTION", "LOAD", lib),
             C("FUNCTION", "LOAD", "REPLACE", lib),
             C("FCALL", "myfunc", "1", "fk"), C("FCALL", "myfunc", "1", "fk"),
             C("FCALL", "ro", "0", "hello"), C("FCALL_RO", "myfunc", "1", "fk"),
             C("FCALL_RO", "ro", "0", "x"), E("ERR Function not found", "FCALL", "nope", "0"),
             C("FCALL", "myfunc", "2", "a"), C("FCALL", "myfunc", "-1"),
             C("FUNCTION", "LIST", norm="deep"),
             C("FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "my*", norm="deep"),
             C("FUNCTION", "LIST", "LIBRARYNAME", "zz"), C("FUNCTION", "LIST", "bogus"),
             C("FUNCTION", "STATS")]
    for code in [
            "return 1", "#!lua\nreturn 1", "#!lua name=a b=c\nreturn 1", "#!py name=a\nreturn 1",
            "#!lua name=a-b\nreturn 1", "#!lua name=e\nreturn 1",
            "#!lua name=e\nredis.register_function('myfunc', function() end)",
            "#!lua name=e\nredis.register_function('f1', function() end) "
            "redis.register_function('f1', function() end)",
            "#!lua name=e\nredis.register_function('f-1', function() end)",
            "#!lua name=e\nredis.call('set', 'x', 'y')",
            "#!lua name=e\nredis.register_function('f', 5)",
            "#!lua name=e\nredis.register_function{function_name='f', callback=function() end, "
            "flags={'bad'}}",
            "#!lua name=e\nredis.register_function{function_name='f', callback=function() end, "
            "foo=1}",
            "#!lua name=e\nredis.register_function()", "#!lua name=e\nredis.register_function('f')",
            "#!lua name=e\nlocal x = ", "#!lua name=e\nx = 1",
            "#!lua name=e\nredis.register_function('f', function(k, a) error('boom') end)",
            "#!lua name=e2\nredis.register_function('g', function(k, a) return "
            "redis.call('nosuch') end)",
            "#!lua name=e3\nredis.register_function('h', function(k, a) return KEYS end)",
            "#!lua name=e4\nlocal function helper() return 7 end\n"
            "redis.register_function('useh', function(k, a) return helper() end)",
            "#!lua name=e5\nredis.register_function{function_name='fl', callback=function(k, a) "
            "return {k[1], a[1]} end, flags={'no-writes', 'allow-oom', 'allow-stale', "
            "'no-cluster', 'allow-cross-slot-keys'}}"]:
        steps.append(C("FUNCTION", "LOAD", code))
    steps += [C("FCALL", "f", "0"), C("FCALL", "g", "0"), C("FCALL", "h", "0"),
              C("FCALL", "useh", "0"), C("FCALL_RO", "fl", "1", "key", "arg"),
              C("FUNCTION", "LIST", "LIBRARYNAME", "e5"), C("FUNCTION", "DELETE", "e3"),
              E("ERR Library not found", "FUNCTION", "DELETE", "e3"),
              E("NOTBUSY No scripts in execution right now.", "FUNCTION", "KILL"),
              C("FUNCTION", "HELP"), C("FUNCTION", "FLUSH", "bogus"),
              C("EVAL", "return redis.register_function", "0"),
              C("FUNCTION", "RESTORE", "garbage"),
              C("FUNCTION", "RESTORE", b"\xf5\x03abc\x0a\x00" + b"\x00" * 8, "BOGUS"),
              C("FUNCTION", "STATS"),
              C("HELLO", "3", norm="hello"), C("FUNCTION", "LIST", norm="deep"),
              C("FUNCTION", "STATS"),
              C("FCALL_RO", "fl", "1", "key", "arg"), C("HELLO", "2", norm="hello"),
              C("FUNCTION", "FLUSH", "SYNC"), C("FUNCTION", "LIST")]
    return steps


def fam_pubsub():
    """Pub/sub on one connection: confirmations and counts, the RESP2
    subscribed-mode refusal and PING, UNSUBSCRIBE of everything, PUBLISH
    counts, PUBSUB introspection, RESET; then RESP3, where a subscribed
    connection still runs commands. (Messages between connections and
    nodes: pubsub_test.py.)"""
    return [
        C("PUBLISH", "nobody", "x"), C("SPUBLISH", "nobody", "x"),
        C("PUBSUB", "NUMSUB", "a", "b"), C("PUBSUB", "NUMPAT"), C("PUBSUB", "CHANNELS"),
        C("PUBSUB", "SHARDCHANNELS"), C("PUBSUB", "SHARDNUMSUB", "s"), C("PUBSUB", "HELP"),
        C("PUBSUB", "NOSUCH"), ERR_ARITY("subscribe", "SUBSCRIBE"),
        C("UNSUBSCRIBE"), C("PUNSUBSCRIBE"), C("SUNSUBSCRIBE"),
        C("SUBSCRIBE", "a"), C("SUBSCRIBE", "a"), C("PSUBSCRIBE", "p*"), C("SSUBSCRIBE", "s1"),
        C("GET", "x"), C("CLIENT", "ID", norm="shape"), C("PING"), C("PING", "hi"),
        C("PUBSUB", "NUMSUB", "a"),
        C("UNSUBSCRIBE", "a"), C("PUNSUBSCRIBE", "p*"), C("GET", "x"),
        C("SUNSUBSCRIBE", "s1"), C("GET", "x"), C("PING"),
        C("SUBSCRIBE", "b"), E("+RESET", "RESET"), C("GET", "x"),
        C("HELLO", "3", norm="hello"),
        C("SUBSCRIBE", "c"), C("GET", "x"), C("PING"), C("PUBSUB", "NUMSUB", "c"),
        C("UNSUBSCRIBE", "c"), C("UNSUBSCRIBE"), C("HELLO", "2", norm="hello"),
    ]


def fam_tracking():
    """CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO on one
    connection: option errors, the modes TRACKINGINFO reports, CACHING's
    one-command scope. (Invalidations between connections and nodes:
    tracking_test.py.)"""
    steps = [C("CLIENT", "TRACKING", *a) for a in (
        ["maybe"], ["on", "prefix", "a"], ["on", "bcast", "optin"], ["on", "optin", "optout"],
        ["on", "redirect", "abc"], ["on", "redirect", "999999"], ["on", "bogus"],
        ["on", "bcast", "prefix", "ab", "prefix", "a"])]
    steps += [
        C("CLIENT", "CACHING", "yes"), C("CLIENT", "GETREDIR"), C("CLIENT", "TRACKINGINFO"),
        C("CLIENT", "TRACKING", "on", "optin"), C("CLIENT", "CACHING", "no"),
        C("CLIENT", "CACHING", "maybe"), C("CLIENT", "CACHING", "yes"),
        C("CLIENT", "TRACKINGINFO"), C("CLIENT", "TRACKINGINFO"), C("CLIENT", "GETREDIR"),
        C("CLIENT", "TRACKING", "on", "bcast"), C("CLIENT", "TRACKING", "off"),
        C("CLIENT", "TRACKING", "on", "optout", "noloop"), C("CLIENT", "CACHING", "no"),
        C("CLIENT", "TRACKINGINFO"), C("CLIENT", "TRACKING", "off"),
        C("CLIENT", "TRACKING", "on", "bcast", "prefix", "a", "prefix", "b"),
        C("CLIENT", "TRACKING", "on", "bcast", "prefix", "ab"),
        C("CLIENT", "TRACKING", "on", "bcast", "prefix", "c"), C("CLIENT", "TRACKINGINFO"),
        C("CLIENT", "TRACKING", "on"), C("CLIENT", "TRACKING", "off"),
        C("CLIENT", "TRACKINGINFO"), ERR_ARITY("client|tracking", "CLIENT", "TRACKING"),
        C("HELLO", "3", norm="hello"), C("CLIENT", "TRACKINGINFO"),
        C("CLIENT", "TRACKING", "on", "bcast", "prefix", "x"), C("CLIENT", "TRACKINGINFO"),
        C("CLIENT", "TRACKING", "off"), C("HELLO", "2", norm="hello"),
    ]
    return steps


def fam_streams():
    """Streams: XADD (ids, NOMKSTREAM, MAXLEN / MINID with = ~ LIMIT), XLEN,
    XRANGE / XREVRANGE, XDEL, XTRIM (exact and whole-node ~ trimming of a
    250-entry stream), XREAD (non-blocking, and BLOCK with a short timeout),
    consumer groups (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM,
    XAUTOCLAIM), XINFO, XSETID, entries-read / lag, WRONGTYPE, arity, RESP3.
    Explicit ids everywhere but one key; replies holding wall-clock values
    (auto ids, idle and delivery times) use norm="stream". (Blocked clients
    woken by another connection's XADD are not covered here.)"""
    S = "stream"
    INV = "ERR Invalid stream ID specified as stream command argument"
    TOP = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
    WT = "WRONGTYPE Operation against a key holding the wrong kind of value"
    NOKEY = ("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE "
             "you may want to use the MKSTREAM option to create an empty stream "
             "automatically.")
    nogroup = lambda key, grp: "NOGROUP No such key '%s' or consumer group '%s'" % (key, grp)
    NOGRP_R = "NOGROUP No such key '%s' or consumer group '%s' in XREADGROUP with GROUP option"
    steps = [C("FLUSHALL")]

    # XADD: ids, id errors, field counts.
    steps += [
        E("$3\r\n1-1", "XADD", "s", "1-1", "a", "1"),
        E(TOP, "XADD", "s", "1-1", "a", "1"), E(TOP, "XADD", "s", "1-0", "a", "1"),
        E("ERR The ID specified in XADD must be greater than 0-0", "XADD", "s", "0-0", "a", "1"),
        C("XADD", "fresh", "0-0", "a", "1"), C("EXISTS", "fresh"),
        E("$3\r\n0-1", "XADD", "fresh", "0-*", "a", "1"),
        E("$3\r\n1-2", "XADD", "s", "1-*", "a", "1"), E("$3\r\n2-0", "XADD", "s", "2-*", "b", "2"),
        C("XADD", "s", "1-*", "a", "1"), E("$3\r\n5-0", "XADD", "s", "5", "c", "3"),
        C("XADD", "s", "6-0", "a", "1", "a", "2", "", ""),
        C("XADD", "s", "7-0", "f\x00", b"bin\r\n\xff"),
        C("XADD", "s", "011-0", "f", "v"), C("XADD", "s", "+12-0", "f", "v"),
    ]
    for bad in ("abc", "1-x", "1-", "-1", "1-1-1", "-", "+", "$", ">", "(20",
                "18446744073709551616-0", "20-18446744073709551616", "0x20-0", ""):
        steps.append(E(INV, "XADD", "s", bad, "f", "v"))
    steps += [
        ERR_ARITY("xadd", "XADD", "s", "20-0", "f"), ERR_ARITY("xadd", "XADD", "s", "20-0"),
        ERR_ARITY("xadd", "XADD", "s", "20-0", "f", "v", "g"), ERR_ARITY("xadd", "XADD", "s"),
        ERR_ARITY("xadd", "XADD", "s", "NOMKSTREAM", "20-0"),
        ERR_ARITY("xadd", "XADD", "s", "MAXLEN", "5", "20-0", "f"),
        C("XRANGE", "s", "-", "+"), E(":8", "XLEN", "s"),
        # Top id: 18446744073709551615-18446744073709551615 is the last one.
        C("XADD", "top", "18446744073709551615-18446744073709551615", "f", "v"),
        E("ERR The stream has exhausted the last possible ID, unable to add more items",
          "XADD", "top", "*", "f", "v"),
        C("XADD", "top", "18446744073709551615-*", "f", "v"),
        C("XADD", "top", "18446744073709551615-18446744073709551615", "f", "v"),
        C("XADD", "top", "MAXLEN", "=", "0", "5-0", "f", "v"), C("XLEN", "top"),
        # NOMKSTREAM.
        E("$-1", "XADD", "nos", "NOMKSTREAM", "1-0", "f", "v"), E(":0", "EXISTS", "nos"),
        C("XADD", "nos", "NOMKSTREAM", "*", "f", "v"),
        C("XADD", "s", "nomkstream", "13-0", "f", "v"),
        # Trimming options of XADD.
        E("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
          "XADD", "s", "LIMIT", "10", "20-0", "f", "v"),
        E("ERR syntax error, LIMIT cannot be used without the special ~ option",
          "XADD", "s", "MAXLEN", "1", "LIMIT", "10", "20-0", "f", "v"),
        C("XADD", "s", "MAXLEN", "=", "1", "LIMIT", "10", "20-0", "f", "v"),
        E("ERR The MAXLEN argument must be >= 0.", "XADD", "s", "MAXLEN", "-1", "20-0", "f", "v"),
        E("ERR The LIMIT argument must be >= 0.",
          "XADD", "s", "MAXLEN", "~", "1", "LIMIT", "-1", "20-0", "f", "v"),
        C("XADD", "s", "MAXLEN", "~", "1", "LIMIT", "abc", "20-0", "f", "v"),
        E("ERR value is not an integer or out of range",
          "XADD", "s", "MAXLEN", "abc", "20-0", "f", "v"),
        C("XADD", "s", "MAXLEN", "18446744073709551615", "20-0", "f", "v"),
        E(INV, "XADD", "s", "MINID", "abc", "20-0", "f", "v"),
        E("ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
          "XADD", "s", "MAXLEN", "1", "MINID", "1", "20-0", "f", "v"),
        C("XADD", "s", "MINID", "1", "MAXLEN", "1", "20-0", "f", "v"),
        C("XADD", "s", "MAXLEN", "1", "~", "20-0", "f", "v"),   # "~" taken as the id
        C("XLEN", "s"),
        C("XADD", "s", "MAXLEN", "~", "1", "14-0", "f", "v"), C("XLEN", "s"),  # one node: kept
        E("$4\r\n15-0", "XADD", "s", "maxlen", "8", "15-0", "f", "v"), E(":8", "XLEN", "s"),
        C("XADD", "s", "MINID", "=", "7", "16-0", "f", "v"), C("XRANGE", "s", "-", "+"),
        C("XADD", "s", "LIMIT", "5", "MAXLEN", "~", "5", "17-0", "f", "v"),
        C("XADD", "s", "LIMIT", "5", "MINID", "~", "13", "18-0", "f", "v"),
        C("XADD", "s", "MINID", "~", "13", "LIMIT", "0", "19-0", "f", "v"),
        C("XADD", "s", "MAXLEN", "9223372036854775807", "20-0", "f", "v"),
        C("XADD", "s", "MINID", "15", "21-0", "f", "v"), C("XRANGE", "s", "-", "+"),
        # MINID above the new entry: the entry is added and trimmed at once.
        C("XADD", "gone", "MINID", "100", "5-0", "f", "v"), C("XLEN", "gone"),
        C("EXISTS", "gone"), C("XINFO", "STREAM", "gone", norm=S),
    ]

    # XRANGE / XREVRANGE / XLEN / XDEL on r: 1-0 1-1 2-0 3-5 5-0.
    steps += [C("XADD", "r", "1-0", "a", "1"), C("XADD", "r", "1-1", "b", "2", "c", "3"),
              C("XADD", "r", "2-0", "a", "1"), C("XADD", "r", "3-5", "a", "x"),
              C("XADD", "r", "5-0", "f", "v")]
    for rng in (["-", "+"], ["-", "+", "COUNT", "2"], ["-", "+", "count", "1", "COUNT", "3"],
                ["1", "1"], ["1", "2"], ["(1-0", "+"], ["(1", "+"], ["-", "(5-0"],
                ["-", "(5"], ["(5-0", "+"], ["5", "1"], ["3-5", "3-5"], ["3", "3"],
                ["0", "18446744073709551615"], ["(3-4", "(3-6"], ["-", "-"], ["+", "+"],
                ["+", "-"], ["1-1", "+", "COUNT", "1"]):
        steps.append(C("XRANGE", "r", *rng))
    steps += [
        E("*-1", "XRANGE", "r", "-", "+", "COUNT", "0"),
        E("*-1", "XRANGE", "r", "-", "+", "COUNT", "-1"),
        E("ERR value is not an integer or out of range", "XRANGE", "r", "-", "+", "COUNT", "x"),
        E("ERR syntax error", "XRANGE", "r", "-", "+", "COUNT"),
        E("ERR syntax error", "XRANGE", "r", "-", "+", "LIMIT", "1"),
        E("ERR invalid start ID for the interval",
          "XRANGE", "r", "(18446744073709551615-18446744073709551615", "+"),
        E("ERR invalid end ID for the interval", "XRANGE", "r", "-", "(0-0"),
        C("XREVRANGE", "r", "(0-0", "-"),
        C("XREVRANGE", "r", "+", "(18446744073709551615-18446744073709551615"),
        E(INV, "XRANGE", "r", "(", "+"), E(INV, "XRANGE", "r", "(-", "+"),
        E(INV, "XRANGE", "r", "-", "(+"), E(INV, "XRANGE", "r", "abc", "+"),
        E(INV, "XRANGE", "r", "-", "1-1-1"), E(INV, "XRANGE", "r", "18446744073709551616", "+"),
        E(INV, "XRANGE", "r", "-1", "+"), E(INV, "XRANGE", "r", "1-*", "+"),
        E("*0", "XRANGE", "nos", "-", "+"), C("XREVRANGE", "nos", "+", "-"),
        C("XRANGE", "nos", "-", "+", "COUNT", "0"),
        ERR_ARITY("xrange", "XRANGE", "r", "-"), ERR_ARITY("xrange", "XRANGE", "r"),
        ERR_ARITY("xrevrange", "XREVRANGE", "r", "+"),
    ]
    for rng in (["+", "-"], ["+", "-", "COUNT", "2"], ["(5-0", "-"], ["+", "(1-1"], ["2", "1"],
                ["1", "2"], ["5", "5"], ["(5", "(1"]):
        steps.append(C("XREVRANGE", "r", *rng))
    steps += [
        E("*-1", "XREVRANGE", "r", "+", "-", "COUNT", "0"),
        C("XREVRANGE", "r", "+", "-", "COUNT", "abc"),
        E(":5", "XLEN", "r"), E(":0", "XLEN", "nos"),
        ERR_ARITY("xlen", "XLEN"), ERR_ARITY("xlen", "XLEN", "r", "x"),
        E(":1", "XDEL", "r", "1-1", "1-1", "9-9"), E(":0", "XDEL", "r", "1-1"),
        E(INV, "XDEL", "r", "2-0", "abc"), C("XRANGE", "r", "2", "2"),
        E(":1", "XDEL", "r", "2"), C("XDEL", "r", "-"), C("XDEL", "nos", "1-0"),
        ERR_ARITY("xdel", "XDEL", "r"), C("XRANGE", "r", "-", "+"), C("XLEN", "r"),
        C("XINFO", "STREAM", "r", norm=S),
        C("XDEL", "r", "1-0", "3-5", "5-0"), C("XLEN", "r"), C("EXISTS", "r"),
        C("XRANGE", "r", "-", "+"), C("XINFO", "STREAM", "r", norm=S),
        E(TOP, "XADD", "r", "5-0", "f", "v"), C("XADD", "r", "5-*", "f", "v"),
    ]

    # XTRIM on t: 1-0 .. 5-0.
    steps += [C("XADD", "t", "%d-0" % i, "a", str(i)) for i in range(1, 6)]
    steps += [
        E(":0", "XTRIM", "t", "MAXLEN", "10"), E(":0", "XTRIM", "t", "MAXLEN", "~", "2"),
        E(":1", "XTRIM", "t", "MAXLEN", "=", "4"),
        E("ERR syntax error, LIMIT cannot be used without the special ~ option",
          "XTRIM", "t", "MAXLEN", "3", "LIMIT", "1"),
        C("XTRIM", "t", "MAXLEN", "~", "3", "LIMIT", "1"),
        C("XTRIM", "t", "MAXLEN", "~", "3", "LIMIT", "0"),
        E(":1", "XTRIM", "t", "MINID", "3"), E(":1", "XTRIM", "t", "MINID", "=", "3-1"),
        C("XRANGE", "t", "-", "+"), C("XTRIM", "t", "MINID", "~", "5"),
        C("XTRIM", "t", "minid", "~", "5", "limit", "1"),
        ERR_ARITY("xtrim", "XTRIM", "t"), ERR_ARITY("xtrim", "XTRIM", "t", "MAXLEN"),
        E("ERR syntax error", "XTRIM", "t", "FOO", "1"),
        E("ERR syntax error", "XTRIM", "t", "MAXLEN", "1", "FOO"),
        E("ERR syntax error", "XTRIM", "t", "MAXLEN", "1", "1"),
        E("ERR The MAXLEN argument must be >= 0.", "XTRIM", "t", "MAXLEN", "-1"),
        C("XTRIM", "t", "MAXLEN", "1", "MINID", "1"), C("XTRIM", "t", "MINID", "1", "MAXLEN", "1"),
        E("ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
          "XTRIM", "t", "MAXLEN", "1", "MAXLEN", "1"),
        E(INV, "XTRIM", "t", "MINID", "abc"), C("XTRIM", "t", "MINID", "-"),
        C("XTRIM", "t", "MINID", "+"),
        E("ERR value is not an integer or out of range", "XTRIM", "t", "MAXLEN", "="),
        C("XTRIM", "t", "MAXLEN", "~"),
        E("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
          "XTRIM", "t", "LIMIT", "1"),
        C("XTRIM", "t", "MAXLEN", "~", "1", "LIMIT", "-1"),
        E(":0", "XTRIM", "nos", "MAXLEN", "1"), E(":0", "EXISTS", "nos"),
        E(":2", "XTRIM", "t", "MAXLEN", "0"), E(":0", "XLEN", "t"), E(":1", "EXISTS", "t"),
        C("XINFO", "STREAM", "t", norm=S),
        E(TOP, "XADD", "t", "5-0", "f", "v"),
    ]

    # ~ trimming removes whole nodes only: 250 small entries make three nodes
    # (100, 100, 50 entries at the default stream-node-max-entries 100).
    steps += [C("XADD", "big", "%d-0" % i, "f", "v") for i in range(1, 251)]
    steps += [
        C("XINFO", "STREAM", "big", norm=S),
        E(":0", "XTRIM", "big", "MAXLEN", "~", "10", "LIMIT", "50"),   # LIMIT < one node
        E(":100", "XTRIM", "big", "MAXLEN", "~", "10", "LIMIT", "100"),
        C("XTRIM", "big", "MAXLEN", "~", "10", "LIMIT", "101"),
        E(":50", "XLEN", "big"), E(":0", "XTRIM", "big", "MAXLEN", "~", "10"),
        C("XRANGE", "big", "-", "+", "COUNT", "1"), C("XINFO", "STREAM", "big", norm=S),
    ]
    steps += [C("XADD", "big2", "%d-0" % i, "f", "v") for i in range(1, 251)]
    steps += [
        C("XDEL", "big2", "5-0"),
        E(":99", "XTRIM", "big2", "MINID", "~", "150"), C("XRANGE", "big2", "-", "+", "COUNT", "1"),
        C("XADD", "big2", "MAXLEN", "~", "100", "300-0", "f", "v"), C("XLEN", "big2"),
        # The new entry goes into the last node, which ~ 0 removes with the rest.
        C("XADD", "big2", "MAXLEN", "~", "0", "301-0", "f", "v"), E(":0", "XLEN", "big2"),
        C("XINFO", "STREAM", "big2", norm=S),
        C("XINFO", "STREAM", "big", "FULL", norm=S),
        C("XINFO", "STREAM", "big", "FULL", "COUNT", "3", norm=S),
    ]

    # XREAD (non-blocking and BLOCK with a short timeout).
    steps += [
        C("XADD", "x", "1-0", "a", "1"), C("XADD", "x", "2-0", "b", "2"),
        C("XADD", "y", "5-0", "x", "y"),
        C("XREAD", "STREAMS", "x", "0"), C("XREAD", "COUNT", "1", "STREAMS", "x", "y", "0", "0"),
        C("XREAD", "STREAMS", "x", "y", "1-0", "5"),
        E("*-1", "XREAD", "STREAMS", "x", "y", "$", "$"),
        C("XREAD", "STREAMS", "x", "nos", "0", "0"), E("*-1", "XREAD", "STREAMS", "nos", "0"),
        C("XREAD", "STREAMS", "x", "x", "0", "1-0"), C("XREAD", "STREAMS", "x", "0-0"),
        C("XREAD", "STREAMS", "x", "18446744073709551615-18446744073709551615"),
        C("XREAD", "COUNT", "0", "STREAMS", "x", "0"),
        C("XREAD", "COUNT", "-5", "STREAMS", "x", "0"),
        C("XREAD", "COUNT", "1", "COUNT", "2", "STREAMS", "x", "0"),
        C("xread", "count", "1", "streams", "x", "1"),
        C("XREAD", "STREAMS", "streams", "0"), C("XREAD", "STREAMS", "0", "0"),
        ERR_ARITY("xread", "XREAD", "STREAMS", "x"), ERR_ARITY("xread", "XREAD"),
        ERR_ARITY("xread", "XREAD", "COUNT", "1"),
        E("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be "
          "specified.", "XREAD", "STREAMS", "x", "y", "0"),
        C("XREAD", "STREAMS", "x", "0", "extra"),
        E("ERR The > ID can be specified only when calling XREADGROUP using the GROUP "
          "<group> <consumer> option.", "XREAD", "STREAMS", "x", ">"),
        E(INV, "XREAD", "STREAMS", "x", "abc"), C("XREAD", "STREAMS", "x", "+"),
        C("XREAD", "STREAMS", "x", "-"), C("XREAD", "STREAMS", "x", "(0"),
        E("ERR value is not an integer or out of range",
          "XREAD", "COUNT", "x", "STREAMS", "x", "0"),
        E("ERR timeout is not an integer or out of range",
          "XREAD", "BLOCK", "x", "STREAMS", "x", "0"),
        E("ERR timeout is negative", "XREAD", "BLOCK", "-1", "STREAMS", "x", "0"),
        E("ERR syntax error", "XREAD", "FOO", "STREAMS", "x", "0"),
        E("ERR syntax error", "XREAD", "COUNT", "1", "x", "0"),
        E("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
          "XREAD", "NOACK", "STREAMS", "x", "0"),
        E("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
          "XREAD", "GROUP", "g", "c", "STREAMS", "x", "0"),
        # BLOCK where data exists answers at once (BLOCK 0 included).
        C("XREAD", "BLOCK", "0", "STREAMS", "x", "0"),
        C("XREAD", "BLOCK", "100", "COUNT", "1", "STREAMS", "x", "1-0"),
        C("XREAD", "BLOCK", "50", "STREAMS", "nos", "x", "0", "0"),
        # BLOCK with nothing to read: null after the timeout.
        E("*-1", "XREAD", "BLOCK", "60", "STREAMS", "nos", "0"),
        E("*-1", "XREAD", "BLOCK", "60", "STREAMS", "x", "$"),
        C("XREAD", "BLOCK", "60", "STREAMS", "x", "y", "$", "5-0"),
        # Blocking commands inside MULTI answer at once.
        C("MULTI"), C("XREAD", "BLOCK", "0", "STREAMS", "x", "$"),
        C("XADD", "x", "3-0", "c", "3"), C("XREAD", "BLOCK", "0", "STREAMS", "x", "2-0"),
        C("EXEC"),
    ]

    # Consumer groups: XGROUP.
    steps += [
        C("XADD", "g", "1-0", "a", "1"), C("XADD", "g", "2-0", "b", "2"),
        C("XADD", "g", "3-0", "c", "3"), C("XDEL", "g", "2-0"),
        E("+OK", "XGROUP", "CREATE", "g", "g1", "0"),
        E("BUSYGROUP Consumer Group name already exists", "XGROUP", "CREATE", "g", "g1", "0"),
        C("XGROUP", "CREATE", "g", "g2", "$"),
        C("XGROUP", "CREATE", "g", "g3", "1-0", "ENTRIESREAD", "1"),
        C("XGROUP", "CREATE", "g", "g4", "0", "ENTRIESREAD", "-1"),
        E("ERR value for ENTRIESREAD must be positive or -1",
          "XGROUP", "CREATE", "g", "g5", "0", "ENTRIESREAD", "-2"),
        E("ERR value is not an integer or out of range",
          "XGROUP", "CREATE", "g", "g5", "0", "ENTRIESREAD", "abc"),
        C("XGROUP", "CREATE", "g", "g5", "0", "ENTRIESREAD", "100"),
        C("XGROUP", "CREATE", "g", "G0", "0", "MKSTREAM"),
        E("ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.",
          "XGROUP", "CREATE", "g", "g6", "0", "FOO"),
        C("XGROUP", "CREATE", "g", "g6", "0", "MKSTREAM", "FOO"),
        C("XGROUP", "CREATE", "g", "g6", "0", "ENTRIESREAD"),
        E(INV, "XGROUP", "CREATE", "g", "g6", "abc"), C("XGROUP", "CREATE", "g", "g6", "-"),
        C("XGROUP", "CREATE", "g", "g6", "+"), C("XGROUP", "CREATE", "g", "g6", ">"),
        E(NOKEY, "XGROUP", "CREATE", "nos", "g", "0"),
        C("XGROUP", "CREATE", "mk", "g", "$", "MKSTREAM"),
        C("XGROUP", "CREATE", "mk2", "g", "5-0", "MKSTREAM"), E("+stream", "TYPE", "mk2"),
        C("XINFO", "STREAM", "mk2", norm=S), C("XINFO", "GROUPS", "mk2"),
        E("+OK", "XGROUP", "create", "mk3", "g", "$", "mkstream", "entriesread", "3"),
        C("XINFO", "GROUPS", "mk3"),
        # Groups are listed in name order; lag and entries-read (see below).
        C("XINFO", "GROUPS", "g"),
        E("ERR no such key", "XINFO", "GROUPS", "nos"),
        E("ERR no such key", "XINFO", "STREAM", "nos"),
        E("*0", "XINFO", "CONSUMERS", "g", "g1"),
        E("NOGROUP No such consumer group 'nog' for key name 'g'",
          "XINFO", "CONSUMERS", "g", "nog"),
        C("XINFO", "CONSUMERS", "nos", "g"),
        E(":1", "XGROUP", "CREATECONSUMER", "g", "g1", "zed"),
        E(":0", "XGROUP", "CREATECONSUMER", "g", "g1", "zed"),
        C("XGROUP", "CREATECONSUMER", "g", "g1", "Abe"),
        C("XINFO", "CONSUMERS", "g", "g1", norm=S),
        E("NOGROUP No such consumer group 'nog' for key name 'g'",
          "XGROUP", "CREATECONSUMER", "g", "nog", "alice"),
        E(NOKEY, "XGROUP", "CREATECONSUMER", "nos", "g", "alice"),
        E(":0", "XGROUP", "DELCONSUMER", "g", "g1", "zed"),
        E(":0", "XGROUP", "DELCONSUMER", "g", "g1", "zed"),
        C("XGROUP", "DELCONSUMER", "g", "nog", "zed"),
        C("XGROUP", "DELCONSUMER", "nos", "g1", "zed"),
        E(":1", "XGROUP", "DESTROY", "g", "g5"), E(":0", "XGROUP", "DESTROY", "g", "g5"),
        C("XGROUP", "DESTROY", "nos", "g5"),
        E("+OK", "XGROUP", "SETID", "g", "g1", "2-0"),
        C("XGROUP", "SETID", "g", "g2", "$", "ENTRIESREAD", "7"),
        C("XGROUP", "SETID", "g", "nog", "0"), E(INV, "XGROUP", "SETID", "g", "g1", "abc"),
        C("XGROUP", "SETID", "g", "g1", "0", "ENTRIESREAD", "-5"),
        E("ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP.",
          "XGROUP", "SETID", "g", "g1", "0", "FOO", "1"),
        C("XGROUP", "SETID", "nos", "g", "0"), C("XINFO", "GROUPS", "g"),
        C("XGROUP", "HELP"), C("XGROUP", "help"),
        ERR_ARITY("xgroup|help", "XGROUP", "HELP", "extra"),
        E("ERR unknown subcommand 'FOO'. Try XGROUP HELP.", "XGROUP", "FOO"),
        ERR_ARITY("xgroup", "XGROUP"), ERR_ARITY("xgroup|create", "XGROUP", "CREATE", "g"),
        ERR_ARITY("xgroup|create", "XGROUP", "CREATE", "g", "g1"),
        ERR_ARITY("xgroup|createconsumer", "XGROUP", "CREATECONSUMER", "g", "g1"),
        ERR_ARITY("xgroup|delconsumer", "XGROUP", "DELCONSUMER", "g", "g1"),
        ERR_ARITY("xgroup|destroy", "XGROUP", "DESTROY", "g"),
        ERR_ARITY("xgroup|setid", "XGROUP", "SETID", "g", "g1"),
        C("XGROUP", "DESTROY", "g", "g1", "extra"),
    ]

    # XREADGROUP, XACK, XPENDING on q: 1-0 .. 4-0, group cg at 0.
    steps += [C("XADD", "q", "%d-0" % i, "f", str(i)) for i in range(1, 5)]
    steps += [
        C("XGROUP", "CREATE", "q", "cg", "0"), C("XINFO", "GROUPS", "q"),
        C("XREADGROUP", "GROUP", "cg", "alice", "COUNT", "1", "STREAMS", "q", ">"),
        C("XINFO", "GROUPS", "q"), C("XINFO", "CONSUMERS", "q", "cg", norm=S),
        # Reading its history again redelivers (delivery count 2).
        C("XREADGROUP", "GROUP", "cg", "alice", "STREAMS", "q", "0"),
        C("XREADGROUP", "GROUP", "cg", "bob", "COUNT", "2", "STREAMS", "q", ">"),
        C("XREADGROUP", "GROUP", "cg", "bob", "NOACK", "STREAMS", "q", ">"),
        E("*-1", "XREADGROUP", "GROUP", "cg", "bob", "STREAMS", "q", ">"),
        # ">" with nothing new does not create the consumer; an id does.
        C("XREADGROUP", "GROUP", "cg", "nobody", "STREAMS", "q", ">"),
        C("XREADGROUP", "GROUP", "cg", "carl", "STREAMS", "q", "0"),
        C("XINFO", "GROUPS", "q"), C("XINFO", "CONSUMERS", "q", "cg", norm=S),
        E("*4\r\n:3\r\n$3\r\n1-0\r\n$3\r\n3-0\r\n*2\r\n*2\r\n$5\r\nalice\r\n$1\r\n1\r\n"
          "*2\r\n$3\r\nbob\r\n$1\r\n2", "XPENDING", "q", "cg"),
        C("XPENDING", "q", "cg", "-", "+", "10", norm=S),
        C("XPENDING", "q", "cg", "-", "+", "10", "bob", norm=S),
        C("XPENDING", "q", "cg", "IDLE", "0", "-", "+", "10", norm=S),
        C("XPENDING", "q", "cg", "IDLE", "3600000", "-", "+", "10"),
        C("XPENDING", "q", "cg", "(1-0", "+", "10", norm=S),
        C("XPENDING", "q", "cg", "-", "(3-0", "1", norm=S),
        E("*0", "XPENDING", "q", "cg", "-", "+", "0"), C("XPENDING", "q", "cg", "-", "+", "-1"),
        C("XPENDING", "q", "cg", "-", "+", "10", "nobody"),
        C("XPENDING", "q", "cg", "-", "+", "10", "bob", "extra", norm=S),
        E("ERR value is not an integer or out of range", "XPENDING", "q", "cg", "-", "+", "x"),
        C("XPENDING", "q", "cg", "IDLE", "abc", "-", "+", "10"),
        E("ERR syntax error", "XPENDING", "q", "cg", "IDLE", "10", "-", "+"),
        C("XPENDING", "q", "cg", "-"), C("XPENDING", "q", "cg", "-", "+"),
        E(INV, "XPENDING", "q", "cg", "abc", "+", "10"),
        E(nogroup("q", "nog"), "XPENDING", "q", "nog"),
        E(nogroup("nos", "cg"), "XPENDING", "nos", "cg"),
        ERR_ARITY("xpending", "XPENDING", "q"),
        E(":1", "XACK", "q", "cg", "1-0", "1-0", "9-0"), E(":0", "XACK", "q", "cg", "1-0"),
        E(":0", "XACK", "q", "nog", "1-0"), E(":0", "XACK", "nos", "cg", "1-0"),
        E(INV, "XACK", "q", "cg", "abc"), C("XACK", "q", "cg", "2-0", "abc"),
        ERR_ARITY("xack", "XACK", "q", "cg"),
        C("XPENDING", "q", "cg"),
        E("*1\r\n*2\r\n$1\r\nq\r\n*0", "XREADGROUP", "GROUP", "cg", "alice", "STREAMS", "q", "0"),
        C("XREADGROUP", "GROUP", "cg", "bob", "STREAMS", "q", "0"),
        C("XREADGROUP", "GROUP", "cg", "bob", "COUNT", "1", "STREAMS", "q", "0"),
        C("XREADGROUP", "GROUP", "cg", "bob", "STREAMS", "q", "2-0"),
        # A pending entry that was deleted comes back as [id, nil].
        C("XDEL", "q", "3-0"),
        C("XREADGROUP", "GROUP", "cg", "bob", "STREAMS", "q", "0"),
        C("XPENDING", "q", "cg"),
        E(NOGRP_R % ("q", "nog"), "XREADGROUP", "GROUP", "nog", "bob", "STREAMS", "q", ">"),
        E(NOGRP_R % ("nos", "cg"), "XREADGROUP", "GROUP", "cg", "bob", "STREAMS", "nos", ">"),
        C("XREADGROUP", "GROUP", "cg", "bob", "STREAMS", "q", "nos", ">", ">"),
        ERR_ARITY("xreadgroup", "XREADGROUP", "GROUP", "cg", "bob", "STREAMS", "q"),
        ERR_ARITY("xreadgroup", "XREADGROUP", "GROUP", "cg", "STREAMS", "q", ">"),
        ERR_ARITY("xreadgroup", "XREADGROUP", "STREAMS", "q", ">"),
        E("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the "
          "history of this consumer by specifying a proper ID, or use the > ID to get new "
          "messages. The $ ID would just return an empty result set.",
          "XREADGROUP", "GROUP", "cg", "bob", "STREAMS", "q", "$"),
        E(INV, "XREADGROUP", "GROUP", "cg", "bob", "STREAMS", "q", "abc"),
        C("XREADGROUP", "GROUP", "cg", "bob", "COUNT", "-1", "STREAMS", "q", ">"),
        C("XREADGROUP", "GROUP", "cg", "bob", "COUNT", "x", "STREAMS", "q", ">"),
        C("XREADGROUP", "GROUP", "cg", "bob", "FOO", "STREAMS", "q", ">"),
        E("ERR Missing GROUP option for XREADGROUP",
          "XREADGROUP", "COUNT", "1", "BLOCK", "1", "NOACK", "STREAMS", "q", ">"),
        C("XREADGROUP", "GROUP", "cg", "bob", "STREAMS", "q", "q", ">", "0"),
        # BLOCK: history and new data answer at once; nothing new: null after the timeout.
        C("XADD", "q", "5-0", "f", "5"),
        C("XREADGROUP", "GROUP", "cg", "dan", "BLOCK", "0", "STREAMS", "q", ">"),
        C("XREADGROUP", "GROUP", "cg", "bob", "BLOCK", "50", "COUNT", "1", "STREAMS", "q", "0"),
        E("*-1", "XREADGROUP", "GROUP", "cg", "bob", "BLOCK", "60", "STREAMS", "q", ">"),
        C("XREADGROUP", "GROUP", "cg", "erin", "BLOCK", "60", "NOACK", "STREAMS", "q", ">"),
        C("XINFO", "CONSUMERS", "q", "cg", norm=S), C("XINFO", "GROUPS", "q"),
        C("MULTI"), C("XREADGROUP", "GROUP", "cg", "bob", "BLOCK", "0", "STREAMS", "q", ">"),
        C("EXEC"),
        E(":2", "XGROUP", "DELCONSUMER", "q", "cg", "bob"), C("XPENDING", "q", "cg"),
    ]

    # XCLAIM on c: 1-0 .. 5-0; alice holds 1-0 .. 3-0.
    steps += [C("XADD", "c", "%d-0" % i, "f", str(i)) for i in range(1, 6)]
    steps += [
        C("XGROUP", "CREATE", "c", "cg", "0"),
        C("XREADGROUP", "GROUP", "cg", "alice", "COUNT", "3", "STREAMS", "c", ">"),
        C("XCLAIM", "c", "cg", "bob", "0", "1-0"),
        C("XPENDING", "c", "cg", "-", "+", "10", norm=S),
        E("*1\r\n$3\r\n1-0", "XCLAIM", "c", "cg", "bob", "0", "1-0", "JUSTID"),  # count kept
        C("XPENDING", "c", "cg", "-", "+", "10", norm=S),
        E("*0", "XCLAIM", "c", "cg", "bob", "3600000", "2-0"),
        E("ERR Unrecognized XCLAIM option 'abc'",
          "XCLAIM", "c", "cg", "bob", "0", "9-0", "1-0", "abc"),
        C("XCLAIM", "c", "cg", "bob", "0", "9-0", "1-0"),
        E("*0", "XCLAIM", "c", "cg", "bob", "0", "4-0"),       # not pending: needs FORCE
        C("XCLAIM", "c", "cg", "bob", "0", "4-0", "FORCE"),
        C("XCLAIM", "c", "cg", "bob", "0", "4-0", "FORCE", "JUSTID"),
        C("XCLAIM", "c", "cg", "bob", "0", "9-0", "FORCE"),   # FORCE needs the entry
        C("XPENDING", "c", "cg", "-", "+", "10", norm=S),
        C("XCLAIM", "c", "cg", "carol", "0", "2-0", "RETRYCOUNT", "7", "JUSTID"),
        C("XPENDING", "c", "cg", "-", "+", "10", "carol", norm=S),
        C("XCLAIM", "c", "cg", "carol", "0", "2-0", "RETRYCOUNT", "7"),
        C("XPENDING", "c", "cg", "-", "+", "10", "carol", norm=S),
        C("XCLAIM", "c", "cg", "carol", "0", "2-0", "IDLE", "100000", "JUSTID"),
        C("XPENDING", "c", "cg", "-", "+", "10", norm=S),
        C("XPENDING", "c", "cg", "IDLE", "50000", "-", "+", "10", norm=S),
        C("XCLAIM", "c", "cg", "dave", "60000", "2-0", "JUSTID"),
        C("XPENDING", "c", "cg", "-", "+", "10", "dave", norm=S),
        C("XCLAIM", "c", "cg", "carol", "0", "3-0", "TIME", "1000", "JUSTID"),
        C("XPENDING", "c", "cg", "IDLE", "50000", "-", "+", "10", norm=S),
        C("XCLAIM", "c", "cg", "carol", "0", "3-0", "LASTID", "5-0", "JUSTID"),
        C("XINFO", "GROUPS", "c"),
        C("XCLAIM", "c", "cg", "carol", "0", "3-0", "LASTID", "2-0", "JUSTID"),
        C("XCLAIM", "c", "cg", "carol", "0", "3-0", "LASTID", "9-0", "JUSTID"),
        C("XINFO", "GROUPS", "c"),
        E(INV, "XCLAIM", "c", "cg", "carol", "0", "3-0", "LASTID", "abc"),
        E("ERR Invalid IDLE option argument for XCLAIM", "XCLAIM", "c", "cg", "carol", "0", "3-0",
          "IDLE", "abc"),
        E("ERR Invalid TIME option argument for XCLAIM", "XCLAIM", "c", "cg", "carol", "0", "3-0",
          "TIME", "abc"),
        E("ERR Invalid RETRYCOUNT option argument for XCLAIM", "XCLAIM", "c", "cg", "carol", "0",
          "3-0", "RETRYCOUNT", "abc"),
        C("XCLAIM", "c", "cg", "carol", "0", "3-0", "IDLE", "-1", "JUSTID"),
        C("XCLAIM", "c", "cg", "carol", "0", "3-0", "FOO"),
        E("ERR Unrecognized XCLAIM option 'IDLE'",
          "XCLAIM", "c", "cg", "carol", "0", "3-0", "IDLE"),
        E("ERR Invalid min-idle-time argument for XCLAIM",
          "XCLAIM", "c", "cg", "carol", "abc", "3-0"),
        C("XCLAIM", "c", "cg", "carol", "-1", "3-0", "JUSTID"),
        E(nogroup("c", "nog"), "XCLAIM", "c", "nog", "carol", "0", "3-0"),
        E(nogroup("nos", "cg"), "XCLAIM", "nos", "cg", "carol", "0", "3-0"),
        ERR_ARITY("xclaim", "XCLAIM", "c", "cg", "carol", "0"),
        # Claiming a pending entry that was deleted drops it from the PEL.
        C("XDEL", "c", "1-0"),
        C("XCLAIM", "c", "cg", "carol", "0", "1-0", "2-0"), C("XPENDING", "c", "cg"),
        E(":2", "XGROUP", "DELCONSUMER", "c", "cg", "carol"), C("XPENDING", "c", "cg"),
        C("XINFO", "CONSUMERS", "c", "cg", norm=S),
    ]

    # XAUTOCLAIM on a: 1-0 .. 5-0, all pending for alice.
    steps += [C("XADD", "a", "%d-0" % i, "f", str(i)) for i in range(1, 6)]
    steps += [
        C("XGROUP", "CREATE", "a", "cg", "0"),
        C("XREADGROUP", "GROUP", "cg", "alice", "STREAMS", "a", ">"),
        E("*3\r\n$3\r\n3-0\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\n1\r\n"
          "*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n*0",
          "XAUTOCLAIM", "a", "cg", "bob", "0", "0", "COUNT", "2"),
        C("XAUTOCLAIM", "a", "cg", "bob", "0", "3-0", "COUNT", "2", "JUSTID"),
        C("XPENDING", "a", "cg", "-", "+", "10", norm=S),
        C("XDEL", "a", "2-0", "4-0"),
        # Redis 7: the third element lists the deleted ids dropped from the PEL.
        E("*3\r\n$3\r\n0-0\r\n*3\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\n1\r\n"
          "*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nf\r\n$1\r\n3\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\nf\r\n"
          "$1\r\n5\r\n*2\r\n$3\r\n2-0\r\n$3\r\n4-0", "XAUTOCLAIM", "a", "cg", "carol", "0", "0"),
        C("XPENDING", "a", "cg", "-", "+", "10", norm=S),
        E("*3\r\n$3\r\n0-0\r\n*0\r\n*0", "XAUTOCLAIM", "a", "cg", "carol", "3600000", "0"),
        E("ERR COUNT must be > 0", "XAUTOCLAIM", "a", "cg", "carol", "0", "0", "COUNT", "0"),
        C("XAUTOCLAIM", "a", "cg", "carol", "0", "0", "COUNT", "-1"),
        C("XAUTOCLAIM", "a", "cg", "carol", "0", "0", "COUNT", "abc"),
        C("XAUTOCLAIM", "a", "cg", "carol", "0", "0", "COUNT", "1000000"),
        # COUNT is at most LONG_MAX / 16. (Just below, Redis tries to allocate
        # 16 * COUNT bytes: an out-of-memory error that depends on the host.)
        E("ERR COUNT must be > 0", "XAUTOCLAIM", "a", "cg", "carol", "0", "0", "COUNT",
          "576460752303423488"),
        E("ERR syntax error", "XAUTOCLAIM", "a", "cg", "carol", "0", "0", "FOO"),
        C("XAUTOCLAIM", "a", "cg", "carol", "0", "0", "COUNT"),
        E("ERR Invalid min-idle-time argument for XAUTOCLAIM",
          "XAUTOCLAIM", "a", "cg", "carol", "abc", "0"),
        C("XAUTOCLAIM", "a", "cg", "carol", "-1", "0", "JUSTID"),
        E(INV, "XAUTOCLAIM", "a", "cg", "carol", "0", "abc"),
        C("XAUTOCLAIM", "a", "cg", "carol", "0", "(1-0", "JUSTID"),
        C("XAUTOCLAIM", "a", "cg", "carol", "0", "-", "JUSTID"),
        C("XAUTOCLAIM", "a", "cg", "carol", "0", "+"),
        E(nogroup("a", "nog"), "XAUTOCLAIM", "a", "nog", "carol", "0", "0"),
        E(nogroup("nos", "cg"), "XAUTOCLAIM", "nos", "cg", "carol", "0", "0"),
        ERR_ARITY("xautoclaim", "XAUTOCLAIM", "a", "cg", "carol", "0"),
        C("XAUTOCLAIM", "a", "cg", "carol", "0", "0", "JUSTID", "COUNT", "1"),
        C("XAUTOCLAIM", "a", "cg", "carol", "0", "0", "JUSTID", "JUSTID"),
        C("XAUTOCLAIM", "a", "cg", "dave", "0", "5-0"),
        C("XAUTOCLAIM", "a", "cg", "dave", "0", "9-0"),
        C("XPENDING", "a", "cg"), C("XINFO", "CONSUMERS", "a", "cg", norm=S),
        C("XINFO", "STREAM", "a", "FULL", norm=S),
    ]

    # entries-read and lag (XINFO GROUPS) on l: 1-0 .. 5-0.
    steps += [C("XADD", "l", "%d-0" % i, "f", str(i)) for i in range(1, 6)]
    steps += [
        C("XGROUP", "CREATE", "l", "g1", "0"), C("XGROUP", "CREATE", "l", "g2", "2-0"),
        C("XGROUP", "CREATE", "l", "g3", "2-0", "ENTRIESREAD", "2"),
        C("XGROUP", "CREATE", "l", "g4", "$"), C("XINFO", "GROUPS", "l"),
        C("XREADGROUP", "GROUP", "g2", "c", "COUNT", "1", "STREAMS", "l", ">"),
        C("XREADGROUP", "GROUP", "g3", "c", "COUNT", "1", "STREAMS", "l", ">"),
        C("XINFO", "GROUPS", "l"),
        C("XDEL", "l", "4-0"), C("XINFO", "GROUPS", "l"),   # a tombstone ahead: lag unknown
        C("XREADGROUP", "GROUP", "g1", "c", "COUNT", "1", "STREAMS", "l", ">"),
        C("XINFO", "GROUPS", "l"),
        C("XREADGROUP", "GROUP", "g1", "c", "STREAMS", "l", ">"), C("XINFO", "GROUPS", "l"),
        C("XADD", "l", "6-0", "f", "6"), C("XINFO", "GROUPS", "l"),
        C("XDEL", "l", "1-0"), C("XGROUP", "CREATE", "l", "g5", "0"), C("XINFO", "GROUPS", "l"),
        C("XTRIM", "l", "MINID", "5"),     # tombstones now all before the first entry
        C("XGROUP", "CREATE", "l", "g6", "0"), C("XGROUP", "CREATE", "l", "g7", "3-0"),
        C("XINFO", "GROUPS", "l"), C("XINFO", "STREAM", "l", norm=S),
        C("XGROUP", "SETID", "l", "g6", "5-0"),
        C("XGROUP", "SETID", "l", "g7", "0", "ENTRIESREAD", "0"),
        C("XGROUP", "SETID", "l", "g4", "$", "ENTRIESREAD", "9"),   # beyond entries-added
        C("XINFO", "GROUPS", "l"),
        C("XREADGROUP", "GROUP", "g7", "c", "STREAMS", "l", ">"), C("XINFO", "GROUPS", "l"),
        C("XGROUP", "CREATE", "l", "B", "$"), C("XGROUP", "CREATE", "l", "a", "$"),
        C("XINFO", "GROUPS", "l"),
    ]

    # XINFO STREAM / FULL, XINFO HELP and errors.
    steps += [
        C("XINFO", "STREAM", "q", norm=S), C("XINFO", "STREAM", "q", "FULL", norm=S),
        C("XINFO", "STREAM", "c", "FULL", "COUNT", "1", norm=S),
        C("XINFO", "STREAM", "c", "FULL", "COUNT", "0", norm=S),
        C("XINFO", "STREAM", "c", "full", "count", "-1", norm=S),
        C("XINFO", "STREAM", "mk", "FULL", norm=S),
        C("XINFO", "HELP"), C("XINFO", "help"),
        ERR_ARITY("xinfo", "XINFO"),
        E("ERR unknown subcommand 'FOO'. Try XINFO HELP.", "XINFO", "FOO"),
        ERR_ARITY("xinfo|stream", "XINFO", "STREAM"), ERR_ARITY("xinfo|groups", "XINFO", "GROUPS"),
        ERR_ARITY("xinfo|consumers", "XINFO", "CONSUMERS", "q"),
        C("XINFO", "GROUPS", "q", "x"), C("XINFO", "CONSUMERS", "q", "cg", "x"),
        E("ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.",
          "XINFO", "STREAM", "q", "FOO"),
        C("XINFO", "STREAM", "q", "FULL", "COUNT"), C("XINFO", "STREAM", "q", "COUNT", "1"),
        C("XINFO", "STREAM", "q", "FULL", "FOO", "1"),
        E("ERR value is not an integer or out of range",
          "XINFO", "STREAM", "q", "FULL", "COUNT", "x"),
        ERR_ARITY("xinfo|help", "XINFO", "HELP", "x"),
    ]

    # XSETID on e.
    steps += [
        C("XADD", "e", "1-0", "a", "1"), C("XADD", "e", "2-0", "b", "2"),
        E("+OK", "XSETID", "e", "5-0"), C("XINFO", "STREAM", "e", norm=S),
        E("ERR The ID specified in XSETID is smaller than the target stream top item",
          "XSETID", "e", "1-0"),
        C("XSETID", "e", "0"), C("XSETID", "e", "5-0"),
        C("XSETID", "e", "4-0"),     # back down, still above the last entry
        C("XSETID", "e", "10-0", "ENTRIESADDED", "10", "MAXDELETEDID", "3-0"),
        C("XINFO", "STREAM", "e", norm=S),
        E("ERR The entries_added specified in XSETID is smaller than the target stream length",
          "XSETID", "e", "11-0", "ENTRIESADDED", "1"),
        E("ERR entries_added must be positive", "XSETID", "e", "11-0", "ENTRIESADDED", "-1"),
        C("XSETID", "e", "11-0", "ENTRIESADDED", "abc"),
        E("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
          "XSETID", "e", "11-0", "ENTRIESADDED", "12", "MAXDELETEDID", "20-0"),
        C("XSETID", "e", "11-0", "ENTRIESADDED", "12", "MAXDELETEDID", "abc"),
        C("XSETID", "e", "11-0", "MAXDELETEDID", "5-0"),
        C("XSETID", "e", "11-0", "ENTRIESADDED", "12", "FOO"),
        C("XSETID", "e", "11-0", "ENTRIESADDED"), C("XSETID", "e", "11-0", "extra"),
        E(INV, "XSETID", "e", "abc"), C("XSETID", "e", "$"),
        E("ERR no such key", "XSETID", "nos", "1-0"), ERR_ARITY("xsetid", "XSETID", "e"),
        C("XINFO", "STREAM", "e", norm=S),
        E(TOP, "XADD", "e", "11-0", "f", "v"), C("XADD", "e", "11-*", "f", "v"),
        # An empty stream's id may go anywhere, even down.
        C("XADD", "ee", "1-0", "a", "1"), C("XDEL", "ee", "1-0"),
        C("XSETID", "ee", "0-0"), C("XSETID", "ee", "0-1"), C("XINFO", "STREAM", "ee", norm=S),
        C("XSETID", "ee", "0-0", "ENTRIESADDED", "0"), C("XSETID", "ee", "2-0"),
        C("XINFO", "STREAM", "ee", norm=S),
        C("XSETID", "ee", "3-0", "MAXDELETEDID", "4-0"),
        C("XADD", "ee", "3-0", "a", "1"), C("XSETID", "ee", "3-5"),
        E(TOP, "XADD", "ee", "3-5", "a", "1"), E("$3\r\n3-6", "XADD", "ee", "3-*", "a", "1"),
    ]

    # Auto-generated ids: compared by their ms part (norm="stream").
    steps += [
        C("XADD", "auto", "*", "f", "v", norm=S), C("XADD", "auto", "*", "f", "w", norm=S),
        C("XADD", "auto", "MAXLEN", "~", "100", "LIMIT", "100", "*", "f", "x", norm=S),
        E(":3", "XLEN", "auto"), C("XRANGE", "auto", "-", "+", norm=S),
        C("XREVRANGE", "auto", "+", "-", "COUNT", "1", norm=S),
        C("XREAD", "STREAMS", "auto", "0", norm=S),
        C("XINFO", "STREAM", "auto", norm=S),
        C("XADD", "auto", "1-0", "f", "v"),   # below the clock: refused
    ]

    # Types, keyspace, WRONGTYPE.
    steps += [
        E("+stream", "TYPE", "q"), E("$6\r\nstream", "OBJECT", "ENCODING", "q"),
        C("EXISTS", "q"), C("COPY", "c", "c2"), C("XRANGE", "c2", "-", "+"),
        C("XINFO", "GROUPS", "c2"), C("XPENDING", "c2", "cg"),
        C("RENAME", "c2", "c3"), C("XLEN", "c3"), C("XINFO", "GROUPS", "c3"),
        C("DEL", "c3"), C("XLEN", "c3"), C("XINFO", "GROUPS", "c3"),
        C("SET", "str", "v"), C("LPUSH", "lst", "x"),
    ]
    for cmd in (["XADD", "str", "1-0", "a", "1"], ["XADD", "str", "NOMKSTREAM", "1-0", "a", "1"],
                ["XLEN", "str"], ["XRANGE", "str", "-", "+"], ["XREVRANGE", "str", "+", "-"],
                ["XDEL", "str", "1-0"], ["XTRIM", "str", "MAXLEN", "1"],
                ["XREAD", "STREAMS", "str", "0"], ["XREAD", "STREAMS", "q", "lst", "0", "0"],
                ["XREAD", "BLOCK", "10", "STREAMS", "str", "$"],
                ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">"],
                ["XGROUP", "CREATE", "str", "g", "0"],
                ["XGROUP", "CREATE", "str", "g", "0", "MKSTREAM"],
                ["XGROUP", "SETID", "str", "g", "0"], ["XGROUP", "DESTROY", "str", "g"],
                ["XGROUP", "CREATECONSUMER", "str", "g", "c"],
                ["XGROUP", "DELCONSUMER", "lst", "g", "c"],
                ["XACK", "str", "g", "1-0"], ["XPENDING", "str", "g"],
                ["XPENDING", "str", "g", "-", "+", "1"],
                ["XCLAIM", "str", "g", "c", "0", "1-0"], ["XAUTOCLAIM", "str", "g", "c", "0", "0"],
                ["XINFO", "STREAM", "str"], ["XINFO", "GROUPS", "str"],
                ["XINFO", "CONSUMERS", "str", "g"], ["XSETID", "str", "1-0"]):
        steps.append(E(WT, *cmd))
    steps += [C("GET", "q"), C("LPUSH", "q", "x"), C("HSET", "q", "f", "v"), C("SADD", "q", "m")]

    # Arity of every stream command.
    steps += [ERR_ARITY("xack", "XACK", "q", "cg"), ERR_ARITY("xadd", "XADD", "q", "1-0"),
              ERR_ARITY("xautoclaim", "XAUTOCLAIM", "q", "cg", "c", "0"),
              ERR_ARITY("xclaim", "XCLAIM", "q", "cg", "c", "0"), ERR_ARITY("xdel", "XDEL", "q"),
              ERR_ARITY("xgroup", "XGROUP"), ERR_ARITY("xinfo", "XINFO"), ERR_ARITY("xlen", "XLEN"),
              ERR_ARITY("xpending", "XPENDING", "q"), ERR_ARITY("xrange", "XRANGE", "q", "-"),
              ERR_ARITY("xread", "XREAD", "STREAMS", "q"),
              ERR_ARITY("xreadgroup", "XREADGROUP", "GROUP", "cg", "c", "STREAMS", "q"),
              ERR_ARITY("xrevrange", "XREVRANGE", "q", "+"), ERR_ARITY("xsetid", "XSETID", "q"),
              ERR_ARITY("xtrim", "XTRIM", "q", "MAXLEN")]

    # A script and a transaction.
    steps += [
        C("EVAL", "redis.call('xadd', KEYS[1], '1-0', 'f', 'v') "
          "return redis.call('xrange', KEYS[1], '-', '+')", "1", "scr"),
        C("EVAL", "return redis.call('xinfo', 'groups', KEYS[1])", "1", "q"),
        C("EVAL", "return redis.pcall('xadd', KEYS[1], '1-0', 'f', 'v')", "1", "scr"),
        C("MULTI"), C("XADD", "m", "1-0", "a", "1"), C("XADD", "m", "1-0", "a", "1"),
        C("XLEN", "m"), C("XRANGE", "m", "-", "+"), C("EXEC"),
    ]

    # RESP3: XREAD / XREADGROUP reply maps, XINFO maps, nulls.
    steps += [
        C("HELLO", "3", norm="hello"),
        C("XRANGE", "x", "-", "+"), E("_", "XRANGE", "x", "-", "+", "COUNT", "0"),
        C("XREVRANGE", "x", "+", "-", "COUNT", "1"), C("XRANGE", "nos", "-", "+"),
        C("XREAD", "STREAMS", "x", "0"), C("XREAD", "COUNT", "1", "STREAMS", "x", "y", "0", "0"),
        E("_", "XREAD", "STREAMS", "x", "$"), C("XREAD", "STREAMS", "x", "nos", "0", "0"),
        E("_", "XREAD", "BLOCK", "50", "STREAMS", "nos", "$"),
        C("XADD", "nos", "NOMKSTREAM", "1-0", "f", "v"),
        C("XREADGROUP", "GROUP", "cg", "r3", "STREAMS", "q", "0"),
        C("XGROUP", "CREATE", "x", "cg3", "0"),
        C("XREADGROUP", "GROUP", "cg3", "r3", "COUNT", "1", "STREAMS", "x", ">"),
        C("XREADGROUP", "GROUP", "cg3", "r3", "STREAMS", "x", "0"),
        C("XREADGROUP", "GROUP", "cg3", "r3", "STREAMS", "x", ">"),
        E("_", "XREADGROUP", "GROUP", "cg3", "r3", "STREAMS", "x", ">"),
        C("XPENDING", "x", "cg3"), C("XPENDING", "x", "cg3", "-", "+", "10", norm=S),
        C("XCLAIM", "x", "cg3", "r4", "0", "1-0"),
        C("XCLAIM", "x", "cg3", "r4", "0", "2-0", "JUSTID"),
        C("XAUTOCLAIM", "x", "cg3", "r5", "0", "0"), C("XAUTOCLAIM", "a", "cg", "r5", "0", "0"),
        C("XINFO", "STREAM", "x", norm=S), C("XINFO", "STREAM", "x", "FULL", norm=S),
        C("XINFO", "STREAM", "mk", norm=S), C("XINFO", "STREAM", "mk", "FULL", norm=S),
        C("XINFO", "STREAM", "t", norm=S),
        C("XINFO", "GROUPS", "x"), C("XINFO", "GROUPS", "l"), C("XINFO", "GROUPS", "mk"),
        C("XINFO", "CONSUMERS", "x", "cg3", norm=S), C("XINFO", "HELP"), C("XGROUP", "HELP"),
        C("XINFO", "STREAM", "nos"), C("XPENDING", "nos", "g"),
        C("HELLO", "2", norm="hello"),
    ]
    return steps


FAMILIES = {
    "pubsub": fam_pubsub,
    "tracking": fam_tracking,
    "functions": fam_functions,
    "scripting": fam_scripting,
    "multi": fam_multi,
    "connection": fam_connection,
    "select_db": fam_select_db,
    "keyspace": fam_keyspace,
    "keys": fam_keys,
    "scan": fam_scan,
    "randomkey": fam_randomkey,
    "rename_copy": fam_rename_copy,
    "expire": fam_expire,
    "set_get": fam_set_get,
    "append_range": fam_append_range,
    "incr": fam_incr,
    "lcs": fam_lcs,
    "object": fam_object,
    "quirks": fam_quirks,
    "unknown_command": fam_unknown_command,
    "arity": fam_arity,
    "resp3": fam_resp3,
    "wrongtype": fam_wrongtype,
    "hash": fam_hash,
    "list": fam_list,
    "set": fam_set,
    "zset": fam_zset,
    "bitmap": fam_bitmap,
    "hll": fam_hll,
    "sort": fam_sort,
    "command_info": fam_command_info,
    "geo": fam_geo,
    "streams": fam_streams,
}


# --------------------------------------------------------------------------
# Random command stream
# --------------------------------------------------------------------------

class RandomGen:
    """Draws commands over a skewed key space: HOT_SHARE of the key choices
    go to eight hot keys, so commands collide on them (integers meet text,
    INCR meets floats, COPY/RENAME move things between databases); the rest
    go to COLD_KEYS cold keys, which are mostly missing, live long enough
    for their TTLs and renames to matter, and make KEYS, SCAN, RANDOMKEY
    and DBSIZE answer over many keys (some match the patterns below, some
    not). Every command is a Step; the batch runner treats "scan",
    "randomkey" and "lcs" steps synchronously."""

    HOT_KEYS = [b"k0", b"k1", b"k2", b"k3", b"n", b"f", b"s", b"bin\x00\r\n"]
    COLD_KEYS = ([b"k%d" % i for i in range(4, 40)]           # k?, k*, [kn]* match some
                 + [b"n%d" % i for i in range(30)]
                 + [b"user:%d" % i for i in range(60)]        # match none but * and [^k]*
                 + [b"x" * 50 + b"%d" % i for i in range(10)]  # long names
                 + [b"\xff\x00%d" % i for i in range(10)])   # binary names
    HOT_SHARE = 0.6
    INTS = [b"0", b"1", b"-1", b"2", b"10", b"100", b"-100", b"9223372036854775807",
            b"-9223372036854775808", b"9223372036854775806", b"-9223372036854775807",
            b"9223372036854775808", b"-9223372036854775809", b"4611686018427387904",
            b"99999999999999999999", b"abc", b"", b"1.5", b" 1", b"01", b"+1", b"-0",
            b"1e3", b"10000", b"9999"]
    FLOATS = [b"0", b"1", b"-1", b"1.5", b"-0.5", b"0.1", b"0.2", b"3.0", b"1e3",
              b"1e-5", b"-2.5e2", b"1e20", b"-1e20", b"123.456", b".5", b"5.", b"inf",
              b"-inf", b"nan", b"abc", b"", b" 1", b"1 ", b"10", b"-0", b"1e300"]
    PATTERNS = [b"*", b"k*", b"k?", b"*1*", b"[kn]*", b"[^k]*", b"?", b"bin*", b"nomatch",
                b"k[0-1]", b"\\k*", b"*\x00*"]
    # Relative expirations: far apart and far from the absolute ones below,
    # so no comparison between expiry times is decided by clock jitter.
    REL_S = [100, 1000, 10000, 100000, 1000000]
    ABS_OFF_S = [3000, 30000, 300000, 3000000]

    def __init__(self, rng, base_s):
        self.rng = rng
        self.base_s = base_s
        self.queued = []  # steps a generator drew ahead (g_sort's pairs)
        w = [
            (self.g_get, 10), (self.g_set, 12), (self.g_set_opts, 6), (self.g_setnx, 2),
            (self.g_setex, 2), (self.g_getset, 2), (self.g_getdel, 2), (self.g_getex, 3),
            (self.g_mget, 3), (self.g_mset, 3), (self.g_msetnx, 1), (self.g_append, 4),
            (self.g_strlen, 2), (self.g_getrange, 3), (self.g_setrange, 3),
            (self.g_incr, 6), (self.g_incrby, 4), (self.g_incrbyfloat, 4), (self.g_lcs, 2),
            (self.g_del, 3), (self.g_exists, 3), (self.g_type, 2), (self.g_keys, 1),
            (self.g_scan, 1), (self.g_randomkey, 1), (self.g_rename, 2), (self.g_copy, 2),
            (self.g_touch, 1), (self.g_expire, 4), (self.g_expireat, 2), (self.g_ttl, 4),
            (self.g_persist, 1), (self.g_object, 1), (self.g_select, 3), (self.g_dbsize, 1),
            (self.g_flush, 0.3), (self.g_hello, 0.5), (self.g_ping, 0.5), (self.g_unknown, 0.3),
            (self.g_hset, 6), (self.g_hsetnx, 1), (self.g_hread, 6), (self.g_hdel, 3),
            (self.g_hincr, 3), (self.g_hrandfield, 1), (self.g_hscan, 0.5),
            (self.g_sadd, 6), (self.g_srem, 3), (self.g_sread, 6), (self.g_spop, 0.5),
            (self.g_smove, 1), (self.g_setop, 2), (self.g_setop_store, 1),
            (self.g_sintercard, 1), (self.g_sscan, 0.5),
            (self.g_zadd, 6), (self.g_zincrby, 2), (self.g_zrem, 2), (self.g_zread, 5),
            (self.g_zrange, 4), (self.g_zlex, 3), (self.g_zrangestore, 1), (self.g_zremrange, 1),
            (self.g_zpop, 2), (self.g_zrandmember, 1), (self.g_zsetop, 2),
            (self.g_zsetop_store, 1), (self.g_zintercard, 1), (self.g_zscan, 0.5),
            (self.g_lpush, 6), (self.g_lpop, 4), (self.g_lread, 5), (self.g_lwrite, 3),
            (self.g_lmove, 2), (self.g_lblock, 0.5),
            (self.g_setbit, 1.5), (self.g_getbit, 1), (self.g_bitcount, 1), (self.g_bitpos, 1),
            (self.g_bitop, 1), (self.g_bitfield, 1.5),
            (self.g_sort, 1.5), (self.g_move, 1),
            (self.g_pfadd, 1.5), (self.g_pfcount, 1), (self.g_pfmerge, 0.5),
            (self.g_geoadd, 2), (self.g_georead, 1), (self.g_geosearch, 1.5),
            (self.g_georadius, 1), (self.g_geostore, 0.5),
        ]
        self.gens = [g for g, _ in w]
        self.weights = [x for _, x in w]

    # -- argument pools --
    def key(self):
        if self.rng.random() < self.HOT_SHARE:
            return self.rng.choice(self.HOT_KEYS)
        return self.rng.choice(self.COLD_KEYS)

    def keys(self, lo, hi):
        return [self.key() for _ in range(self.rng.randint(lo, hi))]

    def value(self):
        r = self.rng.random()
        rng = self.rng
        if r < 0.25:
            return str(rng.randint(-1000, 1000)).encode()
        if r < 0.35:
            return rng.choice(self.INTS)
        if r < 0.45:
            return rng.choice(self.FLOATS)
        if r < 0.70:
            return bytes(rng.choice(b"abcxyz") for _ in range(rng.randint(1, 10)))
        if r < 0.78:
            return bytes(rng.choice(b"abcdefgh") for _ in range(rng.randint(40, 80)))
        if r < 0.90:
            return bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        return b""

    def int_arg(self):
        if self.rng.random() < 0.6:
            return str(self.rng.randint(-50, 50)).encode()
        return self.rng.choice(self.INTS)

    def rel_s(self):
        r = self.rng.random()
        if r < 0.85:
            return self.rng.choice(self.REL_S)
        return self.rng.choice([0, -1, -100, b"9223372036854775807", b"abc", b"1.5", b""])

    def rel_ms(self):
        v = self.rel_s()
        return v * 1000 if isinstance(v, int) and v > 0 else v

    def abs_s(self, past=True):
        """An absolute time in seconds. past=False for SET ... EXAT/PXAT:
        Redis stores such a key already expired and DBSIZE counts it until
        its active expiry cycle reclaims it, which is timing-dependent
        (EXPIREAT and GETEX delete at once, so they may use past times)."""
        r = self.rng.random()
        if r < 0.8:
            return self.base_s + self.rng.choice(self.ABS_OFF_S)
        if past:
            return self.rng.choice([1, self.base_s - 1000, 0, -1, b"9223372036854775807"])
        return self.rng.choice([0, -1, b"9223372036854775807", b"abc"])

    def abs_ms(self, past=True):
        v = self.abs_s(past)
        return v * 1000 + 7 if isinstance(v, int) and v > 0 else v

    def pick(self, *opts):
        return self.rng.choice(opts)

    # -- generators --
    def g_get(self):
        return C("GET", self.key())

    def g_set(self):
        return C("SET", self.key(), self.value())

    def g_set_opts(self):
        args = ["SET", self.key(), self.value()]
        rng = self.rng
        cond = rng.choice([None, None, "NX", "XX"])
        if cond:
            args.append(cond)
        if rng.random() < 0.3:
            args.append("GET")
        exp = rng.choice([None, "EX", "PX", "EXAT", "PXAT", "KEEPTTL", None])
        if exp == "EX":
            args += ["EX", self.rel_s()]
        elif exp == "PX":
            args += ["PX", self.rel_ms()]
        elif exp == "EXAT":
            args += ["EXAT", self.abs_s(past=False)]
        elif exp == "PXAT":
            args += ["PXAT", self.abs_ms(past=False)]
        elif exp == "KEEPTTL":
            args.append("KEEPTTL")
        if rng.random() < 0.05:
            args.append(rng.choice(["NX", "XX", "EX", "FOO", "GET"]))  # syntax errors
        if rng.random() < 0.1:  # option order is free
            opts = args[3:]
            rng.shuffle(opts)
            args[3:] = opts
        return C(*args)

    def g_setnx(self):
        return C("SETNX", self.key(), self.value())

    def g_setex(self):
        if self.rng.random() < 0.5:
            return C("SETEX", self.key(), self.rel_s(), self.value())
        return C("PSETEX", self.key(), self.rel_ms(), self.value())

    def g_getset(self):
        return C("GETSET", self.key(), self.value())

    def g_getdel(self):
        return C("GETDEL", self.key())

    def g_getex(self):
        opt = self.rng.choice([[], ["PERSIST"], ["EX", self.rel_s()], ["PX", self.rel_ms()],
                               ["EXAT", self.abs_s()], ["PXAT", self.abs_ms()], ["FOO"]])
        return C("GETEX", self.key(), *opt)

    def g_mget(self):
        return C("MGET", *self.keys(1, 4))

    def g_mset(self):
        args = []
        for k in self.keys(1, 3):
            args += [k, self.value()]
        return C("MSET", *args)

    def g_msetnx(self):
        args = []
        for k in self.keys(1, 3):
            args += [k, self.value()]
        return C("MSETNX", *args)

    def g_append(self):
        return C("APPEND", self.key(), self.value()[:20])

    def g_strlen(self):
        return C("STRLEN", self.key())

    def g_getrange(self):
        return C(self.pick("GETRANGE", "SUBSTR"), self.key(), self.int_arg(), self.int_arg())

    def g_setrange(self):
        off = self.rng.choice([0, 1, 3, 10, 40, -1, b"536870912", b"abc"] +
                              [self.rng.randint(0, 60)] * 4)
        return C("SETRANGE", self.key(), off, self.value()[:20])

    def g_incr(self):
        return C(self.pick("INCR", "DECR"), self.key())

    def g_incrby(self):
        return C(self.pick("INCRBY", "DECRBY"), self.key(), self.int_arg())

    def g_incrbyfloat(self):
        return C("INCRBYFLOAT", self.key(), self.rng.choice(self.FLOATS))

    def g_lcs(self):
        opts = self.rng.choice([[], ["LEN"], ["IDX"], ["IDX", "WITHMATCHLEN"],
                                ["IDX", "MINMATCHLEN", self.rng.randint(0, 4)],
                                ["IDX", "MINMATCHLEN", 2, "WITHMATCHLEN"], ["LEN", "IDX"]])
        return C("LCS", self.key(), self.key(), *opts, norm="lcs")

    def g_del(self):
        return C(self.pick("DEL", "UNLINK"), *self.keys(1, 3))

    def g_exists(self):
        return C("EXISTS", *self.keys(1, 4))

    def g_type(self):
        return C("TYPE", self.key())

    def g_keys(self):
        return C("KEYS", self.rng.choice(self.PATTERNS), norm="sorted")

    def g_scan(self):
        extra = []
        if self.rng.random() < 0.5:
            extra += ["MATCH", self.rng.choice(self.PATTERNS)]
        if self.rng.random() < 0.5:
            extra += ["COUNT", self.rng.choice([1, 2, 10, 100])]
        if self.rng.random() < 0.2:
            extra += ["TYPE", self.pick("string", "list")]
        return C("SCAN", "0", *extra, norm="scan")

    def g_randomkey(self):
        return C("RANDOMKEY", norm="randomkey")

    def g_rename(self):
        return C(self.pick("RENAME", "RENAMENX"), self.key(), self.key())

    def g_copy(self):
        args = ["COPY", self.key(), self.key()]
        if self.rng.random() < 0.5:
            args += ["DB", self.rng.choice([0, 1, 2, 2, 1, 16])]
        if self.rng.random() < 0.4:
            args.append("REPLACE")
        return C(*args)

    def g_touch(self):
        return C("TOUCH", *self.keys(1, 3))

    def g_expire(self):
        # Relative: NX / XX only (see the module docstring).
        cmd = self.pick("EXPIRE", "PEXPIRE")
        t = self.rel_s() if cmd == "EXPIRE" else self.rel_ms()
        opt = self.rng.choice([[], [], ["NX"], ["XX"]])
        return C(cmd, self.key(), t, *opt)

    def g_expireat(self):
        cmd = self.pick("EXPIREAT", "PEXPIREAT")
        t = self.abs_s() if cmd == "EXPIREAT" else self.abs_ms()
        opt = self.rng.choice([[], [], ["NX"], ["XX"], ["GT"], ["LT"], ["NX", "GT"]])
        return C(cmd, self.key(), t, *opt)

    def g_ttl(self):
        cmd = self.pick("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME")
        ms = cmd.startswith("P")
        return C(cmd, self.key(), norm="approx", tol=RANDOM_TOL_MS if ms else RANDOM_TOL_S)

    def g_persist(self):
        return C("PERSIST", self.key())

    def g_object(self):
        return C("OBJECT", "ENCODING", self.key())

    def g_select(self):
        r = self.rng.random()
        if r < 0.93:
            return C("SELECT", self.rng.randint(0, 2))
        return C("SELECT", self.pick("16", "-1", "abc"))

    def g_dbsize(self):
        return C("DBSIZE")

    def g_flush(self):
        return C(self.pick("FLUSHDB", "FLUSHDB", "FLUSHDB", "FLUSHALL"))

    def g_hello(self):
        return C("HELLO", self.pick("2", "3"), norm="hello")

    def g_ping(self):
        return C(*self.rng.choice([["PING"], ["PING", self.value()], ["ECHO", self.value()]]))

    def g_unknown(self):
        return C(self.pick("FOO", "gett", "SETT"), self.key())

    # -- hashes and sets (keys shared with the strings: WRONGTYPE both ways) --
    FIELDS = [b"f0", b"f1", b"f2", b"f3", b"1", b"2", b"10", b"-5", b"", b"fld\x00x",
              b"L" * 70]
    MEMBERS = [b"1", b"2", b"3", b"10", b"-7", b"100", b"9223372036854775807", b"01",
               b"a", b"b", b"", b"m\x00", b"M" * 70]

    def field(self):
        return self.rng.choice(self.FIELDS)

    def fields(self, lo, hi):
        return [self.field() for _ in range(self.rng.randint(lo, hi))]

    def member(self):
        return self.rng.choice(self.MEMBERS)

    def members(self, lo, hi):
        return [self.member() for _ in range(self.rng.randint(lo, hi))]

    def hvalue(self):
        r = self.rng.random()
        if r < 0.5:
            return self.rng.choice(self.INTS)
        if r < 0.7:
            return self.rng.choice(self.FLOATS)
        return self.value()

    def g_hset(self):
        cmd = self.pick("HSET", "HSET", "HMSET")
        args = []
        for f in self.fields(1, 3):
            args += [f, self.hvalue()]
        return C(cmd, self.key(), *args)

    def g_hsetnx(self):
        return C("HSETNX", self.key(), self.field(), self.hvalue())

    def g_hread(self):
        r = self.rng.random()
        if r < 0.3:
            return C("HGET", self.key(), self.field())
        if r < 0.45:
            return C("HMGET", self.key(), *self.fields(1, 4))
        if r < 0.6:
            return C(self.pick("HEXISTS", "HSTRLEN"), self.key(), self.field())
        if r < 0.7:
            return C("HLEN", self.key())
        if r < 0.85:
            return C("HGETALL", self.key(), norm="pairs")
        return C(self.pick("HKEYS", "HVALS"), self.key(), norm="unordered")

    def g_hdel(self):
        return C("HDEL", self.key(), *self.fields(1, 3))

    def g_hincr(self):
        if self.rng.random() < 0.6:
            return C("HINCRBY", self.key(), self.field(), self.rng.choice(self.INTS))
        return C("HINCRBYFLOAT", self.key(), self.field(), self.rng.choice(self.FLOATS))

    def g_hrandfield(self):
        r = self.rng.random()
        if r < 0.3:
            return C("HRANDFIELD", self.key(), "1000", norm="unordered")
        if r < 0.5:
            return C("HRANDFIELD", self.key(), "1000", "WITHVALUES", norm="pairs")
        if r < 0.8:
            return C("HRANDFIELD", self.key(), self.pick("-3", "-1", "0", "-5"),
                     *self.rng.choice([[], ["WITHVALUES"]]), norm="shape")
        # A syntax error (not truncated by the stream: the count alone is random).
        return C("HRANDFIELD", self.key(), self.pick("1", "x", "2"), "BAD", norm="shape")

    def g_hscan(self):
        opts = self.rng.choice([[], ["COUNT", "2"], ["MATCH", "f*"], ["MATCH", "*1*", "COUNT", "1"]])
        return C("HSCAN", self.key(), "0", *opts, norm="cscan")

    def g_sadd(self):
        return C("SADD", self.key(), *self.members(1, 4))

    def g_srem(self):
        return C("SREM", self.key(), *self.members(1, 3))

    def g_sread(self):
        r = self.rng.random()
        if r < 0.3:
            return C("SISMEMBER", self.key(), self.member())
        if r < 0.45:
            return C("SMISMEMBER", self.key(), *self.members(1, 4))
        if r < 0.6:
            return C("SCARD", self.key())
        if r < 0.8:
            return C("SMEMBERS", self.key(), norm="unordered")
        r = self.rng.random()
        if r < 0.4:
            return C("SRANDMEMBER", self.key(), "1000", norm="unordered")
        if r < 0.7:
            return C("SRANDMEMBER", self.key(), "-4", norm="shape")
        return C("SRANDMEMBER", self.key(), "0", norm="shape")

    def g_spop(self):
        # Only the deterministic forms: everything, or from a missing key.
        return C("SPOP", self.key(), self.pick("1000", "0", "-1"), norm="unordered")

    def g_smove(self):
        return C("SMOVE", self.key(), self.key(), self.member())

    def g_setop(self):
        cmd = self.pick("SINTER", "SUNION", "SDIFF")
        return C(cmd, *self.keys(1, 3), norm="unordered")

    def g_setop_store(self):
        cmd = self.pick("SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE")
        return C(cmd, self.key(), *self.keys(1, 3))

    def g_sintercard(self):
        keys = self.keys(1, 3)
        limit = self.rng.choice([[], ["LIMIT", "1"], ["LIMIT", "0"], ["LIMIT", "-1"]])
        n = self.rng.choice([len(keys)] * 4 + [0, len(keys) + 1])
        return C("SINTERCARD", n, *keys, *limit)

    def g_sscan(self):
        opts = self.rng.choice([[], ["COUNT", "3"], ["MATCH", "1*"]])
        return C("SSCAN", self.key(), "0", *opts, norm="cscan")

    # -- sorted sets (pool keys, shared with every other type) --
    SCORES = [b"0", b"1", b"-1", b"2", b"3", b"10", b"-0", b"0.1", b"0.2", b"1.5", b"-2.5",
              b"1e300", b"-1e300", b"inf", b"-inf", b"+inf", b"100", b"7"]
    # Nothing that leaves errno at ERANGE in Redis (a subnormal score such
    # as 1e-320, an overflow such as 1e400; fam_zset has both): Redis's
    # numeric SORT checks errno without clearing it (see fam_sort), so a
    # SORT later in the stream would fail there.
    BAD_SCORES = [b"nan", b"abc", b"", b" 1", b"0x"]
    RANGE_ENDS = [b"-inf", b"+inf", b"inf", b"0", b"(0", b"1", b"(1", b"2.5", b"(10", b"100",
                  b"-1", b"(-1", b"", b"(", b"abc", b"nan"]
    # Lexicographic commands go to these keys only, whose scores are all 0:
    # on members of different scores Redis's answer depends on the random
    # levels of its skiplist.
    LEX_KEYS = [b"zlex0", b"zlex1"]
    LEX_ENDS = [b"-", b"+", b"[a", b"(a", b"[b", b"(c", b"[", b"(", b"[m\x00", b"a", b"", b"+x"]

    def score(self):
        if self.rng.random() < 0.03:
            return self.rng.choice(self.BAD_SCORES)
        if self.rng.random() < 0.2:
            return str(self.rng.randint(-20, 20)).encode()
        return self.rng.choice(self.SCORES)

    def g_zadd(self):
        rng = self.rng
        opts = []
        for o in ("NX", "XX", "GT", "LT", "CH", "INCR"):
            if rng.random() < 0.1:
                opts.append(o)
        rng.shuffle(opts)
        n = 1 if "INCR" in opts and rng.random() < 0.9 else rng.randint(1, 4)
        pairs = []
        for _ in range(n):
            pairs += [self.score(), self.member()]
        return C("ZADD", self.key(), *opts, *pairs)

    def g_zincrby(self):
        return C("ZINCRBY", self.key(), self.score(), self.member())

    def g_zrem(self):
        return C("ZREM", self.key(), *self.members(1, 3))

    def g_zread(self):
        r = self.rng.random()
        k = self.key()
        if r < 0.25:
            return C("ZSCORE", k, self.member())
        if r < 0.4:
            return C("ZMSCORE", k, *self.members(1, 3))
        if r < 0.55:
            return C(self.pick("ZRANK", "ZREVRANK"), k, self.member())
        if r < 0.7:
            return C("ZCARD", k)
        return C("ZCOUNT", k, self.rng.choice(self.RANGE_ENDS), self.rng.choice(self.RANGE_ENDS))

    def range_tail(self, withscores=True):
        out = []
        if self.rng.random() < 0.3:
            out += ["LIMIT", self.pick("0", "1", "2", "-1", "10", "x"), self.pick("1", "2", "-1", "0")]
        if withscores and self.rng.random() < 0.5:
            out.append("WITHSCORES")
        return out

    def g_zrange(self):
        r = self.rng.random()
        k = self.key()
        ends = self.RANGE_ENDS
        if r < 0.35:
            ix = [self.pick("0", "1", "-1", "-2", "2", "5", "100", "-100", "x")
                  for _ in range(2)]
            extra = self.rng.choice([[], ["WITHSCORES"], ["REV"], ["REV", "WITHSCORES"],
                                     ["LIMIT", "0", "1"]])
            return C(self.pick("ZRANGE", "ZREVRANGE"), k, *ix, *extra)
        if r < 0.7:
            cmd = self.pick("ZRANGEBYSCORE", "ZREVRANGEBYSCORE")
            return C(cmd, k, self.rng.choice(ends), self.rng.choice(ends), *self.range_tail())
        extra = self.rng.choice([["BYSCORE"], ["BYSCORE", "REV"]])
        return C("ZRANGE", k, self.rng.choice(ends), self.rng.choice(ends), *extra,
                 *self.range_tail())

    def g_zlex(self):
        k = self.rng.choice(self.LEX_KEYS)
        ends = self.LEX_ENDS
        r = self.rng.random()
        if r < 0.35:
            return C("ZADD", k, *[x for m in self.members(1, 3) for x in (b"0", m)])
        if r < 0.45:
            return C("ZREM", k, *self.members(1, 2))
        if r < 0.55:
            return C("ZLEXCOUNT", k, self.rng.choice(ends), self.rng.choice(ends))
        if r < 0.65:
            return C("ZREMRANGEBYLEX", k, self.rng.choice(ends), self.rng.choice(ends))
        if r < 0.75:
            return C("ZRANGESTORE", self.rng.choice(self.LEX_KEYS + [self.key()]), k,
                     self.rng.choice(ends), self.rng.choice(ends), "BYLEX",
                     *self.rng.choice([[], ["REV"]]))
        cmd = self.pick("ZRANGEBYLEX", "ZREVRANGEBYLEX")
        return C(cmd, k, self.rng.choice(ends), self.rng.choice(ends),
                 *self.range_tail(withscores=False))

    def g_zrangestore(self):
        if self.rng.random() < 0.5:
            return C("ZRANGESTORE", self.key(), self.key(), self.pick("0", "1", "-1"),
                     self.pick("-1", "2", "0"))
        return C("ZRANGESTORE", self.key(), self.key(), self.rng.choice(self.RANGE_ENDS),
                 self.rng.choice(self.RANGE_ENDS), "BYSCORE", *self.range_tail(withscores=False))

    def g_zremrange(self):
        r = self.rng.random()
        if r < 0.5:
            return C("ZREMRANGEBYRANK", self.key(), self.pick("0", "1", "-1", "-2", "x"),
                     self.pick("0", "1", "-1", "3"))
        return C("ZREMRANGEBYSCORE", self.key(), self.rng.choice(self.RANGE_ENDS),
                 self.rng.choice(self.RANGE_ENDS))

    def g_zpop(self):
        if self.rng.random() < 0.7:
            return C(self.pick("ZPOPMIN", "ZPOPMAX"), self.key(),
                     *self.rng.choice([[], ["1"], ["2"], ["0"], ["-1"], ["100"]]))
        keys = self.keys(1, 3)
        n = self.rng.choice([len(keys)] * 4 + [0, len(keys) + 1])
        return C("ZMPOP", n, *keys, self.pick("MIN", "MAX", "max", "BAD"),
                 *self.rng.choice([[], ["COUNT", "2"], ["COUNT", "100"], ["COUNT", "0"]]))

    def g_zrandmember(self):
        r = self.rng.random()
        if r < 0.4:
            # Deterministic (the whole set, highest first), unless an argument
            # is dropped: "fixed" keeps the stream from mutating it.
            return C("ZRANDMEMBER", self.key(), "1000", *self.rng.choice([[], ["WITHSCORES"]]),
                     norm="fixed")
        if r < 0.8:
            return C("ZRANDMEMBER", self.key(), self.pick("-3", "-1", "0", "1"),
                     *self.rng.choice([[], ["WITHSCORES"]]), norm="shape")
        return C("ZRANDMEMBER", self.key(), self.pick("1", "x", "2"), "BAD", norm="shape")

    def setop_tail(self, n, store):
        out = []
        if self.rng.random() < 0.3:
            out += ["WEIGHTS"] + [self.pick("1", "2", "-1", "0.5", "0", "inf", "x")
                                  for _ in range(n)]
        if self.rng.random() < 0.3:
            out += ["AGGREGATE", self.pick("SUM", "MIN", "MAX", "max", "avg")]
        if not store and self.rng.random() < 0.5:
            out.append("WITHSCORES")
        return out

    def g_zsetop(self):
        cmd = self.pick("ZUNION", "ZINTER", "ZDIFF")
        keys = self.keys(1, 3)
        n = self.rng.choice([len(keys)] * 6 + [0, len(keys) + 1])
        tail = self.setop_tail(len(keys), False) if cmd != "ZDIFF" else \
            self.rng.choice([[], ["WITHSCORES"]])
        return C(cmd, n, *keys, *tail)

    def g_zsetop_store(self):
        cmd = self.pick("ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE")
        keys = self.keys(1, 3)
        tail = self.setop_tail(len(keys), True) if cmd != "ZDIFFSTORE" else []
        return C(cmd, self.key(), len(keys), *keys, *tail)

    def g_zintercard(self):
        keys = self.keys(1, 3)
        limit = self.rng.choice([[], ["LIMIT", "1"], ["LIMIT", "0"], ["LIMIT", "-1"]])
        n = self.rng.choice([len(keys)] * 4 + [0, len(keys) + 1])
        return C("ZINTERCARD", n, *keys, *limit)

    def g_zscan(self):
        opts = self.rng.choice([[], ["COUNT", "3"], ["MATCH", "1*"]])
        return C("ZSCAN", self.key(), "0", *opts, norm="cscan")

    # -- lists --
    # -- geo (sorted sets of geohash scores, on the pool keys) --
    GEO_POINTS = [(b"13.361389", b"38.115556"), (b"15.087269", b"37.502669"),
                  (b"12.758489", b"38.788135"), (b"13.5", b"38.1"), (b"0", b"0"),
                  (b"180", b"85.05112878"), (b"-180", b"-85.05112878"), (b"179.99", b"-10"),
                  (b"-179.99", b"-10"), (b"100", b"70"), (b"13.4", b"38.2")]
    GEO_BAD = [(b"181", b"0"), (b"0", b"86"), (b"x", b"0"), (b"0", b""), (b"nan", b"1")]
    GEO_UNITS = [b"m", b"km", b"mi", b"ft", b"KM", b"yd", b"km", b"mi", b"km"]
    GEO_DISTS = [b"0", b"1", b"100", b"1000", b"50", b"300", b"5000", b"-1", b"x", b"0.5",
                 b"200", b"400", b"250000", b"1000000", b"150", b"600", b"3000", b"20000"]
    # Geo commands go mostly to these keys, which hold geo sets (the pool
    # keys mostly hold other types or arbitrary scores).
    GEO_KEYS = [b"geo0", b"geo1", b"geo2"]

    def geo_key(self):
        if self.rng.random() < 0.75:
            return self.rng.choice(self.GEO_KEYS)
        return self.key()

    def geo_point(self):
        r = self.rng.random()
        if r < 0.03:
            return self.rng.choice(self.GEO_BAD)
        if r < 0.7:
            return self.rng.choice(self.GEO_POINTS)
        lon, lat = self.rng.choice(self.GEO_POINTS[:4])
        return (b"%.4f" % (float(lon) + self.rng.uniform(-2, 2)),
                b"%.4f" % (float(lat) + self.rng.uniform(-2, 2)))

    def geo_opts(self, store=False):
        """Reply options (in any order), and whether the reply comes in scan
        order (no ASC/DESC, and no COUNT without ANY)."""
        rng = self.rng
        groups = []
        order = rng.choice([[], [b"ASC"], [b"DESC"]])
        if order:
            groups.append(order)
        counted = rng.random() < 0.4
        any_ = counted and rng.random() < 0.3
        if counted:
            groups.append([b"COUNT", rng.choice([b"1", b"2", b"3", b"10", b"0", b"x"])])
        if any_ or rng.random() < 0.02:
            groups.append([b"ANY"])
        if not store:
            for o in (b"WITHDIST", b"WITHCOORD", b"WITHHASH"):
                if rng.random() < 0.3:
                    groups.append([o])
        rng.shuffle(groups)
        return [a for g in groups for a in g], not order and (not counted or any_)

    def g_geoadd(self):
        rng = self.rng
        opts = [o for o in (b"NX", b"XX", b"CH") if rng.random() < 0.15]
        triples = []
        for _ in range(rng.randint(1, 3)):
            triples += [*self.geo_point(), self.member()]
        return C("GEOADD", self.geo_key(), *opts, *triples)

    def g_georead(self):
        r = self.rng.random()
        k = self.geo_key()
        if r < 0.35:
            return C("GEOPOS", k, *self.members(1, 3))
        if r < 0.6:
            return C("GEOHASH", k, *self.members(1, 3))
        unit = [self.rng.choice(self.GEO_UNITS)] if self.rng.random() < 0.5 else []
        return C("GEODIST", k, self.member(), self.member(), *unit)

    def geo_shape(self):
        if self.rng.random() < 0.5:
            return [b"BYRADIUS", self.rng.choice(self.GEO_DISTS), self.rng.choice(self.GEO_UNITS)]
        return [b"BYBOX", self.rng.choice(self.GEO_DISTS), self.rng.choice(self.GEO_DISTS),
                self.rng.choice(self.GEO_UNITS)]

    def geo_from(self):
        if self.rng.random() < 0.5:
            return [b"FROMMEMBER", self.member()]
        return [b"FROMLONLAT", *self.geo_point()]

    def g_geosearch(self):
        opts, scan_order = self.geo_opts()
        parts = [self.geo_from(), self.geo_shape(), opts]
        if self.rng.random() < 0.1:
            self.rng.shuffle(parts)
        return C("GEOSEARCH", self.geo_key(), *[a for p in parts for a in p],
                 norm="unordered" if scan_order else "exact")

    def g_georadius(self):
        rng = self.rng
        name = rng.choice(["GEORADIUS", "GEORADIUS_RO", "GEORADIUSBYMEMBER",
                           "GEORADIUSBYMEMBER_RO"])
        center = list(self.geo_point()) if "MEMBER" not in name else [self.member()]
        opts, scan_order = self.geo_opts()
        return C(name, self.geo_key(), *center, rng.choice(self.GEO_DISTS),
                 rng.choice(self.GEO_UNITS), *opts, norm="unordered" if scan_order else "exact")

    def g_geostore(self):
        rng = self.rng
        opts, _ = self.geo_opts(store=True)
        if rng.random() < 0.5:
            dist = [b"STOREDIST"] if rng.random() < 0.5 else []
            # Destinations on the pool keys, so the geo keys stay populated.
            return C("GEOSEARCHSTORE", self.key(), self.geo_key(), *self.geo_from(),
                     *self.geo_shape(), *opts, *dist)
        name = rng.choice(["GEORADIUS", "GEORADIUSBYMEMBER"])
        center = list(self.geo_point()) if name == "GEORADIUS" else [self.member()]
        return C(name, self.geo_key(), *center, rng.choice(self.GEO_DISTS),
                 rng.choice(self.GEO_UNITS), *opts,
                 rng.choice([b"STORE", b"STOREDIST"]), self.key())

    def g_lpush(self):
        cmd = self.pick("LPUSH", "RPUSH", "LPUSH", "RPUSH", "LPUSHX", "RPUSHX")
        return C(cmd, self.key(), *[self.member() for _ in range(self.rng.randint(1, 3))])

    def g_lpop(self):
        cmd = self.pick("LPOP", "RPOP")
        return C(cmd, self.key(), *self.rng.choice([[], [], ["2"], ["0"], ["-1"]]))

    def g_lread(self):
        r = self.rng.random()
        if r < 0.4:
            return C("LRANGE", self.key(), self.pick("0", "1", "-2", "-100"),
                     self.pick("-1", "2", "0", "100"))
        if r < 0.6:
            return C("LINDEX", self.key(), self.pick("0", "-1", "1", "5"))
        if r < 0.75:
            return C("LLEN", self.key())
        return C("LPOS", self.key(), self.member(),
                 *self.rng.choice([[], ["RANK", "-1"], ["COUNT", "0"], ["RANK", "2", "COUNT", "2"],
                                   ["MAXLEN", "2"]]))

    def g_lwrite(self):
        r = self.rng.random()
        k = self.key()
        if r < 0.25:
            return C("LSET", k, self.pick("0", "-1", "3"), self.member())
        if r < 0.5:
            return C("LINSERT", k, self.pick("BEFORE", "AFTER"), self.member(), self.member())
        if r < 0.75:
            return C("LREM", k, self.pick("0", "1", "-1", "2"), self.member())
        return C("LTRIM", k, self.pick("0", "1", "-3"), self.pick("-1", "2", "0"))

    def g_lmove(self):
        r = self.rng.random()
        if r < 0.5:
            return C("LMOVE", self.key(), self.key(), self.pick("LEFT", "RIGHT"),
                     self.pick("LEFT", "RIGHT"))
        if r < 0.7:
            return C("RPOPLPUSH", self.key(), self.key())
        keys = self.keys(1, 3)
        return C("LMPOP", len(keys), *keys, self.pick("LEFT", "RIGHT"),
                 *self.rng.choice([[], ["COUNT", "2"]]))

    def g_lblock(self):
        # Blocking forms that never block in the stream: timeout 0.001s at
        # most (both servers answer null alike when nothing is there).
        keys = self.keys(1, 2)
        return C(self.pick("BLPOP", "BRPOP"), *keys, "0.001", norm="shape")

    # -- SORT, MOVE (pool keys: SORT meets every type; patterns name pool keys) --
    SORT_BY = [b"k*", b"n*", b"user:*", b"k*->f1", b"*", b"*->f0", b"w_*", b"k*->"]
    SORT_GET = [b"#", b"k*", b"n*->f0", b"k*->f1", b"*", b"nokey_*", b"#", b"\x00*"]
    SORT_LIMITS = [["0", "1"], ["1", "2"], ["-1", "3"], ["2", "-1"], ["10", "5"], ["0", "0"],
                   ["x", "1"], ["1", "100"]]

    def g_sort(self):
        """SORT/SORT_RO, options in any order. Compared exactly unless the
        order is a hash table's: BY nosort without STORE (a set's own
        order), and ALPHA by a pattern (equal or missing weights keep the
        input order, a hash table's for sets and sorted sets); those are
        compared unordered, without LIMIT (which would pick different
        members) or STORE. Numeric BY breaks ties by the element, so it
        stays exact. Some SORTs first add to their key (an RPUSH, SADD or
        ZADD). Every SORT comes right after a ZADD with an unparsable score
        (queued, see next()), which clears errno in Redis: its numeric SORT
        fails on an ERANGE left over from an earlier float parse (see
        fam_sort)."""
        rng = self.rng
        ro = rng.random() < 0.25
        store = not ro and rng.random() < 0.3
        norm = "exact"
        groups = []
        mode = rng.random()
        if mode < 0.2:
            groups.append([b"BY", b"nosort"])
            norm = "exact" if store else "unordered"
        elif mode < 0.35:
            groups += [[b"BY", rng.choice(self.SORT_BY)], [b"ALPHA"]]
            norm, store = "unordered", False
        elif mode < 0.6:
            groups.append([b"BY", rng.choice(self.SORT_BY)])
        elif rng.random() < 0.5:
            groups.append([b"ALPHA"])
        if rng.random() < 0.4:
            groups.append([rng.choice([b"DESC", b"ASC", b"desc"])])
        if norm == "exact" and rng.random() < 0.4:
            groups.append([b"LIMIT"] + rng.choice(self.SORT_LIMITS))
        for _ in range(rng.choice([0, 0, 1, 1, 2])):
            groups.append([b"GET", rng.choice(self.SORT_GET)])
        if store:
            groups.append([b"STORE", self.key()])
        rng.shuffle(groups)
        key = self.key()
        r = rng.random()
        if r < 0.15:    # most pool keys hold strings: give SORT collections to sort
            self.queued.append(C("RPUSH", key, *self.members(1, 4)))
        elif r < 0.25:
            self.queued.append(C("SADD", key, *self.members(1, 4)))
        elif r < 0.35:
            self.queued.append(C("ZADD", key, *sum([[self.score(), self.member()]
                                                     for _ in range(rng.randint(1, 3))], [])))
        self.queued.append(C("ZADD", "__errno", "abc", "x"))
        return C(b"SORT_RO" if ro else b"SORT", key, *sum(groups, []), norm=norm)

    def g_move(self):
        return C("MOVE", self.key(), self.rng.choice([0, 1, 2, 2, 1, 0, 3, 16, -1, b"x"]))

    # -- bitmaps (strings addressed bit by bit; small offsets for writes) --
    def bit_offset(self, write):
        if self.rng.random() < 0.9:
            return self.rng.randint(0, 700)
        if write:
            return self.pick(b"-1", b"4294967296", b"abc", b"", b"01")
        return self.pick(b"-1", b"4294967295", b"4294967296", b"abc", b"01")

    def bit_bound(self, bits):
        if self.rng.random() < 0.85:
            hi = 120 if bits else 15
            return self.rng.randint(-hi, hi)
        return self.pick(b"9223372036854775807", b"-9223372036854775808", b"abc", b"")

    def bit_unit(self):
        return self.rng.choice([[], [], [b"BIT"], [b"BYTE"], [b"bit"], [b"x"]])

    def g_setbit(self):
        bit = self.pick(b"0", b"1") if self.rng.random() < 0.92 else self.pick(b"2", b"-1", b"x")
        return C("SETBIT", self.key(), self.bit_offset(True), bit)

    def g_getbit(self):
        return C("GETBIT", self.key(), self.bit_offset(False))

    def g_bitcount(self):
        k = self.key()
        if self.rng.random() < 0.25:
            return C("BITCOUNT", k)
        unit = self.bit_unit()
        bits = bool(unit) and unit[0].upper() == b"BIT"
        return C("BITCOUNT", k, self.bit_bound(bits), self.bit_bound(bits), *unit)

    def g_bitpos(self):
        k = self.key()
        bit = self.pick(b"0", b"1") if self.rng.random() < 0.92 else self.pick(b"2", b"x")
        r = self.rng.random()
        if r < 0.25:
            return C("BITPOS", k, bit)
        if r < 0.45:
            return C("BITPOS", k, bit, self.bit_bound(False))
        unit = self.bit_unit()
        bits = bool(unit) and unit[0].upper() == b"BIT"
        return C("BITPOS", k, bit, self.bit_bound(bits), self.bit_bound(bits), *unit)

    def g_bitop(self):
        op = self.pick(b"AND", b"OR", b"XOR", b"NOT", b"and", b"xor")
        n = 1 if op == b"NOT" and self.rng.random() < 0.95 else self.rng.randint(1, 3)
        return C("BITOP", op, self.key(), *self.keys(n, n))

    def bf_type(self):
        if self.rng.random() < 0.05:
            return self.pick(b"u64", b"i65", b"u0", b"x8", b"I8", b"")
        sign = self.pick("i", "u")
        width = self.rng.choice([1, 2, 7, 8, 9, 16, 31, 32, 33, 63, 64 if sign == "i" else 63,
                                 self.rng.randint(1, 63)])
        return "%s%d" % (sign, width)

    def bf_offset(self, write):
        r = self.rng.random()
        if r < 0.15:
            return "#%d" % self.rng.randint(0, 20)
        if r < 0.2:
            return self.pick(b"-1", b"x", b"#-1", b"#") if write else \
                self.pick(b"-1", b"4294967295", b"#x")
        return self.rng.randint(0, 600)

    def bf_value(self):
        if self.rng.random() < 0.7:
            return self.rng.randint(-300, 300)
        return self.rng.choice(self.INTS)

    def g_bitfield(self):
        ro = self.rng.random() < 0.2
        args = [b"BITFIELD_RO" if ro else b"BITFIELD", self.key()]
        for _ in range(self.rng.randint(1, 4)):
            r = self.rng.random()
            if r < 0.35 or (ro and r < 0.9):
                args += [b"GET", self.bf_type(), self.bf_offset(False)]
            elif r < 0.85:
                args += [self.pick(b"SET", b"INCRBY", b"INCRBY"), self.bf_type(),
                         self.bf_offset(True), self.bf_value()]
            else:
                args += [b"OVERFLOW", self.pick(b"WRAP", b"SAT", b"FAIL", b"sat", b"x")]
        return C(*args)

    # -- HyperLogLog: a few dedicated keys (filled from a pool of 4000
    # elements, so they cross the sparse -> dense promotion), sometimes an
    # ordinary key, so HLLs meet other types and other string commands. --
    HLL_KEYS = [b"hll0", b"hll1", b"hll2"]

    def hll_key(self):
        return self.rng.choice(self.HLL_KEYS) if self.rng.random() < 0.75 else self.key()

    def g_pfadd(self):
        n = self.rng.choice([0, 1, 2, 5, 20, 100, 1000, 2000])
        return C("PFADD", self.hll_key(), *[b"e%d" % self.rng.randrange(4000) for _ in range(n)])

    def g_pfcount(self):
        r = self.rng.random()
        if r < 0.15:
            return C("GET", self.rng.choice(self.HLL_KEYS))
        return C("PFCOUNT", *[self.hll_key() for _ in range(1 if r < 0.7 else
                                                             self.rng.randint(2, 3))])

    def g_pfmerge(self):
        return C("PFMERGE", self.hll_key(), *[self.hll_key() for _ in range(self.rng.randint(0, 3))])

    def next(self):
        if self.queued:
            return self.queued.pop(0)
        gen = self.rng.choices(self.gens, weights=self.weights)[0]
        step = gen()
        r = self.rng.random()
        if step.norm == "exact" and len(step.args) > 1 and r < 0.02:
            step.args = step.args[:-1]             # arity / syntax errors
        elif step.norm == "exact" and r < 0.03:
            step.args = step.args + [self.value()]  # extra argument
        if self.rng.random() < 0.1:               # command names are case-insensitive
            step.args[0] = bytes(c ^ 0x20 if self.rng.random() < 0.5 and 65 <= c <= 90 else c
                                 for c in step.args[0])
        if self.queued:                           # a generator's prelude runs first,
            self.queued.append(step)              # unchanged (g_sort)
            return self.queued.pop(0)
        return step


_REPLY_KIND = {b"+": "status", b"-": "error", b":": "integer", b"$": "bulk", b"*": "array",
               b"_": "null", b"%": "map", b",": "double", b"~": "set"}


class RandomRunner:
    """Runs a stream of steps against a Pair, pipelining batchable steps."""

    LCS_MAX_LEN = 400

    def __init__(self, pair, batch_size):
        self.pair = pair
        self.batch_size = batch_size
        self.divergences = []
        self.history = []  # (index, step) of every command, for context
        self.count = 0
        self.lcs_skipped = 0
        self.aborted = None  # why the stream stopped early (transport error)
        self.reply_kinds = {}  # first byte of Redis's replies -> count
        self.db = 0
        self.proto = 2

    def _track(self, step, ref_raw):
        if isinstance(ref_raw, bytes) and ref_raw:
            kind = _REPLY_KIND.get(ref_raw[:1], "other")
            if ref_raw in (b"$-1\r\n", b"*-1\r\n"):
                kind = "null"
            self.reply_kinds[kind] = self.reply_kinds.get(kind, 0) + 1
        name = step.args[0].upper()
        if name == b"SELECT" and ref_raw == b"+OK\r\n":
            self.db = int(step.args[1])
        elif name == b"HELLO" and isinstance(ref_raw, bytes) and ref_raw[:1] in b"%*":
            self.proto = 3 if ref_raw[:1] == b"%" else 2

    def _record(self, idx, step, ref, lat, reason):
        self.divergences.append({
            "index": idx, "db": self.db, "proto": self.proto, "cmd": fmt_args(step.args),
            "ref": fmt_reply(ref) if not isinstance(ref, tuple) else repr(ref)[:300],
            "lat": fmt_reply(lat) if not isinstance(lat, tuple) else repr(lat)[:300],
            "reason": reason,
        })

    def flush(self, batch):
        if not batch:
            return
        payload = b"".join(encode_command(*s.args) for _, s in batch)
        self.pair.ref.send_raw(payload)
        self.pair.lat.send_raw(payload)
        refs = self._read_n(self.pair.ref, len(batch))
        lats = self._read_n(self.pair.lat, len(batch))
        for (idx, step), ref, lat in zip(batch, refs, lats):
            reason = transport_failure(ref, lat) or compare_plain(step, ref, lat)
            if reason:
                self._record(idx, step, ref, lat, reason)
            if isinstance(ref, TransportError) or isinstance(lat, TransportError):
                # Which replies belong to which command is unknown from here
                # on: the stream cannot go on.
                self.aborted = "stream stopped at command #%d: %s" % (idx, reason)
                break
            self._track(step, ref)
        batch.clear()

    def _read_n(self, conn, n):
        """n replies; after a transport error the rest are that error too
        (the connection is closed or out of step)."""
        out = []
        while len(out) < n:
            r = self.pair._read(conn)
            if isinstance(r, TransportError):
                return out + [r] * (n - len(out))
            out.append(r)
        return out

    def run_sync(self, idx, step):
        if step.norm == "lcs":
            k1, k2 = step.args[1], step.args[2]
            lens = [self.pair.both(b"STRLEN", k) for k in (k1, k2)]
            for r, lt in lens:
                failure = transport_failure(r, lt)
                if failure:
                    self._record(idx, C("STRLEN", k1, k2), r, lt, failure)
                    self.aborted = "stream stopped at command #%d: %s" % (idx, failure)
                    return
                if r != lt:
                    self._record(idx, C("STRLEN", k1, k2), r, lt, "STRLEN before LCS differs")
                    return
                node = _safe_parse(r)
                if node is None or node[0] != ":" or node[1] > self.LCS_MAX_LEN:
                    self.lcs_skipped += 1
                    return
            step = Step(step.args)
        ref, lat, reason = self.pair.run_step(step)
        if reason:
            self._record(idx, step, ref, lat, reason)
        if isinstance(ref, TransportError) or isinstance(lat, TransportError):
            self.aborted = "stream stopped at command #%d: %s" % (idx, reason)
            return
        self._track(step, ref)

    def run(self, gen, n):
        batch = []
        for idx in range(n):
            step = gen.next()
            self.history.append(step)
            if step.norm in ("scan", "randomkey", "lcs", "cscan"):
                self.flush(batch)
                self.run_sync(idx, step)
            else:
                batch.append((idx, step))
                if len(batch) >= self.batch_size:
                    self.flush(batch)
            self.count += 1
            if len(self.divergences) >= MAX_DIVERGENCES or self.aborted:
                break
        if not self.aborted:
            self.flush(batch)

    def final_state(self):
        """Compares every key of databases 0-2: KEYS, GET, PTTL (approx)."""
        for db in range(3):
            for step in [C("SELECT", db), C("KEYS", "*", norm="sorted")]:
                ref, lat, reason = self.pair.run_step(step)
                if reason:
                    self._record("final", step, ref, lat, reason)
            node = _safe_parse(self.pair.ref.call(b"KEYS", b"*"))
            keys = [x[1] for x in node[1]] if node and node[0] in "*~" and node[1] else []
            for k in sorted(keys):
                for step in [C("TYPE", k), C("OBJECT", "ENCODING", k), C("GET", k),
                             C("HGETALL", k, norm="pairs"), C("SMEMBERS", k, norm="unordered"),
                             C("LRANGE", k, "0", "-1"),
                             C("ZRANGE", k, "0", "-1", "WITHSCORES"),
                             C("PTTL", k, norm="approx", tol=RANDOM_TOL_MS)]:
                    ref, lat, reason = self.pair.run_step(step)
                    if reason:
                        self._record("final", step, ref, lat, reason)

    def report(self, seed):
        lines = []
        for d in self.divergences[:MAX_REPORTED]:
            lines.append("#%s [db %s, RESP%s] %s\n    redis:   %s\n    lattice: %s\n    (%s)"
                         % (d["index"], d["db"], d["proto"], d["cmd"], d["ref"], d["lat"],
                            d["reason"]))
            if isinstance(d["index"], int) and d is self.divergences[0]:
                start = max(0, d["index"] - 8)
                ctx = "\n".join("      %d: %s" % (i, fmt_args(self.history[i].args))
                                for i in range(start, d["index"]))
                lines.append("    preceding commands:\n" + ctx)
        more = len(self.divergences) - MAX_REPORTED
        if more > 0:
            lines.append("... and %d more" % more)
        if self.aborted:
            lines.append(self.aborted)
        lines.append("reproduce with LATTICE_SEED=%d" % seed)
        return "\n".join(lines)


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------

SERVERS = {}


def setUpModule():
    harness.raise_nofile_limit(4096)
    ref = harness.Server(harness.redis_server_path(), [("databases", 16)], kind="redis",
                         name="redis")
    unittest.addModuleCleanup(ref.stop)
    ref.start()
    lat = harness.Server(harness.lattice_server_path(), [("databases", 16)], name="lattice")
    unittest.addModuleCleanup(lat.stop)
    lat.start()
    SERVERS["ref"], SERVERS["lat"] = ref, lat
    print("reference: %s on port %d; under test: %s on port %d"
          % (ref.binary, ref.port, lat.binary, lat.port))


class DifferentialBase(unittest.TestCase):
    maxDiff = None

    def new_pair(self):
        pair = Pair(SERVERS["ref"], SERVERS["lat"])
        self.addCleanup(pair.close)
        ref, lat = pair.both(b"FLUSHALL")
        self.assertEqual((ref, lat), (b"+OK\r\n", b"+OK\r\n"), "FLUSHALL failed")
        return pair

    def check_servers_alive(self):
        for name in ("ref", "lat"):
            srv = SERVERS[name]
            self.assertTrue(srv.alive(), "%s died; log:\n%s" % (srv.name, srv.log_tail()))


class FamilyTests(DifferentialBase):
    def run_family(self, name):
        steps = FAMILIES[name]()
        pair = self.new_pair()
        if name == "wrongtype":
            # The one expected skip: Lattice has strings only. Skipped only
            # on exactly Redis's unknown-command reply, so a server that
            # knows LPUSH (or answers anything else) runs the family.
            probe = pair.lat.call(b"LPUSH", b"__probe", b"x")
            pair.both(b"DEL", b"__probe")
            if probe == (b"-ERR unknown command 'LPUSH', with args beginning with: "
                         b"'__probe' 'x' \r\n"):
                self.skipTest("server under test has no list type (LPUSH unknown)")
        problems = []
        for i, step in enumerate(steps):
            ref, lat, reason = pair.run_step(step)
            if step.expect is not None and ref != step.expect:
                problems.append("step %d %s: TEST BUG: Redis replied %s, the case expects %s"
                                % (i, fmt_args(step.args), fmt_reply(ref), fmt_reply(step.expect)))
            if reason:
                problems.append("step %d %s: %s\n    redis:   %s\n    lattice: %s"
                                % (i, fmt_args(step.args), reason, fmt_reply(ref) if not
                                   isinstance(ref, tuple) else repr(ref)[:300],
                                   fmt_reply(lat) if not isinstance(lat, tuple)
                                   else repr(lat)[:300]))
            if isinstance(ref, TransportError) or isinstance(lat, TransportError):
                # Connection lost or hung (already a problem, see run_step):
                # reconnect so later steps still run.
                problems.append("  (reconnecting after a transport error)")
                pair.close()
                pair = Pair(SERVERS["ref"], SERVERS["lat"])
                self.addCleanup(pair.close)
        self.check_servers_alive()
        if problems:
            self.fail("%d of %d steps diverge in family %r:\n%s"
                      % (sum(1 for p in problems if p.startswith("step")), len(steps), name,
                         "\n".join(problems[:40])))


def _make_family_test(name):
    def test(self):
        self.run_family(name)
    test.__name__ = "test_family_" + name
    test.__doc__ = "family %s" % name
    return test


for _name in FAMILIES:
    setattr(FamilyTests, "test_family_" + _name, _make_family_test(_name))


class RandomStreamTest(DifferentialBase):
    def restore_limits(self):
        pair = Pair(SERVERS["ref"], SERVERS["lat"])
        pair.both(b"CONFIG", b"SET", b"hash-max-listpack-entries", b"128")
        pair.both(b"CONFIG", b"SET", b"set-max-intset-entries", b"512")
        pair.both(b"CONFIG", b"SET", b"zset-max-listpack-entries", b"128")
        pair.close()

    def test_random_stream(self):
        seed_env = os.environ.get("LATTICE_SEED")
        seed = int(seed_env) if seed_env else random.SystemRandom().randrange(1 << 32)
        n = int(os.environ.get("LATTICE_RANDOM_COUNT", str(RANDOM_COUNT)))
        batch = int(os.environ.get("LATTICE_BATCH", str(RANDOM_BATCH)))
        print("\nrandom stream: seed=%d commands=%d batch=%d (LATTICE_SEED=%d to reproduce)"
              % (seed, n, batch, seed))
        sys.stdout.flush()
        pair = self.new_pair()
        # Small encoding thresholds, so collections convert from listpack /
        # intset to hash tables within the stream.
        for conf in ([b"hash-max-listpack-entries", b"5"], [b"set-max-intset-entries", b"6"],
                     [b"zset-max-listpack-entries", b"6"]):
            r, lt = pair.both(b"CONFIG", b"SET", *conf)
            self.assertEqual((r, lt), (b"+OK\r\n", b"+OK\r\n"), "CONFIG SET %r" % conf)
        self.addCleanup(self.restore_limits)
        rng = random.Random(seed)
        gen = RandomGen(rng, int(time.time()))
        runner = RandomRunner(pair, batch)
        started = time.monotonic()
        runner.run(gen, n)
        if len(runner.divergences) < MAX_DIVERGENCES and not runner.aborted:
            runner.final_state()
        print("random stream: %d commands in %.1fs, %d LCS skipped (long strings), "
              "%d divergences" % (runner.count, time.monotonic() - started,
                                  runner.lcs_skipped, len(runner.divergences)))
        print("random stream replies (Redis): %s" % ", ".join(
            "%d %s" % (n, k) for k, n in sorted(runner.reply_kinds.items(), key=lambda kv: -kv[1])))
        self.check_servers_alive()
        if runner.divergences:
            self.fail("random stream diverged (seed %d):\n%s" % (seed, runner.report(seed)))


if __name__ == "__main__":
    harness.main()
