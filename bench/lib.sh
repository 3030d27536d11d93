# What the benchmark's scripts share (sourced, not run): the workloads that more than one of
# them drives, driving a load with wrk, and the pinned layout in which CPU per request is
# read from /proc.
#
# The pinned layout: the GraphQL server under test on core 0, PostgreSQL and wrk on core 1,
# so that the server's CPU time per request is its own and comparable between servers.

CLK_TCK="$(getconf CLK_TCK)"

# The read workloads that more than one script drives: ours (W1-W3, W5) and PostGraphile's
# equivalents of W1-W3 and W7, in its own names (P1-P3, P7).
W1='query W1 { organisation(slug: "bench-org-0042") { name city website } }'
W2='query W2 { organisations(first: 50, orderBy: { field: NAME, direction: ASC }) { nodes { name dialogues(first: 10) { nodes { title heldOn authorities { name } } } } } }'
W3='query W3 { proposals(first: 20, filter: { status: SUBMITTED }, orderBy: { field: UPDATED_AT, direction: DESC }) { nodes { title updatedAt leadOrganisation { name } } } }'
W5='query W5 { goals(first: 20) { nodes { title target progress { current ratio reached complete } } } }'
P1='{ organisationBySlug(slug: "bench-org-0042") { name city website } }'
P2='{ allOrganisations(first: 50, orderBy: NAME_ASC) { nodes { name dialoguesByDialogueOrganisationOrganisationIdAndDialogueId(first: 10, orderBy: HELD_ON_DESC) { nodes { title heldOn authoritiesByDialogueAuthorityDialogueIdAndAuthorityId { nodes { name } } } } } } }'
P3='{ allProposals(first: 20, condition: { status: "SUBMITTED" }, orderBy: UPDATED_AT_DESC) { nodes { title updatedAt organisationByLeadOrganisationId { name } } } }'
P7='{ organisationBySlug(slug: "bench-org-0042") { name city dialoguesByDialogueOrganisationOrganisationIdAndDialogueId(first: 5, orderBy: HELD_ON_DESC) { nodes { title heldOn } } } }'

# A wrk script that POSTs one GraphQL body (JSON-encoded by Python), with an optional bearer
# token. A query may write its quotes as \" (bench/run's, which it also sends with curl).
wrk_script() { # file query variables-json token
    python3 -c '
import json, sys
path, query, variables = sys.argv[1], sys.argv[2].replace("\\\"", "\""), json.loads(sys.argv[3])
token = sys.argv[4] if len(sys.argv) > 4 else ""
body = json.dumps({"query": query, "variables": variables})
lines = ["wrk.method = \"POST\"", "wrk.headers[\"Content-Type\"] = \"application/json\"", "wrk.body = " + json.dumps(body)]
if token:
    lines.append("wrk.headers[\"Authorization\"] = \"Bearer " + token + "\"")
open(path, "w").write("\n".join(lines) + "\n")
' "$@"
}

# Runs wrk and prints: requests/s p50_ms p99_ms non-2xx requests
drive() { # script-or-"" url connections [path]
    local out script=()
    out="$(mktemp "$WORK/wrk.XXXXXX")"
    if [ -n "$1" ]; then script=(-s "$1"); fi
    ${WRK_PREFIX:-} wrk -t2 -c"$3" -d"$DURATION" --latency "${script[@]}" "$2${4:-/graphql}" > "$out"
    awk '
        /Requests\/sec/ { rps = $2 }
        /requests in/ { total = $1 }
        /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
        /Non-2xx/ { bad = $5 }
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        END { printf "%.0f %.2f %.2f %s %s\n", rps, ms(p50), ms(p99), (bad == "" ? 0 : bad), total }' "$out"
}

# CPU ticks (user + system) of a process and all its threads.
process_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# CPU ticks of the PostgreSQL server: every postgres process, plus the children the
# postmaster has already reaped (backends that ended).
postgres_ticks() {
    local total=0 pid postmaster
    postmaster="$(pgrep -o -x postgres || true)"
    for pid in $(pgrep -x postgres); do
        total=$((total + $(process_ticks "$pid")))
    done
    if [ -n "$postmaster" ]; then
        total=$((total + $(awk '{ print $16 + $17 }' "/proc/$postmaster/stat")))
    fi
    echo "$total"
}

# Pins a process and its threads to the given cores.
pin() { taskset -a -p -c "$2" "$1" >/dev/null; }
pin_postgres() { # cores
    local pid
    for pid in $(pgrep -x postgres); do pin "$pid" "$1"; done
}

# Drives a workload in the pinned layout: the server (pid) on core 0, PostgreSQL and wrk on
# core 1. Prints: requests/s p50_ms p99_ms non-2xx server_cpu_ms_per_request
# postgres_cpu_ms_per_request (the last "-" when the server uses no PostgreSQL).
drive_pinned() { # server-pid uses-postgres(0|1) script-or-"" url connections [path]
    local server="$1" postgres="$2"; shift 2
    local all_cores="0-$(($(nproc) - 1))"
    pin "$server" 0
    pin_postgres 1
    local server_before pg_before result server_after pg_after
    server_before="$(process_ticks "$server")"
    pg_before="$(postgres_ticks)"
    result="$(WRK_PREFIX="taskset -c 1" drive "$@")"
    server_after="$(process_ticks "$server")"
    pg_after="$(postgres_ticks)"
    pin "$server" "$all_cores"
    pin_postgres "$all_cores"
    read -r rps p50 p99 bad total <<< "$result"
    awk -v rps="$rps" -v p50="$p50" -v p99="$p99" -v bad="$bad" -v n="$total" -v hz="$CLK_TCK" \
        -v s="$((server_after - server_before))" -v p="$((pg_after - pg_before))" -v pg="$postgres" '
        BEGIN {
            n = (n > 0 ? n : 1)
            printf "%s %s %s %s %.3f %s\n", rps, p50, p99, bad, s * 1000 / hz / n, (pg == 1 ? sprintf("%.3f", p * 1000 / hz / n) : "-")
        }'
}
