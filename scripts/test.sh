#!/usr/bin/env bash
# Installs dependencies, builds everything in build/ and runs every test with ctest, makes the
# .deb packages there and checks them (scripts/check-packages.sh: installed for real only with
# CI=true as root). Then runs every suite (engine, storage, net, hostile, app; the fuzz corpus
# replays included) and the programs they start under ASan + UBSan in build-asan/, leaks counted as
# failures, and the threads (the storage append queue, the relay's WAL checkpointer) under TSan
# in build-tsan/. Prints each stage's wall time and the total. Exits non-zero, naming the stage,
# on any failure.
set -euo pipefail

jobs=2
test_timeout=600          # seconds per ctest test in build/
asan_test_timeout=1500    # seconds per ctest test under ASan + UBSan (several times slower)
tsan_timeout=1800         # seconds for each TSan run (a suite or a tag of one)
needs_display=0           # 1: run ctest in build/ under Xvfb with QT_QPA_PLATFORM=xcb

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# --- Stages and their wall times ----------------------------------------------------------------
stage="setup"
stage_title=""
stage_started=$SECONDS
stage_times=()

# Closes the running stage: prints and records its wall time.
end_stage() {
  [[ -z $stage_title ]] && return 0
  local took=$((SECONDS - stage_started))
  echo "test.sh: stage '$stage_title' took $took s"
  stage_times+=("$(printf '%6d s  %s' "$took" "$stage_title")")
  stage_title=""
}

begin() {
  end_stage
  stage=$1
  stage_title=$1
  stage_started=$SECONDS
  echo
  echo "==> test.sh: $stage"
}

print_times() {
  local line
  echo "test.sh: stage times:"
  for line in "${stage_times[@]}"; do
    echo "  $line"
  done
  echo "test.sh: total $SECONDS s"
}

report_failure() {
  local rc=$?
  if ((rc != 0)); then
    end_stage
    print_times >&2
    echo "test.sh: FAILED during stage: $stage (exit $rc)" >&2
  fi
}
trap report_failure EXIT

# Reuse whatever generator an existing build directory was made with.
generator_for() {
  [[ -f $1/CMakeCache.txt ]] || echo "-G Ninja"
}

# --- Sanitizer helpers --------------------------------------------------------------------------
# Every sanitized process (test binaries and the programs they start) writes its reports to
# <dir>/sanitizer-logs/<tool>.<pid> instead of stderr, so a report from a child whose exit code a
# test does not look at still fails this script. The files appear only when something was found.
sanitizer_logs_ok() {
  local dir=$1 reports
  reports=$(find "$dir" -type f 2>/dev/null | sort)
  [[ -z $reports ]] && return 0
  echo "test.sh: sanitizer reports (from the tests or the programs they started):" >&2
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
  local program=$1 lib=$2 libs
  # Not `ldd | grep -q`: grep -q exits at the first match, and under pipefail the SIGPIPE that
  # ldd then gets fails the check for a program with many libraries.
  libs=$(ldd "$program")
  if [[ $libs != *"$lib"* ]]; then
    echo "test.sh: $program is not linked with $lib" >&2
    return 1
  fi
}

supp="$root/tests/sanitizers"

begin "install dependencies"
scripts/install-deps.sh

if [[ ! -d ../shared/traces ]]; then
  echo "test.sh: warning: ../shared/traces not found, trace tests will be skipped" >&2
fi

qpa=offscreen
ctest_prefix=()
if ((needs_display)); then
  qpa=xcb
  ctest_prefix=(xvfb-run -a)
fi

begin "configure build/"
# shellcheck disable=SC2046 # generator_for prints zero or two words
cmake -S . -B build $(generator_for build) \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DQUIRE_BUILD_TESTS=ON -DQUIRE_BUILD_BENCH=ON -DQUIRE_BUILD_APPS=ON \
  -DQUIRE_SANITIZE=OFF -DQUIRE_FUZZ=OFF \
  -DQUIRE_TEST_QPA_PLATFORM="$qpa"

begin "build build/"
cmake --build build -j"$jobs"

begin "run tests (ctest in build/)"
ctest_log=build/ctest-summary.log
"${ctest_prefix[@]}" ctest --test-dir build --output-on-failure --no-tests=error \
  --timeout "$test_timeout" -j"$jobs" | tee "$ctest_log"
ctest_total=$(sed -n 's/.*tests failed out of \([0-9][0-9]*\).*/\1/p' "$ctest_log" | tail -n 1)

begin "build and check the .deb packages (cpack in build/, scripts/check-packages.sh)"
(cd build && cpack -G DEB)
package_log=build/package-checks.log
scripts/check-packages.sh build | tee "$package_log"
package_checks=$(sed -n 's/^package checks: \([0-9][0-9]*\) passed.*/\1/p' "$package_log" | tail -n 1)

# The sanitized builds are offscreen only: no test there needs a display.
export QT_QPA_PLATFORM=offscreen

begin "configure build-asan/ (ASan + UBSan)"
# -O1: ASan's slowdown is several times smaller than at -O0, and asserts stay on (Debug).
# shellcheck disable=SC2046
cmake -S . -B build-asan $(generator_for build-asan) \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" \
  -DQUIRE_BUILD_TESTS=ON -DQUIRE_BUILD_BENCH=OFF -DQUIRE_BUILD_APPS=ON \
  -DQUIRE_SANITIZE=ON -DQUIRE_SANITIZE_THREAD=OFF -DQUIRE_FUZZ=OFF \
  -DQUIRE_TEST_QPA_PLATFORM=offscreen

asan_suites=(quire_engine_tests quire_storage_tests quire_net_tests quire_hostile_tests
  quire_app_tests)
# The programs the suites start as child processes (each suite's build depends on them).
asan_programs=(quire-cli quire-relay quire)

# Only the suites and the programs they start: not the bench, the fuzz seed writer or the
# installer's icon renderer, which no test runs.
begin "build build-asan/ (${asan_suites[*]}, ${asan_programs[*]})"
cmake --build build-asan --target "${asan_suites[@]}" "${asan_programs[@]}" -j"$jobs"
for program in "${asan_suites[@]/#/tests/}" app/cli/quire-cli app/relay/quire-relay \
  app/quire/quire; do
  require_sanitized "build-asan/$program" libasan
done

begin "run every suite under ASan + UBSan (ctest in build-asan/)"
# Every suite must have tests in the list: a suite that is not built or lists nothing fails here
# rather than being skipped.
asan_list=build-asan/ctest-tests.json
ctest --test-dir build-asan --show-only=json-v1 >"$asan_list"
for suite in "${asan_suites[@]}"; do
  if ! grep -q "/tests/$suite\"" "$asan_list"; then
    echo "test.sh: ctest in build-asan/ lists no test of $suite" >&2
    exit 1
  fi
done
# Only the suites named above are built here; a suite added to tests/CMakeLists.txt but not to
# asan_suites shows up as Catch's <suite>_NOT_BUILT placeholder.
not_built=$(grep -o '"name" *: *"[A-Za-z_]*_NOT_BUILT' "$asan_list" |
  sed 's/.*"\(.*\)_NOT_BUILT/\1/' | sort -u | tr '\n' ' ' || true)
if [[ -n $not_built ]]; then
  echo "test.sh: not built in build-asan/ (add to asan_suites): $not_built" >&2
  exit 1
fi
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

begin "configure build-tsan/ (TSan)"
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

begin "run the storage suite and the [relay] cases under TSan"
tsan_log_dir="$root/build-tsan/sanitizer-logs"
rm -rf "$tsan_log_dir"
mkdir -p "$tsan_log_dir"
export TSAN_OPTIONS="halt_on_error=0:exitcode=66:second_deadlock_stack=1:suppressions=$supp/tsan.supp:print_suppressions=0:log_path=$tsan_log_dir/tsan"
tsan_cases=0
# With traces absent the trace cases are left out, as ctest does (Catch2: adjacent terms AND).
trace_exclusion=""
if [[ -d ../shared/traces ]]; then
  QUIRE_TRACES="$(cd ../shared/traces && pwd)"
  export QUIRE_TRACES
else
  trace_exclusion="~[traces]"
fi
for run in "${tsan_runs[@]}"; do
  read -r suite filter <<<"$run"
  stage="run ${filter:-every case of} $suite under TSan"
  echo
  echo "--> test.sh: $stage"
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
    echo "test.sh: no passed-cases line from $suite under TSan" >&2
    exit 1
  fi
  tsan_cases=$((tsan_cases + suite_cases))
done
unset TSAN_OPTIONS
end_stage

stage="done"
echo
print_times
echo "test.sh: all stages passed (ctest in build/: ${ctest_total:-?} tests; package checks: ${package_checks:-?}; ctest under ASan + UBSan: ${asan_total:-?} tests; under TSan: ${tsan_cases:-?} test cases)"
echo "tests: $(( ${ctest_total:-0} + ${package_checks:-0} + ${asan_total:-0} + ${tsan_cases:-0} )) passed, 0 failed"
