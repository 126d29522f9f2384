// The check behind the import_text libFuzzer target, shared with the Catch2 corpus replay
// (tests/storage/corpus_replay_test.cpp). Returns nullptr when the input was handled correctly,
// else a description of the invariant it broke. Header-only, no Qt, no SQLite.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/document.h"
#include "engine/utf8.h"
#include "storage/file_io.h"
#include "tests/fuzz/fuzz_common.h"

namespace quire::fuzz {

// import_text_fuzz: storage::decodeImportedText, then (as DocumentStore::importFile does) the
// text inserted into a new Document, for inputs small enough to keep the target fast.
inline const char* checkImportTextInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  auto text = storage::decodeImportedText(bytes, "fuzz");
  if (!text) {
    if (text.error().message().find("offset") == std::string::npos)
      return "a refused file's message does not name the offset";
    return nullptr;
  }
  if (text->size() > size) return "imported text is longer than the file";
  if (text->find('\0') != std::string::npos) return "imported text holds a NUL byte";
  const auto count = engine::utf8::countValid(*text);
  if (!count) return "imported text is not valid UTF-8";
  if (text->size() + 3 == size ? bytes.compare(3, std::string::npos, *text) != 0
                               : *text != bytes) {
    return "imported text is not the file less its byte order mark";
  }
  if (size > 4096 || text->empty()) return nullptr;
  engine::Document doc(fuzzReplica(7));
  if (!doc.insert(0, *text)) return "valid imported text could not be inserted";
  if (doc.text() != *text || doc.length() != *count) return "inserted text differs";
  return nullptr;
}

}  // namespace quire::fuzz
