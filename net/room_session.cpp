#include "net/room_session.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <utility>

#include <sodium.h>

#include "engine/update_codec.h"

namespace quire::net {

namespace {

// A live update larger than this is not sent as a frame (a relay's frame limit defaults to
// 1 MiB); the member snapshots instead, which has no such limit and reaches everyone too.
constexpr std::size_t kMaxRoomUpdateBytes = 512u << 10;

std::string hexOf(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

// "WORD N ..." -> N, if `text` starts with `word` and a space and a decimal number.
std::optional<std::uint64_t> numberAfter(std::string_view text, std::string_view word) {
  if (text.size() <= word.size() + 1 || text.substr(0, word.size()) != word ||
      text[word.size()] != ' ')
    return std::nullopt;
  text.remove_prefix(word.size() + 1);
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || (end != text.data() + text.size() && *end != ' ')) return std::nullopt;
  return n;
}


}  // namespace

RelayMessage relayText(std::string_view text) {
  return {true, std::vector<std::uint8_t>(text.begin(), text.end())};
}

RelayMessage relayBinary(std::vector<std::uint8_t> bytes) { return {false, std::move(bytes)}; }

RoomSession::RoomSession(engine::Document& doc, const DocKey& key, RoomOptions options)
    : m_doc(doc), m_key(key), m_room(roomIdOf(key)), m_options(options) {
  m_streamId = options.streamId != 0 ? options.streamId : randomU64();
  if (options.snapshotAfterItems != 0) {
    // Spread by up to a quarter, deterministically from the seed.
    const std::uint64_t spread = options.snapshotAfterItems / 4 + 1;
    m_snapshotThreshold = options.snapshotAfterItems + (options.seed ^ m_streamId) % spread;
  }
  if (options.snapshotAfterBytes != 0) {
    const std::uint64_t spread = options.snapshotAfterBytes / 4 + 1;
    m_snapshotBytesThreshold = options.snapshotAfterBytes + (options.seed ^ m_streamId) % spread;
  }
}

RelayMessage RoomSession::seal(Message m, bool transient) {
  return relayBinary(encodeFrame(m_key, m_room, m, transient));
}

RelayMessage RoomSession::start() {
  assert(m_phase == Phase::New);
  m_phase = Phase::Replaying;
  return relayText("join " + hexOf(m_room.bytes));
}

void RoomSession::end(RoomOutput& out, std::string reason) {
  m_phase = Phase::Closed;
  out.disconnect = true;
  out.reason = std::move(reason);
}

// A room is a broadcast medium with a memory: whoever learnt the room id can put frames in it,
// and the relay replays them to every newcomer. Leaving would not help (the next join replays
// the same frames), so a frame that cannot be used is skipped and counted, never obeyed.
void RoomSession::bad(RoomOutput& out, const std::string& why) {
  ++m_badFrames;
  m_lastBad = why;
  out.rejected.push_back(why);
}

void RoomSession::noteUnusable(const Error& why) {
  // Only a format this build does not read may hold ops that another member can use: a snapshot
  // from here would drop them. An update the engine refuses (malformed, corrupt, forked) is
  // refused by every member alike, so it must not stop snapshots: a key holder could otherwise
  // keep a room from ever being compacted with one poison frame.
  if (why.code() == Error::Code::UnsupportedVersion) ++m_undecodable;
}

void RoomSession::rejectStored(RoomOutput& out, const std::string& why,
                               std::optional<RejectedFrames::Digest> digest) {
  bad(out, why);
  if (!m_options.rejected || m_current.empty()) return;
  m_options.rejected->add(digest ? *digest : m_options.rejected->digestOf(m_current));
}

bool RoomSession::settleFork(std::span<const std::uint8_t> update, engine::StreamContext* stream,
                             RoomOutput& out, std::string& refusal) {
  auto repair = m_doc.repairFork(update, stream);
  if (!repair) {
    refusal += " (not repaired: " + repair.error().toString() + ")";
    return false;
  }
  if (!repair->incomingWins) {
    // The frame is refused (the caller says so); the copies that took it learn the winner.
    out.forkWinner = repair->winner;
    for (RelayMessage& r : sendUpdate(std::move(repair->winner))) out.messages.push_back(std::move(r));
    return false;
  }
  out.replaced = out.rebuilt = true;
  out.repaired = repair->summary() + ": took the room's version, which wins, and rebuilt the "
                                     "document without the other";
  out.patches = {repair->replace(m_doc)};
  out.newOpsFrom = 0;
  out.newOpsTo = m_doc.nextLv();
  return true;
}

std::vector<RelayMessage> RoomSession::sendUpdate(std::vector<std::uint8_t> update) {
  std::vector<RelayMessage> messages;
  if (m_phase == Phase::Closed || update.empty()) return messages;
  if (m_phase != Phase::Live || update.size() > kMaxRoomUpdateBytes) {
    if (m_phase != Phase::Live) m_unsent.push_back(std::move(update));
    else m_snapshotWanted = true;  // too big for a frame: a snapshot carries it
    return messages;
  }
  Message m;
  m.kind = FrameKind::Update;
  m.update = std::move(update);
  messages.push_back(seal(std::move(m), false));
  countOwnItem(messages.back());
  return messages;
}

static_assert(crypto_shorthash_siphashx24_BYTES == sizeof(RejectedFrames::Digest));
static_assert(crypto_shorthash_siphashx24_KEYBYTES == 16);

RejectedFrames::RejectedFrames() { randombytes_buf(m_key.data(), m_key.size()); }

RejectedFrames::Digest RejectedFrames::digest(const Key& key, std::span<const std::uint8_t> frame) {
  Digest d;
  crypto_shorthash_siphashx24(d.data(), frame.data(), frame.size(), key.data());
  return d;
}

RoomOutput RoomSession::receiveText(std::string_view text) {
  if (m_phase == Phase::Live && (m_held || !m_waiting.empty())) {
    // The reply speaks of the room as it stood at its place in the relay's order: it waits.
    m_waiting.push_back({std::vector<std::uint8_t>(text.begin(), text.end()), std::nullopt});
    ++m_waitingBarriers;
    RoomOutput out;
    out.newOpsFrom = out.newOpsTo = m_doc.nextLv();
    return out;
  }
  return handleText(text);
}

RoomOutput RoomSession::handleText(std::string_view text) {
  RoomOutput out;
  out.newOpsFrom = out.newOpsTo = m_doc.nextLv();
  if (m_phase == Phase::Closed || m_phase == Phase::New) return out;
  if (auto n = numberAfter(text, "joined")) {
    if (m_phase != Phase::Replaying) {
      end(out, "relay said 'joined' twice");
      return out;
    }
    m_lastSeq = *n;
    finishJoin(out);
  } else if (auto mark = numberAfter(text, "mark")) {
    if (m_markedOwnStream) sendSnapshot(*mark, out);
  } else if (auto stored = numberAfter(text, "snapshot-stored")) {
    // Whoever made it, the items up to it are one item now.
    m_itemsSinceSnapshot = m_lastSeq > *stored ? m_lastSeq - *stored : 0;
    m_bytesSinceSnapshot = 0;  // all but those few items
    if (m_snapshotPending) {
      m_snapshotPending = false;
      ++m_snapshotsStored;
    }
  } else if (numberAfter(text, "snapshot-refused")) {
    // Somebody else's snapshot already covers more; wait for the next threshold.
    m_snapshotPending = false;
    m_itemsSinceSnapshot = 0;
    m_bytesSinceSnapshot = 0;
  }
  // Anything else is a reply this version does not know: ignored, for later versions.
  return out;
}

RoomOutput RoomSession::receiveBinary(std::span<const std::uint8_t> frame) {
  RoomOutput out;
  out.newOpsFrom = out.newOpsTo = m_doc.nextLv();
  if (m_phase == Phase::Closed || m_phase == Phase::New) return out;
  const bool stored = !isTransientFrame(frame);
  const CurrentFrame current(m_current, stored ? frame : std::span<const std::uint8_t>{});
  if (stored && m_options.rejected && !m_options.rejected->empty() && m_phase == Phase::Replaying) {
    // Looked up before anything is decrypted: a poison frame the relay replays on every join
    // (up to 64 MiB) then costs one hash of its bytes, not another decryption. A live frame is
    // new to this copy (the relay gave it a new seq): it is hashed only if it is refused.
    if (m_options.rejected->contains(m_options.rejected->digestOf(frame))) {
      // Rejected on an earlier join and replayed again: not decoded again.
      ++m_skippedRejected;
      ++m_items;
      return out;
    }
  }
  auto decoded = decodeFrame(m_key, m_room, frame);
  if (!decoded) {
    const Error::Code code = decoded.error().code();
    const bool unauthenticated =
        code == Error::Code::Crypto || frame.empty() || frame.size() > kMaxFrameBytes;
    if (unauthenticated) {
      bad(out, "a frame failed authentication");
    } else if (code == Error::Code::Malformed) {
      // It opened, so a key holder sealed a plaintext that is no message: remembered like any
      // frame the document refuses.
      rejectStored(out, decoded.error().toString());
    } else {
      bad(out, decoded.error().toString());  // a newer format: not this build's to judge
    }
    return out;
  }
  if (mustWait(*decoded)) {
    wait(frame, std::move(*decoded));
    return out;
  }
  if (shouldHold(frame, *decoded)) {
    hold(frame, std::move(*decoded), out);
    return out;
  }
  handleFrame(frame, *decoded, out);
  return out;
}

void RoomSession::handleFrame(std::span<const std::uint8_t> frame, const Message& m, RoomOutput& out) {
  const CurrentFrame current(m_current, isTransientFrame(frame) ? std::span<const std::uint8_t>{} : frame);
  count(frame, m);
  apply(m, out);
  if (m_phase != Phase::Closed) afterStored(frame, m, out);
}

void RoomSession::count(std::span<const std::uint8_t> frame, const Message& m) {
  if (isTransientFrame(frame)) return;
  ++m_items;
  m_bytesSinceSnapshot += frame.size();  // a snapshot resets it (applySnapshot)
  // A snapshot forwarded live replaced items; it took no new seq.
  if (m_phase == Phase::Live && m.kind != FrameKind::Snapshot) ++m_lastSeq;
}

void RoomSession::afterStored(std::span<const std::uint8_t> frame, const Message& m, RoomOutput& out) {
  if (isTransientFrame(frame) || m.kind == FrameKind::Snapshot) return;
  ++m_itemsSinceSnapshot;
  countStored(out);
}

void RoomSession::apply(const Message& m, RoomOutput& out) {
  switch (m.kind) {
    case FrameKind::RoomOps:
      applyRoomOps(m, out);
      break;
    case FrameKind::Update: {
      const engine::LV before = m_doc.nextLv();
      auto patches = m_doc.applyUpdate(m.update);
      if (!patches && patches.error().code() == Error::Code::Forked) {
        std::string why = "a room update the document rejects: " + patches.error().toString();
        if (settleFork(m.update, nullptr, out, why)) {
          noteRoomOps(m.update, engine::StreamContext{});
          break;
        }
        rejectStored(out, why);
        return;
      }
      if (!patches) {
        noteUnusable(patches.error());
        rejectStored(out, "a room update the document rejects: " + patches.error().toString());
        return;
      }
      // Only what the document accepted counts as held by the room: a forged claim must not
      // stop this copy from sending what the room really lacks.
      noteRoomOps(m.update, engine::StreamContext{});
      out.patches = std::move(*patches);
      out.newOpsFrom = before;
      out.newOpsTo = m_doc.nextLv();
      break;
    }
    case FrameKind::Snapshot:
      applySnapshot(m, out);
      break;
    case FrameKind::Presence:
      if (m.presence.replica == m_doc.localReplica()) return;
      m_presence.receive(m.presence, m_doc, out.presence);
      return;
    case FrameKind::Leave:
      m_streams.erase(m.stream);
      if (m.sender == m_doc.localReplica()) return;
      m_presence.forget(m.sender);
      out.left.push_back(m.sender);
      return;
    case FrameKind::Hello:
    case FrameKind::Ops:
    case FrameKind::Bye:
      bad(out, "a frame of a direct session arrived in a room");
      return;
  }
  if (out.newOpsTo != out.newOpsFrom) m_presence.release(m_doc, out.presence);
}

void RoomSession::noteRoomOps(std::span<const std::uint8_t> update,
                              const engine::StreamContext& context) {
  auto decoded = engine::decodePackedUpdate(update, context);
  if (!decoded) return;  // the document's applyUpdate reports it
  std::vector<std::pair<engine::ReplicaId, std::uint32_t>> seen;
  seen.reserve(decoded->runs.size());
  for (const engine::PackedRun& run : decoded->runs)
    seen.emplace_back(decoded->replica(run.agent), run.seq + run.len);
  m_roomVersion.mergeMax(engine::VersionVector::fromUnsorted(std::move(seen)));
}

void RoomSession::applyRoomOps(const Message& m, RoomOutput& out) {
  auto it = m_streams.find(m.stream);
  if (it == m_streams.end()) {
    if (m.counter != 0) {
      // The stream began before what this member has seen, and no snapshot described it.
      ++m_undecodable;
      bad(out, "a frame of a stream whose beginning is missing");
      return;
    }
    it = m_streams.emplace(m.stream, InStream{}).first;
  }
  InStream& stream = it->second;
  if (m.counter < stream.nextCounter) return;  // a copy (a replay); the ops are in already
  if (m.counter > stream.nextCounter) {
    ++m_undecodable;
    bad(out, "stream frame " + std::to_string(m.counter) + " where " +
                 std::to_string(stream.nextCounter) + " was expected");
    return;
  }
  const engine::StreamContext context = stream.context;  // as the update refers to it
  const engine::LV before = m_doc.nextLv();
  auto patches = m_doc.applyUpdate(m.update, &stream.context);
  if (!patches && patches.error().code() == Error::Code::Forked) {
    std::string why = "a room update the document rejects: " + patches.error().toString();
    if (settleFork(m.update, &stream.context, out, why)) {
      noteRoomOps(m.update, context);
    } else {
      // The frame decodes but holds the losing version: an honest member may only have passed
      // it on, so its stream goes on with the authors the frame named.
      if (auto named = engine::decodePackedUpdate(m.update, stream.context))
        stream.context.agents.insert(stream.context.agents.end(), named->newAgents.begin(),
                                     named->newAgents.end());
      rejectStored(out, why);
    }
    ++stream.nextCounter;
    stream.lastActive = m_items;
    return;
  }
  if (!patches) {
    // The stream's context no longer matches its sender's: its later frames are skipped too.
    noteUnusable(patches.error());
    rejectStored(out, "a room update the document rejects: " + patches.error().toString());
    ++stream.nextCounter;
    return;
  }
  noteRoomOps(m.update, context);
  ++stream.nextCounter;
  stream.lastActive = m_items;
  out.patches = std::move(*patches);
  out.newOpsFrom = before;
  out.newOpsTo = m_doc.nextLv();
}

void RoomSession::applySnapshot(const Message& m, RoomOutput& out) {
  // Live, the relay's "snapshot-stored" came first and restarted the item count.
  m_bytesSinceSnapshot = 0;
  m_lastSnapshotBytes = m_current.size();
  if (m_phase == Phase::Replaying) {
    // The relay sends a snapshot first: it describes the streams as they were at its seq, so
    // their later frames decode.
    m_itemsSinceSnapshot = 0;
    for (const RoomStream& s : m.streams) {
      InStream& in = m_streams[s.id];
      in.context.agents = s.agents;
      in.nextCounter = s.nextCounter;
      in.lastActive = m_items;
    }
  }
  if (m_doc.version().includes(m.version)) {
    // Nothing new (a periodic snapshot, live; a rejoin): taken as the room's without decoding.
    m_roomVersion.mergeMax(m.version);
    return;
  }

  // Beyond that, the snapshot counts as held by the room only as far as its history bears out
  // and once the document took it: a refused snapshot claiming a version it lacks must not stop
  // this copy from sending the room what it lacks (offline keystrokes would never reach it).
  auto snapshot = engine::Document::decodeHistory(m.update, m_doc.localReplica(), m_options.limits);
  if (!snapshot) {
    rejectStored(out, "a snapshot that does not decode: " + snapshot.error().toString());
    return;
  }
  const engine::VersionVector held = snapshot->version();
  if (m_doc.opCount() == 0 && m_doc.pendingOpCount() == 0) {
    // The usual join by link: take the snapshot as it is instead of merging into nothing.
    m_roomVersion.mergeMax(held);
    m_doc = std::move(*snapshot);
    out.replaced = true;
    out.newOpsFrom = 0;
    out.newOpsTo = m_doc.nextLv();
    if (m_doc.length() > 0) out.patches.push_back({0, 0, m_doc.text()});
    return;
  }
  const engine::LV before = m_doc.nextLv();
  auto patches = m_doc.applyUpdate(snapshot->encodeUpdateSince(m_doc.version()));
  if (!patches) {
    rejectStored(out, "a snapshot the document rejects: " + patches.error().toString());
    return;
  }
  m_roomVersion.mergeMax(held);
  out.patches = std::move(*patches);
  out.newOpsFrom = before;
  out.newOpsTo = m_doc.nextLv();
}

void RoomSession::finishJoin(RoomOutput& out) {
  // No verdict on frames that do not open, even if none does: anyone who learnt the room id
  // can store junk in a fresh room, and leaving over it would lock the room's members out. (A
  // wrong key derives another room id, so it meets an empty room anyway.)
  m_phase = Phase::Live;
  out.joined = true;
  // What this copy holds that the room has not seen (offline edits, ops from direct peers).
  if (!m_roomVersion.includes(m_doc.version())) {
    Message m;
    m.kind = FrameKind::Update;
    m.update = m_doc.encodeUpdateSince(m_roomVersion);
    if (m.update.size() > kMaxRoomUpdateBytes) {
      // Too big for one frame: a snapshot carries it instead.
      m_snapshotWanted = true;
    } else {
      out.messages.push_back(seal(std::move(m), false));
      countOwnItem(out.messages.back());
    }
  }
  for (std::vector<std::uint8_t>& update : std::exchange(m_unsent, {}))
    for (RelayMessage& r : sendUpdate(std::move(update))) out.messages.push_back(std::move(r));
  for (RelayMessage& f : flushPresence()) out.messages.push_back(std::move(f));
  countStored(out);
}

void RoomSession::countOwnItem(const RelayMessage& sealed) {
  ++m_lastSeq;
  ++m_itemsSinceSnapshot;
  m_bytesSinceSnapshot += sealed.bytes.size();
}

void RoomSession::countStored(RoomOutput& out) {
  if (m_phase != Phase::Live || m_snapshotPending || m_markedOwnStream) return;
  const bool dueByItems = m_snapshotThreshold != 0 && m_itemsSinceSnapshot >= m_snapshotThreshold;
  const bool dueByBytes =
      m_snapshotBytesThreshold != 0 &&
      m_bytesSinceSnapshot >= std::max(m_snapshotBytesThreshold, 2 * m_lastSnapshotBytes);
  if (!dueByItems && !dueByBytes && !m_snapshotWanted) return;
  m_snapshotWanted = false;
  // Own frames sent after "mark" get seqs above the relay's answer: remember the stream now.
  m_markedOwnStream = RoomStream{m_streamId, m_outCounter, m_outContext.agents};
  out.messages.push_back(relayText("mark"));
}

void RoomSession::sendSnapshot(std::uint64_t upTo, RoomOutput& out) {
  RoomStream own = std::move(*m_markedOwnStream);
  m_markedOwnStream.reset();
  // A snapshot must hold every op of the items it replaces: not while some wait for missing
  // dependencies, nor after an authenticated frame of the room could not be used (another
  // member may be able to). Frames that do not open are junk and are dropped with the rest.
  // (A huge local update then waits for the next connection; see PROTOCOL.md, "Rooms".)
  if (m_doc.pendingOpCount() != 0 || m_undecodable != 0) {
    m_itemsSinceSnapshot = 0;
    m_bytesSinceSnapshot = 0;
    return;
  }
  Message m;
  m.kind = FrameKind::Snapshot;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> byActivity;  // (lastActive, id)
  for (const auto& [id, s] : m_streams) byActivity.emplace_back(s.lastActive, id);
  std::sort(byActivity.rbegin(), byActivity.rend());
  if (byActivity.size() > kMaxSnapshotStreams - 1) byActivity.resize(kMaxSnapshotStreams - 1);
  if (own.nextCounter != 0) m.streams.push_back(std::move(own));
  for (const auto& [active, id] : byActivity) {
    const InStream& s = m_streams.at(id);
    m.streams.push_back({id, s.nextCounter, s.context.agents});
  }
  m.version = m_doc.version();
  m.update = m_doc.encodeHistory();
  out.messages.push_back(relayText("snapshot " + std::to_string(upTo)));
  out.messages.push_back(seal(std::move(m), false));
  m_lastSnapshotBytes = out.messages.back().bytes.size();
  m_snapshotPending = true;
}

std::vector<RelayMessage> RoomSession::localUpdate(engine::LV from, engine::LV to) {
  std::vector<RelayMessage> messages;
  if (m_phase != Phase::Live || from >= std::min(to, m_doc.nextLv())) return messages;
  const engine::StreamContext before = m_outContext;
  Message m;
  m.kind = FrameKind::RoomOps;
  m.stream = m_streamId;
  m.update = m_doc.encodeOpsBetween(from, to, &m_outContext);
  if (m.update.size() > kMaxRoomUpdateBytes) {
    // A huge paste: leave the stream as it was and let a snapshot carry it to everyone.
    m_outContext = before;
    RoomOutput out;
    m_snapshotWanted = true;
    countStored(out);
    return std::move(out.messages);
  }
  m.counter = m_outCounter++;
  messages.push_back(seal(std::move(m), false));
  countOwnItem(messages.back());
  RoomOutput out;
  countStored(out);
  for (RelayMessage& r : out.messages) messages.push_back(std::move(r));
  return messages;
}

void RoomSession::setLocalPresence(const Presence& p) { m_localPresence = p; }

std::vector<RelayMessage> RoomSession::flushPresence() {
  std::vector<RelayMessage> messages;
  if (m_phase != Phase::Live || !m_localPresence || m_localPresence == m_sentPresence)
    return messages;
  Message m;
  m.kind = FrameKind::Presence;
  m.presence = *m_localPresence;
  m_sentPresence = m_localPresence;
  messages.push_back(seal(std::move(m), true));
  return messages;
}

std::vector<RelayMessage> RoomSession::forwardPresence(const Presence& p) {
  std::vector<RelayMessage> messages;
  if (m_phase != Phase::Live) return messages;
  Message m;
  m.kind = FrameKind::Presence;
  m.presence = p;
  messages.push_back(seal(std::move(m), true));
  return messages;
}

RelayMessage RoomSession::bye() {
  Message m;
  m.kind = FrameKind::Leave;
  m.sender = m_doc.localReplica();
  m.stream = m_streamId;
  m_phase = Phase::Closed;
  return seal(std::move(m), true);
}

}  // namespace quire::net
