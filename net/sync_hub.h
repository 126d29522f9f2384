// One document shared with several peers at once (direct peers and relay rooms): routes ops and
// presence between the per-connection sessions (a SyncSession per direct peer, a RoomSession per
// relay connection) so nothing is applied or forwarded twice, and keeps presence alive (re-sent
// every kPresenceResendMs, expired after kPresenceExpiryMs of silence).
// PROTOCOL.md, "Session", "Several peers", "Rooms".
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/document.h"
#include "net/room_session.h"
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
  static constexpr std::int64_t kPresenceResendMs = 10'000;
  static constexpr std::int64_t kPresenceExpiryMs = 30'000;

  struct Outgoing {
    PeerId to;
    Frame frame;        // a binary message, or the text of an envelope line when `text`
    bool text = false;  // only to relay rooms
  };
  struct Output {
    std::vector<Outgoing> frames;        // send in order
    std::vector<engine::Patch> patches;  // already applied to the document
    engine::LV newOpsFrom = 0;           // ops added to the document, for storage
    engine::LV newOpsTo = 0;
    std::vector<Presence> presence;      // displayable remote presences, newest per replica
    std::vector<engine::ReplicaId> left;  // cleared: said bye, left the room, or expired
    std::vector<PeerId> disconnect;      // close these connections, then removePeer()
    std::vector<std::string> reasons;    // why, one per `disconnect` entry
    std::vector<PeerId> joined;          // relay rooms whose join completed in this call
    bool replaced = false;               // the document was replaced: a snapshot (it was empty)
                                         // or a fork's repair (`rebuilt`)
    // A fork was repaired by rebuilding the document (RoomOutput::rebuilt): storage must replace
    // the document's history with the whole document, not append [newOpsFrom, newOpsTo).
    bool rebuilt = false;
    // Forks settled in this call, with what was done: for the log.
    std::vector<std::pair<PeerId, std::string>> repaired;
    // Frames a room dropped (junk, or refused by the document), each with why: for the log.
    std::vector<std::pair<PeerId, std::string>> rejected;
    // Large frames a room holds: run each check (on any thread), then finishCheck() it.
    std::vector<std::pair<PeerId, FrameCheck>> checks;
  };

  SyncHub(engine::Document& doc, const DocKey& key, SessionOptions options = {});
  SyncHub(const SyncHub&) = delete;
  SyncHub& operator=(const SyncHub&) = delete;

  // A new connection: its id, and `hello` set to the first frame to send on it.
  PeerId addPeer(Frame& hello);
  // A new relay connection: its id, and `join` set to the first message to send on it.
  PeerId addRoom(Outgoing& join, RoomOptions options = {});
  void removePeer(PeerId peer);
  std::size_t peerCount() const { return m_sessions.size() + m_rooms.size(); }
  bool isRoom(PeerId peer) const { return m_rooms.contains(peer); }
  // A binary message from a direct peer or a relay room. An unknown peer gets a disconnect
  // verdict.
  Output receive(PeerId peer, std::span<const std::uint8_t> frame);
  // A text message: the relay's envelope for a room; a direct peer sending text is disconnected.
  Output receiveText(PeerId peer, std::string_view text);
  // A room's held frame, checked (Output::checks; RoomSession::finishCheck). Then, while
  // canContinue(peer), continueWaiting(peer) handles what waited behind it, one message a call.
  Output finishCheck(PeerId peer, FrameCheck check);
  bool canContinue(PeerId peer) const;
  Output continueWaiting(PeerId peer);
  // The document gained local ops with LVs in [from, to) (default: all from `from` on).
  Output localEdited(engine::LV from, engine::LV to = ~engine::LV{0});
  // This replica's presence changed; the hub numbers it (clock) and records it. Coalesced:
  // flushPresence() (on a short timer) sends only the latest value, once per peer.
  void setLocalPresence(Presence p);
  Output flushPresence();
  // The clock moved to `nowMs` (any monotonic milliseconds; call about once a second): re-sends
  // this replica's presence when due and expires remote presence that went silent.
  Output tick(std::int64_t nowMs);
  // Remote replicas whose presence is shown (not cleared, not expired).
  std::size_t shownPresenceCount() const { return m_presenceSeenAt.size(); }
  const SyncSession* session(PeerId peer) const;
  const RoomSession* room(PeerId peer) const;

 private:
  Output emptyOutput() const;
  void forwardOps(engine::LV from, engine::LV to, PeerId except, Output& out);
  void forwardPresence(const Presence& p, PeerId except, Output& out);
  // A fork's winning version, settled on `except`'s connection: to every other peer.
  void forwardUpdate(const std::vector<std::uint8_t>& update, PeerId except, Output& out);
  Output fromRoom(PeerId peer, RoomOutput r);
  void absorb(PeerId from, std::vector<engine::Patch> patches, engine::LV newFrom, engine::LV newTo,
              std::vector<Presence> presence, std::vector<engine::ReplicaId> left, Output& out);

  engine::Document& m_doc;
  DocKey m_key;
  SessionOptions m_options;
  static constexpr PeerId kNobody = 0;  // no connection has it: "except nobody"
  PeerId m_nextPeer = 1;
  std::map<PeerId, std::unique_ptr<SyncSession>> m_sessions;
  std::map<PeerId, std::unique_ptr<RoomSession>> m_rooms;
  std::map<engine::ReplicaId, std::uint32_t> m_presenceClock;  // newest seen per replica
  std::map<engine::ReplicaId, std::int64_t> m_presenceSeenAt;  // shown ones: when last heard
  std::uint32_t m_localClock = 0;
  std::optional<Presence> m_localPresence;
  std::int64_t m_now = 0;
  std::int64_t m_presenceSentAt = 0;
};

}  // namespace quire::net
