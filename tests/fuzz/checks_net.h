// The checks behind the net-level libFuzzer targets (frame_message, frame, share_link), shared
// with the Catch2 corpus replay (tests/net/corpus_replay_test.cpp). Each returns nullptr when the
// input was handled correctly (rejected, or decoded to something valid), else a description of
// the invariant it broke. Header-only; share_link needs QtCore (QUrl) but no application object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "net/crypto.h"
#include "net/frame.h"
#include "net/share_link.h"

namespace quire::fuzz {

// The fixed key of the frame targets and their seeds (tests/net/frame_golden_test.cpp's).
inline net::DocKey frameFuzzKey() {
  net::DocKey key;
  for (std::size_t i = 0; i < key.bytes.size(); ++i) key.bytes[i] = static_cast<std::uint8_t>(i);
  return key;
}

// frame_message_fuzz: net::decodeMessage; a decoded message re-encodes no longer than it came
// and round-trips.
inline const char* checkFrameMessageInput(const std::uint8_t* data, std::size_t size) {
  using namespace net;
  auto m = decodeMessage(std::span<const std::uint8_t>(data, size));
  if (!m) return nullptr;
  const auto again = encodeMessage(*m);
  if (again.size() > size) return "a decoded message re-encodes longer";
  auto back = decodeMessage(again);
  if (!back) return "a decoded message re-encodes to bytes that do not decode";
  if (!(*back == *m)) return "a decoded message does not round-trip";
  if (m->presence.name.size() > kMaxDisplayNameBytes) return "display name too long";
  if (m->streams.size() > kMaxSnapshotStreams) return "too many snapshot streams";
  return nullptr;
}

// The sealed frame of plaintext `plain` under frameFuzzKey(), as encodeFrame lays it out.
inline std::vector<std::uint8_t> sealFuzzPlaintext(std::span<const std::uint8_t> plain,
                                                   bool transient) {
  using namespace net;
  static const DocKey key = frameFuzzKey();
  static const RoomId room = roomIdOf(key);
  const std::uint8_t header = kProtocolVersion | (transient ? kTransientFlag : 0);
  std::vector<std::uint8_t> ad{header};
  ad.insert(ad.end(), room.bytes.begin(), room.bytes.end());
  std::vector<std::uint8_t> frame{header};
  const auto sealed = seal(key, plain, ad);
  frame.insert(frame.end(), sealed.begin(), sealed.end());
  return frame;
}

// frame_fuzz: net::decodeFrame under frameFuzzKey(). If the first input byte is odd, the rest is
// a plaintext sealed properly first (transient if bit 1 is set), and decodeFrame must then give
// what decodeMessage gives; otherwise the rest is the frame as it is.
inline const char* checkFrameInput(const std::uint8_t* data, std::size_t size) {
  using namespace net;
  static const DocKey key = frameFuzzKey();
  static const RoomId room = roomIdOf(key);
  if (size == 0) {
    if (decodeFrame(key, room, {})) return "an empty frame opened";
    return nullptr;
  }
  const std::span<const std::uint8_t> rest(data + 1, size - 1);
  if ((data[0] & 1) == 0) {
    auto m = decodeFrame(key, room, rest);
    if (m && !decodeMessage(encodeMessage(*m))) return "an opened frame's message does not re-encode";
    return nullptr;
  }
  const bool transient = (data[0] & 2) != 0;
  const auto frame = sealFuzzPlaintext(rest, transient);
  if (isTransientFrame(frame) != transient) return "transient flag misread";
  auto viaFrame = decodeFrame(key, room, frame);
  auto plain = decodeMessage(rest);
  if (bool(viaFrame) != bool(plain)) return "decodeFrame and decodeMessage disagree";
  if (viaFrame && !(*viaFrame == *plain)) return "decodeFrame gave another message";
  return nullptr;
}

// share_link_fuzz: net::parseShareLink on the input as text; a parsed link has a route and
// re-encodes to a link that parses to the same value.
inline const char* checkShareLinkInput(const std::uint8_t* data, std::size_t size) {
  using namespace net;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto link = parseShareLink(text);
  if (!link) {
    if (link.error().message().empty()) return "a rejected link has no message";
    return nullptr;
  }
  if (link->routes.empty()) return "a parsed link has no route";
  const std::string again = encodeShareLink(*link);
  auto back = parseShareLink(again);
  if (!back) return "a parsed link re-encodes to a link that does not parse";
  if (!(*back == *link)) return "a parsed link does not round-trip";
  return nullptr;
}

}  // namespace quire::fuzz
