#!/bin/bash
# propagation.sh RAMP_BINARY CLIENT_PROPAGATION_EXAMPLE PORT FEATURES [plain|listed]: seeds a
# fresh SQLite store with FEATURES features through `ramp import` (plain: percentage only;
# listed, the default: 5 users and a data key each), serves it, and runs the client
# propagation example against it (100 changes, each waited for by a client on the stream).
# Build first: cargo build --release -p ramp-cli --bin ramp
#              cargo build --release -p ramp-client --example client_propagation
set -eu
source "$(dirname "$0")/seeded_server.sh"
bin=$(realpath "$1"); example=$(realpath "$2"); port=$3; count=$4; kind=${5:-listed}
dir=$(mktemp -d)
seed_export "$count" "$kind" > "$dir/export.json"
serve_seeded "$bin" "sqlite://$dir/bench.db" "$port" "$dir"
uptime
"$example" "http://127.0.0.1:$port" "$token"
uptime
