#!/bin/bash
# propagation.sh RAMP_BINARY CLIENT_PROPAGATION_EXAMPLE PORT FEATURES [plain|listed]: seeds a
# fresh SQLite store with FEATURES features through `ramp import` (plain: percentage only;
# listed, the default: 5 users and a data key each), serves it, and runs the client
# propagation example against it (100 changes, each waited for by a client on the stream).
# Build first: cargo build --release -p ramp-cli --bin ramp
#              cargo build --release -p ramp-client --example client_propagation
set -eu
bin=$(realpath "$1"); example=$(realpath "$2"); port=$3; count=$4; kind=${5:-listed}
dir=$(mktemp -d)
store=sqlite://$dir/bench.db
python3 - "$count" "$kind" > "$dir/export.json" <<'PY'
import json, sys
count, kind = int(sys.argv[1]), sys.argv[2]
stages = ["development", "beta", "rolling_out", "everyone", "graduated"]
def feature(i):
    listed = kind != "plain"
    return {"name": f"feature-{i:05}", "percentage": i % 101, "stage": stages[i % 5],
            "users": [f"user-{i}-{u}" for u in range(5)] if listed else [],
            "data": {"description": f"flag {i}"} if listed else {}}
print(json.dumps({"format": "ramp-export", "version": 1, "exported_at": "2026-01-01T00:00:00Z",
                  "features": [feature(i) for i in range(count)], "groups": []}))
PY
"$bin" --store "$store" import "$dir/export.json" > /dev/null
RAMP_LOG=warn "$bin" --store "$store" serve --bind 127.0.0.1:$port > "$dir/out.txt" 2>&1 &
server=$!
trap 'kill $server; rm -rf "$dir"' EXIT
for _ in $(seq 80); do grep -q 'ramp_' "$dir/out.txt" 2>/dev/null && break; sleep 0.25; done
token=$(grep -o 'ramp_[0-9a-f]*' "$dir/out.txt" | head -1)
uptime
"$example" "http://127.0.0.1:$port" "$token"
uptime
