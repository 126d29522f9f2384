// RoomSession: large live updates decoded aside while the room's other streams go on
// (PROTOCOL.md, "Large frames").
//
// A member applies the room's frames in the relay's order. A frame of hundreds of KiB takes a
// millisecond or more to decode, and every keystroke stored after it would wait that long. So a
// live update at least RoomOptions::checkAsideBytes large is held: it is decrypted and counted
// as the room's next item at once, its decoding (the part that costs) runs aside, and frames
// that cannot depend on it go on being applied meanwhile. What could depend on it waits and is
// handled in order once it is settled:
//   - frames of the same stream (each refers to the agents the ones before it named, and a
//     stream's frames are taken in counter order, the first of a counter winning);
//   - snapshots and leaves (they speak of streams as they stood at their place);
//   - the relay's replies ("mark N" must snapshot a document that holds every item up to N);
//   - and everything after one of those.
// Self-contained updates and other streams' frames commute with it: the document takes ops in
// any order (ops whose dependencies are missing wait inside it), and a fork is settled by which
// version wins, not by which came first.

#include <utility>

#include "engine/update_codec.h"
#include "net/room_session.h"

namespace quire::net {

void FrameCheck::run() {
  if (auto ok = engine::checkUpdateAlone(update, context); !ok) {
    refusal = ok.error();
    if (digestKey) digest = RejectedFrames::digest(*digestKey, sealed);
  }
}

bool RoomSession::mustWait(const Message& m) const {
  if (!m_held && m_waiting.empty()) return false;
  if (m_waitingBarriers > 0) return true;
  switch (m.kind) {
    case FrameKind::Presence:
    case FrameKind::Update:
      return false;
    case FrameKind::RoomOps:
      return (m_held && m_held->message.kind == FrameKind::RoomOps &&
              m_held->message.stream == m.stream) ||
             m_waitingStreams.contains(m.stream);
    default:
      return true;
  }
}

void RoomSession::wait(std::span<const std::uint8_t> frame, Message m) {
  if (m.kind == FrameKind::RoomOps) {
    m_waitingStreams.insert(m.stream);
  } else if (m.kind != FrameKind::Update && m.kind != FrameKind::Presence) {
    ++m_waitingBarriers;
  }
  m_waiting.push_back({std::vector<std::uint8_t>(frame.begin(), frame.end()), std::move(m)});
}

bool RoomSession::shouldHold(std::span<const std::uint8_t> frame, const Message& m) const {
  if (m_options.checkAsideBytes == 0 || m_phase != Phase::Live || m_held ||
      isTransientFrame(frame) || m.update.size() < m_options.checkAsideBytes)
    return false;
  if (m.kind == FrameKind::Update) return true;
  if (m.kind != FrameKind::RoomOps) return false;
  // Only the stream's next frame: a copy or a gap is settled at once, without decoding.
  auto it = m_streams.find(m.stream);
  return it == m_streams.end() ? m.counter == 0 : m.counter == it->second.nextCounter;
}

void RoomSession::hold(std::span<const std::uint8_t> frame, Message m, RoomOutput& out) {
  count(frame, m);
  FrameCheck check;
  check.id = m_nextHeldId++;
  if (m.kind == FrameKind::RoomOps) check.context = m_streams[m.stream].context;
  check.update = std::move(m.update);
  check.sealed.assign(frame.begin(), frame.end());
  if (m_options.rejected) check.digestKey = m_options.rejected->key();
  m_held = Held{check.id, std::move(m), {}};
  out.check = std::move(check);
}

RoomOutput RoomSession::finishCheck(FrameCheck check) {
  RoomOutput out;
  out.newOpsFrom = out.newOpsTo = m_doc.nextLv();
  if (!m_held || m_held->id != check.id || m_phase == Phase::Closed) return out;
  Held held = std::move(*m_held);
  m_held.reset();
  held.message.update = std::move(check.update);
  held.sealed = std::move(check.sealed);
  const CurrentFrame current(m_current, held.sealed);
  if (check.refusal) {
    // Refused without a document: as applyUpdate would have refused it on arrival.
    noteUnusable(*check.refusal);
    rejectStored(out, "a room update the document rejects: " + check.refusal->toString(), check.digest);
    if (held.message.kind == FrameKind::RoomOps) {
      // The stream's context no longer matches its sender's: its later frames are skipped too.
      if (auto it = m_streams.find(held.message.stream); it != m_streams.end()) ++it->second.nextCounter;
    }
  } else {
    apply(held.message, out);
    if (m_phase == Phase::Closed) return out;
  }
  afterStored(held.sealed, held.message, out);
  return out;
}

RoomOutput RoomSession::continueWaiting() {
  RoomOutput out;
  out.newOpsFrom = out.newOpsTo = m_doc.nextLv();
  if (m_phase == Phase::Closed) {
    m_waiting.clear();
    m_waitingStreams.clear();
    m_waitingBarriers = 0;
  }
  if (!canContinue()) return out;
  Waiting next = std::move(m_waiting.front());
  m_waiting.pop_front();
  if (!next.message) {
    --m_waitingBarriers;
    return handleText({reinterpret_cast<const char*>(next.bytes.data()), next.bytes.size()});
  }
  Message& m = *next.message;
  if (m.kind == FrameKind::RoomOps) {
    m_waitingStreams.erase(m_waitingStreams.find(m.stream));
  } else if (m.kind != FrameKind::Update && m.kind != FrameKind::Presence) {
    --m_waitingBarriers;
  }
  if (shouldHold(next.bytes, m)) {
    hold(next.bytes, std::move(m), out);
    return out;
  }
  handleFrame(next.bytes, m, out);
  return out;
}

}  // namespace quire::net
