#!/usr/bin/env bash
# Installs dependencies, builds build/ (RelWithDebInfo) and starts Quire's main program.
# Arguments, if any, replace the default ones: scripts/run.sh replay OTHER_TRACE
set -euo pipefail

# The main program, relative to the repo root. Its CMake target is its file name.
# Switch to the editor (build/app/quire/quire, no arguments) once it exists.
program=build/app/cli/quire-cli
default_args=(replay ../shared/traces/sequential/automerge-paper.json.gz)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

stage="setup"
report_failure() {
  local rc=$?
  if ((rc != 0)); then
    echo "run.sh: FAILED during stage: $stage (exit $rc)" >&2
  fi
}
trap report_failure EXIT

stage="install dependencies"
scripts/install-deps.sh

stage="configure build/"
generator=()
[[ -f build/CMakeCache.txt ]] || generator=(-G Ninja)
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo

stage="build $(basename "$program")"
cmake --build build --target "$(basename "$program")" -j2

stage="run $program"
if (($# > 0)); then
  args=("$@")
else
  args=("${default_args[@]}")
fi
"$program" "${args[@]}"
