#include "net/sync_session.h"

#include <cassert>
#include <utility>

namespace quire::net {

SyncSession::SyncSession(engine::Document& doc, const DocKey& key, SessionOptions options)
    : m_doc(doc), m_key(key), m_room(roomIdOf(key)), m_options(options) {}

Frame SyncSession::seal(Message m) {
  m.counter = m_sendCounter++;
  return encodeFrame(m_key, m_room, m);
}

Frame SyncSession::start() {
  assert(!m_started);
  m_started = true;
  Message hello;
  hello.kind = FrameKind::Hello;
  hello.sender = m_doc.localReplica();
  hello.version = m_doc.version();
  return seal(std::move(hello));
}

std::optional<engine::ReplicaId> SyncSession::peerReplica() const {
  if (!m_peerHello) return std::nullopt;
  return m_peer;
}

void SyncSession::end(SessionOutput& out, std::string reason) {
  m_closed = true;
  out.disconnect = true;
  out.reason = std::move(reason);
}

SessionOutput SyncSession::receive(std::span<const std::uint8_t> frame) {
  assert(m_started);
  SessionOutput out;
  out.newOpsFrom = out.newOpsTo = m_doc.nextLv();
  if (m_closed) {
    out.disconnect = true;
    out.reason = "session already closed";
    return out;
  }
  auto decoded = decodeFrame(m_key, m_room, frame);
  if (!decoded) {
    // Anyone on the path can send an empty or oversized frame; like a frame that does not
    // open, it proves nothing about the peer, so it is counted rather than obeyed.
    const bool unauthenticated = decoded.error().code() == Error::Code::Crypto ||
                                 frame.empty() || frame.size() > kMaxFrameBytes;
    if (unauthenticated) {
      // Not from a key holder (or damaged on the way): drop it, and give up on a peer that
      // keeps sending such frames.
      if (++m_badFrames >= m_options.maxBadFrames)
        end(out, std::to_string(m_badFrames) + " frames failed authentication");
      return out;
    }
    // Authenticated but unreadable, or an unknown version: the peer holds the key but speaks
    // something else. Nothing sensible can follow on this stream.
    end(out, decoded.error().toString());
    return out;
  }
  Message& m = *decoded;
  if (m.counter != m_receiveCounter) {
    end(out, "frame " + std::to_string(m.counter) + " arrived where frame " +
                 std::to_string(m_receiveCounter) + " was expected (lost, replayed or reordered)");
    return out;
  }
  ++m_receiveCounter;
  if (!m_peerHello && m.kind != FrameKind::Hello && m.kind != FrameKind::Bye) {
    end(out, "peer sent a frame before its hello");
    return out;
  }

  switch (m.kind) {
    case FrameKind::Hello: {
      if (m_peerHello) {
        end(out, "peer sent a second hello");
        return out;
      }
      m_peerHello = true;
      m_peer = m.sender;
      // Exactly what the peer lacks, self-contained; nothing when it lacks nothing.
      if (!m.version.includes(m_doc.version())) {
        Message update;
        update.kind = FrameKind::Update;
        update.update = m_doc.encodeUpdateSince(m.version);
        out.frames.push_back(seal(std::move(update)));
      }
      // Live ops from here on refer to the document as it is now.
      if (m_localPresence) {
        auto frames = flushPresence();
        for (auto& f : frames) out.frames.push_back(std::move(f));
      }
      break;
    }
    case FrameKind::Update:
    case FrameKind::Ops:
      applyUpdate(m, out);
      break;
    case FrameKind::Presence:
      m_presence.receive(m.presence, m_doc, out.presence);
      break;
    case FrameKind::Bye:
      if (m_peerHello) {
        m_presence.forget(m_peer);
        out.left.push_back(m_peer);
      }
      end(out, "peer said bye");
      break;
    case FrameKind::RoomOps:
    case FrameKind::Snapshot:
    case FrameKind::Leave:
      end(out, "a relay room's frame arrived in a direct session");
      break;
  }
  return out;
}

void SyncSession::applyUpdate(const Message& m, SessionOutput& out) {
  const engine::LV before = m_doc.nextLv();
  engine::StreamContext* stream = m.kind == FrameKind::Ops ? &m_inStream : nullptr;
  auto patches = m_doc.applyUpdate(m.update, stream);
  if (!patches && patches.error().code() == Error::Code::Forked) {
    // Two versions of one op (engine FORMAT.md, "Forks"): the same one wins on every copy.
    auto repair = m_doc.repairFork(m.update, stream);
    if (repair && repair->incomingWins) {
      out.rebuilt = true;
      out.repaired = repair->summary() + ": took the peer's version, which wins, and rebuilt the "
                                         "document without the other";
      out.patches = {repair->replace(m_doc)};
      out.newOpsFrom = 0;
      out.newOpsTo = m_doc.nextLv();
      return;
    }
    if (repair) {
      // This copy's version wins: the peer (honest, if it only passed the other one on) gets it
      // before it is closed, so it can repair; the other peers get it too.
      for (Frame& f : sendUpdate(repair->winner)) out.frames.push_back(std::move(f));
      out.forkWinner = std::move(repair->winner);
    } else {
      end(out, "peer sent an update the document rejects: " + patches.error().toString() +
                   " (not repaired: " + repair.error().toString() + ")");
      return;
    }
  }
  if (!patches) {
    end(out, "peer sent an update the document rejects: " + patches.error().toString());
    return;
  }
  out.patches = std::move(*patches);
  out.newOpsFrom = before;
  out.newOpsTo = m_doc.nextLv();
  if (out.newOpsTo != before) m_presence.release(m_doc, out.presence);
}

std::vector<Frame> SyncSession::localUpdate(engine::LV from, engine::LV to) {
  std::vector<Frame> frames;
  if (!m_peerHello || m_closed || from >= std::min(to, m_doc.nextLv())) return frames;
  Message m;
  m.kind = FrameKind::Ops;
  m.update = m_doc.encodeOpsBetween(from, to, &m_outStream);
  frames.push_back(seal(std::move(m)));
  return frames;
}

std::vector<Frame> SyncSession::sendUpdate(std::vector<std::uint8_t> update) {
  std::vector<Frame> frames;
  if (!m_peerHello || m_closed || update.empty()) return frames;
  Message m;
  m.kind = FrameKind::Update;
  m.update = std::move(update);
  frames.push_back(seal(std::move(m)));
  return frames;
}

void SyncSession::setLocalPresence(const Presence& p) { m_localPresence = p; }

std::vector<Frame> SyncSession::flushPresence() {
  std::vector<Frame> frames;
  if (!m_peerHello || m_closed || !m_localPresence || m_localPresence == m_sentPresence)
    return frames;
  Message m;
  m.kind = FrameKind::Presence;
  m.presence = *m_localPresence;
  m_sentPresence = m_localPresence;
  frames.push_back(seal(std::move(m)));
  return frames;
}

std::vector<Frame> SyncSession::forwardPresence(const Presence& p) {
  std::vector<Frame> frames;
  if (!m_peerHello || m_closed || p.replica == m_peer) return frames;
  Message m;
  m.kind = FrameKind::Presence;
  m.presence = p;
  frames.push_back(seal(std::move(m)));
  return frames;
}

Frame SyncSession::bye() {
  Message m;
  m.kind = FrameKind::Bye;
  Frame f = seal(std::move(m));
  m_closed = true;
  return f;
}

}  // namespace quire::net
