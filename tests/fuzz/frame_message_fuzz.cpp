// libFuzzer target for net::decodeMessage (the plaintext of a frame): any input is rejected, or
// decodes to a message that survives encodeMessage -> decodeMessage unchanged and is never
// re-encoded longer than it came.
// Seeds: tests/data/v1/frames/*.msg.
#include <cstddef>
#include <cstdint>
#include <span>

#include "net/frame.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace quire::net;
  auto m = decodeMessage(std::span<const std::uint8_t>(data, size));
  if (!m) return 0;
  const auto again = encodeMessage(*m);
  if (again.size() > size) quire::fuzz::die("a decoded message re-encodes longer");
  auto back = decodeMessage(again);
  if (!back) quire::fuzz::die("a decoded message re-encodes to bytes that do not decode");
  if (!(*back == *m)) quire::fuzz::die("a decoded message does not round-trip");
  if (m->presence.name.size() > kMaxDisplayNameBytes) quire::fuzz::die("display name too long");
  if (m->streams.size() > kMaxSnapshotStreams) quire::fuzz::die("too many snapshot streams");
  return 0;
}
