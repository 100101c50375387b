#!/usr/bin/python3
"""Generates node/command_meta.cc: Redis 7.0.15's command metadata (ACL
categories, command flags, tips, key specs and COMMAND DOCS: summary, since,
group, complexity, doc_flags, deprecated_since, replaced_by, history,
arguments) for every Redis 7.0.15 command, plus the few Lattice has that 7.0.15
lacks.

How node/command_meta.cc was produced (and how to regenerate it):

    redis-server --port 7430 --save '' --daemonize yes   # Debian's 7.0.15
    /usr/bin/python3 tests/tools/gen_command_meta.py --port 7430 \\
        > node/command_meta.cc     # formatted with clang-format if installed
    redis-cli -p 7430 shutdown nosave

The script asks the running redis-server (RESP3) for COMMAND INFO and
COMMAND DOCS of every command and keeps all of them, subcommands included,
not only those node/command_table.cc has rows for today: rows for other
Redis commands are being added (sorted sets, bitmaps...), and each finds
its metadata here by full name without anyone editing this table.
Commands Redis 7.0.15 does not know get hand-written entries (EXTRA below):
the Lattice-only LATTICE container, and CLIENT SETINFO (Redis 7.2).

Before emitting, the script checks that each reply map has its fields in the
order node/families/server_family.cc prints them, so the C++ printer
reproduces Redis's bytes; it fails loudly otherwise. Do not edit
node/command_meta.cc by hand: change this script and regenerate.
"""

import argparse
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.dont_write_bytecode = True
from harness import RespClient, parse_reply  # noqa: E402

# Redis's ACL categories, in the order Redis prints them (ACLCommandCategories).
ACL = ["keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
       "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
       "dangerous", "connection", "transaction", "scripting"]
ACL_ENUM = {c: "kAcl" + {"sortedset": "SortedSet", "hyperloglog": "HyperLogLog",
                         "pubsub": "PubSub"}.get(c, c.capitalize()) for c in ACL}

# Command flags as Redis 7.0 prints them (addReplyFlagsForCommand order).
FLAGS = ["write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript", "blocking",
         "loading", "stale", "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth",
         "no_mandatory_keys", "no_async_loading", "no_multi", "movablekeys", "allow_busy"]
KS_FLAGS = ["RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key",
            "incomplete", "variable_flags"]
ARG_TYPES = ["string", "integer", "double", "key", "pattern", "unix-time", "pure-token",
             "oneof", "block"]
ARG_FLAGS = ["optional", "multiple", "multiple_token"]
DOC_FLAGS = ["deprecated", "syscmd"]

DOC_ORDER = ["summary", "since", "group", "complexity", "doc_flags", "deprecated_since",
             "replaced_by", "history", "arguments", "subcommands"]
ARG_ORDER = ["name", "type", "key_spec_index", "token", "summary", "since",
             "deprecated_since", "flags", "arguments"]

# Commands redis-server 7.0.15 does not know: same shape as parsed ones.
# LATTICE categories (our choice, modeled on CLUSTER's subcommands): the
# container and the read-only views are @slow (like CLUSTER, CLUSTER NODES,
# CLUSTER KEYSLOT); HOTKEYS lists other clients' key names and FORGET /
# REPAIR change cluster state, so they are @admin @slow @dangerous (like
# CLUSTER FORGET).
def _lattice(name, cats, summary, complexity, args=()):
    return {"name": name, "redis": False, "acl": cats, "flags": None, "tips": [],
            "key_specs": [],
            "docs": {"summary": summary, "since": "0.1.0", "group": "server",
                     "complexity": complexity, "arguments": list(args)}}


EXTRA = [
    _lattice("lattice", ["slow"], "A container for Lattice cluster commands.",
             "Depends on subcommand."),
    _lattice("lattice|forget", ["admin", "slow", "dangerous"],
             "Removes a member that will not come back.", "O(N) where N is the number of members.",
             [{"name": "node-id", "type": "string"}]),
    _lattice("lattice|help", ["slow"], "Returns helpful text about the different subcommands.",
             "O(1)"),
    _lattice("lattice|hotkeys", ["admin", "slow", "dangerous"],
             "Returns the most read keys of this node.",
             "O(N) where N is the number of keys tracked."),
    _lattice("lattice|nodes", ["slow"], "Returns the cluster members as this node sees them.",
             "O(N) where N is the number of members."),
    _lattice("lattice|repair", ["admin", "slow", "dangerous"],
             "Runs one anti-entropy round with a member.",
             "O(N) where N is the number of keys that differ.",
             [{"name": "node-id", "type": "string"}]),
    _lattice("lattice|where", ["slow"], "Returns the members holding a key.",
             "O(N) where N is the number of members.", [{"name": "key", "type": "string"}]),
    # CLIENT SETINFO arrived in Redis 7.2; values from Redis 7.2's
    # src/commands/client-setinfo.json (flags NOSCRIPT LOADING STALE, ACL
    # CONNECTION plus the implied @slow, no tips; 7.0.15 cannot be asked).
    {"name": "client|setinfo", "redis": False, "acl": ["slow", "connection"],
     "flags": ["noscript", "loading", "stale"],
     "tips": [], "key_specs": [],
     "docs": {"summary": "Sets information specific to the client or connection.",
              "since": "7.2.0", "group": "connection", "complexity": "O(1)",
              "arguments": [{"name": "attr", "type": "oneof", "arguments": [
                  {"name": "libname", "type": "string", "token": "lib-name"},
                  {"name": "libver", "type": "string", "token": "lib-ver"}]}]}},
]


def s(node):
    return node[1].decode()


def as_map(node):
    assert node[0] == "%", node
    return [(s(k), v) for k, v in node[1]]


def check_order(keys, order, what):
    pos = [order.index(k) for k in keys]  # ValueError: a field we do not print
    if pos != sorted(pos):
        raise SystemExit("%s: unexpected field order %r" % (what, keys))


def parse_key_spec(node, what):
    m = as_map(node)
    keys = [k for k, _ in m]
    check_order(keys, ["notes", "flags", "begin_search", "find_keys"], what)
    d = dict(m)
    ks = {"notes": s(d["notes"]) if "notes" in d else "",
          "flags": [s(x) for x in d["flags"][1]]}
    assert d["flags"][0] == "~"
    bs = dict(as_map(d["begin_search"]))
    ks["begin"] = s(bs["type"])
    spec = as_map(bs["spec"])
    if ks["begin"] == "index":
        assert [k for k, _ in spec] == ["index"], spec
        ks["index"] = spec[0][1][1]
    elif ks["begin"] == "keyword":
        assert [k for k, _ in spec] == ["keyword", "startfrom"], spec
        ks["keyword"], ks["startfrom"] = s(spec[0][1]), spec[1][1][1]
    else:
        assert ks["begin"] == "unknown" and not spec, (what, bs)
    fk = dict(as_map(d["find_keys"]))
    ks["find"] = s(fk["type"])
    spec = as_map(fk["spec"])
    names = [k for k, _ in spec]
    if ks["find"] == "range":
        assert names == ["lastkey", "keystep", "limit"], spec
    elif ks["find"] == "keynum":
        assert names == ["keynumidx", "firstkey", "keystep"], spec
    else:
        assert ks["find"] == "unknown" and not spec, (what, fk)
    for k, v in spec:
        ks[k] = v[1]
    return ks


def parse_info(node):
    assert node[0] == "*" and len(node[1]) == 10, node
    v = node[1]
    name = s(v[0])
    assert v[2][0] == "~" and v[6][0] == "~" and v[7][0] == "~" and v[8][0] == "~"
    assert v[9][0] == ("*" if v[9][1] else "~"), name
    flags = [s(x) for x in v[2][1]]
    for f in flags:
        assert f in FLAGS, (name, f)
    cats = [s(x)[1:] for x in v[6][1]]
    assert [ACL.index(c) for c in cats] == sorted(ACL.index(c) for c in cats), (name, cats)
    for x in v[7][1]:
        assert x[0] == "$"
    cmd = {"name": name, "redis": True, "flags": flags, "acl": cats,
           "arity": v[1][1], "first": v[3][1], "last": v[4][1], "step": v[5][1],
           "tips": [s(x) for x in v[7][1]],
           "key_specs": [parse_key_spec(x, name) for x in v[8][1]],
           "subs": [parse_info(x) for x in v[9][1]]}
    return cmd


def parse_args(node, what):
    assert node[0] == "*"
    out = []
    for a in node[1]:
        m = as_map(a)
        check_order([k for k, _ in m], ARG_ORDER, what)
        d = {}
        for k, v in m:
            if k == "key_spec_index":
                d[k] = v[1]
            elif k == "flags":
                assert v[0] == "~"
                d[k] = [s(x) for x in v[1]]
                for f in d[k]:
                    assert f in ARG_FLAGS, (what, f)
            elif k == "arguments":
                d[k] = parse_args(v, what)
            else:
                assert v[0] == "$", (what, k, v)
                d[k] = s(v)
        assert d["type"] in ARG_TYPES, (what, d["type"])
        out.append(d)
    return out


def parse_docs(name, node):
    m = as_map(node)
    check_order([k for k, _ in m], DOC_ORDER, name)
    d = {}
    for k, v in m:
        if k == "doc_flags":
            assert v[0] == "~"
            d[k] = [s(x) for x in v[1]]
            for f in d[k]:
                assert f in DOC_FLAGS, (name, f)
        elif k == "history":
            assert v[0] == "~"
            d[k] = [(s(x[1][0]), s(x[1][1])) for x in v[1]]
        elif k == "arguments":
            d[k] = parse_args(v, name)
        elif k == "subcommands":
            d[k] = [(s(kk), parse_docs(s(kk), vv)) for kk, vv in v[1]]
        else:
            assert v[0] == "$", (name, k, v)
            d[k] = s(v)
    return d


def fetch(port):
    c = RespClient("127.0.0.1", port, timeout=30)
    c.call("HELLO", "3")
    version = dict((s(k), v) for k, v in parse_reply(c.call("HELLO", "3"))[1])["version"][1]
    info = [parse_info(x) for x in parse_reply(c.call("COMMAND", "INFO"))[1]]
    docs = dict((s(k), parse_docs(s(k), v)) for k, v in parse_reply(c.call("COMMAND", "DOCS"))[1])
    return version.decode(), info, docs


# ---------------------------------------------------------------- C++ output

def cstr(x):
    out = []
    for ch in x:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif 32 <= ord(ch) < 127:
            out.append(ch)
        else:
            out.append("\\x%02x" % ord(ch))
    return '"' + "".join(out) + '"'


def bits(names, prefix_map):
    return " | ".join(prefix_map[n] for n in names) if names else "0"


FLAG_ENUM = {f: "kRf" + "".join(p.capitalize() for p in f.split("_")) for f in FLAGS}
KS_ENUM = {f: "kKs" + ("".join(p.capitalize() for p in f.split("_")) if f.islower() else f)
           for f in KS_FLAGS}
ARGF_ENUM = {f: "kArg" + "".join(p.capitalize() for p in f.split("_")) for f in ARG_FLAGS}
DOCF_ENUM = {"deprecated": "kDocDeprecated", "syscmd": "kDocSyscmd"}
TYPE_ENUM = {"string": "kString", "integer": "kInteger", "double": "kDouble", "key": "kKey",
             "pattern": "kPattern", "unix-time": "kUnixTime", "pure-token": "kPureToken",
             "oneof": "kOneof", "block": "kBlock"}
BEGIN_ENUM = {"index": "kIndex", "keyword": "kKeyword", "unknown": "kUnknown"}
FIND_ENUM = {"range": "kRange", "keynum": "kKeynum", "unknown": "kUnknown"}


class Emitter:
    def __init__(self):
        self.decls = []
        self.n = 0

    def ident(self, base):
        self.n += 1
        return "%s%d" % (base, self.n)

    def args(self, args):
        if not args:
            return "{}"
        items = []
        for a in args:
            sub = self.args(a.get("arguments", []))
            fields = [".name = %s" % cstr(a["name"]), ".type = ArgType::%s" % TYPE_ENUM[a["type"]]]
            if "key_spec_index" in a:
                fields.append(".key_spec_index = %d" % a["key_spec_index"])
            for k in ("token", "summary", "since", "deprecated_since"):
                if k in a:
                    fields.append(".%s = %s" % (k, cstr(a[k])))
            if a.get("flags"):
                fields.append(".flags = %s" % bits(a["flags"], ARGF_ENUM))
            if sub != "{}":
                fields.append(".args = %s" % sub)
            items.append("    {%s}," % ", ".join(fields))
        name = self.ident("kArgs")
        self.decls.append("constexpr CommandArg %s[] = {\n%s\n};" % (name, "\n".join(items)))
        return name

    def strings(self, xs):
        if not xs:
            return "{}"
        name = self.ident("kTips")
        self.decls.append("constexpr std::string_view %s[] = {%s};"
                          % (name, ", ".join(cstr(x) for x in xs)))
        return name

    def history(self, h):
        if not h:
            return "{}"
        name = self.ident("kHistory")
        self.decls.append("constexpr HistoryEntry %s[] = {\n%s\n};" % (name, "\n".join(
            "    {%s, %s}," % (cstr(v), cstr(t)) for v, t in h)))
        return name

    def key_specs(self, specs):
        if not specs:
            return "{}"
        items = []
        for k in specs:
            f = [".flags = %s" % bits(k["flags"], KS_ENUM)]
            if k["notes"]:
                f.append(".notes = %s" % cstr(k["notes"]))
            f.append(".begin = KeySpec::Begin::%s" % BEGIN_ENUM[k["begin"]])
            if k["begin"] == "index":
                f.append(".index = %d" % k["index"])
            elif k["begin"] == "keyword":
                f += [".keyword = %s" % cstr(k["keyword"]), ".startfrom = %d" % k["startfrom"]]
            f.append(".find = KeySpec::Find::%s" % FIND_ENUM[k["find"]])
            if k["find"] == "range":
                f += [".lastkey = %d" % k["lastkey"], ".keystep = %d" % k["keystep"],
                      ".limit = %d" % k["limit"]]
            elif k["find"] == "keynum":
                f += [".keystep = %d" % k["keystep"], ".keynumidx = %d" % k["keynumidx"],
                      ".firstkey = %d" % k["firstkey"]]
            items.append("    {%s}," % ", ".join(f))
        name = self.ident("kKeySpecs")
        self.decls.append("constexpr KeySpec %s[] = {\n%s\n};" % (name, "\n".join(items)))
        return name

    def meta(self, cmd, docs):
        f = [".fullname = %s" % cstr(cmd["name"]), ".redis = %s" % str(cmd["redis"]).lower()]
        f.append(".acl = %s" % bits(cmd["acl"], ACL_ENUM))
        if cmd["flags"] is not None:
            f.append(".flags = %s" % bits(cmd["flags"], FLAG_ENUM))
            f.append(".has_flags = true")
        for field, val in (("tips", self.strings(cmd["tips"])),
                           ("key_specs", self.key_specs(cmd["key_specs"]))):
            if val != "{}":
                f.append(".%s = %s" % (field, val))
        for k in ("summary", "since", "group", "complexity"):
            if k in docs:
                f.append(".%s = %s" % (k, cstr(docs[k])))
        if "complexity" in docs:
            f.append(".has_complexity = true")
        if docs.get("doc_flags"):
            f.append(".doc_flags = %s" % bits(docs["doc_flags"], DOCF_ENUM))
        for k in ("deprecated_since", "replaced_by"):
            if k in docs:
                f.append(".%s = %s" % (k, cstr(docs[k])))
        h = self.history(docs.get("history"))
        if h != "{}":
            f.append(".history = %s" % h)
        if docs.get("arguments"):
            f.append(".args = %s" % self.args(docs["arguments"]))
            f.append(".has_args = true")
        return "    {%s}," % ",\n     ".join(f)


TAIL = r"""std::string_view AclCategoryName(int bit) {
  static constexpr std::string_view kNames[kAclCategoryCount] = {
      "keyspace", "read", "write", "set",   "sortedset",  "list",       "hash",
      "string",   "bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin",
      "fast",     "slow", "blocking", "dangerous", "connection", "transaction", "scripting"};
  return bit >= 0 && bit < kAclCategoryCount ? kNames[bit] : std::string_view();
}

std::string_view RedisFlagName(int bit) {
  static constexpr std::string_view kNames[kRedisFlagCount] = {
      "write",   "readonly",     "denyoom",      "module",   "admin",
      "pubsub",  "noscript",     "blocking",     "loading",  "stale",
      "skip_monitor", "skip_slowlog", "asking", "fast",    "no_auth",
      "no_mandatory_keys", "no_async_loading", "no_multi", "movablekeys", "allow_busy"};
  return bit >= 0 && bit < kRedisFlagCount ? kNames[bit] : std::string_view();
}

std::string_view KeySpecFlagName(int bit) {
  static constexpr std::string_view kNames[kKeySpecFlagCount] = {
      "RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key", "incomplete",
      "variable_flags"};
  return bit >= 0 && bit < kKeySpecFlagCount ? kNames[bit] : std::string_view();
}

std::string_view ArgTypeName(ArgType t) {
  switch (t) {
    case ArgType::kString: return "string";
    case ArgType::kInteger: return "integer";
    case ArgType::kDouble: return "double";
    case ArgType::kKey: return "key";
    case ArgType::kPattern: return "pattern";
    case ArgType::kUnixTime: return "unix-time";
    case ArgType::kPureToken: return "pure-token";
    case ArgType::kOneof: return "oneof";
    case ArgType::kBlock: return "block";
  }
  return "";
}

std::string_view ArgFlagName(int bit) {
  static constexpr std::string_view kNames[kArgFlagCount] = {"optional", "multiple",
                                                             "multiple_token"};
  return bit >= 0 && bit < kArgFlagCount ? kNames[bit] : std::string_view();
}

std::string_view DocFlagName(int bit) {
  static constexpr std::string_view kNames[kDocFlagCount] = {"deprecated", "syscmd"};
  return bit >= 0 && bit < kDocFlagCount ? kNames[bit] : std::string_view();
}

std::span<const CommandMeta> AllCommandMeta() { return kCommandMeta; }

const CommandMeta* FindMeta(std::string_view fullname) {
  std::span<const CommandMeta> all = kCommandMeta;
  auto it = std::lower_bound(
      all.begin(), all.end(), fullname,
      [](const CommandMeta& m, std::string_view n) { return m.fullname < n; });
  return it != all.end() && it->fullname == fullname ? &*it : nullptr;
}

const CommandMeta* MetaOf(const CommandId& cmd) {
  return cmd.meta ? cmd.meta : FindMeta(cmd.fullname);
}

}  // namespace lattice::node
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=7430)
    opts = ap.parse_args()
    version, info, docs = fetch(opts.port)
    chosen = list(info)
    chosen.sort(key=lambda c: c["name"])
    em = Emitter()
    rows = []
    for c in chosen:
        d = docs[c["name"]]
        rows.append((c["name"], em.meta(c, d)))
        subdocs = dict(d.get("subcommands", []))
        assert sorted(subdocs) == sorted(x["name"] for x in c["subs"]), c["name"]
        for sub in sorted(c["subs"], key=lambda x: x["name"]):
            assert not sub["subs"]
            rows.append((sub["name"], em.meta(sub, subdocs[sub["name"]])))
    for e in EXTRA:
        rows.append((e["name"], em.meta(e, e["docs"])))
    rows.sort(key=lambda r: r[0].encode())
    assert len(set(r[0] for r in rows)) == len(rows), "duplicate fullname"
    out = [
        "// GENERATED by tests/tools/gen_command_meta.py from redis-server %s" % version,
        "// (COMMAND INFO / COMMAND DOCS over RESP3), plus hand-written entries in the",
        "// script for commands Redis %s does not know. Do not edit: see the script's" % version,
        "// header for how to regenerate.",
        '#include "node/command_meta.h"',
        "",
        "#include <algorithm>",
        "",
        '#include "node/command.h"',
        "",
        "namespace lattice::node {",
        "",
        "namespace {",
        "",
    ]
    out += em.decls
    out += ["", "}  // namespace", "",
            "// Sorted by fullname (FindMeta binary-searches it).",
            "const CommandMeta kCommandMeta[] = {"]
    out += [r[1] for r in rows]
    out += ["};", "", TAIL]
    text = "\n".join(out)
    # Formatted as the rest of the tree (.clang-format) when clang-format is
    # installed; the content is the same either way.
    clang_format = shutil.which("clang-format")
    if clang_format:
        text = subprocess.run([clang_format, "--assume-filename=node/command_meta.cc"],
                              input=text, capture_output=True, text=True, check=True,
                              cwd=ROOT).stdout
    sys.stdout.write(text)
    sys.stderr.write("%d entries (%d top-level Redis commands), %d hand-written\n"
                     % (len(rows), len(chosen), len(EXTRA)))


if __name__ == "__main__":
    main()
