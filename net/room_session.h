// The sync protocol for one document in one relay room, as a sans-I/O state machine: the
// relay's envelope and the room's frames in, messages out. Where SyncSession talks to one peer,
// a room is a broadcast medium with a memory: every member receives every stored frame, in the
// relay's order, including frames sent before it joined. PROTOCOL.md, "Rooms".
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <set>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/document.h"
#include "engine/version_vector.h"
#include "net/crypto.h"
#include "net/frame.h"
#include "net/presence_gate.h"

namespace quire::net {

// Stored room frames that this copy's document rejected, by a digest of their sealed bytes, so a
// poison frame that the relay replays on every join is skipped at once, without decoding, on every
// later join of the same document (PROTOCOL.md, "Hostile frames"). Shared by a document's room
// sessions; owned by the caller. Holds at most kMaxEntries (a frame past that is decoded and
// rejected again on the next join: bounded work, just not remembered).
//
// The digest is SipHash-2-4 with a 128-bit output (libsodium crypto_shorthash_siphashx24) under a
// key drawn at random for each set and never shown: nobody who does not know the key can make an
// honest frame collide with a rejected one, and it hashes about five times faster than BLAKE2b.
class RejectedFrames {
 public:
  using Digest = std::array<std::uint8_t, 16>;
  using Key = std::array<std::uint8_t, 16>;
  static constexpr std::size_t kMaxEntries = 1u << 16;
  RejectedFrames();  // REQUIRES: initCrypto() succeeded
  Digest digestOf(std::span<const std::uint8_t> frame) const { return digest(m_key, frame); }
  // The same digest on any thread, with a copy of the key.
  static Digest digest(const Key& key, std::span<const std::uint8_t> frame);
  const Key& key() const { return m_key; }
  bool empty() const { return m_digests.empty(); }
  bool contains(const Digest& d) const { return m_digests.contains(d); }
  void add(const Digest& d) {
    if (m_digests.size() < kMaxEntries) m_digests.insert(d);
  }
  std::size_t size() const { return m_digests.size(); }

 private:
  Key m_key{};
  std::set<Digest> m_digests;
};

// A large live update from the room, decrypted, whose decoding runs aside, on any thread, while
// frames of the room's other streams go on being applied (PROTOCOL.md, "Large frames"). run()
// needs nothing of the session: it decodes the update against a copy of its stream's agents and
// makes the checks that need no document (engine::checkUpdateAlone). The session then refuses
// the frame, or applies it as it would have on arrival (RoomSession::finishCheck).
struct FrameCheck {
  std::uint64_t id = 0;               // the held frame it belongs to
  std::vector<std::uint8_t> update;   // the decrypted update
  engine::StreamContext context;      // its stream's agents as the frame refers to them
  std::vector<std::uint8_t> sealed;   // the frame as stored
  std::optional<RejectedFrames::Key> digestKey;  // set: a refused frame's digest is taken too
  // Set by run():
  std::optional<Error> refusal;
  std::optional<RejectedFrames::Digest> digest;  // of `sealed`, if refused and digestKey is set
  void run();
};

struct RoomOptions {
  // Once this many items are stored in the room past its last snapshot, the member that notices
  // first replaces them with a snapshot. The threshold is spread by up to a quarter (from
  // `seed`) so the members of a room do not all try at once. 0: never snapshot.
  std::uint64_t snapshotAfterItems = 2000;
  // Also once the stored items past the last snapshot hold this many bytes, and at least twice
  // the last snapshot's, spread the same way: frames every member refuses (a key holder's junk)
  // and big pastes then do not make every later join download them, and a large document is not
  // rewritten again and again. 0: by item count only.
  std::uint64_t snapshotAfterBytes = 1u << 20;
  std::uint64_t seed = 0;
  // This member's stream id; 0 picks a random one. Tests fix it.
  std::uint64_t streamId = 0;
  // Where rejected stored frames are remembered across joins; null: not remembered.
  RejectedFrames* rejected = nullptr;
  // Bounds on decoding a snapshot's history.
  engine::DecodeLimits limits;
  // A live update at least this large is decoded aside (RoomOutput::check): frames of other
  // streams that come after it are applied meanwhile. 0: every frame is handled on arrival.
  std::size_t checkAsideBytes = 0;
};

// One WebSocket message to the relay: an envelope line (text) or a frame (binary).
struct RelayMessage {
  bool text = false;
  std::vector<std::uint8_t> bytes;
  std::string_view asText() const {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  }
  bool operator==(const RelayMessage&) const = default;
};
RelayMessage relayText(std::string_view text);
RelayMessage relayBinary(std::vector<std::uint8_t> bytes);

// What one call produced. Send `messages` in order, show `patches` (already applied), make ops
// [newOpsFrom, newOpsTo) durable, and close the connection if `disconnect` is set.
struct RoomOutput {
  std::vector<RelayMessage> messages;
  std::vector<engine::Patch> patches;
  engine::LV newOpsFrom = 0;
  engine::LV newOpsTo = 0;
  std::vector<Presence> presence;         // displayable remote presences
  std::vector<engine::ReplicaId> left;    // replicas that left the room
  // Frames dropped in this call, each with why (naming the field); the caller logs them.
  std::vector<std::string> rejected;
  // This call finished the join: the document now holds everything the relay had stored, and
  // what the room lacked of this document is on its way (in `messages`).
  bool joined = false;
  // The whole document was replaced: by a snapshot (it was empty), or rebuilt to repair a fork
  // (`rebuilt`). `patches` holds one patch of the whole text.
  bool replaced = false;
  // A fork was repaired by taking the room's version: the document was rebuilt without the
  // losing ops (engine FORMAT.md, "Forks"), its LVs renumbered; [newOpsFrom, newOpsTo) is all of
  // it. Storage must replace the document's history, not append to it. `repaired` says what.
  bool rebuilt = false;
  std::string repaired;
  // A fork where this copy's version won: the update that carries it, for every other peer (this
  // room gets it from the session itself, once live).
  std::vector<std::uint8_t> forkWinner;
  // A large update is held: run this check (on any thread) and hand it to finishCheck(). Until
  // then, frames of its stream, snapshots, leaves and the relay's replies wait in the session.
  std::optional<FrameCheck> check;
  bool disconnect = false;
  std::string reason;
};

// One connection to one relay room. Holds a reference to the document, which the caller owns
// (shared with a SyncHub's other sessions) and which must outlive the session. Not thread-safe.
//
// Lifecycle: start() gives the join line; the relay answers with its stored items (binary) and
// "joined N"; from then on the session is live until disconnect or bye(). A new connection
// needs a new session (a new stream).
class RoomSession {
 public:
  RoomSession(engine::Document& doc, const DocKey& key, RoomOptions options = {});
  RoomSession(const RoomSession&) = delete;
  RoomSession& operator=(const RoomSession&) = delete;

  // "join <room id hex>". REQUIRES: called once, first.
  RelayMessage start();
  RoomOutput receiveText(std::string_view text);
  RoomOutput receiveBinary(std::span<const std::uint8_t> frame);

  // The document gained ops with LVs >= `from` (local edits, or ops from another peer): a frame
  // on this member's stream. Nothing before the join completes (the join sends what the room
  // lacks, which covers them).
  std::vector<RelayMessage> localUpdate(engine::LV from, engine::LV to = ~engine::LV{0});

  // Presence, as in SyncSession: coalesced local presence, and other replicas' presence passed
  // on by a hub. Transient frames (the relay forwards them, never stores them).
  void setLocalPresence(const Presence& p);
  std::vector<RelayMessage> flushPresence();
  std::vector<RelayMessage> forwardPresence(const Presence& p);

  // A self-contained update for the room (a fork's winning version from another connection).
  // Sent at once if the join is done, else once it is.
  std::vector<RelayMessage> sendUpdate(std::vector<std::uint8_t> update);

  // The held frame's check has run: the frame is refused or applied, as on arrival. A check of
  // a frame this session no longer holds changes nothing.
  RoomOutput finishCheck(FrameCheck check);
  // Messages wait behind a held frame; once it is settled, each call handles the next one (which
  // may be held in turn) until none is left or another frame is held.
  bool canContinue() const { return !m_held && !m_waiting.empty(); }
  RoomOutput continueWaiting();
  // Frames and replies waiting behind a held frame (0 if none is held).
  std::size_t waitingCount() const { return m_waiting.size(); }
  bool holding() const { return m_held.has_value(); }

  // The leave frame (transient); the session sends nothing after it.
  RelayMessage bye();

  bool joined() const { return m_phase == Phase::Live; }
  bool closed() const { return m_phase == Phase::Closed; }
  // Frames skipped: not opening under the key, malformed, on a stream whose beginning this
  // member never saw, or rejected by the document. The newest reason is lastBadFrame().
  std::size_t badFrames() const { return m_badFrames; }
  // Stored frames skipped without decoding because an earlier join rejected them.
  std::size_t framesSkippedAsRejected() const { return m_skippedRejected; }
  const std::string& lastBadFrame() const { return m_lastBad; }
  std::uint64_t streamId() const { return m_streamId; }
  // The relay's last stored seq as far as this member knows (counting its own frames).
  std::uint64_t lastSeq() const { return m_lastSeq; }
  // Snapshots this session had stored by the relay.
  std::size_t snapshotsStored() const { return m_snapshotsStored; }
  std::size_t heldPresenceCount() const { return m_presence.heldCount(); }

 private:
  enum class Phase { New, Replaying, Live, Closed };
  struct InStream {
    engine::StreamContext context;
    std::uint32_t nextCounter = 0;
    std::uint64_t lastActive = 0;  // item number of its latest frame, to keep the newest
  };

  // A message from the relay that waits behind a held frame: a frame (decrypted) or a reply.
  struct Waiting {
    std::vector<std::uint8_t> bytes;  // the sealed frame, or the reply's text
    std::optional<Message> message;   // a frame's
  };
  struct Held {
    std::uint64_t id = 0;
    Message message;  // its update is in the check until finishCheck
    std::vector<std::uint8_t> sealed;
  };

  RelayMessage seal(Message m, bool transient);
  RoomOutput handleText(std::string_view text);
  // A decrypted frame from the relay, handled now: counted, applied, compaction checked.
  void handleFrame(std::span<const std::uint8_t> frame, const Message& m, RoomOutput& out);
  // A stored frame takes its place among the room's items (seq, counts for compaction).
  void count(std::span<const std::uint8_t> frame, const Message& m);
  // After a stored frame was applied or refused: is a snapshot due?
  void afterStored(std::span<const std::uint8_t> frame, const Message& m, RoomOutput& out);
  // Whether `m` must wait behind the held frame; whether it should be held itself.
  bool mustWait(const Message& m) const;
  bool shouldHold(std::span<const std::uint8_t> frame, const Message& m) const;
  void wait(std::span<const std::uint8_t> frame, Message m);
  void hold(std::span<const std::uint8_t> frame, Message m, RoomOutput& out);
  // Sets m_current for one call's frame, which is only lent for that call.
  struct CurrentFrame {
    CurrentFrame(std::span<const std::uint8_t>& slot, std::span<const std::uint8_t> frame)
        : slot(slot) {
      slot = frame;
    }
    ~CurrentFrame() { slot = {}; }
    std::span<const std::uint8_t>& slot;
  };
  void apply(const Message& m, RoomOutput& out);
  void applySnapshot(const Message& m, RoomOutput& out);
  void applyRoomOps(const Message& m, RoomOutput& out);
  void noteRoomOps(std::span<const std::uint8_t> update, const engine::StreamContext& context);
  void finishJoin(RoomOutput& out);
  // A frame of this member's went to the relay, which stores it as the room's next item.
  void countOwnItem(const RelayMessage& sealed);
  void countStored(RoomOutput& out);
  void sendSnapshot(std::uint64_t upTo, RoomOutput& out);
  void bad(RoomOutput& out, const std::string& why);
  // An authenticated stored frame that the document refused: remembered, so later joins skip it.
  void rejectStored(RoomOutput& out, const std::string& why,
                    std::optional<RejectedFrames::Digest> digest = std::nullopt);
  // An update the document refused as forked: true if its version won and the document was
  // rebuilt with it; false if this copy's version stands (it is then sent to the room), or the
  // repair could not be made (`refusal`, the caller's reason for refusing, then says why).
  bool settleFork(std::span<const std::uint8_t> update, engine::StreamContext* stream,
                  RoomOutput& out, std::string& refusal);
  // Counts an update the document refused if it may hold ops that another member can use.
  void noteUnusable(const Error& why);
  void end(RoomOutput& out, std::string reason);

  engine::Document& m_doc;
  DocKey m_key;
  RoomId m_room;
  RoomOptions m_options;
  std::uint64_t m_snapshotThreshold = 0;
  Phase m_phase = Phase::New;
  std::uint64_t m_streamId = 0;
  engine::StreamContext m_outContext;
  std::uint32_t m_outCounter = 0;
  std::map<std::uint64_t, InStream> m_streams;
  std::uint64_t m_items = 0;  // stored items seen (received or sent), for InStream::lastActive
  // Every op the room's stored items hold, as far as this member has seen them: after the join,
  // what the document has beyond this is sent to the room.
  engine::VersionVector m_roomVersion;
  std::uint64_t m_lastSeq = 0;
  std::uint64_t m_itemsSinceSnapshot = 0;
  std::uint64_t m_bytesSinceSnapshot = 0;  // of those items' sealed frames
  std::uint64_t m_lastSnapshotBytes = 0;   // the last snapshot seen or sent, sealed
  std::uint64_t m_snapshotBytesThreshold = 0;
  // A "mark" is out: this member's own stream as it was when it asked.
  std::optional<RoomStream> m_markedOwnStream;
  bool m_snapshotPending = false;  // "snapshot N" sent, reply not yet in
  bool m_snapshotWanted = false;   // an update too big for a frame waits for a snapshot
  std::size_t m_snapshotsStored = 0;
  std::size_t m_badFrames = 0;
  std::size_t m_skippedRejected = 0;
  // The stored frame being handled (empty if none): its digest is taken only to look it up
  // while replaying and to remember it once refused, so a live frame is hashed only if refused.
  std::span<const std::uint8_t> m_current;
  std::size_t m_undecodable = 0;  // authenticated frames that another member may use
  std::string m_lastBad;
  // Updates for the room that wait for the join to finish (sendUpdate).
  std::vector<std::vector<std::uint8_t>> m_unsent;
  // A large update being decoded aside, and what arrived after it that must wait for it.
  std::optional<Held> m_held;
  std::deque<Waiting> m_waiting;
  std::multiset<std::uint64_t> m_waitingStreams;  // of the waiting RoomOps frames
  std::size_t m_waitingBarriers = 0;  // waiting replies, snapshots, leaves: all after them wait
  std::uint64_t m_nextHeldId = 1;
  PresenceGate m_presence;
  std::optional<Presence> m_localPresence;
  std::optional<Presence> m_sentPresence;
};

}  // namespace quire::net
