#!/usr/bin/env bash
# Installs dependencies, builds everything in build/ and runs every test with ctest,
# then builds the engine tests with ASan + UBSan in build-asan/ and runs the decoder
# fuzz/robustness tests there. Exits non-zero, naming the stage, on any failure.
set -euo pipefail

jobs=2
test_timeout=600          # seconds per ctest test
asan_timeout=1800         # seconds for the whole sanitizer run
asan_filter="[fuzz]"      # Catch2 tag expression run under the sanitizers
needs_display=0           # 1: run ctest under Xvfb with QT_QPA_PLATFORM=xcb

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

stage="setup"
report_failure() {
  local rc=$?
  if ((rc != 0)); then
    echo "test.sh: FAILED during stage: $stage (exit $rc)" >&2
  fi
}
trap report_failure EXIT

begin() {
  stage=$1
  echo
  echo "==> test.sh: $stage"
}

# Reuse whatever generator an existing build directory was made with.
generator_for() {
  [[ -f $1/CMakeCache.txt ]] || echo "-G Ninja"
}

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

begin "configure build-asan/ (ASan + UBSan)"
# shellcheck disable=SC2046
cmake -S . -B build-asan $(generator_for build-asan) \
  -DCMAKE_BUILD_TYPE=Debug \
  -DQUIRE_BUILD_TESTS=ON -DQUIRE_BUILD_BENCH=OFF -DQUIRE_BUILD_APPS=OFF \
  -DQUIRE_SANITIZE=ON -DQUIRE_FUZZ=OFF

begin "build build-asan/ (quire_engine_tests)"
cmake --build build-asan --target quire_engine_tests -j"$jobs"

begin "run $asan_filter tests under ASan + UBSan"
export QT_QPA_PLATFORM=offscreen
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# -w NoTests: fail if the filter matches nothing rather than pass silently.
asan_log=build-asan/fuzz-summary.log
timeout "$asan_timeout" build-asan/tests/quire_engine_tests "$asan_filter" -w NoTests | tee "$asan_log"
asan_cases=$(sed -n 's/^All tests passed ([0-9]* assertions in \([0-9][0-9]*\) test cases*).*/\1/p' "$asan_log" | tail -n 1)

stage="done"
echo
echo "test.sh: all stages passed (ctest in build/: ${ctest_total:-?} tests; under ASan + UBSan: ${asan_cases:-?} test cases)"
echo "tests: $(( ${ctest_total:-0} + ${asan_cases:-0} )) passed, 0 failed"
