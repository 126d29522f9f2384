// libFuzzer target: Document::applyUpdate on an empty document and on a small base document.
// The check itself is tests/fuzz/checks_engine.h's checkUpdateInput, which the Catch2 corpus replay runs on every
// file of tests/fuzz/corpus/update_fuzz/.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/checks_engine.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (const char* problem = quire::fuzz::checkUpdateInput(data, size)) quire::fuzz::die(problem);
  return 0;
}
