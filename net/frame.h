// The frame codec: what one WebSocket binary message carries between two peers (directly or
// through the relay). A one-byte plaintext header, then a payload sealed with the document key.
// PROTOCOL.md, "Frames" (layout and worked example) and "Threat model" (what stays visible).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/document.h"
#include "engine/ids.h"
#include "engine/result.h"
#include "engine/version_vector.h"
#include "net/crypto.h"

namespace quire::net {

inline constexpr std::uint8_t kProtocolVersion = 1;
// Bit 7 of a frame's first byte: a transient frame (hello, presence, leave) that a relay forwards
// but does not store. The rest of the byte is the protocol version. Authenticated (it is part of
// the associated data), so nobody on the path can flip it without the frame failing to open.
inline constexpr std::uint8_t kTransientFlag = 0x80;
// Frames longer than this are rejected before any decryption (a whole-document update of a
// large history fits comfortably).
inline constexpr std::size_t kMaxFrameBytes = 64u << 20;
inline constexpr std::size_t kMaxDisplayNameBytes = 128;

// What a frame means. Sealed: a relay cannot tell the kinds apart except by size and timing.
enum class FrameKind : std::uint8_t {
  Hello = 1,     // sender's replica id + version vector: "this is what I have"
  Update = 2,    // a self-contained engine update (the catch-up after hello)
  Ops = 3,       // an engine update on this direction's stream context (live keystrokes)
  Presence = 4,  // display name, colour, cursor and selection
  Bye = 5,       // the sender is leaving; clear its presence
  // Relay rooms (PROTOCOL.md, "Rooms"): frames that every member of a room receives.
  RoomOps = 6,   // an engine update on the sender's room stream: stream id, then the update
  Snapshot = 7,  // the room's stream table, the document's version vector, then the whole
                 // document (history encoding)
  Leave = 8,     // the sender leaves the room: clear its presence, forget its stream
};

// The state of one sender's room stream as of a snapshot: the agents announced on it so far
// and the counter of its next frame. A member that starts from the snapshot decodes the
// stream's later frames with it.
struct RoomStream {
  std::uint64_t id = 0;
  std::uint32_t nextCounter = 0;
  std::vector<engine::ReplicaId> agents;
  bool operator==(const RoomStream&) const = default;
};
// A snapshot names at most this many streams (the most recently active ones).
inline constexpr std::size_t kMaxSnapshotStreams = 1024;

// Who is where. Ephemeral: never stored. `clock` grows with every change a replica makes to its
// presence, so a stale copy arriving by another path is recognised and ignored.
struct Presence {
  engine::ReplicaId replica;
  std::uint32_t clock = 0;
  std::string name;             // UTF-8, at most kMaxDisplayNameBytes
  std::uint32_t colour = 0;     // 0xRRGGBB
  engine::Anchor cursor;        // the caret
  engine::Anchor selection;     // the other end of the selection; == cursor when none
  bool operator==(const Presence&) const = default;
};

// The plaintext of one frame. Only the fields of `kind` are meaningful. `counter` numbers the
// frames of one direction of one session from 0 (of one room stream, for RoomOps; 0 and ignored
// for the other room frames), so a dropped, replayed or reordered frame is detected (the stream
// context of Ops frames depends on every earlier frame arriving once, in order).
struct Message {
  FrameKind kind = FrameKind::Bye;
  std::uint32_t counter = 0;
  engine::ReplicaId sender;              // Hello, Leave
  engine::VersionVector version;         // Hello; Snapshot: the version of its document
  std::vector<std::uint8_t> update;      // Update, Ops, RoomOps: engine update bytes;
                                         // Snapshot: engine history bytes
  Presence presence;                     // Presence
  std::uint64_t stream = 0;              // RoomOps, Leave: the sender's room stream id
  std::vector<RoomStream> streams;       // Snapshot
  bool operator==(const Message&) const = default;
};

// Plaintext codec (pure). decodeMessage fails with Error::malformed or
// Error::unsupportedVersion on anything that is not exactly one well-formed message.
std::vector<std::uint8_t> encodeMessage(const Message& m);
[[nodiscard]] Result<Message> decodeMessage(std::span<const std::uint8_t> bytes);

// Sealed frames: header byte, then seal(key, encodeMessage(m), ad = header || room id). The
// header is kProtocolVersion, with kTransientFlag when `transient`.
std::vector<std::uint8_t> encodeFrame(const DocKey& key, const RoomId& room, const Message& m,
                                      bool transient = false);
// True if `frame`'s header byte says transient. Says nothing about whether the frame opens.
bool isTransientFrame(std::span<const std::uint8_t> frame);
// Fails with Error::unsupportedVersion (unknown version byte), Error::malformed (too short or
// too long, or a malformed plaintext) or Error::crypto (failed authentication: wrong key, wrong
// room, tampered, truncated). Never reads out of bounds.
[[nodiscard]] Result<Message> decodeFrame(const DocKey& key, const RoomId& room,
                                          std::span<const std::uint8_t> frame);

// Anchor wire form, shared with the presence codec (PROTOCOL.md, "Anchors").
void encodeAnchor(std::vector<std::uint8_t>& out, const engine::Anchor& a);

}  // namespace quire::net
