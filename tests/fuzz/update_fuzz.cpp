// libFuzzer target for Document::applyUpdate: any input must be rejected without changing the
// document or its stream context, or applied into a valid document whose patches fit.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "engine/document.h"
#include "tests/fuzz/fuzz_common.h"

using quire::engine::Document;
using quire::engine::StreamContext;

namespace {

std::size_t codePoints(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

void check(const Document& base, std::span<const std::uint8_t> bytes, bool withStream) {
  Document doc = base;
  const std::string text = doc.text();
  const auto version = doc.version();
  const std::size_t pending = doc.pendingOpCount();
  StreamContext ctx;
  ctx.agents.push_back(quire::fuzz::fuzzReplica(9));
  auto result = doc.applyUpdate(bytes, withStream ? &ctx : nullptr);
  if (!result) {
    if (doc.text() != text || !(doc.version() == version) || doc.pendingOpCount() != pending) {
      quire::fuzz::die("a rejected update changed the document");
    }
    if (ctx.agents.size() != 1) quire::fuzz::die("a rejected update changed the stream context");
    return;
  }
  if (!doc.checkInvariants().empty()) quire::fuzz::die("an accepted update broke invariants");
  std::size_t length = codePoints(text);
  for (const auto& p : *result) {
    if (p.pos > length || p.deleted > length - p.pos) quire::fuzz::die("a patch does not fit");
    length = length - p.deleted + codePoints(p.inserted);
  }
  if (length != doc.length()) quire::fuzz::die("patches do not add up to the new length");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Document empty(quire::fuzz::fuzzReplica(3));
  const std::span<const std::uint8_t> bytes(data, size);
  check(empty, bytes, false);
  check(quire::fuzz::baseDocument(), bytes, true);
  return 0;
}
