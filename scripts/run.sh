#!/usr/bin/env bash
# `make run`: the host with the default config and the bundled plugins, and
# beside it the demo application, so every card and chart moves at once.
# Ctrl-C stops both.  DEMO=0 runs the host alone.
#   scripts/run.sh BUILD_DIR CONFIG
set -euo pipefail
build=${1:-build}
config=${2:-conf/vitals.ini}

demo=""
if [ "${DEMO:-1}" != "0" ] && [ -x "$build/demo_app" ]; then
  "$build/demo_app" >/dev/null 2>&1 &
  demo=$!
  # The demo runs in the background: stop it by its PID whenever we leave.
  trap 'kill "$demo" 2>/dev/null; wait "$demo" 2>/dev/null || true' EXIT
  echo "demo_app (pid $demo) reports to 127.0.0.1:8125; DEMO=0 make run starts the host alone"
fi
"$build/vitals" --config "$config" --plugins-dir "$build/lib/vitals/plugins"
