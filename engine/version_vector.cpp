#include "engine/version_vector.h"

#include <algorithm>

#include "engine/byte_io.h"

namespace quire::engine {

namespace {
constexpr std::uint8_t kMagic = 'V';
constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kMaxEntries = 1u << 20;

template <typename Vec>
auto lowerBound(Vec& v, const ReplicaId& r) {
  return std::lower_bound(v.begin(), v.end(), r,
                          [](const auto& e, const ReplicaId& key) { return e.first < key; });
}
}  // namespace

std::string ReplicaId::toHex() const {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (auto b : bytes) {
    s.push_back(digits[b >> 4]);
    s.push_back(digits[b & 15]);
  }
  return s;
}

std::uint32_t VersionVector::get(const ReplicaId& replica) const {
  auto it = lowerBound(m_entries, replica);
  return it != m_entries.end() && it->first == replica ? it->second : 0;
}

void VersionVector::set(const ReplicaId& replica, std::uint32_t nextSeq) {
  auto it = lowerBound(m_entries, replica);
  bool found = it != m_entries.end() && it->first == replica;
  if (nextSeq == 0) {
    if (found) m_entries.erase(it);
  } else if (found) {
    it->second = nextSeq;
  } else {
    m_entries.insert(it, {replica, nextSeq});
  }
}

VersionVector VersionVector::fromUnsorted(std::vector<std::pair<ReplicaId, std::uint32_t>> entries) {
  std::sort(entries.begin(), entries.end());
  VersionVector vv;
  vv.m_entries.reserve(entries.size());
  for (const auto& e : entries) {
    if (e.second == 0) continue;
    if (!vv.m_entries.empty() && vv.m_entries.back().first == e.first)
      vv.m_entries.back().second = e.second;  // sorted: the later one is higher
    else
      vv.m_entries.push_back(e);
  }
  return vv;
}

void VersionVector::mergeMax(const VersionVector& other) {
  bool allKnown = true;
  for (const auto& [replica, seq] : other.m_entries) {
    auto it = lowerBound(m_entries, replica);
    if (it == m_entries.end() || it->first != replica) {
      allKnown = false;
      break;
    }
    it->second = std::max(it->second, seq);
  }
  if (allKnown) return;
  std::vector<std::pair<ReplicaId, std::uint32_t>> merged;
  merged.reserve(m_entries.size() + other.m_entries.size());
  auto a = m_entries.cbegin();
  auto b = other.m_entries.cbegin();
  while (a != m_entries.cend() || b != other.m_entries.cend()) {
    if (b == other.m_entries.cend() || (a != m_entries.cend() && a->first < b->first)) {
      merged.push_back(*a++);
    } else if (a == m_entries.cend() || b->first < a->first) {
      merged.push_back(*b++);
    } else {
      merged.push_back({a->first, std::max(a->second, b->second)});
      ++a;
      ++b;
    }
  }
  m_entries = std::move(merged);
}

bool VersionVector::includes(const VersionVector& other) const {
  for (const auto& [replica, seq] : other.m_entries)
    if (get(replica) < seq) return false;
  return true;
}

std::uint64_t VersionVector::total() const {
  std::uint64_t n = 0;
  for (const auto& e : m_entries) n += e.second;
  return n;
}

std::vector<std::uint8_t> VersionVector::encode() const {
  std::vector<std::uint8_t> out;
  ByteWriter w(out);
  w.byte(kMagic);
  w.byte(kVersion);
  w.varint(m_entries.size());
  for (const auto& [replica, seq] : m_entries) {
    w.bytes(replica.bytes);
    w.varint(seq);
  }
  return out;
}

Result<VersionVector> VersionVector::decode(std::span<const std::uint8_t> bytes) {
  ByteReader r(bytes);
  std::uint8_t magic = 0, version = 0;
  if (!r.byte(magic) || !r.byte(version) || magic != kMagic)
    return fail(Error::malformed("version vector: missing 'V' header"));
  if (version != kVersion)
    return fail(Error::unsupportedVersion("version vector: format version " +
                                          std::to_string(version) + ", this build reads 1"));
  std::uint64_t n;
  if (!r.varint(n)) return fail(Error::malformed("version vector: truncated entry count"));
  if (n > kMaxEntries || n * 17 > r.left())
    return fail(Error::malformed("version vector: " + std::to_string(n) + " entries but " +
                                 std::to_string(r.left()) + " bytes left"));
  VersionVector vv;
  vv.m_entries.reserve(static_cast<std::size_t>(n));
  for (std::uint64_t i = 0; i < n; ++i) {
    std::span<const std::uint8_t> id;
    std::uint32_t seq;
    if (!r.bytes(16, id) || !r.u32(seq))
      return fail(Error::malformed("version vector: truncated entry " + std::to_string(i)));
    ReplicaId replica;
    std::copy(id.begin(), id.end(), replica.bytes.begin());
    if (!vv.m_entries.empty() && !(vv.m_entries.back().first < replica))
      return fail(Error::malformed("version vector: entries not sorted at entry " + std::to_string(i)));
    if (seq == 0) return fail(Error::malformed("version vector: zero seq at entry " + std::to_string(i)));
    vv.m_entries.push_back({replica, seq});
  }
  if (!r.atEnd()) return fail(Error::malformed("version vector: trailing bytes"));
  return vv;
}

std::string VersionVector::toString() const {
  std::string s = "{";
  for (const auto& [replica, seq] : m_entries) {
    if (s.size() > 1) s += ", ";
    s += replica.toHex().substr(0, 8) + ":" + std::to_string(seq);
  }
  return s + "}";
}

}  // namespace quire::engine
