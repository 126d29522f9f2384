// libFuzzer target: Document::decodeHistory (the first byte picks raw bytes or a body to wrap, fuzz_common.h historyInput).
// The check itself is tests/fuzz/checks_engine.h's checkHistoryInput, which the Catch2 corpus replay runs on every
// file of tests/fuzz/corpus/history_fuzz/.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/checks_engine.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (const char* problem = quire::fuzz::checkHistoryInput(data, size)) quire::fuzz::die(problem);
  return 0;
}
