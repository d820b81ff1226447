#!/usr/bin/env bash
# The README's test command: sets up the project's virtualenv, starts the
# local OpenStack (tools/minicloud) when it is not running, runs the unit and
# the functional tests, and ends with one line "N passed, N failed".
#
#   tools/test.sh              unit + functional
#   tools/test.sh --unit       unit tests only (no cloud)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mode=${1:-all}

bash tools/venv.sh || { echo "0 passed, 1 failed"; exit 1; }
. .venv/bin/activate

passed=0
failed=0
run_suite() {  # name, test path, concurrency
    local out=.stestr-$1.log
    stestr --test-path "$2" --top-dir ./ run --concurrency "$3" \
        2>&1 | tee "$out" | grep -E '^(\{|=|FAIL|ERROR|Totals| - |Ran |Sum of)' || true
    local p f
    p=$(sed -n 's/^ - Passed: \([0-9]*\).*/\1/p' "$out" | tail -1)
    f=$(sed -n 's/^ - Failed: \([0-9]*\).*/\1/p' "$out" | tail -1)
    if [ -z "$p" ]; then
        echo "$1 tests did not run; see $out" >&2
        tail -40 "$out" >&2
        f=$((${f:-0} + 1))
    fi
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
}

run_suite unit ./tests/unit 2
if [ "$mode" != "--unit" ]; then
    if tools/minicloud/minicloud start; then
        run_suite functional ./tests/functional "${FUNCTIONAL_CONCURRENCY:-1}"
    else
        echo "minicloud did not start; functional tests not run" >&2
        failed=$((failed + 1))
    fi
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
