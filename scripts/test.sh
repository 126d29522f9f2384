#!/usr/bin/env bash
# Installs dependencies, builds everything in build/ and runs every test with ctest, makes the
# .deb packages there and checks them (scripts/check-packages.sh: installed for real only with
# CI=true as root), then builds the engine and net tests with ASan + UBSan in build-asan/ and
# runs their decoder fuzz/robustness tests there. Exits non-zero, naming the stage, on any failure.
set -euo pipefail

jobs=2
test_timeout=600          # seconds per ctest test
asan_timeout=1800         # seconds for the whole sanitizer run
asan_filter="[fuzz],[hostile]"  # Catch2 tag expression run under the sanitizers
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

begin "build and check the .deb packages (cpack in build/, scripts/check-packages.sh)"
(cd build && cpack -G DEB)
package_log=build/package-checks.log
scripts/check-packages.sh build | tee "$package_log"
package_checks=$(sed -n 's/^package checks: \([0-9][0-9]*\) passed.*/\1/p' "$package_log" | tail -n 1)

begin "configure build-asan/ (ASan + UBSan)"
# shellcheck disable=SC2046
cmake -S . -B build-asan $(generator_for build-asan) \
  -DCMAKE_BUILD_TYPE=Debug \
  -DQUIRE_BUILD_TESTS=ON -DQUIRE_BUILD_BENCH=OFF -DQUIRE_BUILD_APPS=OFF \
  -DQUIRE_SANITIZE=ON -DQUIRE_FUZZ=OFF

asan_suites=(quire_engine_tests quire_net_tests)

begin "build build-asan/ (${asan_suites[*]})"
cmake --build build-asan --target "${asan_suites[@]}" -j"$jobs"

begin "run $asan_filter tests under ASan + UBSan"
export QT_QPA_PLATFORM=offscreen
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# -w NoTests: fail if the filter matches nothing rather than pass silently. The timeout covers
# the whole sanitizer run, every suite together.
asan_cases=0
asan_deadline=$((SECONDS + asan_timeout))
for suite in "${asan_suites[@]}"; do
  stage="run $asan_filter tests of $suite under ASan + UBSan"
  asan_log=build-asan/fuzz-summary-$suite.log
  asan_left=$((asan_deadline - SECONDS))
  if ((asan_left <= 0)); then
    echo "test.sh: the sanitizer run took more than ${asan_timeout}s" >&2
    exit 1
  fi
  timeout "$asan_left" build-asan/tests/"$suite" "$asan_filter" -w NoTests | tee "$asan_log"
  suite_cases=$(sed -n 's/^All tests passed ([0-9]* assertions in \([0-9][0-9]*\) test cases*).*/\1/p' "$asan_log" | tail -n 1)
  asan_cases=$((asan_cases + ${suite_cases:-0}))
done

stage="done"
echo
echo "test.sh: all stages passed (ctest in build/: ${ctest_total:-?} tests; package checks: ${package_checks:-?}; under ASan + UBSan: ${asan_cases:-?} test cases)"
echo "tests: $(( ${ctest_total:-0} + ${package_checks:-0} + ${asan_cases:-0} )) passed, 0 failed"
