# Sourced by the bench scripts: seed_export COUNT KIND prints a `ramp import` document of COUNT
# features (KIND plain: percentages only; listed: 5 users and a data key each) across the five
# stages; serve_seeded BINARY STORE_URL PORT DIR imports DIR/export.json into the store, starts
# `ramp serve` in the background (killed, and DIR removed, on exit) and sets $token to the
# admin token it printed.

seed_export() {
  python3 - "$1" "$2" <<'PY'
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
}

serve_seeded() {
  local bin=$1 store=$2 port=$3 dir=$4
  "$bin" --store "$store" import "$dir/export.json" > /dev/null
  RAMP_LOG=warn "$bin" --store "$store" serve --bind "127.0.0.1:$port" > "$dir/out.txt" 2>&1 &
  local server=$!
  # shellcheck disable=SC2064 # expanded now, on purpose
  trap "kill $server; rm -rf '$dir'" EXIT
  for _ in $(seq 80); do grep -q 'ramp_' "$dir/out.txt" 2>/dev/null && break; sleep 0.25; done
  token=$(grep -o 'ramp_[0-9a-f]*' "$dir/out.txt" | head -1)
}
