// libFuzzer target: net::decodeMessage (the plaintext of a frame, every kind in net/frame.h including room snapshots).
// The check itself is tests/fuzz/checks_net.h's checkFrameMessageInput, which the Catch2 corpus replay runs on every
// file of tests/fuzz/corpus/frame_message_fuzz/.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/checks_net.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (const char* problem = quire::fuzz::checkFrameMessageInput(data, size)) quire::fuzz::die(problem);
  return 0;
}
