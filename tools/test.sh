#!/usr/bin/env bash
# The README's test command: sets up the project's virtualenv, starts the
# local OpenStack (tools/minicloud) when it is not running, runs the unit and
# the functional tests, prints the ten slowest tests and ends with one line
# "N passed, N failed".
#
#   tools/test.sh              unit + functional
#   tools/test.sh --unit       unit tests only (no cloud)
#
# Functional tests run FUNCTIONAL_CONCURRENCY (default 4) at a time; those
# under tests/functional/serial (they restart cloud services) run after
# them, one at a time. MINICLOUD_WITH names the optional minicloud
# components to start (default: the ones the functional tests use).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mode=${1:-all}

bash tools/venv.sh || { echo "0 passed, 1 failed"; exit 1; }
. .venv/bin/activate

streams=()
run_suite() {  # name, test path, concurrency, stestr filter arguments...
    local name=$1 path=$2 concurrency=$3
    shift 3
    # one stestr repository per pass (its timings schedule the next run)
    local repo=.stestr-$name out=.stestr-$name.log
    local before after
    mkdir -p "$repo"
    before=$(cat "$repo/.stestr/next-stream" 2>/dev/null || echo none)
    stestr --repo-url "$repo" --test-path "$path" --top-dir ./ run \
        --concurrency "$concurrency" "$@" \
        2>&1 | tee "$out" | grep -E '^(\{|=|FAIL|ERROR|Totals| - |Ran |Sum of)' || true
    after=$(cat "$repo/.stestr/next-stream" 2>/dev/null || echo none)
    # A run that recorded nothing (import error, crash) has no stream of its
    # own: tools/testreport.py counts the missing file as a failure.
    rm -f "$repo.subunit"
    if [ "$before" != "$after" ]; then
        stestr --repo-url "$repo" last --subunit > "$repo.subunit"
    else
        echo "$name tests did not run; see $out" >&2
        tail -40 "$out" >&2
    fi
    streams+=("$repo.subunit")
}

run_suite unit ./tests/unit 2
if [ "$mode" != "--unit" ]; then
    export MINICLOUD_WITH=${MINICLOUD_WITH-cinder-backup,backup-flows}
    if tools/minicloud/minicloud start; then
        run_suite functional ./tests/functional \
            "${FUNCTIONAL_CONCURRENCY:-4}" \
            --exclude-regex '^tests\.functional\.serial\.'
        run_suite functional-serial ./tests/functional 1 \
            '^tests\.functional\.serial\.'
    else
        echo "minicloud did not start; functional tests not run" >&2
        streams+=(.stestr-minicloud-did-not-start)
    fi
fi
python tools/testreport.py "${streams[@]}"
