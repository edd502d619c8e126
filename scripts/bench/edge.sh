#!/bin/bash
# edge.sh [DURATION] [KIND]: Ramp's OFREP side by side with Unleash Edge (offline mode), the same
# flags in both. For 5 and 350 flags (scripts/bench/seeded_server.sh's `seed_export COUNT KIND`,
# KIND listed by default: 5 listed users each; plain: percentages only), Edge gets a bootstrap
# file made from the same export (userWithId for the listed users, then flexibleRollout at the
# same percentage with stickiness userId). wrk (same threads, connections and DURATION, default
# 10s, one fixed user) then asks both, each server pinned to core 0 and wrk to core 1:
#   single flag: Ramp POST /ofrep/v1/evaluate/flags/NAME, Edge GET /api/frontend/features/NAME
#   all flags:   Ramp POST /ofrep/v1/evaluate/flags,      Edge GET /api/frontend/all (every flag)
#   and, as the issue named it, Edge GET /api/frontend (enabled flags only) against Ramp's bulk.
# Prints one table line per case: requests/s of both, Ramp / Edge, and each answer's size.
# Needs wrk, curl, jq, python3, taskset; installs Edge (`cargo install unleash-edge
# --no-default-features --locked`) when `unleash-edge` (its binary) is not on PATH or in ~/.cargo/bin, and builds
# the release `ramp` binary when target/release/ramp (or $RAMP_BIN) is missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$here/seeded_server.sh"

duration=${1:-10s}
kind=${2:-listed}
connections=${CONNECTIONS:-32}
user=user-1-0          # listed for feature-00001 in `listed`, bucketed for every other flag
single_flag=feature-00004
ramp_port=4471
edge_port=4472
edge_client_token='*:development.ramp-bench-client'
edge_frontend_token='*:development.ramp-bench-frontend'

ramp_bin=${RAMP_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/ramp}
if [ ! -x "$ramp_bin" ]; then
  (cd "$root" && cargo build --release -p ramp-cli --bin ramp)
fi
edge_bin=$(command -v unleash-edge || echo "$HOME/.cargo/bin/unleash-edge")
if [ ! -x "$edge_bin" ]; then
  cargo install unleash-edge --no-default-features --locked
  edge_bin=$HOME/.cargo/bin/unleash-edge
fi

dir=$(mktemp -d)
servers=()
cleanup() {
  for pid in "${servers[@]}"; do kill "$pid" 2> /dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

# Unleash's client features document for a `ramp import` document: same names, same
# percentages, the same listed users, strategies in Ramp's order (the list, then the bucket).
# One groupId for every flag: like Ramp (without `randomize`), a user has one bucket for all
# flags. The hashes differ (Ramp: the rollout gem's CRC32; Unleash: MurmurHash3), so a user's
# bucket, and which flags it gets, differ between the two.
edge_bootstrap() {
  python3 - "$1" <<'PY'
import json, sys
export = json.load(open(sys.argv[1]))
def strategies(feature):
    listed = [{"name": "userWithId", "constraints": [],
               "parameters": {"userIds": ",".join(feature["users"])}}] if feature["users"] else []
    return listed + [{"name": "flexibleRollout", "constraints": [],
                      "parameters": {"rollout": str(feature["percentage"]),
                                     "stickiness": "userId", "groupId": "ramp"}}]
print(json.dumps({"version": 2, "features": [
    {"name": f["name"], "type": "release", "project": "default", "enabled": True,
     "stale": False, "impressionData": False, "strategies": strategies(f)}
    for f in export["features"]]}))
PY
}

# Polls URL (with curl's extra arguments) until it answers 200, for at most 20 s.
wait_for_200() {
  local url=$1; shift
  for _ in $(seq 80); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$@" "$url")" = 200 ] && return 0
    sleep 0.25
  done
  echo "no 200 from $url within 20 s" >&2
  return 1
}

ramp_curl() {
  curl -sf -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"context\":{\"targetingKey\":\"$user\"}}" "$@"
}
edge_curl() { curl -sf -H "Authorization: $edge_frontend_token" "$@"; }

# Fails the run unless both servers answer 200 with the flags expected; prints how many flags
# each turns on for the user (their percentage buckets hash differently, so these may differ).
check_answers() {
  local count=$1 ramp=http://127.0.0.1:$ramp_port edge=http://127.0.0.1:$edge_port
  [ "$(ramp_curl "$ramp/ofrep/v1/evaluate/flags/$single_flag" | jq -r .key)" = "$single_flag" ]
  [ "$(edge_curl "$edge/api/frontend/features/$single_flag?userId=$user" | jq -r .name)" = "$single_flag" ]
  [ "$(ramp_curl "$ramp/ofrep/v1/evaluate/flags" | jq '.flags | length')" = "$count" ]
  [ "$(edge_curl "$edge/api/frontend/all?userId=$user" | jq '.toggles | length')" = "$count" ]
  local ramp_on edge_on edge_enabled
  ramp_on=$(ramp_curl "$ramp/ofrep/v1/evaluate/flags" | jq '[.flags[] | select(.value == true)] | length')
  edge_on=$(edge_curl "$edge/api/frontend/all?userId=$user" | jq '[.toggles[] | select(.enabled)] | length')
  edge_enabled=$(edge_curl "$edge/api/frontend?userId=$user" | jq '.toggles | length')
  [ "$edge_on" = "$edge_enabled" ]
  echo "# $count flags, on for $user: Ramp $ramp_on, Edge $edge_on"
}

# Requests/s of one wrk run (wrk pinned to core 1); fails on any non-2xx answer.
run_wrk() {
  local out
  out=$(taskset -c 1 wrk -t1 "-c$connections" "-d$duration" "$@")
  if grep -q 'Non-2xx' <<< "$out"; then echo "$out" >&2; return 1; fi
  awk '/Requests\/sec/ { printf "%d", $2 }' <<< "$out"
}

ramp_rate() {
  RAMP_TOKEN=$token RAMP_USER=$user run_wrk -s "$here/ofrep_fixed_user.lua" "$1"
}
edge_rate() { run_wrk -H "Authorization: $edge_frontend_token" "$1"; }

# One table line: CASE, Ramp's URL, Edge's URL.
compare() {
  local name=$1 ramp_url=$2 edge_url=$3 ramp_rps edge_rps ramp_bytes edge_bytes
  ramp_rps=$(ramp_rate "$ramp_url")
  edge_rps=$(edge_rate "$edge_url")
  ramp_bytes=$(ramp_curl -o /dev/null -w '%{size_download}' "$ramp_url")
  edge_bytes=$(edge_curl -o /dev/null -w '%{size_download}' "$edge_url")
  printf '| %s | %s | %s | %s | %s× | %s | %s | %s |\n' "$count" "$name" "$ramp_rps" \
    "$edge_rps" "$(awk -v a="$ramp_rps" -v b="$edge_rps" 'BEGIN { printf "%.2f", a / b }')" \
    "$ramp_bytes" "$edge_bytes" "$(cut -d' ' -f1-3 /proc/loadavg)"
}

echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# $(cargo install --list | grep -m1 "^unleash-edge" | tr -d :), ramp $ramp_bin, wrk -t1 -c$connections -d$duration, $kind flags"
echo "| flags | case | Ramp requests/s | Edge requests/s | Ramp / Edge | Ramp bytes | Edge bytes | load (1/5/15 min) |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for count in 5 350; do
  mkdir -p "$dir/$count"
  seed_export "$count" "$kind" > "$dir/$count/export.json"
  edge_bootstrap "$dir/$count/export.json" > "$dir/$count/bootstrap.json"
  store=sqlite://$dir/$count/bench.db
  "$ramp_bin" --store "$store" import "$dir/$count/export.json" > /dev/null
  RAMP_LOG=warn taskset -c 0 "$ramp_bin" --store "$store" serve --bind "127.0.0.1:$ramp_port" \
    > "$dir/$count/ramp.txt" 2>&1 &
  servers+=($!)
  RUST_LOG=warn taskset -c 0 "$edge_bin" --port "$edge_port" --interface 127.0.0.1 offline \
    --bootstrap-file "$dir/$count/bootstrap.json" --client-tokens "$edge_client_token" \
    --frontend-tokens "$edge_frontend_token" > "$dir/$count/edge.txt" 2>&1 &
  servers+=($!)
  wait_for_200 "http://127.0.0.1:$ramp_port/healthz"
  for _ in $(seq 40); do grep -q 'ramp_' "$dir/$count/ramp.txt" && break; sleep 0.25; done
  token=$(grep -o 'ramp_[0-9a-f]*' "$dir/$count/ramp.txt" | head -1)
  wait_for_200 "http://127.0.0.1:$edge_port/api/frontend/all?userId=$user" \
    -H "Authorization: $edge_frontend_token"
  check_answers "$count" >&2

  ramp=http://127.0.0.1:$ramp_port/ofrep/v1/evaluate/flags
  edge=http://127.0.0.1:$edge_port/api/frontend
  compare "single flag" "$ramp/$single_flag" "$edge/features/$single_flag?userId=$user"
  compare "all flags (Edge /all)" "$ramp" "$edge/all?userId=$user"
  compare "all flags (Edge enabled only)" "$ramp" "$edge?userId=$user"

  for pid in "${servers[@]}"; do kill "$pid" || true; wait "$pid" 2> /dev/null || true; done
  servers=()
done
