#!/usr/bin/python3
"""Replication and membership basics on a 3-node cluster.

Asserted:
- a SET on node 1 is readable on node 3 within REPL_BOUND seconds;
- INCR on each of the three nodes: every node ends up reading 3 (counter
  contributions from different nodes add up);
- LATTICE NODES on every node lists the three members alive, itself as
  `myself` and the two others connected with no backlog; INFO replication
  has every documented field with sane values (role, member counts,
  sequence, deltas applied, lag quantiles, one peer line per peer);
- WAIT 2 1000 after a write returns 2;
- a node stopped with SIGTERM is seen `left` by both others within seconds;
- a node killed with SIGKILL is seen `suspect`, then `dead` (never dead
  without having been suspect first), and after a restart with the same
  directory and node id `alive` again with a higher incarnation, replicating
  in both directions.

Environment: LATTICE_SERVER (see harness.py).
"""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from cluster import ClusterTestCase, POLL  # noqa: E402

REPL_BOUND = 5.0        # seconds for a write to reach another node
MEMBERSHIP_BOUND = 10.0  # seconds for a membership change to be seen
# Documented timing: suspect after failed direct + indirect probes (probe
# every 400 ms), dead after 2.5 s of suspicion.
SUSPECT_TIMEOUT = 2.5

PEER_FIELDS = ("name", "id", "addr", "state", "connected", "acked_seq", "backlog", "lag_ms",
               "sent", "received", "applied", "rejected", "needs_repair")


class ReplicationTest(ClusterTestCase):
    def test_set_on_one_node_is_read_on_another(self):
        """SET on node 1 reaches node 3 within REPL_BOUND; an overwrite and
        a DEL on node 3 reach node 1 as well."""
        with self.cluster(3) as c:
            self.assertTrue(c.r(1).set("greeting", "hello"))
            started = time.monotonic()
            c.wait_value("greeting", "hello", timeout=REPL_BOUND, nodes=[3])
            sys.stdout.write("replicated 1 -> 3 in %.3fs\n" % (time.monotonic() - started))
            c.wait_value("greeting", "hello", timeout=REPL_BOUND, nodes=[2])
            c.r(3).set("greeting", "bye")
            c.wait_value("greeting", "bye", timeout=REPL_BOUND)
            self.assertEqual(c.r(3).delete("greeting"), 1)
            c.wait_value("greeting", None, timeout=REPL_BOUND)

    def test_incr_on_every_node_sums(self):
        """INCR once on each node (concurrent counter contributions) and
        INCRBY 10 / DECRBY 4 on two of them: every node reads 9."""
        with self.cluster(3) as c:
            for i in (1, 2, 3):
                c.r(i).incr("hits")
            c.wait_value("hits", "3", timeout=REPL_BOUND)
            c.r(1).incrby("hits", 10)
            c.r(2).decrby("hits", 4)
            c.wait_value("hits", "9", timeout=REPL_BOUND)
            c.wait_converged(REPL_BOUND)

    def test_nodes_and_info_replication(self):
        """LATTICE NODES and INFO replication agree with the cluster's
        shape, before and after writes."""
        with self.cluster(3) as c:
            names = {"node1", "node2", "node3"}
            for i in (1, 2, 3):
                with self.subTest(node=i):
                    ms = c.members(i)
                    self.assertEqual(set(ms), names)
                    me = c.node(i)
                    for m in ms.values():
                        self.assertEqual(m.state, "alive", m)
                        self.assertEqual(m.zone, "default", m)
                        self.assertGreater(m.incarnation, 0, m)
                        self.assertEqual(m.client_addr,
                                         c.node(int(m.name[4:])).addr, m)
                        self.assertEqual(m.peer_addr,
                                         c.node(int(m.name[4:])).peer_addr, m)
                        if m.name == me.name:
                            self.assertTrue(m.myself, m)
                        else:
                            self.assertTrue(m.connected, m)
                            self.assertEqual(m.backlog, 0, m)
                            self.assertFalse(m.needs_repair, m)
                    # Node ids are the same whoever reports them.
                    ids = {n: m.id for n, m in ms.items()}
                    self.assertEqual(ids, {n: m.id for n, m in c.members(1).items()})

            for k in range(20):
                c.r(1 + k % 3).set("k%d" % k, k)
            c.wait_converged(REPL_BOUND)

            for i in (1, 2, 3):
                with self.subTest(node=i):
                    info = c.node(i).info_replication()
                    self.assertEqual(info["role"], "master")
                    self.assertEqual(info["lattice_members"], 3)
                    self.assertEqual(info["lattice_members_alive"], 3)
                    self.assertEqual(info["lattice_peers_connected"], 2)
                    self.assertIsInstance(info["lattice_repl_seq"], int)
                    self.assertGreater(info["lattice_repl_seq"], 0)
                    # 20 writes, 6 or 7 of them made here: the rest applied.
                    own = len([k for k in range(20) if 1 + k % 3 == i])
                    self.assertEqual(info["lattice_deltas_applied"], 20 - own, info)
                    self.assertEqual(info["lattice_causal_waits"], 0)
                    p50 = info["lattice_repl_lag_p50_us"]
                    p99 = info["lattice_repl_lag_p99_us"]
                    self.assertGreater(p50, 0)
                    self.assertLessEqual(p50, p99)
                    self.assertLess(p99, REPL_BOUND * 1e6)
                    peers = [v for k, v in info.items() if k.startswith("peer")]
                    self.assertEqual(len(peers), 2, info)
                    self.assertEqual({p["name"] for p in peers}, names - {c.node(i).name})
                    for p in peers:
                        self.assertEqual(set(PEER_FIELDS) - set(p), set(), p)
                        self.assertEqual(p["addr"], c.node(int(p["name"][4:])).peer_addr)
                        self.assertEqual(p["state"], "alive", p)
                        self.assertEqual(p["connected"], 1, p)
                        self.assertEqual(p["backlog"], 0, p)
                        self.assertEqual(p["needs_repair"], 0, p)
                        self.assertEqual(p["rejected"], 0, p)
                        self.assertEqual(p["sent"], own, p)
                        self.assertEqual(p["acked_seq"], info["lattice_repl_seq"], p)
                        peer_own = len([k for k in range(20)
                                        if 1 + k % 3 == int(p["name"][4:])])
                        self.assertEqual(p["applied"], peer_own, p)
                        self.assertGreaterEqual(p["received"], p["applied"], p)

    def test_prometheus_endpoint(self):
        """With metrics-port set, /metrics serves the command counters and
        latency histogram, per-peer replication counters that match the
        writes made, and one member-state gauge per member."""
        import urllib.request
        metrics_port = harness.free_port()
        with self.cluster(3, node_args={1: ["--metrics-port", str(metrics_port)]}) as c:
            for i in range(25):
                c.r(1).set("m%d" % i, "v")
            c.wait_value("m24", "v", timeout=REPL_BOUND, nodes=[2, 3])
            self.assertEqual(c.r(1).execute_command("WAIT", 2, 5000), 2)
            url = "http://%s:%d/metrics" % (c.node(1).host, metrics_port)
            text = urllib.request.urlopen(url, timeout=10).read().decode()
            lines = text.splitlines()

            def value(prefix):
                for line in lines:
                    if line.startswith(prefix):
                        return float(line.rsplit(" ", 1)[1])
                self.fail("no metric line starting with %r in:\n%s" % (prefix, text))

            self.assertGreaterEqual(value('lattice_commands_total{cmd="set"}'), 25)
            self.assertGreaterEqual(
                value('lattice_command_duration_seconds_count{cmd="set"}'), 25)
            self.assertIn('lattice_command_duration_seconds_bucket{cmd="set",le="+Inf"}', text)
            for peer in (2, 3):
                name = c.node(peer).name
                self.assertGreaterEqual(
                    value('lattice_peer_deltas_sent_total{peer="%s"}' % name), 25)
                self.assertEqual(value('lattice_peer_connected{peer="%s"}' % name), 1)
                self.assertEqual(value('lattice_peer_backlog_deltas{peer="%s"}' % name), 0)
                self.assertIn('lattice_peer_replication_lag_seconds_count{peer="%s"}' % name,
                              text)
            self.assertEqual(text.count("lattice_member_state{"), 3)
            self.assertEqual(value("lattice_keys"), 25)

    def test_hotkeys_lists_the_most_read_keys(self):
        """LATTICE HOTKEYS on a node lists the keys read there, most read
        first, with counts that never undercount the reads made."""
        with self.cluster(3) as c:
            for k in ("hot", "warm", "cold"):
                c.r(1).set(k, "v")
            pipe = c.r(1).pipeline(transaction=False)
            for _ in range(300):
                pipe.get("hot")
            for _ in range(30):
                pipe.get("warm")
            pipe.get("cold")
            pipe.execute()
            reply = c.r(1).execute_command("LATTICE", "HOTKEYS")
            if isinstance(reply, list):
                reply = dict(zip(reply[::2], reply[1::2]))
            ranked = sorted(reply.items(), key=lambda kv: -int(kv[1]))
            self.assertEqual(ranked[0][0], "hot")
            self.assertEqual(ranked[1][0], "warm")
            # Decay halves counts every 5 s, so allow one halving.
            self.assertGreaterEqual(int(reply["hot"]), 150)

    def test_wait_counts_acknowledging_peers(self):
        """After a write, WAIT 2 1000 returns 2 (both peers acknowledged),
        and WAIT 3 100 cannot return more than the 2 peers there are."""
        with self.cluster(3) as c:
            c.r(1).set("w", "1")
            self.assertEqual(c.r(1).execute_command("WAIT", 2, 1000), 2)
            c.r(2).incr("w2")
            self.assertEqual(c.r(2).execute_command("WAIT", 2, 1000), 2)
            self.assertEqual(c.r(2).execute_command("WAIT", 3, 100), 2)
            self.assertEqual(c.r(3).get("w"), "1")
            self.assertEqual(c.r(1).get("w2"), "1")

    def test_sigterm_leaves_the_cluster(self):
        """A node stopped with SIGTERM exits 0 and both others see it
        `left` within MEMBERSHIP_BOUND; they keep replicating between
        themselves."""
        with self.cluster(3) as c:
            self.assertEqual(c.stop(2), 0)
            for i in (1, 3):
                c.wait_member_state(i, 2, "left", MEMBERSHIP_BOUND)
            c.r(1).set("after", "x")
            c.wait_value("after", "x", timeout=REPL_BOUND, nodes=[3])
            for i in (1, 3):
                info = c.node(i).info_replication()
                self.assertEqual(info["lattice_members_left"], 1, info)
                self.assertEqual(info["lattice_members_alive"], 2, info)

    def test_sigkill_suspect_dead_then_restart_alive(self):
        """SIGKILL node 3: nodes 1 and 2 see it `suspect` and then `dead`
        (observed in that order); restarted, it is `alive` again on both with
        a higher incarnation and replicates both ways."""
        with self.cluster(3) as c:
            before = c.members(1)["node3"].incarnation
            c.r(1).set("before", "1")
            c.wait_value("before", "1", timeout=REPL_BOUND)
            killed = time.monotonic()
            c.kill(3)
            seen = {1: [], 2: []}  # states in the order each observer saw them
            deadline = killed + MEMBERSHIP_BOUND + SUSPECT_TIMEOUT
            while time.monotonic() < deadline and not all(
                    s and s[-1] == "dead" for s in seen.values()):
                for i in (1, 2):
                    st = c.member_state(i, 3)
                    if not seen[i] or seen[i][-1] != st:
                        seen[i].append(st)
                time.sleep(POLL)
            sys.stdout.write("after SIGKILL: %s (%.1fs)\n" % (seen, time.monotonic() - killed))
            for i in (1, 2):
                self.assertEqual(seen[i][-1], "dead", "node%d saw %s" % (i, seen[i]))
                self.assertIn("suspect", seen[i], "node%d saw %s" % (i, seen[i]))
                self.assertLess(seen[i].index("suspect"), seen[i].index("dead"), seen[i])
                self.assertEqual(set(seen[i]), {"alive", "suspect", "dead"}, seen[i])

            c.restart(3)
            for i in (1, 2):
                m = c.wait_member_state(i, 3, "alive", MEMBERSHIP_BOUND)
                self.assertGreater(m.incarnation, before, m)
            c.wait_healthy(MEMBERSHIP_BOUND)
            c.r(3).set("from3", "y")
            c.wait_value("from3", "y", timeout=REPL_BOUND)
            c.r(2).set("from2", "z")
            c.wait_value("from2", "z", timeout=REPL_BOUND)
            # Written before the kill by another node: replayed to node 3.
            c.wait_value("before", "1", timeout=REPL_BOUND, nodes=[3])


if __name__ == "__main__":
    harness.main()
