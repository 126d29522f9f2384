// One document shared with several peers at once (direct peers and relay connections): routes
// ops and presence between the per-peer SyncSessions so nothing is applied or forwarded twice.
// PROTOCOL.md, "Session", "Several peers".
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "engine/document.h"
#include "net/sync_session.h"

namespace quire::net {

// Owns one SyncSession per connected peer; the document is the caller's and must outlive the
// hub. Deduplication rests on the document: an op is applied once (applyUpdate is idempotent,
// and the document's LV only grows when new ops land), and an LV range is forwarded once, right
// when it appears, to every peer but the one it came from. Presence is deduplicated by
// (replica, clock). Not thread-safe.
class SyncHub {
 public:
  using PeerId = std::uint64_t;

  struct Outgoing {
    PeerId to;
    Frame frame;
  };
  struct Output {
    std::vector<Outgoing> frames;        // send in order
    std::vector<engine::Patch> patches;  // already applied to the document
    engine::LV newOpsFrom = 0;           // ops added to the document, for storage
    engine::LV newOpsTo = 0;
    std::vector<Presence> presence;      // displayable remote presences, newest per replica
    std::vector<engine::ReplicaId> left;
    std::vector<PeerId> disconnect;      // close these connections, then removePeer()
  };

  SyncHub(engine::Document& doc, const DocKey& key, SessionOptions options = {});
  SyncHub(const SyncHub&) = delete;
  SyncHub& operator=(const SyncHub&) = delete;

  // A new connection: its id, and `hello` set to the first frame to send on it.
  PeerId addPeer(Frame& hello);
  void removePeer(PeerId peer);
  std::size_t peerCount() const { return m_sessions.size(); }
  // REQUIRES: `peer` was added and not removed (an unknown peer gets a disconnect verdict).
  Output receive(PeerId peer, std::span<const std::uint8_t> frame);
  // The document gained local ops with LVs >= `from`.
  Output localEdited(engine::LV from);
  // This replica's presence changed; the hub numbers it (clock) and records it. Coalesced:
  // flushPresence() (on a short timer) sends only the latest value, once per peer.
  void setLocalPresence(Presence p);
  Output flushPresence();
  const SyncSession* session(PeerId peer) const;

 private:
  void forwardOps(engine::LV from, PeerId except, Output& out);
  void forwardPresence(const Presence& p, PeerId except, Output& out);

  engine::Document& m_doc;
  DocKey m_key;
  SessionOptions m_options;
  PeerId m_nextPeer = 1;
  std::map<PeerId, std::unique_ptr<SyncSession>> m_sessions;
  std::map<engine::ReplicaId, std::uint32_t> m_presenceClock;  // newest seen per replica
  std::uint32_t m_localClock = 0;
  std::optional<Presence> m_localPresence;
};

}  // namespace quire::net
