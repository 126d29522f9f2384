#!/usr/bin/env bash
# Installs dependencies, builds build/ (RelWithDebInfo) and starts the Quire editor.
# Arguments go to the editor: scripts/run.sh 'quire://open?...' or scripts/run.sh --db PATH.
# Without a display (no DISPLAY or WAYLAND_DISPLAY) it runs under xvfb-run, so it still starts.
set -euo pipefail

# The main program, relative to the repo root. Its CMake target is its file name.
program=build/app/quire/quire
default_args=()

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
if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]] && command -v xvfb-run >/dev/null; then
  echo "run.sh: no display; starting the editor under xvfb-run" >&2
  xvfb-run -a "$program" "${args[@]}"
else
  "$program" "${args[@]}"
fi
