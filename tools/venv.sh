#!/usr/bin/env bash
# Create or refresh the project's virtualenv (.venv) with backup-flows and its
# test requirements installed. Safe to run again: it reinstalls only when the
# requirement files changed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
venv=${BACKUP_FLOWS_VENV:-$top/.venv}
python=${PYTHON:-python3}
stamp=$venv/.requirements.sha256
want=$(cat "$top/requirements.txt" "$top/test-requirements.txt" "$top/setup.cfg" | sha256sum | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    "$venv/bin/pip" install -q --upgrade pip setuptools wheel
    "$venv/bin/pip" install -q -r "$top/requirements.txt" -r "$top/test-requirements.txt"
    rm -rf "$top/backup_flows.egg-info"
    "$venv/bin/pip" install -q --no-build-isolation -e "$top" \
        || "$venv/bin/pip" install -q -e "$top"
    echo "$want" > "$stamp"
fi
