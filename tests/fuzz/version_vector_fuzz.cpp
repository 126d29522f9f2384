// libFuzzer target: VersionVector::decode.
// The check itself is tests/fuzz/checks_engine.h's checkVersionVectorInput, which the Catch2 corpus replay runs on every
// file of tests/fuzz/corpus/version_vector_fuzz/.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/checks_engine.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (const char* problem = quire::fuzz::checkVersionVectorInput(data, size)) quire::fuzz::die(problem);
  return 0;
}
