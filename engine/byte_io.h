// Bounds-checked byte readers and writers: LEB128 varints, zigzag, raw spans. Every length read
// from bytes is checked against what is left (FORMAT.md, "Primitives").
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace quire::engine {

// Appends to a byte vector it does not own.
class ByteWriter {
 public:
  explicit ByteWriter(std::vector<std::uint8_t>& out) : m_out(out) {}
  void byte(std::uint8_t b) { m_out.push_back(b); }
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      m_out.push_back(static_cast<std::uint8_t>(v | 0x80));
      v >>= 7;
    }
    m_out.push_back(static_cast<std::uint8_t>(v));
  }
  void zigzag(std::int64_t v) {
    varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
  }
  // Eight bytes, least significant first (for random ids, where a varint would grow).
  void u64le(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) m_out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void bytes(std::span<const std::uint8_t> b) { m_out.insert(m_out.end(), b.begin(), b.end()); }
  void bytes(std::string_view s) { m_out.insert(m_out.end(), s.begin(), s.end()); }
  // A varint length followed by the bytes.
  void block(std::span<const std::uint8_t> b) {
    varint(b.size());
    bytes(b);
  }
  std::size_t size() const { return m_out.size(); }

 private:
  std::vector<std::uint8_t>& m_out;
};

// Reads from a span it does not own. Every read returns false at the end of input or on a
// malformed value and leaves the reader failed; `where` names the field for the error message.
class ByteReader {
 public:
  explicit ByteReader(std::span<const std::uint8_t> in) : m_p(in.data()), m_end(in.data() + in.size()) {}

  bool atEnd() const { return m_p == m_end; }
  std::size_t left() const { return static_cast<std::size_t>(m_end - m_p); }
  std::size_t offset(std::span<const std::uint8_t> whole) const {
    return static_cast<std::size_t>(m_p - whole.data());
  }

  bool byte(std::uint8_t& b) {
    if (m_p == m_end) return false;
    b = *m_p++;
    return true;
  }
  bool peek(std::uint8_t& b) const {
    if (m_p == m_end) return false;
    b = *m_p;
    return true;
  }
  // At most 10 bytes; rejects values past 64 bits.
  bool varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (m_p == m_end) return false;
      std::uint8_t b = *m_p++;
      if (shift == 63 && (b & 0x7E)) return false;
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  // A varint that must fit in 32 bits.
  bool u32(std::uint32_t& v) {
    std::uint64_t w;
    if (!varint(w) || w > 0xFFFFFFFFull) return false;
    v = static_cast<std::uint32_t>(w);
    return true;
  }
  bool u64le(std::uint64_t& v) {
    if (left() < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(*m_p++) << (8 * i);
    return true;
  }
  bool zigzag(std::int64_t& v) {
    std::uint64_t w;
    if (!varint(w)) return false;
    v = static_cast<std::int64_t>(w >> 1) ^ -static_cast<std::int64_t>(w & 1);
    return true;
  }
  bool bytes(std::size_t n, std::span<const std::uint8_t>& out) {
    if (n > left()) return false;
    out = {m_p, n};
    m_p += n;
    return true;
  }
  // A varint length, then that many bytes.
  bool block(std::span<const std::uint8_t>& out) {
    std::uint64_t n;
    return varint(n) && n <= left() && bytes(static_cast<std::size_t>(n), out);
  }

 private:
  const std::uint8_t* m_p;
  const std::uint8_t* m_end;
};

}  // namespace quire::engine
