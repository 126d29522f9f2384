// The stage for the multi-process hostile-bytes tests (issue 12, "Tests that prove it"): on
// 127.0.0.1, a quire-relay, two honest quire-cli peers (A serves direct peers and stays on the
// relay, B follows the link), both typing, and an attacker in the test process that holds the
// link. runAttack() plays one attack through the relay and straight to A, then checks what
// every attack must leave behind. QUIRE_CLI_PATH and QUIRE_RELAY_PATH come from
// tests/CMakeLists.txt. Test-only.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <QByteArray>

#include "engine/version_vector.h"
#include "net/crypto.h"
#include "net/frame.h"

namespace quire::test::hostile {

inline constexpr std::size_t kMiB = std::size_t{1} << 20;

// A frame the attacker stores in the room through the relay, which forwards it to every member
// and replays it to every later joiner.
struct RelayFrame {
  QByteArray bytes;
  // What each honest peer's "dropped a frame from RELAY - ..." log line must say about it.
  std::string dropReason;
  // It opens with the key, so an honest peer remembers it and skips it undecoded when it
  // rejoins. A frame that does not open is dropped again instead (a MAC check, no decoding).
  bool remembered = true;
  // An ordinary frame the documents take (the honest original a forgery duplicates): no drop.
  bool accepted = false;
};

// What the attacker has read of the room: it holds the link, so it joins and reads like any
// member.
struct RoomView {
  net::DocKey key;
  net::RoomId room;
  engine::VersionVector version;  // every op the room held when the attack was built
};

struct AttackPlan {
  // Frames through the relay, built once the attacker has seen both honest peers type.
  std::function<std::vector<RelayFrame>(const RoomView&)> viaRelay;
  // Frames sent straight to A after a valid hello (frame 0); number them from 1.
  std::function<std::vector<QByteArray>(const RoomView&)> direct;
  // What the close reason A gives the direct connection must say (and A's log with it).
  std::string directCloseReason;
  // Text the attacker's accepted frames add (see RelayFrame::accepted); nothing else may appear.
  std::string acceptedText;
  // Peak resident memory (VmHWM) allowed to each honest quire-cli process and to the relay.
  // quire-cli idles at about 20 MiB and the relay below 30 MiB; every attack but the 64 MiB
  // frame is refused well inside these bounds (a bomb would take 1 GiB).
  std::size_t rssBoundMiB = 128;
  std::size_t relayRssBoundMiB = 128;
  // The relay's options besides --listen and --db. The default lets every crafted frame (up to
  // 64 MiB) reach the peers; quire-relay's own defaults (1 MiB frames, 64 MiB per room) would
  // close the attacker before the biggest ones were stored.
  std::vector<std::string> relayArgs{"--max-frame-bytes", std::to_string(80 * kMiB),
                                     "--max-room-bytes", std::to_string(512 * kMiB)};
  // Runs on B's database (path, document id) after B first fetched the document and before
  // B's long-running processes start (a poison row, say).
  std::function<void(const std::string&, const std::string&)> prepareB;
  // A line every quire-cli process on B's database must print on stderr (e.g. the skipped row).
  std::string bStderrNote;
};

// Plays `plan`:
//  1. A creates and shares the document through the relay, B fetches it; A runs `serve` (relay
//     and a direct listener), B runs `open` (a follower); both start typing with `type`.
//  2. While they type, the attacker reads the room, stores plan.viaRelay's frames in it, then
//     connects to A directly, says hello and sends plan.direct's frames. The typists, members
//     of the room too, are stopped once they have dropped the relay's frames.
//  3. The relay is stopped and restarted on its port and database: A and B rejoin in the same
//     processes, and skip the remembered frames undecoded.
//  4. Each peer types offline, then online again with a fresh `type` (which joins anew and
//     meets the stored frames once more); A and B must see each other's keystrokes live.
// Checks: every honest process (relay included) exits 0 when stopped (or by itself) and stays
// under plan.rssBoundMiB (the relay: relayRssBoundMiB); A's and B's final texts are identical and hold every keystroke (and
// nothing else but plan.acceptedText); the direct connection was closed with a reason that A
// logged; A, B and the typists each logged every relay frame as dropped (the fresh typists of
// step 4 too), and on the rejoin A and B logged the remembered ones as skipped and dropped
// nothing again but the frames that do not open.
void runAttack(const AttackPlan& plan);

// quire-relay with its default limits (1 MiB frames): sends `frame` (over 1 MiB) to a room of a
// relay of its own and checks that the relay refused it unread (close code 1009, its log naming
// the limit), stored nothing, stayed small and exits 0 when stopped.
void checkDefaultRelayRefuses(const QByteArray& frame);

// Helpers for plans.
QByteArray toQt(const std::vector<std::uint8_t>& bytes);
// `m` sealed for the room, as frame number `counter` (stored, not transient).
QByteArray sealed(const RoomView& view, net::Message m, std::uint32_t counter = 0);
// A version that claims far more than the room holds: every author in `v` at a seq 2^20 higher,
// plus the attacker. A snapshot must state a version the member lacks to be decoded at all.
engine::VersionVector inflatedClaim(const engine::VersionVector& v);

}  // namespace quire::test::hostile
