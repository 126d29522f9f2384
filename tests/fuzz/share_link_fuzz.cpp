// libFuzzer target: net::parseShareLink (QUrl underneath: QtCore is linked, no application object).
// The check itself is tests/fuzz/checks_net.h's checkShareLinkInput, which the Catch2 corpus replay runs on every
// file of tests/fuzz/corpus/share_link_fuzz/.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/checks_net.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (const char* problem = quire::fuzz::checkShareLinkInput(data, size)) quire::fuzz::die(problem);
  return 0;
}
