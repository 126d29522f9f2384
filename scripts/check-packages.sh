#!/usr/bin/env bash
# Checks the .deb packages cpack made in BUILD_DIR (default build/), from the repo root:
#   everywhere: each package unpacked with dpkg-deb -x into a temporary folder: files, control
#     fields, desktop entry, metainfo, systemd unit, man pages, the packaged relay.conf;
#   only where the machine is throwaway (CI=true, as root): installed with dpkg -i, then the
#     quire:// registration, the programs from their installed paths, a link through xdg-open
#     under Xvfb, then dpkg -r / --purge; the packages are removed again even on failure.
# One 'ok: ...' or 'FAIL: ...' line per check, then 'package checks: N passed, M failed';
# exits 1 if any check failed. Network traffic goes to 127.0.0.1 only.
#
#   scripts/check-packages.sh [BUILD_DIR]
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1
build=${1:-build}

passed=0
failed=0
ok() {
  echo "ok: $*"
  passed=$((passed + 1))
}
fail() {
  echo "FAIL: $*"
  failed=$((failed + 1))
}

work=$(mktemp -d "${TMPDIR:-/tmp}/quire-packages.XXXXXX")
log=$work/check.log
installed_here=0
xvfb_pid=
opener_pids=()

cleanup() {
  local pid
  for pid in "${opener_pids[@]}"; do
    pkill -TERM -x quire -P "$pid" 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
  done
  if [[ -n $xvfb_pid ]]; then
    kill "$xvfb_pid" 2>/dev/null
    wait "$xvfb_pid" 2>/dev/null
  fi
  if ((installed_here)); then
    echo "check-packages: removing the packages installed for the checks"
    dpkg --purge quire quire-relay >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# check WHAT COMMAND...: runs COMMAND; its output is shown only if it fails.
check() {
  local what=$1
  shift
  if "$@" >"$log" 2>&1; then
    ok "$what"
  else
    fail "$what"
    sed -n '1,30s/^/    /p' "$log"
  fi
}

# expect WHAT ACTUAL EXPECTED: an exact comparison.
expect() {
  if [[ $2 == "$3" ]]; then
    ok "$1"
  else
    fail "$1: got '$2', expected '$3'"
  fi
}

# contains WHAT TEXT NEEDLE...: TEXT holds every NEEDLE.
contains() {
  local what=$1 text=$2 needle
  shift 2
  for needle in "$@"; do
    if [[ $text != *"$needle"* ]]; then
      fail "$what: '$needle' missing in '$text'"
      return
    fi
  done
  ok "$what"
}

files_exist() {
  local f missing=0
  for f in "$@"; do
    if [[ ! -f $f ]]; then
      echo "missing: $f"
      missing=1
    fi
  done
  return "$missing"
}

files_gone() {
  local f left=0
  for f in "$@"; do
    if [[ -e $f ]]; then
      echo "still there: $f"
      left=1
    fi
  done
  return "$left"
}

version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake" 2>/dev/null)
arch=$(dpkg --print-architecture)
editor_deb=$build/quire_${version}_${arch}.deb
relay_deb=$build/quire-relay_${version}_${arch}.deb
if [[ -z $version ]]; then
  fail "no $build/CPackConfig.cmake: configure $build first"
  echo "package checks: $passed passed, $failed failed"
  exit 1
fi
check "packages exist: $editor_deb, $relay_deb" files_exist "$editor_deb" "$relay_deb"
if ((failed)); then
  echo "package checks: $passed passed, $failed failed"
  exit 1
fi

icon_sizes=(16 22 24 32 48 64 128 256 512)
metainfo=usr/share/metainfo/io.github.quire.Quire.metainfo.xml
editor_files=(
  usr/bin/quire usr/bin/quire-cli
  usr/share/applications/quire.desktop
  usr/share/icons/hicolor/scalable/apps/quire.svg
  "$metainfo"
  usr/share/man/man1/quire.1.gz usr/share/man/man1/quire-cli.1.gz
)
for size in "${icon_sizes[@]}"; do
  editor_files+=("usr/share/icons/hicolor/${size}x${size}/apps/quire.png")
done
relay_files=(
  usr/bin/quire-relay
  lib/systemd/system/quire-relay.service
  etc/quire/relay.conf
  usr/share/man/man1/quire-relay.1.gz
)
unit_lines=(
  "ExecStart=/usr/bin/quire-relay --config /etc/quire/relay.conf"
  User=quire-relay Group=quire-relay NoNewPrivileges=yes ProtectSystem=strict
  ProtectHome=yes PrivateTmp=yes StateDirectory=quire-relay PrivateDevices=yes
  "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" CapabilityBoundingSet=
  WantedBy=multi-user.target
)

# Where each path is rooted: the unpacked tree, or / once installed.
prefixed() {
  local prefix=$1 f
  shift
  for f in "$@"; do
    echo "$prefix/$f"
  done
}

# The relay reads the packaged configuration (its db moved to a temp folder) and listens.
relay_starts() {
  local relay=$1 conf=$2 dir
  dir=$(mktemp -d "$work/relay.XXXXXX")
  "$relay" --config "$conf" --listen 127.0.0.1:0 --db "$dir/relay.db" >"$dir/out" 2>&1 &
  local pid=$! i
  for ((i = 0; i < 100; i++)); do
    if grep -q '^listening on ws://127.0.0.1:' "$dir/out"; then
      kill "$pid"
      wait "$pid"
      return
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$pid" 2>/dev/null
  cat "$dir/out"
  return 1
}

# A configuration with an unknown key or a bad value is a usage error naming file and line.
relay_rejects() {
  local relay=$1 conf=$work/bad.conf out status
  printf 'listen = 127.0.0.1:0\nlisen = 127.0.0.1:7071\n' >"$conf"
  out=$("$relay" --config "$conf" 2>&1)
  status=$?
  [[ $status == 2 && $out == *"bad.conf:2: unknown key 'lisen'"* ]] || {
    echo "unknown key: exit $status: $out"
    return 1
  }
  printf 'max-frame-bytes = lots\n' >"$conf"
  out=$("$relay" --config "$conf" 2>&1)
  status=$?
  [[ $status == 2 && $out == *"bad.conf:1: max-frame-bytes wants a positive integer"* ]] || {
    echo "bad value: exit $status: $out"
    return 1
  }
}

# systemd-analyze verify, failing on any message: it exits 0 on unknown keys, only warning.
verify_unit() {
  local out
  if out=$(systemd-analyze verify "$@" 2>&1) && [[ -z $out ]]; then
    return 0
  fi
  echo "$out"
  return 1
}

# systemd-analyze verify wants ExecStart's binary at its path: a copy of the unit pointing at
# the unpacked binary is checked (the installed unit itself is checked after dpkg -i), without
# looking up the Documentation= man page, which is not installed yet.
verify_unpacked_unit() {
  local tree=$1 dir
  dir=$(mktemp -d "$work/unit.XXXXXX")
  sed "s|^ExecStart=/usr/bin/quire-relay|ExecStart=$tree/usr/bin/quire-relay|" \
    "$tree/lib/systemd/system/quire-relay.service" >"$dir/quire-relay.service"
  verify_unit --man=no "$dir/quire-relay.service"
}

scripts_ok() {
  local s
  for s in postinst prerm postrm; do
    [[ -x $1/$s ]] && sh -n "$1/$s" || return 1
  done
}

system_user() {
  local uid
  uid=$(id -u "$1") && ((uid < 1000))
}

gzip_ok() {
  local f
  for f in "$@"; do
    gzip -t "$f" || return 1
  done
}

man_renders() {
  local f
  for f in "$@"; do
    [[ -n $(zcat "$f" | groff -man -Tutf8 -ww -z 2>&1) ]] && return 1
  done
  return 0
}

# --- Everywhere: the packages unpacked -----------------------------------------------------

tree=$work/unpacked
mkdir -p "$tree/editor" "$tree/relay" "$tree/control"
check "dpkg-deb -x quire" dpkg-deb -x "$editor_deb" "$tree/editor"
check "dpkg-deb -x quire-relay" dpkg-deb -x "$relay_deb" "$tree/relay"
dpkg-deb -e "$relay_deb" "$tree/control"

mapfile -t paths < <(prefixed "$tree/editor" "${editor_files[@]}")
check "quire holds the programs, desktop entry, icons (${icon_sizes[*]}, svg), metainfo, man pages" \
  files_exist "${paths[@]}"
mapfile -t paths < <(prefixed "$tree/relay" "${relay_files[@]}")
check "quire-relay holds the program, systemd unit, /etc/quire/relay.conf, man page" \
  files_exist "${paths[@]}"
check "man pages are gzip'd" gzip_ok "$tree"/editor/usr/share/man/man1/*.gz \
  "$tree"/relay/usr/share/man/man1/*.gz
if command -v groff >/dev/null; then
  check "man pages render without warnings" man_renders "$tree"/editor/usr/share/man/man1/*.gz \
    "$tree"/relay/usr/share/man/man1/*.gz
fi

expect "quire version" "$(dpkg-deb -f "$editor_deb" Version)" "$version"
expect "quire-relay version" "$(dpkg-deb -f "$relay_deb" Version)" "$version"
editor_depends=$(dpkg-deb -f "$editor_deb" Depends)
relay_depends=$(dpkg-deb -f "$relay_deb" Depends)
echo "    quire Depends: $editor_depends"
echo "    quire Recommends: $(dpkg-deb -f "$editor_deb" Recommends)"
echo "    quire-relay Depends: $relay_depends"
contains "quire Depends (dpkg-shlibdeps: Qt with the xcb and TLS plugins, libsodium, SQLite)" \
  "$editor_depends" libqt6core6 libqt6gui6 libqt6widgets6 libqt6network6 libqt6websockets6 \
  libsodium23 libsqlite3-0
contains "quire-relay Depends (Qt, libsodium, SQLite, adduser)" "$relay_depends" libqt6core6 \
  libqt6network6 libqt6websockets6 libsodium23 libsqlite3-0 adduser
contains "quire Recommends the runtime-loaded Qt plugins" \
  "$(dpkg-deb -f "$editor_deb" Recommends)" qt6-wayland
expect "quire-relay conffiles" "$(cat "$tree/control/conffiles" 2>/dev/null)" "/etc/quire/relay.conf"
check "quire-relay maintainer scripts are executable sh" scripts_ok "$tree/control"

expect "unpacked quire --version" "$("$tree/editor/usr/bin/quire" --version 2>&1)" \
  "quire $version"
expect "unpacked quire-cli --version" "$("$tree/editor/usr/bin/quire-cli" --version 2>&1)" \
  "quire-cli $version"
expect "unpacked quire-relay --version" "$("$tree/relay/usr/bin/quire-relay" --version 2>&1)" \
  "quire-relay $version"

desktop=$tree/editor/usr/share/applications/quire.desktop
if command -v desktop-file-validate >/dev/null; then
  check "desktop-file-validate quire.desktop" desktop-file-validate "$desktop"
else
  fail "desktop-file-validate missing (package desktop-file-utils)"
fi
contains "desktop entry: handler of quire:// links, Open With for text" \
  "$(grep '^MimeType=' "$desktop")" "x-scheme-handler/quire;" "text/plain;" "text/markdown;"
expect "desktop entry Exec" "$(sed -n 's/^Exec=//p' "$desktop")" "quire %u"
expect "desktop entry Icon" "$(sed -n 's/^Icon=//p' "$desktop")" "quire"

meta=$tree/editor/$metainfo
if command -v appstreamcli >/dev/null; then
  check "appstreamcli validate --no-net metainfo" appstreamcli validate --no-net "$meta"
else
  fail "appstreamcli missing (package appstream)"
fi
contains "metainfo launches quire.desktop, release $version" "$(cat "$meta")" \
  '<launchable type="desktop-id">quire.desktop</launchable>' "<release version=\"$version\""

unit=$tree/relay/lib/systemd/system/quire-relay.service
missing_lines=()
for line in "${unit_lines[@]}"; do
  grep -qxF "$line" "$unit" || missing_lines+=("$line")
done
expect "unit runs the relay as its own user, hardened" "${missing_lines[*]}" ""
if command -v systemd-analyze >/dev/null; then
  check "systemd-analyze verify the unit (ExecStart pointed at the unpacked binary)" \
    verify_unpacked_unit "$tree/relay"
else
  echo "skip: systemd-analyze not installed"
fi
check "unpacked quire-relay listens with the packaged relay.conf" \
  relay_starts "$tree/relay/usr/bin/quire-relay" "$tree/relay/etc/quire/relay.conf"
check "quire-relay --config rejects an unknown key and a bad value, naming the line" \
  relay_rejects "$tree/relay/usr/bin/quire-relay"

# --- Only on a throwaway machine: installed for real ----------------------------------------

# The desktop handler's environment: a fresh home, no desktop session (xdg-open's generic
# mode), display $1. An array, not a function, so that `"${desktop_env[@]}" xdg-open ... &`
# gives xdg-open's own pid.
set_desktop_env() {
  desktop_env=(env -u XDG_CURRENT_DESKTOP -u DESKTOP_SESSION -u KDE_FULL_SESSION
    -u GNOME_DESKTOP_SESSION_ID -u WAYLAND_DISPLAY -u BROWSER -u QT_QPA_PLATFORM
    HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config"
    XDG_DATA_HOME="$work/home/.local/share" XDG_CACHE_HOME="$work/home/.cache"
    XDG_RUNTIME_DIR="$work/runtime" DISPLAY="$1")
}

# wait_for FILE PATTERN SECONDS: until a line of FILE matches PATTERN (grep -E).
wait_for() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# wait_count FILE PATTERN N SECONDS: until N lines of FILE contain PATTERN (grep -F).
wait_count() {
  local i
  for ((i = 0; i < $4 * 10; i++)); do
    (($(grep -cF "$2" "$1" 2>/dev/null) >= $3)) && return 0
    sleep 0.1
  done
  return 1
}

# The editor xdg-open started: its child (xdg-open runs the handler in the foreground).
editor_under() {
  local pid=$1 child i
  for ((i = 0; i < 50; i++)); do
    child=$(pgrep -x quire -P "$pid" | head -n 1)
    [[ -n $child ]] && echo "$child" && return
    sleep 0.1
  done
}

# xdg_open NAME LINK: xdg-open LINK in the background, output in $work/NAME.{out,err}; sets
# opener_pid.
xdg_open() {
  "${desktop_env[@]}" xdg-open "$2" >"$work/$1.out" 2>"$work/$1.err" &
  opener_pid=$!
  opener_pids+=("$opener_pid")
}

# wait_exit PID SECONDS: PID's exit status, or 124 (and PID killed) if it is still running.
wait_exit() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$1" 2>/dev/null; then
    echo "pid $1 still running after $2 s"
    pkill -KILL -P "$1"
    kill -KILL "$1"
    wait "$1"
    return 124
  fi
  wait "$1"
}

# stop_editor OPENER_PID: SIGTERM to the editor under it; the editor closes and exits 0, so
# xdg-open does too (it runs the handler in the foreground and passes on a failure).
stop_editor() {
  local opener=$1 editor status
  editor=$(editor_under "$opener")
  [[ -n $editor ]] && kill -TERM "$editor"
  wait_exit "$opener" 15
  status=$?
  ((status == 0)) || echo "xdg-open exited with $status: the editor failed or crashed"
  return "$status"
}

installed_checks() {
  if dpkg-query -W -f='${db:Status-Abbrev}' quire quire-relay 2>/dev/null | grep -q '^ii'; then
    echo "check-packages: quire or quire-relay was already installed; replacing it"
  fi
  installed_here=1
  local before=$failed
  check "dpkg -i quire-relay quire" dpkg -i "$relay_deb" "$editor_deb"
  if ((failed > before)); then return; fi

  mapfile -t paths < <(prefixed "" "${editor_files[@]}" "${relay_files[@]}")
  check "installed files in place" files_exist "${paths[@]}"
  check "installed desktop-file-validate" desktop-file-validate /usr/share/applications/quire.desktop
  check "installed appstreamcli validate --no-net" appstreamcli validate --no-net "/$metainfo"
  check "system user quire-relay" system_user quire-relay
  if command -v systemd-analyze >/dev/null; then
    local man=--man=no
    command -v man >/dev/null && man=--man=yes
    check "systemd-analyze verify $man /lib/systemd/system/quire-relay.service" \
      verify_unit "$man" /lib/systemd/system/quire-relay.service
  fi
  expect "quire --version from /usr/bin" "$(cd / && quire --version 2>&1)" "quire $version"
  expect "command -v quire" "$(command -v quire)" "/usr/bin/quire"
  expect "quire-cli --version from /usr/bin" "$(quire-cli --version 2>&1)" "quire-cli $version"
  check "quire-relay --help from /usr/bin" sh -c '/usr/bin/quire-relay --help | grep -q -- --config'
  check "installed quire-relay listens with /etc/quire/relay.conf" \
    relay_starts /usr/bin/quire-relay /etc/quire/relay.conf

  mkdir -p "$work/home" "$work/runtime"
  chmod 700 "$work/runtime"
  set_desktop_env :0
  expect "xdg-mime query default x-scheme-handler/quire" \
    "$("${desktop_env[@]}" xdg-mime query default x-scheme-handler/quire 2>&1)" "quire.desktop"

  Xvfb -displayfd 3 -nolisten tcp -screen 0 1280x800x24 3>"$work/display" 2>"$work/xvfb.log" &
  xvfb_pid=$!
  if ! wait_for "$work/display" '^[0-9]+$' 10; then
    fail "Xvfb did not start: $(cat "$work/xvfb.log")"
    return
  fi
  set_desktop_env ":$(cat "$work/display")"

  # Someone else's document, shared on a relay route nobody listens on (127.0.0.1:9): the
  # editor, its library empty, adopts the document from the link and opens it.
  local doc link sender=$work/sender.db
  doc=$(quire-cli new --db "$sender" "Package check")
  link=$(quire-cli share --db "$sender" --relay ws://127.0.0.1:9 "$doc")
  if [[ $link != quire://* ]]; then
    fail "quire-cli share printed no link: $link"
    return
  fi
  xdg_open good "$link"
  if wait_for "$work/good.out" "^opened $doc\$" 20 &&
    sed -n '/^ready$/,$p' "$work/good.out" | grep -qx "opened $doc"; then
    ok "xdg-open quire:// link starts the editor on document $doc"
  else
    fail "xdg-open quire:// link: no 'opened $doc' within 20 s"
    sed -n '1,20s/^/    /p' "$work/good.out" "$work/good.err"
  fi
  check "the editor closes on SIGTERM, xdg-open exits 0" stop_editor "$opener_pid"

  # Damaged links: one starts the editor, the next is handed to the running one. Each shows
  # the link error (stderr and a dialog); the editor stays up.
  xdg_open bad 'quire://open?doc=zz'
  local first=$opener_pid editor
  if wait_count "$work/bad.err" 'quire: Could not open the link' 1 20; then
    ok "a damaged link shows the editor's link error"
  else
    fail "a damaged link: no link error within 20 s"
    sed -n '1,20s/^/    /p' "$work/bad.out" "$work/bad.err"
  fi
  xdg_open truncated "${link:0:$((${#link} / 2))}"
  check "a truncated link is handed to the running editor" wait_exit "$opener_pid" 20
  if wait_count "$work/bad.err" 'quire: Could not open the link' 2 10; then
    ok "the running editor shows the truncated link's error"
  else
    fail "the running editor did not report the truncated link"
    sed -n '1,20s/^/    /p' "$work/bad.err" "$work/truncated.err"
  fi
  sleep 1
  editor=$(editor_under "$first")
  if [[ -n $editor ]] && kill -0 "$editor" 2>/dev/null; then
    ok "the editor is still running after both damaged links"
  else
    fail "the editor is gone after a damaged link"
    sed -n '1,20s/^/    /p' "$work/bad.err"
  fi
  check "the editor closes on SIGTERM after the errors, no crash" stop_editor "$first"

  check "dpkg -r quire quire-relay" dpkg -r quire quire-relay
  mapfile -t paths < <(prefixed "" "${editor_files[@]}" "${relay_files[@]:0:2}" \
    "${relay_files[@]:3}")
  check "dpkg -r removed the programs, desktop entry, icons, metainfo, unit, man pages" \
    files_gone "${paths[@]}"
  check "dpkg -r removed the quire:// registration from mimeinfo.cache" \
    sh -c '! grep -q "quire" /usr/share/applications/mimeinfo.cache 2>/dev/null'
  local answer
  answer=$("${desktop_env[@]}" xdg-mime query default x-scheme-handler/quire 2>&1)
  expect "xdg-mime query default x-scheme-handler/quire answers nothing after dpkg -r" \
    "$answer" ""
  check "dpkg --purge quire-relay removes /etc/quire" \
    sh -c 'dpkg --purge quire quire-relay && [ ! -e /etc/quire ]'
  installed_here=0
}

if [[ ${CI:-} == true ]] && ((EUID == 0)); then
  echo "check-packages: CI=true as root: installing the packages for the installed checks"
  installed_checks
else
  echo "skip: installed checks (only with CI=true as root, on a throwaway machine)"
fi

echo "package checks: $passed passed, $failed failed"
((failed == 0))
