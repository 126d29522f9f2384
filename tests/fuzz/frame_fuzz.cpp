// libFuzzer target for net::decodeFrame under a fixed key (tests/net/frame_golden_test.cpp's):
// if the first input byte is odd, the rest is a plaintext that is sealed properly first, so the
// fuzzer reaches the plaintext decoder through the seal, and decodeFrame must then give what
// decodeMessage gives; otherwise the rest is the frame as it is, which must not open unless it
// is a frame the key really sealed (like the checked-in golden ones). Either way, with or
// without the transient flag (bit 1 of the first byte).
#include "net/frame.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "net/crypto.h"
#include "tests/fuzz/fuzz_common.h"

namespace {

quire::net::DocKey fuzzKey() {
  quire::net::DocKey key;
  for (std::size_t i = 0; i < key.bytes.size(); ++i) key.bytes[i] = static_cast<std::uint8_t>(i);
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace quire::net;
  static const DocKey key = fuzzKey();
  static const RoomId room = roomIdOf(key);
  if (size == 0) {
    if (decodeFrame(key, room, {})) quire::fuzz::die("an empty frame opened");
    return 0;
  }
  const std::span<const std::uint8_t> rest(data + 1, size - 1);
  if ((data[0] & 1) == 0) {
    auto m = decodeFrame(key, room, rest);
    if (m && !decodeMessage(encodeMessage(*m)))
      quire::fuzz::die("an opened frame's message does not re-encode");
    return 0;
  }
  const bool transient = (data[0] & 2) != 0;
  const std::uint8_t header = kProtocolVersion | (transient ? kTransientFlag : 0);
  std::vector<std::uint8_t> ad{header};
  ad.insert(ad.end(), room.bytes.begin(), room.bytes.end());
  std::vector<std::uint8_t> frame{header};
  const auto sealed = seal(key, rest, ad);
  frame.insert(frame.end(), sealed.begin(), sealed.end());
  if (isTransientFrame(frame) != transient) quire::fuzz::die("transient flag misread");
  auto viaFrame = decodeFrame(key, room, frame);
  auto plain = decodeMessage(rest);
  if (bool(viaFrame) != bool(plain)) quire::fuzz::die("decodeFrame and decodeMessage disagree");
  if (viaFrame && !(*viaFrame == *plain)) quire::fuzz::die("decodeFrame gave another message");
  return 0;
}
