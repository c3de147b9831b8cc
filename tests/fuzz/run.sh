#!/usr/bin/env bash
# Runs each libFuzzer target for a bounded time, starting from the seed
# corpus committed in tests/fuzz/corpus/<target>/ (read only: new inputs go
# to BUILD/corpus/<target>/, crashes to BUILD/artifacts/<target>/).
#   tests/fuzz/run.sh BUILD SECONDS TARGET...
# Prints one line per target (runs, execs/s, corpus size) and fails on the
# first target that finds a crash, a leak, a timeout or an out-of-memory,
# printing the fuzzer's report and the path of the input that caused it.
set -euo pipefail
build=$1 seconds=$2
shift 2
src=$(cd "$(dirname "$0")" && pwd)

for t in "$@"; do
  corpus=$build/corpus/$t artifacts=$build/artifacts/$t log=$build/fuzz_$t.log
  mkdir -p "$corpus" "$artifacts"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts/")
  [ -f "$src/$t.dict" ] && args+=(-dict="$src/$t.dict")
  start=$SECONDS
  if ! "$build/fuzz_$t" "${args[@]}" "$corpus" "$src/corpus/$t" >"$log" 2>&1; then
    echo "fuzz_$t FAILED after $((SECONDS - start)) s; report ($log):" >&2
    grep -v '^#[0-9]' "$log" | tail -60 >&2
    ls -1 "$artifacts"/* 2>/dev/null | sed 's/^/  input: /' >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  files=$(find "$corpus" -type f | wc -l)
  echo "fuzz_$t: ${runs} runs in $((SECONDS - start)) s (${rate} exec/s), corpus ${files} inputs, no crash"
done
