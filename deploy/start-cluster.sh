#!/usr/bin/env bash
# Builds lattice-server and starts an N-node cluster on this machine, one
# process per node, each on its own loopback address (127.0.0.1 .. 127.0.0.N)
# with the same client port, so `redis-cli -h 127.0.0.2` talks to node 2.
# Node 1 is every other node's seed. Runs in the foreground; Ctrl-C stops
# every node (they leave the cluster gracefully).
#
#   deploy/start-cluster.sh [--nodes N] [--replicas R|all] [--port P]
#                           [--consistency eventual|causal] [--dir D]
#                           [-- extra lattice-server overrides]
#
# Data dirs and logs go to D (default /tmp/lattice-cluster): D/nodeI/lattice.log.
# Node I serves RESP on 127.0.0.I:P (default 6379), peers on P+10000 and
# Prometheus metrics on 127.0.0.I:9121. Odd nodes are in zone-a, even in zone-b.
# Each key lives on R nodes (default 3; `all`: every node holds every key).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
nodes=3
port=6379
consistency=eventual
replicas=3
dir=/tmp/lattice-cluster
extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --nodes) nodes="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --consistency) consistency="$2"; shift 2 ;;
    --replicas) replicas="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
if ! [[ "$nodes" =~ ^[0-9]+$ ]] || (( nodes < 1 || nodes > 200 )); then
  echo "--nodes must be between 1 and 200" >&2
  exit 2
fi

"$root/deploy/install-deps.sh"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
ninja -C "$root/build" -j"${LATTICE_JOBS:-2}" lattice-server
server="$root/build/node/lattice-server"

pids=()
stop() {
  trap - INT TERM EXIT
  if ((${#pids[@]})); then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap stop INT TERM EXIT

seed="127.0.0.1:$((port + 10000))"
for i in $(seq 1 "$nodes"); do
  mkdir -p "$dir/node$i"
  zone=zone-a
  (( i % 2 == 0 )) && zone=zone-b
  "$server" --bind "127.0.0.$i" --port "$port" --dir "$dir/node$i" --node-id "node$i" \
    --zone "$zone" --seeds "$seed" --consistency "$consistency" --replicas "$replicas" --metrics-port 9121 \
    --logfile "$dir/node$i/lattice.log" "${extra[@]}" &
  pids+=($!)
done

# Wait until node 1 sees every member alive.
for _ in $(seq 1 100); do
  alive=$(redis-cli -h 127.0.0.1 -p "$port" lattice nodes 2>/dev/null | grep -c " alive " || true)
  [[ "$alive" == "$nodes" ]] && break
  sleep 0.1
done
redis-cli -h 127.0.0.1 -p "$port" lattice nodes
echo "cluster of $nodes up: redis-cli -h 127.0.0.I -p $port (I = 1..$nodes); logs in $dir/nodeI/lattice.log"
echo "Ctrl-C stops it."
wait -n "${pids[@]}" || true
echo "a node exited; stopping the cluster" >&2
