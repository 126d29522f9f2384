// libFuzzer target: net::decodeFrame under a fixed key (odd first byte: seal the rest first).
// The check itself is tests/fuzz/checks_net.h's checkFrameInput, which the Catch2 corpus replay runs on every
// file of tests/fuzz/corpus/frame_fuzz/.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/checks_net.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (const char* problem = quire::fuzz::checkFrameInput(data, size)) quire::fuzz::die(problem);
  return 0;
}
