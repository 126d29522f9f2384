// The crafted attacks of hostile_inputs.h as the net layer carries them: plaintext messages and
// frames sealed with the document key (net/frame.h's encoders; PROTOCOL.md, "Frames"), as an
// attacker holding the link would send them to a relay room or a direct peer. Header-only so
// that the support folder's .cpp files keep needing only quire_engine: include this only where
// quire_net is linked. Test-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "net/crypto.h"
#include "net/frame.h"
#include "tests/support/hostile_inputs.h"

namespace quire::test::hostile {

// A self-contained update message (kind 2; a relay room and a direct session both take it).
inline net::Message updateMessage(std::vector<std::uint8_t> update) {
  net::Message m;
  m.kind = net::FrameKind::Update;
  m.update = std::move(update);
  return m;
}

// A snapshot message (kind 7) with no streams and an empty version vector, carrying `history`.
inline net::Message snapshotMessage(std::vector<std::uint8_t> history) {
  net::Message m;
  m.kind = net::FrameKind::Snapshot;
  m.update = std::move(history);
  return m;
}

// (a) The decompression bomb as a room snapshot, sealed.
inline std::vector<std::uint8_t> bombSnapshotFrame(const net::DocKey& key, const net::RoomId& room) {
  return net::encodeFrame(key, room, snapshotMessage(bombHistory()));
}

// Any message, sealed as a stored frame (header 0x01).
inline std::vector<std::uint8_t> sealedFrame(const net::DocKey& key, const net::RoomId& room,
                                             const net::Message& m) {
  return net::encodeFrame(key, room, m);
}

// (f) `n` seeded random bytes sealed correctly as a frame's plaintext: the frame opens, the
// plaintext is garbage.
inline std::vector<std::uint8_t> sealedGarbageFrame(const net::DocKey& key, const net::RoomId& room,
                                                    std::size_t n, std::uint64_t seed) {
  std::vector<std::uint8_t> frame{net::kProtocolVersion};
  std::vector<std::uint8_t> ad = frame;
  ad.insert(ad.end(), room.bytes.begin(), room.bytes.end());
  const std::vector<std::uint8_t> sealed = net::seal(key, garbageBytes(n, seed), ad);
  frame.insert(frame.end(), sealed.begin(), sealed.end());
  return frame;
}

// (d) A sealed update frame of exactly net::kMaxFrameBytes (64 MiB): one insert of ~64 MiB.
inline std::vector<std::uint8_t> maxSizeFrame(const net::DocKey& key, const net::RoomId& room) {
  std::size_t chars = net::kMaxFrameBytes - 128;
  std::vector<std::uint8_t> frame = net::encodeFrame(key, room, updateMessage(bigInsertUpdate(chars)));
  // The varints around the text are the same size for every length near 64 MiB.
  chars += net::kMaxFrameBytes - frame.size();
  return net::encodeFrame(key, room, updateMessage(bigInsertUpdate(chars)));
}

// (d) One byte over net::kMaxFrameBytes: a valid header, then junk (rejected before decryption).
inline std::vector<std::uint8_t> oversizedFrame() {
  std::vector<std::uint8_t> frame(net::kMaxFrameBytes + 1, 0x5A);
  frame[0] = net::kProtocolVersion;
  return frame;
}

// (d) A valid sealed frame cut in half (fails authentication).
inline std::vector<std::uint8_t> truncatedFrame(const net::DocKey& key, const net::RoomId& room) {
  std::vector<std::uint8_t> frame = net::encodeFrame(key, room, updateMessage(truncatedUpdate(4096, 1u << 20)));
  frame.resize(frame.size() / 2);
  return frame;
}

}  // namespace quire::test::hostile
