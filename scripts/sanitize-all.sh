#!/usr/bin/env bash
# Every suite and program under ASan + UBSan (build-asan/), and the threads (the storage append
# queue, the relay's WAL checkpointer) under TSan (build-tsan/). Not yet part of scripts/test.sh:
# under ASan five tests still fail (see issue 12's closing note: three sync_security cases reach an
# assert that the release build compiles out, a QWebSocket leak in relay_tls_test, and the relay
# canary test under ASan's quarantine), and the full ASan build takes 20-45 minutes on 2 cores.
# scripts/test.sh keeps running the [fuzz] cases of the engine and net suites under ASan + UBSan.
# Run from anywhere, after scripts/install-deps.sh. Exits non-zero, naming the stage, on a failure.
set -euo pipefail

jobs=2
asan_test_timeout=1500    # seconds per ctest test under ASan + UBSan (several times slower)
tsan_timeout=1800         # seconds for each TSan run (a suite or a tag of one)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

stage="setup"
report_failure() {
  local rc=$?
  if ((rc != 0)); then
    echo "sanitize-all.sh: FAILED during stage: $stage (exit $rc)" >&2
  fi
}
trap report_failure EXIT

begin() {
  stage=$1
  echo
  echo "==> sanitize-all.sh: $stage"
}

generator_for() {
  [[ -f $1/CMakeCache.txt ]] || echo "-G Ninja"
}

# --- Sanitizers -------------------------------------------------------------------------------
# Every sanitized process (test binaries and the programs they start) writes its reports to
# <dir>/sanitizer-logs/<tool>.<pid> instead of stderr, so a report from a child whose exit code a
# test does not look at still fails this script. The files appear only when something was found.
sanitizer_logs_ok() {
  local dir=$1 reports
  reports=$(find "$dir" -type f 2>/dev/null | sort)
  [[ -z $reports ]] && return 0
  echo "sanitize-all.sh: sanitizer reports (from the tests or the programs they started):" >&2
  local f
  for f in $reports; do
    echo "---- $f" >&2
    cat "$f" >&2
  done
  return 1
}

# Fails unless `program` was linked with the sanitizer runtime `lib` (libasan, libtsan): the
# programs the tests start must be the sanitized builds of the same directory.
require_sanitized() {
  local program=$1 lib=$2
  if ! ldd "$program" | grep -q "$lib"; then
    echo "sanitize-all.sh: $program is not linked with $lib" >&2
    return 1
  fi
}

supp="$root/tests/sanitizers"
export QT_QPA_PLATFORM=offscreen

begin "configure build-asan/ (ASan + UBSan: every suite and program)"
# -O1: ASan's slowdown is several times smaller than at -O0, and asserts stay on (Debug).
# shellcheck disable=SC2046
cmake -S . -B build-asan $(generator_for build-asan) \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" \
  -DQUIRE_BUILD_TESTS=ON -DQUIRE_BUILD_BENCH=OFF -DQUIRE_BUILD_APPS=ON \
  -DQUIRE_SANITIZE=ON -DQUIRE_SANITIZE_THREAD=OFF -DQUIRE_FUZZ=OFF \
  -DQUIRE_TEST_QPA_PLATFORM=offscreen

asan_suites=(quire_engine_tests quire_storage_tests quire_net_tests quire_app_tests)
asan_programs=(app/cli/quire-cli app/relay/quire-relay app/quire/quire)

begin "build build-asan/ (${asan_suites[*]}, quire-cli, quire-relay, quire)"
cmake --build build-asan -j"$jobs"
for program in "${asan_suites[@]/#/tests/}" "${asan_programs[@]}"; do
  require_sanitized "build-asan/$program" libasan
done

begin "run every suite under ASan + UBSan (ctest in build-asan/)"
# Every suite must have tests in the list: a suite that is not built or lists nothing fails here
# rather than being skipped.
asan_list=build-asan/ctest-tests.json
ctest --test-dir build-asan --show-only=json-v1 >"$asan_list"
for suite in "${asan_suites[@]}"; do
  if ! grep -q "/tests/$suite\"" "$asan_list"; then
    echo "sanitize-all.sh: ctest in build-asan/ lists no test of $suite" >&2
    exit 1
  fi
done
asan_log_dir="$root/build-asan/sanitizer-logs"
rm -rf "$asan_log_dir"
mkdir -p "$asan_log_dir"
# Leaks are failures: detect_leaks=1, and LSan's exit code (23) is non-zero. Suppressions only
# for allocations that Qt, fontconfig and glib keep for the life of the process (each entry in
# tests/sanitizers/lsan.supp says why).
export ASAN_OPTIONS="detect_leaks=1:log_path=$asan_log_dir/asan"
export LSAN_OPTIONS="exitcode=23:suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp:log_path=$asan_log_dir/ubsan"
asan_ctest_log=build-asan/ctest-summary.log
asan_rc=0
ctest --test-dir build-asan --output-on-failure --no-tests=error \
  --timeout "$asan_test_timeout" -j"$jobs" | tee "$asan_ctest_log" || asan_rc=$?
sanitizer_logs_ok "$asan_log_dir" || asan_rc=1
unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS
((asan_rc == 0)) || exit "$asan_rc"
asan_total=$(sed -n 's/.*tests failed out of \([0-9][0-9]*\).*/\1/p' "$asan_ctest_log" | tail -n 1)

begin "configure build-tsan/ (TSan: the storage suite, quire-relay)"
# shellcheck disable=SC2046
cmake -S . -B build-tsan $(generator_for build-tsan) \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" \
  -DQUIRE_BUILD_TESTS=ON -DQUIRE_BUILD_BENCH=OFF -DQUIRE_BUILD_APPS=ON \
  -DQUIRE_SANITIZE=OFF -DQUIRE_SANITIZE_THREAD=ON -DQUIRE_FUZZ=OFF \
  -DQUIRE_TEST_QPA_PLATFORM=offscreen

# The threads: storage/append_queue (quire_storage_tests, every case: the suite needs no Qt) and
# app/relay/sqlite_relay_store's WAL checkpointer, which only quire-relay runs; the [relay] cases
# of quire_net_tests drive quire-relay as a child process (a TSan build of it, too).
tsan_runs=("quire_storage_tests" "quire_net_tests [relay]")

begin "build build-tsan/ (quire_storage_tests, quire_net_tests, quire-relay, quire-cli)"
cmake --build build-tsan --target quire_storage_tests quire_net_tests quire-relay quire-cli \
  -j"$jobs"
for program in tests/quire_storage_tests tests/quire_net_tests app/relay/quire-relay \
  app/cli/quire-cli; do
  require_sanitized "build-tsan/$program" libtsan
done

tsan_log_dir="$root/build-tsan/sanitizer-logs"
rm -rf "$tsan_log_dir"
mkdir -p "$tsan_log_dir"
export TSAN_OPTIONS="halt_on_error=0:exitcode=66:second_deadlock_stack=1:suppressions=$supp/tsan.supp:print_suppressions=0:log_path=$tsan_log_dir/tsan"
tsan_cases=0
# With traces absent the trace cases are left out, as ctest does (Catch2: adjacent terms AND).
trace_exclusion=""
if [[ -d ../shared/traces ]]; then
  export QUIRE_TRACES="$root/../shared/traces"
else
  trace_exclusion="~[traces]"
fi
for run in "${tsan_runs[@]}"; do
  read -r suite filter <<<"$run"
  stage="run ${filter:-every case of} $suite under TSan"
  echo
  echo "==> sanitize-all.sh: $stage"
  tsan_log=build-tsan/summary-$suite.log
  # -w NoTests: a filter that matches no test fails instead of passing silently.
  args=(-w NoTests)
  spec="$filter$trace_exclusion"
  [[ -n $spec ]] && args+=("$spec")
  tsan_rc=0
  timeout "$tsan_timeout" build-tsan/tests/"$suite" "${args[@]}" | tee "$tsan_log" || tsan_rc=$?
  sanitizer_logs_ok "$tsan_log_dir" || tsan_rc=1
  ((tsan_rc == 0)) || exit "$tsan_rc"
  suite_cases=$(sed -n 's/^All tests passed ([0-9]* assertions* in \([0-9][0-9]*\) test cases*).*/\1/p' "$tsan_log" | tail -n 1)
  if [[ -z $suite_cases ]]; then
    echo "sanitize-all.sh: no passed-cases line from $suite under TSan" >&2
    exit 1
  fi
  tsan_cases=$((tsan_cases + suite_cases))
done
unset TSAN_OPTIONS

stage="done"
echo
echo "sanitize-all.sh: all stages passed (ctest under ASan + UBSan: ${asan_total:-?} tests; under TSan: ${tsan_cases:-?} test cases)"
echo "tests: $(( ${asan_total:-0} + ${tsan_cases:-0} )) passed, 0 failed"
