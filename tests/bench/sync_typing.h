// `quire-bench sync`, typing: N WsDocument peers in this process, each over its own
// engine::Document, type 30 keystrokes per second into one document, through a quire-relay room
// or a direct star around one peer's WsListener; keystroke latency is measured from the
// sender's local edit to each other peer's patchesApplied. Also the bytes one keystroke costs on
// the wire (a raw client in the room sees every frame the relay forwards).
#pragma once

#include <cstddef>
#include <string>

#include <QString>

#include "engine/result.h"

namespace quire::bench {

class RelayProcess;

inline constexpr double kTypingKeysPerSecond = 30.0;

struct TypingConfig {
  bool relay = true;       // through the relay at `relayUrl`, else a star around peer 0
  int peers = 2;           // 2..52 (each types its own letter)
  int keystrokesPerPeer = 90;
  // Each sender commits its keystroke through a storage::AppendQueue on its own database in
  // `dir` and sends it only in the commit callback ("durable before sent").
  bool durable = false;
  std::string dir;
  // If set, its CPU use during the run is reported (not owned).
  const RelayProcess* relayProcess = nullptr;
};

struct TypingResult {
  double p50Ms = 0;
  double p99Ms = 0;
  double maxMs = 0;
  std::size_t deliveries = 0;     // (keystroke, receiving peer) pairs, all of them delivered
  double typedPerSecond = 0;      // keystrokes per second per peer actually typed
  // durable: sends that also carried ops received meanwhile (echoed back to the room, harmless)
  // or this sender's next keystroke, not yet committed (breaks "durable before sent").
  std::size_t echoSends = 0;
  std::size_t uncommittedSends = 0;
  // CPU use over the typing and delivery, % of one core: this process (every peer) and the relay.
  double benchCpuPercent = 0;
  double relayCpuPercent = 0;
};

// One run of `config`. Fails (Error::io) if a peer cannot join, a connection drops, not every
// keystroke reaches every other peer within 30 s of the last one, or the texts differ at the end.
[[nodiscard]] Result<TypingResult> runTyping(const TypingConfig& config, const QString& relayUrl);

struct WireResult {
  double sentBytes = 0;      // per steady keystroke, typist -> relay: frame + client header
  double receivedBytes = 0;  // per steady keystroke, relay -> receiver: frame + server header
  std::size_t firstSentBytes = 0;  // the typist's first keystroke (announces its agent)
  std::size_t frames = 0;          // keystroke frames seen (one per keystroke)
};

// One peer types `keystrokes` at 30/s in a relay room with one other peer and a raw observer,
// which decodes each forwarded frame (the bench holds the key) and records the keystroke
// frames' sizes. Fails if a keystroke is not exactly one frame or the receiver misses one.
[[nodiscard]] Result<WireResult> runWire(const QString& relayUrl, int keystrokes);

}  // namespace quire::bench
