// libFuzzer target: the row decoding storage/document_store.cpp does on load and compact (first byte: snapshot, tail row, version, or a whole document's rows).
// The check itself is tests/fuzz/checks_engine.h's checkStoredRowInput, which the Catch2 corpus replay runs on every
// file of tests/fuzz/corpus/stored_row_fuzz/.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/checks_engine.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (const char* problem = quire::fuzz::checkStoredRowInput(data, size)) quire::fuzz::die(problem);
  return 0;
}
