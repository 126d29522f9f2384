// UTF-8 helpers. The engine counts text in Unicode code points (FORMAT.md, "Text").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace quire::engine::utf8 {

// The number of code points in `s`, or empty if `s` is not well-formed UTF-8 (overlong forms,
// surrogates and values past U+10FFFF are rejected).
std::optional<std::size_t> countValid(std::string_view s);

// REQUIRES: `s` is valid UTF-8. The number of code points in `s`.
std::size_t count(std::string_view s);

// REQUIRES: `s` is valid UTF-8 with at least `n` code points. The byte offset of code point `n`.
std::size_t offsetOf(std::string_view s, std::size_t n);

// Appends code point `cp` (REQUIRES: a Unicode scalar value) to `out`.
void append(std::string& out, char32_t cp);

// The length in bytes of the code point starting with lead byte `lead` (1 for an invalid lead).
inline std::size_t sequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

// True if every byte is below 0x80 (byte offsets are then code point offsets).
inline bool isAscii(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

}  // namespace quire::engine::utf8
