#!/usr/bin/env bash
# Runs every libFuzzer target in tests/fuzz/ for MINUTES each (default 10), one after another,
# from its committed corpus, and prints a table: target, minutes run, execs, corpus growth,
# crashers. Builds build-fuzz/ with clang (-fsanitize=fuzzer,address,undefined) first.
# New inputs go to build-fuzz/fuzz-work/<target>/ (not committed); crashers to
# build-fuzz/fuzz-work/<target>-crash-*: a fixed crasher is copied into tests/fuzz/corpus/<target>/
# by hand, so every test run replays it. Exits 1 if any target found a crasher.
#   scripts/fuzz.sh [MINUTES] [TARGET...]
set -euo pipefail

minutes=${1:-10}
shift || true
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

all_targets=(update_fuzz history_fuzz version_vector_fuzz stored_row_fuzz frame_message_fuzz
             frame_fuzz share_link_fuzz import_text_fuzz)
targets=("$@")
if (($# == 0)); then targets=("${all_targets[@]}"); fi

if [[ ! -f build-fuzz/CMakeCache.txt ]]; then
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DQUIRE_FUZZ=ON \
    -DQUIRE_BUILD_TESTS=OFF -DQUIRE_BUILD_BENCH=OFF -DQUIRE_BUILD_APPS=OFF
fi
cmake --build build-fuzz --target "${targets[@]}" -j2

work=build-fuzz/fuzz-work
mkdir -p "$work"
seconds=$((minutes * 60))
rows=()
found=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t"
  log="$work/$t.log"
  before=$(find "$work/$t" -type f | wc -l)
  start=$SECONDS
  rc=0
  # -rss_limit_mb: an input that needs more than 2 GiB is a finding too.
  "build-fuzz/tests/fuzz/$t" "$work/$t" "tests/fuzz/corpus/$t" -max_total_time="$seconds" \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -artifact_prefix="$work/$t-" \
    >"$log" 2>&1 || rc=$?
  ran=$(((SECONDS - start + 30) / 60))
  execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
  after=$(find "$work/$t" -type f | wc -l)
  crashers=$(find "$work" -maxdepth 1 -name "$t-*" -type f | wc -l)
  ((crashers > 0 || rc != 0)) && found=1
  rows+=("$(printf '%-20s %8s %12s %10s %9s %4s' "$t" "$ran" "${execs:-?}" "+$((after - before))" "$crashers" "$rc")")
done

echo
printf '%-20s %8s %12s %10s %9s %4s\n' target minutes execs "new inputs" crashers rc
for r in "${rows[@]}"; do echo "$r"; done
echo "(logs: $work/<target>.log; crashers: $work/<target>-crash-*)"
exit "$found"
