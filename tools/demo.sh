#!/usr/bin/env bash
# The README's demo: sets up the project's virtualenv, starts the local
# OpenStack (tools/minicloud) when it is not running, then runs tools/demo.py
# on embedded defaults (state under a fresh temporary state_path).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash tools/venv.sh
tools/minicloud/minicloud start
exec .venv/bin/python tools/demo.py "$@"
