#!/bin/bash
# last_change.sh BINARY PORT FEATURES [STORE_URL]: seeds a store with FEATURES features (5 users
# each, across the five stages, one history event each) through `ramp import`, serves it, and
# prints the median of 7 requests of the feature list with and without `with=last_change`.
# STORE_URL defaults to a fresh SQLite file; a PostgreSQL URL must name an empty schema.
set -eu
bin=$(realpath "$1"); port=$2; count=$3; dir=$(mktemp -d)
store=${4:-sqlite://$dir/bench.db}
python3 - "$count" > "$dir/export.json" <<'PY'
import json, sys
count = int(sys.argv[1])
stages = ["development", "beta", "rolling_out", "everyone", "graduated"]
features = [{"name": f"feature-{i:05}", "percentage": i % 101, "stage": stages[i % 5],
             "users": [f"user-{i}-{u}" for u in range(5)], "data": {"description": f"flag {i}"}}
            for i in range(count)]
print(json.dumps({"format": "ramp-export", "version": 1,
                  "exported_at": "2026-01-01T00:00:00Z", "features": features, "groups": []}))
PY
"$bin" --store "$store" import "$dir/export.json" > /dev/null
RAMP_LOG=warn "$bin" --store "$store" serve --bind 127.0.0.1:$port > "$dir/out.txt" 2>&1 &
server=$!
trap 'kill $server; rm -rf "$dir"' EXIT
for _ in $(seq 80); do grep -q 'ramp_' "$dir/out.txt" 2>/dev/null && break; sleep 0.25; done
token=$(grep -o 'ramp_[0-9a-f]*' "$dir/out.txt" | head -1)
median() {
  for _ in $(seq 7); do
    curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $token" "$1"
  done | sort -n | sed -n 4p
}
echo "features=$count list: $(median "http://127.0.0.1:$port/api/v1/features") s"
echo "features=$count list with=last_change: $(median "http://127.0.0.1:$port/api/v1/features?with=last_change") s"
