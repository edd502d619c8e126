#!/bin/bash
# last_change.sh BINARY PORT FEATURES [STORE_URL]: seeds a store with FEATURES features (5 users
# each, across the five stages, one history event each) through `ramp import`, serves it, and
# prints the median of 7 requests of the feature list with and without `with=last_change`.
# STORE_URL defaults to a fresh SQLite file; a PostgreSQL URL must name an empty schema.
set -eu
source "$(dirname "$0")/seeded_server.sh"
bin=$(realpath "$1"); port=$2; count=$3; dir=$(mktemp -d)
store=${4:-sqlite://$dir/bench.db}
seed_export "$count" listed > "$dir/export.json"
serve_seeded "$bin" "$store" "$port" "$dir"
median() {
  for _ in $(seq 7); do
    curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $token" "$1"
  done | sort -n | sed -n 4p
}
echo "features=$count list: $(median "http://127.0.0.1:$port/api/v1/features") s"
echo "features=$count list with=last_change: $(median "http://127.0.0.1:$port/api/v1/features?with=last_change") s"
