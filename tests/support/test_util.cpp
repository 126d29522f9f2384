#include "tests/support/test_util.h"

#include <cstdio>

#include <catch2/catch.hpp>
#include <zstd.h>

namespace quire::test {

namespace {

std::uint64_t splitmix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Decodes one code point at `i`; returns nothing on any ill-formed sequence (overlong,
// surrogate, above U+10FFFF, truncated, stray continuation byte).
std::optional<char32_t> decodeOne(std::string_view s, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  int len = 0;
  char32_t cp = 0;
  if (b0 < 0x80) {
    ++i;
    return b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return std::nullopt;
  }
  if (i + len > s.size()) return std::nullopt;
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  i += len;
  return cp;
}

std::optional<std::u32string> tryToU32(std::string_view utf8) {
  std::u32string out;
  out.reserve(utf8.size());
  std::size_t i = 0;
  while (i < utf8.size()) {
    auto cp = decodeOne(utf8, i);
    if (!cp) return std::nullopt;
    out.push_back(*cp);
  }
  return out;
}

}  // namespace

engine::ReplicaId replicaId(std::uint8_t order) {
  engine::ReplicaId id;
  id.bytes[0] = order;
  for (std::size_t i = 1; i < id.bytes.size(); ++i) id.bytes[i] = static_cast<std::uint8_t>(0xA0 + i);
  return id;
}

engine::ReplicaId replicaId(std::uint8_t order, std::uint64_t bits) {
  engine::ReplicaId id;
  std::uint64_t state = bits;
  for (std::size_t i = 0; i < id.bytes.size(); i += 8) {
    std::uint64_t v = splitmix(state);
    for (std::size_t k = 0; k < 8 && i + k < id.bytes.size(); ++k) {
      id.bytes[i + k] = static_cast<std::uint8_t>(v >> (8 * k));
    }
  }
  id.bytes[0] = order;
  return id;
}

std::uint64_t testSeed(std::uint64_t i) {
  std::uint64_t state = (static_cast<std::uint64_t>(Catch::rngSeed()) << 32) ^ i;
  return splitmix(state);
}

std::uint64_t Rng::next() { return splitmix(m_state); }

std::uint32_t Rng::below(std::uint32_t n) { return static_cast<std::uint32_t>(next() % n); }

std::uint32_t Rng::between(std::uint32_t lo, std::uint32_t hi) {
  return lo + static_cast<std::uint32_t>(next() % (std::uint64_t{hi} - lo + 1));
}

bool Rng::chance(double p) {
  return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0) < p;
}

std::vector<std::uint8_t> wrapHistoryBody(const std::vector<std::uint8_t>& body, int level) {
  std::vector<std::uint8_t> out = {'Q', 'H', 'S', 'T', 0x01};
  for (std::uint64_t v = body.size();; v >>= 7) {
    if (v < 0x80) {
      out.push_back(static_cast<std::uint8_t>(v));
      break;
    }
    out.push_back(static_cast<std::uint8_t>(0x80 | (v & 0x7F)));
  }
  const std::size_t head = out.size();
  out.resize(head + ZSTD_compressBound(body.size()));
  const std::size_t n =
      ZSTD_compress(out.data() + head, out.size() - head, body.data(), body.size(), level);
  REQUIRE_FALSE(ZSTD_isError(n));
  out.resize(head + n);
  return out;
}

std::u32string toU32(std::string_view utf8) {
  auto out = tryToU32(utf8);
  if (!out) FAIL("test data is not valid UTF-8");
  return *out;
}

std::string toUtf8(char32_t c) {
  std::string out;
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
  return out;
}

std::string toUtf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) out += toUtf8(c);
  return out;
}

std::optional<std::string> applyPatches(std::u32string& mirror,
                                        const std::vector<engine::Patch>& patches) {
  for (std::size_t i = 0; i < patches.size(); ++i) {
    const engine::Patch& p = patches[i];
    const std::string where = "patch " + std::to_string(i) + " {pos " + std::to_string(p.pos) +
                              ", deleted " + std::to_string(p.deleted) + ", inserted " +
                              std::to_string(p.inserted.size()) + " bytes}";
    if (p.pos > mirror.size() || p.deleted > mirror.size() - p.pos) {
      return where + " does not fit a text of " + std::to_string(mirror.size()) + " code points";
    }
    auto inserted = tryToU32(p.inserted);
    if (!inserted) return where + " inserts text that is not valid UTF-8";
    mirror.replace(p.pos, p.deleted, *inserted);
  }
  return std::nullopt;
}

std::string sendMissing(const engine::Document& from, engine::Document& to) {
  auto r = to.applyUpdate(from.encodeUpdateSince(to.version()));
  return errorOf(r);
}

std::string syncPair(engine::Document& a, engine::Document& b) {
  for (int round = 0; round < 2; ++round) {
    if (auto e = sendMissing(a, b); !e.empty()) return "a -> b: " + e;
    if (auto e = sendMissing(b, a); !e.empty()) return "b -> a: " + e;
  }
  return {};
}

DocState stateOf(const engine::Document& doc) {
  return DocState{doc.text(), doc.version(), doc.pendingOpCount(), doc.nextLv()};
}

std::string hexDump(const std::vector<std::uint8_t>& bytes) {
  std::string out = std::to_string(bytes.size()) + " bytes:";
  char buf[4];
  for (std::size_t i = 0; i < bytes.size() && i < 64; ++i) {
    std::snprintf(buf, sizeof buf, " %02x", bytes[i]);
    out += buf;
  }
  if (bytes.size() > 64) out += " ...";
  return out;
}

}  // namespace quire::test

namespace Catch {

std::string StringMaker<quire::engine::Patch>::convert(const quire::engine::Patch& p) {
  return "Patch{pos " + std::to_string(p.pos) + ", deleted " + std::to_string(p.deleted) +
         ", inserted \"" + p.inserted + "\"}";
}

std::string StringMaker<quire::test::DocState>::convert(const quire::test::DocState& s) {
  std::string text = s.text.size() > 80 ? s.text.substr(0, 80) + "..." : s.text;
  return "{text (" + std::to_string(s.text.size()) + " bytes) \"" + text + "\", version " +
         s.version.toString() + ", pending " + std::to_string(s.pending) + ", nextLv " +
         std::to_string(s.nextLv) + "}";
}

}  // namespace Catch
