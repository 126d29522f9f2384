#include "net/frame.h"

#include <algorithm>
#include <string>

#include "engine/byte_io.h"
#include "engine/utf8.h"

namespace quire::net {

namespace {

using engine::ByteReader;
using engine::ByteWriter;

Error bad(const std::string& what) { return Error::malformed("frame: " + what); }

bool readReplica(ByteReader& r, engine::ReplicaId& id) {
  std::span<const std::uint8_t> raw;
  if (!r.bytes(id.bytes.size(), raw)) return false;
  std::copy(raw.begin(), raw.end(), id.bytes.begin());
  return true;
}

// Anchor: one byte kind | bias << 4; a Char anchor adds replica id (16) and varint seq.
Result<engine::Anchor> readAnchor(ByteReader& r, const char* which) {
  std::uint8_t tag;
  if (!r.byte(tag)) return fail(bad(std::string("presence: ") + which + " anchor cut short"));
  engine::Anchor a;
  const std::uint8_t kind = tag & 0x0F, bias = tag >> 4;
  if (kind > 2 || bias > 1)
    return fail(bad(std::string("presence: ") + which + " anchor has unknown tag " +
                    std::to_string(tag)));
  a.kind = static_cast<engine::Anchor::Kind>(kind);
  a.bias = static_cast<engine::Bias>(bias);
  if (a.kind == engine::Anchor::Kind::Char) {
    if (!readReplica(r, a.replica) || !r.u32(a.seq))
      return fail(bad(std::string("presence: ") + which + " anchor cut short"));
  }
  return a;
}

}  // namespace

void encodeAnchor(std::vector<std::uint8_t>& out, const engine::Anchor& a) {
  ByteWriter w(out);
  w.byte(static_cast<std::uint8_t>(static_cast<std::uint8_t>(a.kind) |
                                   static_cast<std::uint8_t>(a.bias) << 4));
  if (a.kind == engine::Anchor::Kind::Char) {
    w.bytes(std::span<const std::uint8_t>(a.replica.bytes));
    w.varint(a.seq);
  }
}

std::vector<std::uint8_t> encodeMessage(const Message& m) {
  std::vector<std::uint8_t> out;
  ByteWriter w(out);
  w.byte(static_cast<std::uint8_t>(m.kind));
  w.varint(m.counter);
  switch (m.kind) {
    case FrameKind::Hello:
      w.bytes(std::span<const std::uint8_t>(m.sender.bytes));
      w.bytes(m.version.encode());
      break;
    case FrameKind::Update:
    case FrameKind::Ops:
      w.bytes(m.update);
      break;
    case FrameKind::Presence: {
      const Presence& p = m.presence;
      w.bytes(std::span<const std::uint8_t>(p.replica.bytes));
      w.varint(p.clock);
      w.block(std::span<const std::uint8_t>(
          reinterpret_cast<const std::uint8_t*>(p.name.data()), p.name.size()));
      w.byte(static_cast<std::uint8_t>(p.colour >> 16));
      w.byte(static_cast<std::uint8_t>(p.colour >> 8));
      w.byte(static_cast<std::uint8_t>(p.colour));
      encodeAnchor(out, p.cursor);
      encodeAnchor(out, p.selection);
      break;
    }
    case FrameKind::Bye:
      break;
    case FrameKind::RoomOps:
      w.u64le(m.stream);
      w.bytes(m.update);
      break;
    case FrameKind::Snapshot:
      w.varint(m.streams.size());
      for (const RoomStream& s : m.streams) {
        w.u64le(s.id);
        w.varint(s.nextCounter);
        w.varint(s.agents.size());
        for (const engine::ReplicaId& a : s.agents) w.bytes(std::span<const std::uint8_t>(a.bytes));
      }
      w.block(m.version.encode());
      w.bytes(m.update);
      break;
    case FrameKind::Leave:
      w.bytes(std::span<const std::uint8_t>(m.sender.bytes));
      w.u64le(m.stream);
      break;
  }
  return out;
}

Result<Message> decodeMessage(std::span<const std::uint8_t> bytes) {
  ByteReader r(bytes);
  Message m;
  std::uint8_t kind;
  if (!r.byte(kind)) return fail(bad("empty payload"));
  if (kind < 1 || kind > 8) return fail(bad("unknown kind " + std::to_string(kind)));
  m.kind = static_cast<FrameKind>(kind);
  if (!r.u32(m.counter)) return fail(bad("counter missing or past 32 bits"));
  switch (m.kind) {
    case FrameKind::Hello: {
      if (!readReplica(r, m.sender)) return fail(bad("hello: sender replica id cut short"));
      std::span<const std::uint8_t> rest;
      r.bytes(r.left(), rest);
      auto v = engine::VersionVector::decode(rest);
      if (!v) return fail(bad("hello: version vector: " + v.error().toString()));
      m.version = std::move(*v);
      return m;
    }
    case FrameKind::Update:
    case FrameKind::Ops: {
      // The engine validates the update itself when it is applied (atomically).
      std::span<const std::uint8_t> rest;
      r.bytes(r.left(), rest);
      if (rest.empty()) return fail(bad("update: empty"));
      m.update.assign(rest.begin(), rest.end());
      return m;
    }
    case FrameKind::Presence: {
      Presence& p = m.presence;
      std::span<const std::uint8_t> name;
      if (!readReplica(r, p.replica) || !r.u32(p.clock))
        return fail(bad("presence: replica or clock cut short"));
      if (!r.block(name)) return fail(bad("presence: name cut short"));
      if (name.size() > kMaxDisplayNameBytes)
        return fail(bad("presence: name of " + std::to_string(name.size()) + " bytes, limit " +
                        std::to_string(kMaxDisplayNameBytes)));
      p.name.assign(name.begin(), name.end());
      if (!engine::utf8::countValid(p.name)) return fail(bad("presence: name is not UTF-8"));
      std::uint8_t rgb[3];
      for (std::uint8_t& c : rgb)
        if (!r.byte(c)) return fail(bad("presence: colour cut short"));
      p.colour = std::uint32_t{rgb[0]} << 16 | std::uint32_t{rgb[1]} << 8 | rgb[2];
      auto cursor = readAnchor(r, "cursor");
      if (!cursor) return fail(cursor.error());
      auto selection = readAnchor(r, "selection");
      if (!selection) return fail(selection.error());
      p.cursor = *cursor;
      p.selection = *selection;
      break;
    }
    case FrameKind::Bye:
      break;
    case FrameKind::RoomOps: {
      std::span<const std::uint8_t> rest;
      if (!r.u64le(m.stream)) return fail(bad("room ops: stream id cut short"));
      r.bytes(r.left(), rest);
      if (rest.empty()) return fail(bad("room ops: empty update"));
      m.update.assign(rest.begin(), rest.end());
      return m;
    }
    case FrameKind::Snapshot: {
      std::uint64_t count;
      if (!r.varint(count)) return fail(bad("snapshot: stream count cut short"));
      if (count > kMaxSnapshotStreams)
        return fail(bad("snapshot: " + std::to_string(count) + " streams, limit " +
                        std::to_string(kMaxSnapshotStreams)));
      // Each stream takes at least 10 bytes (id, a one-byte counter, a one-byte agent count), so
      // a count the rest cannot back is a lie, not an allocation.
      if (count > r.left() / 10)
        return fail(bad("snapshot: names more streams than the frame holds"));
      m.streams.resize(count);
      for (RoomStream& s : m.streams) {
        std::uint64_t agents;
        if (!r.u64le(s.id) || !r.u32(s.nextCounter) || !r.varint(agents))
          return fail(bad("snapshot: stream cut short"));
        // Every agent takes 16 bytes, so a count beyond what is left is a lie, not an allocation.
        if (agents > r.left() / engine::ReplicaId{}.bytes.size())
          return fail(bad("snapshot: stream names more agents than the frame holds"));
        s.agents.resize(agents);
        for (engine::ReplicaId& a : s.agents)
          if (!readReplica(r, a)) return fail(bad("snapshot: agent cut short"));
      }
      std::span<const std::uint8_t> version;
      if (!r.block(version)) return fail(bad("snapshot: version vector cut short"));
      auto v = engine::VersionVector::decode(version);
      if (!v) return fail(bad("snapshot: version vector: " + v.error().toString()));
      m.version = std::move(*v);
      std::span<const std::uint8_t> rest;
      r.bytes(r.left(), rest);
      if (rest.empty()) return fail(bad("snapshot: no document"));
      m.update.assign(rest.begin(), rest.end());
      return m;
    }
    case FrameKind::Leave:
      if (!readReplica(r, m.sender) || !r.u64le(m.stream))
        return fail(bad("leave: replica or stream cut short"));
      break;
  }
  if (!r.atEnd())
    return fail(bad(std::to_string(r.left()) + " unexpected bytes after the message"));
  return m;
}

namespace {

std::array<std::uint8_t, 1 + kRoomIdBytes> associatedData(std::uint8_t version, const RoomId& room) {
  std::array<std::uint8_t, 1 + kRoomIdBytes> ad;
  ad[0] = version;
  std::copy(room.bytes.begin(), room.bytes.end(), ad.begin() + 1);
  return ad;
}

}  // namespace

std::vector<std::uint8_t> encodeFrame(const DocKey& key, const RoomId& room, const Message& m,
                                      bool transient) {
  const std::uint8_t header = kProtocolVersion | (transient ? kTransientFlag : 0);
  const auto ad = associatedData(header, room);
  std::vector<std::uint8_t> sealed = seal(key, encodeMessage(m), ad);
  std::vector<std::uint8_t> frame;
  frame.reserve(1 + sealed.size());
  frame.push_back(header);
  frame.insert(frame.end(), sealed.begin(), sealed.end());
  return frame;
}

bool isTransientFrame(std::span<const std::uint8_t> frame) {
  return !frame.empty() && (frame[0] & kTransientFlag) != 0;
}

Result<Message> decodeFrame(const DocKey& key, const RoomId& room,
                            std::span<const std::uint8_t> frame) {
  if (frame.empty()) return fail(bad("empty"));
  if ((frame[0] & ~kTransientFlag) != kProtocolVersion)
    return fail(Error::unsupportedVersion("frame: protocol version " +
                                          std::to_string(frame[0] & ~kTransientFlag) +
                                          ", this build speaks " +
                                          std::to_string(kProtocolVersion)));
  if (frame.size() > kMaxFrameBytes)
    return fail(bad(std::to_string(frame.size()) + " bytes, limit " +
                    std::to_string(kMaxFrameBytes)));
  // Cut short or longer than it should be, the seal does not open: Error::crypto.
  const auto ad = associatedData(frame[0], room);
  auto plain = open(key, frame.subspan(1), ad);
  if (!plain) return fail(plain.error());
  return decodeMessage(*plain);
}

}  // namespace quire::net
