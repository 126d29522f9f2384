// `quire-bench hostile`, the attack: honest WsDocument peers (tests/bench/hostile_honest.h) type
// through a quire-relay child on 127.0.0.1, in slices that alternate within each run: alone, then
// while an attacker holding the key sends one hostile sealed frame every 100 ms into the same
// room (rotating: decompression-bomb snapshot, counter-overflow update, 100,000-author update,
// garbage). Keystroke latency is the sender's local edit to each other peer's patchesApplied, as
// in `quire-bench sync`. Every run is in one forked child process (under an address-space limit,
// killed at a deadline) so a decoder that allocates gigabytes or blocks for minutes costs a
// figure, not the bench.
#pragma once

#include <string>
#include <vector>

namespace quire::bench {

struct AttackConfig {
  int runs = 5;                 // each run: a fresh room, quiet and attacked slices alternating
  int peers = 2;                // honest typists, 2..26
  int keystrokesPerPeer = 90;   // counted quiet, and again attacked, at 30 keystrokes per second
  int drainTimeoutMs = 15'000;  // after the last keystroke of a run; then missing ones count
                                // as (deadline - typed), a lower bound
};

struct AttackRun {
  double quietP50Ms = 0, quietP99Ms = 0, quietMaxMs = 0;
  double attackP50Ms = 0, attackP99Ms = 0, attackMaxMs = 0;
  int quietMissing = 0;    // deliveries that never came (counted at the deadline)
  int attackMissing = 0;
  int framesSent = 0;      // hostile frames the attacker sent during the attacked phase
  int framesByKind[4] = {};  // bomb snapshot, counter overflow, 100,000 authors, garbage
  int attackerClosed = 0;  // times the relay closed the attacker's connection
  double ratio() const { return quietP99Ms > 0 ? attackP99Ms / quietP99Ms : 0; }
};

struct AttackFigures {
  std::vector<AttackRun> runs;  // the runs that completed
  std::string failure;          // why the child stopped early (empty if every run completed)
  std::string note;             // e.g. the relay options used
};

// Runs `config.runs` runs in one child process. Never throws; a failure is in `failure`.
AttackFigures measureAttack(const AttackConfig& config);

// The names of AttackRun::framesByKind's kinds.
extern const char* const kAttackFrameKinds[4];

}  // namespace quire::bench
