#!/bin/bash
# ui_latency.sh BINARY PORT [STORE_URL]: the web UI's two hot requests at 10,000 features (5
# users each, across the five stages; feature-00000 with 100,000 users, as in the browser
# test), served by BINARY: the median of 7 of
#   - a search keystroke on the Features screen (what features.js sends: the first page of 100
#     with last change, stage time and health), matching every feature and matching one;
#   - a stage move as the board sends it (PUT .../stage with If-Match), alternating two stages;
#   - a move followed at once by the search (what a list right after one's own write costs).
# STORE_URL defaults to a fresh SQLite file; a PostgreSQL URL must name an empty schema.
set -eu
source "$(dirname "$0")/seeded_server.sh"
bin=$(realpath "$1"); port=$2; dir=$(mktemp -d)
store=${3:-sqlite://$dir/bench.db}
seed_export 10000 listed | python3 -c '
import json, sys
export = json.load(sys.stdin)
export["features"][0]["users"] = [f"user-{i}" for i in range(100000)]
json.dump(export, sys.stdout)' > "$dir/export.json"
serve_seeded "$bin" "$store" "$port" "$dir"
base="http://127.0.0.1:$port/api/v1"
keystroke() {
  curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $token" \
    "$base/features?search=$1&sort=name&offset=0&limit=100&with=last_change,stage_since,health"
}
stage=development
current_version() {
  curl -s -H "Authorization: Bearer $token" "$base/features/feature-00001" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])'
}
move() { # read first (untimed): the loops below run in subshells
  local version; version=$(current_version)
  stage=$([ "$stage" = beta ] && echo development || echo beta)
  curl -s -o /dev/null -w '%{time_total}\n' -X PUT -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -H "If-Match: \"$version\"" \
    -d "{\"stage\": \"$stage\"}" "$base/features/feature-00001/stage"
}
median() { sort -n | sed -n 4p; }
keystroke fea > /dev/null # the first request pays for lazily made state
echo "search 'fea' (10,000 match): $(for _ in $(seq 7); do keystroke fea; done | median) s"
echo "search 'feature-01234' (1 match): $(for _ in $(seq 7); do keystroke feature-01234; done | median) s"
echo "stage move: $(for _ in $(seq 7); do move; sleep 0.2; done | median) s"
echo "stage move then search 'fea': $(for _ in $(seq 7); do
  move > "$dir/move.txt"; echo "$(cat "$dir/move.txt") $(keystroke fea)" | awk '{print $1 + $2}'
  sleep 0.2; done | median) s"
