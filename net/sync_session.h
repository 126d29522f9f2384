// The sync protocol for one document and one remote peer, as a sans-I/O state machine: bytes in,
// frames out, no sockets, no clock. A QWebSocket adapter (later) only moves the bytes.
// PROTOCOL.md, "Session".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/document.h"
#include "net/crypto.h"
#include "net/frame.h"
#include "net/presence_gate.h"

namespace quire::net {

struct SessionOptions {
  // Frames failing authentication (wrong key, tampered, injected) that are tolerated before the
  // session asks to disconnect. Each is dropped and counted.
  std::size_t maxBadFrames = 8;
};

using Frame = std::vector<std::uint8_t>;

// What one call produced. The caller sends `frames` to the peer in order, shows `patches` (they
// are already applied to the document), and closes the connection if `disconnect` is set.
struct SessionOutput {
  std::vector<Frame> frames;
  std::vector<engine::Patch> patches;
  // Ops this call added to the document have LVs in [newOpsFrom, newOpsTo) (empty if equal):
  // what a hub forwards to the other peers and storage makes durable.
  engine::LV newOpsFrom = 0;
  engine::LV newOpsTo = 0;
  // Remote presences that became displayable (their anchors resolve in the document), oldest
  // first. A presence whose anchors name ops not yet received is held back until they arrive.
  std::vector<Presence> presence;
  // Replicas whose presence should be cleared (the peer said bye).
  std::vector<engine::ReplicaId> left;
  // A fork repaired by taking the peer's version (RoomOutput::rebuilt says what that means).
  bool rebuilt = false;
  std::string repaired;
  // A fork where this copy's version won: the update that carries it, for every other peer (this
  // peer is sent it before it is closed).
  std::vector<std::uint8_t> forkWinner;
  bool disconnect = false;
  std::string reason;  // why, when disconnect is set (for the log line)
};

// One direction pair of one connection. Holds a reference to the document, which the caller
// owns and which must outlive the session; several sessions (one per peer) may share one
// document through a SyncHub. The session applies remote updates to the document itself, so
// it is the only writer while a call runs. The transport must deliver frames once and in order
// (a WebSocket does); a lost or repeated frame is detected and ends the session, and the next
// connection resyncs from version vectors. Not thread-safe.
class SyncSession {
 public:
  SyncSession(engine::Document& doc, const DocKey& key, SessionOptions options = {});
  SyncSession(const SyncSession&) = delete;
  SyncSession& operator=(const SyncSession&) = delete;

  // The hello frame (this replica's id and version vector), to send first.
  // REQUIRES: called once, before receive().
  Frame start();

  // Handles one frame from the peer. Never fails: bad frames are counted (see badFrames())
  // or end the session (output.disconnect).
  SessionOutput receive(std::span<const std::uint8_t> frame);

  // The document gained ops with LVs >= `from` (local keystrokes, or ops that arrived from
  // another peer): frames carrying them on this connection's stream. Empty before the peer's
  // hello has arrived: the catch-up sent then covers everything the document holds.
  // Only ops with LVs below `to` go out (the rest are not yet durable, say).
  std::vector<Frame> localUpdate(engine::LV from, engine::LV to = ~engine::LV{0});
  // A self-contained update for the peer (a fork's winning version from another connection).
  // Empty before the peer's hello: the catch-up then decides what it lacks.
  std::vector<Frame> sendUpdate(std::vector<std::uint8_t> update);

  // Coalesced local presence: setLocalPresence() only records the latest value;
  // flushPresence() returns one frame if it changed since the last frame sent (the adapter
  // calls it on a short timer, e.g. every 50 ms, and after local updates).
  void setLocalPresence(const Presence& p);
  std::vector<Frame> flushPresence();
  // Another replica's presence passed on by a hub (already deduplicated there). Empty before
  // the peer's hello; presence is re-sent periodically, so nothing is queued.
  std::vector<Frame> forwardPresence(const Presence& p);

  // The goodbye frame; the session sends nothing after it.
  Frame bye();

  bool synced() const { return m_peerHello; }
  bool closed() const { return m_closed; }
  std::size_t badFrames() const { return m_badFrames; }
  // The peer's replica id, once its hello has arrived.
  std::optional<engine::ReplicaId> peerReplica() const;
  // Presences held back because their anchors name ops not yet received.
  std::size_t heldPresenceCount() const { return m_presence.heldCount(); }

 private:
  Frame seal(Message m);
  void applyUpdate(const Message& m, SessionOutput& out);
  void end(SessionOutput& out, std::string reason);

  engine::Document& m_doc;
  DocKey m_key;
  RoomId m_room;
  SessionOptions m_options;
  engine::StreamContext m_outStream;
  engine::StreamContext m_inStream;
  std::uint32_t m_sendCounter = 0;
  std::uint32_t m_receiveCounter = 0;
  bool m_started = false;
  bool m_peerHello = false;
  bool m_closed = false;
  engine::ReplicaId m_peer;
  std::size_t m_badFrames = 0;
  std::optional<Presence> m_localPresence;
  std::optional<Presence> m_sentPresence;
  PresenceGate m_presence;
};

}  // namespace quire::net
