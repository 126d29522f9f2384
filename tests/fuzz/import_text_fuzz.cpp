// libFuzzer target: storage::decodeImportedText (what importFile checks of a file's bytes), then the text into a Document.
// The check itself is tests/fuzz/checks_storage.h's checkImportTextInput, which the Catch2 corpus replay runs on every
// file of tests/fuzz/corpus/import_text_fuzz/.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/checks_storage.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (const char* problem = quire::fuzz::checkImportTextInput(data, size)) quire::fuzz::die(problem);
  return 0;
}
