#!/bin/bash
# compare.sh BINARY PORT: OFREP single flag and /healthz at 64 connections for 10 s each, the
# server pinned to core 0 and wrk to core 1; prints requests/s (run it for two builds in turn).
set -u
bin=$(realpath "$1"); port=$2; dir=$(mktemp -d)
(cd $dir && RAMP_LOG=warn taskset -c 0 $bin --store sqlite://$dir/bench.db serve --bind 127.0.0.1:$port > out.txt 2>&1 &)
for _ in $(seq 40); do grep -q 'ramp_' $dir/out.txt 2>/dev/null && break; sleep 0.25; done
token=$(grep -o 'ramp_[0-9a-f]*' $dir/out.txt | head -1)
curl -s -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '{"name":"checkout","percentage":50}' http://127.0.0.1:$port/api/v1/features > /dev/null
RAMP_TOKEN=$token taskset -c 1 wrk -t1 -c64 -d10s --latency -s "$(dirname "$0")/ofrep.lua" http://127.0.0.1:$port/ofrep/v1/evaluate/flags/checkout | grep -E "Requests/sec|50%|99%|Non-2xx"
taskset -c 1 wrk -t1 -c64 -d10s --latency http://127.0.0.1:$port/healthz | grep -E "Requests/sec|Non-2xx"
pkill -f "serve --bind 127.0.0.1:$port"
