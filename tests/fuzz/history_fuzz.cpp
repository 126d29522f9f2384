// libFuzzer target for Document::decodeHistory: any input is rejected or decodes to a valid
// document that encodes and decodes again to the same text and version. The first input byte
// picks raw bytes or a raw body to wrap (fuzz_common.h, historyInput).
#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/document.h"
#include "tests/fuzz/fuzz_common.h"

using quire::engine::Document;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = quire::fuzz::historyInput(data, size);
  auto doc = Document::decodeHistory(bytes, quire::fuzz::fuzzReplica(4));
  if (!doc) return 0;
  if (!doc->checkInvariants().empty()) quire::fuzz::die("a decoded history broke invariants");
  auto again = Document::decodeHistory(doc->encodeHistory(), quire::fuzz::fuzzReplica(5));
  if (!again) quire::fuzz::die("a re-encoded history does not decode");
  if (again->text() != doc->text() || !(again->version() == doc->version())) {
    quire::fuzz::die("a re-encoded history decodes to another document");
  }
  return 0;
}
