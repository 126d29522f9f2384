#include "engine/update_codec.h"

#include <algorithm>

#include "engine/byte_io.h"
#include "engine/utf8.h"

namespace quire::engine {

namespace {

constexpr std::uint8_t kMagic = 'Q';
constexpr std::uint8_t kVersion = 1;

// Record tags: bits 0-1 type, bits 2-4 flags, bits 5-7 agent ref (7: a varint follows).
constexpr std::uint8_t kTypeAgent = 0;
constexpr std::uint8_t kTypeInsert = 1;
constexpr std::uint8_t kTypeDelete = 2;
constexpr std::uint8_t kFlagA = 1 << 2;       // insert: left chained;  delete: reversed
constexpr std::uint8_t kFlagB = 1 << 3;       // insert: right same as previous; delete: target agent = agent
constexpr std::uint8_t kFlagSingle = 1 << 4;  // one op; insert text is one code point
constexpr std::uint32_t kInlineRefs = 7;

std::string at(std::size_t record) { return "update record " + std::to_string(record) + ": "; }

}  // namespace

std::optional<std::uint32_t> StreamContext::find(const ReplicaId& r) const {
  if (m_indexed > agents.size()) {
    m_index.clear();
    m_indexed = 0;
  }
  for (; m_indexed < agents.size(); ++m_indexed)
    m_index.emplace(agents[m_indexed], static_cast<std::uint32_t>(m_indexed));
  auto it = m_index.find(r);
  if (it == m_index.end()) return std::nullopt;
  if (it->second < agents.size() && agents[it->second] == r) return it->second;
  // `agents` was replaced since the table was built: rebuild it once.
  m_index.clear();
  m_indexed = 0;
  return find(r);
}

std::size_t PendingRuns::memoryUsage() const {
  constexpr std::size_t kNode = 48;  // a std::map node's own overhead, roughly
  std::size_t bytes = 0;
  for (const auto& [id, run] : runs) bytes += kNode + sizeof(run) + run.text.capacity();
  for (const auto& [replica, seqs] : waiting) bytes += kNode + sizeof(replica) + seqs.size() * (kNode + 12);
  return bytes;
}

UpdateEncoder::UpdateEncoder(StreamContext& stream) : m_stream(stream) {}

std::vector<std::uint8_t> UpdateEncoder::finish() {
  std::vector<std::uint8_t> out;
  out.reserve(m_records.size() + 12);
  ByteWriter w(out);
  w.byte(kMagic);
  w.byte(kVersion);
  w.varint(m_count);
  w.bytes(m_records);
  return out;
}

std::uint32_t UpdateEncoder::refOf(const ReplicaId& r) {
  if (auto known = m_stream.find(r)) return *known;
  m_records.push_back(kTypeAgent);
  m_records.insert(m_records.end(), r.bytes.begin(), r.bytes.end());
  ++m_count;
  m_stream.agents.push_back(r);
  return static_cast<std::uint32_t>(m_stream.agents.size() - 1);
}

void UpdateEncoder::add(const WireRun& run) {
  // Define every agent the record names before the record itself.
  std::uint32_t agent = refOf(run.agent);
  std::uint32_t left = 0, right = 0, target = 0;
  bool sameTargetAgent = false;
  if (run.kind == OpKind::Insert) {
    if (run.left == WireRun::Origin::Id) left = refOf(run.leftId.replica);
    if (run.right == WireRun::Origin::Id) right = refOf(run.rightId.replica);
  } else {
    sameTargetAgent = run.target.replica == run.agent;
    if (!sameTargetAgent) target = refOf(run.target.replica);
  }
  ByteWriter w(m_records);
  ++m_count;
  std::uint8_t tag = run.kind == OpKind::Insert ? kTypeInsert : kTypeDelete;
  if (run.len == 1) tag |= kFlagSingle;
  if (run.kind == OpKind::Insert) {
    if (run.left == WireRun::Origin::Chained) tag |= kFlagA;
    if (run.right == WireRun::Origin::SameAsPrevious) tag |= kFlagB;
  } else {
    if (run.reversed && run.len > 1) tag |= kFlagA;
    if (sameTargetAgent) tag |= kFlagB;
  }
  tag |= static_cast<std::uint8_t>(std::min(agent, kInlineRefs) << 5);
  w.byte(tag);
  if (agent >= kInlineRefs) w.varint(agent);
  w.varint(run.seq);
  if (run.len != 1) w.varint(run.len);
  if (run.kind == OpKind::Insert) {
    if (run.left == WireRun::Origin::None) w.varint(0);
    if (run.left == WireRun::Origin::Id) {
      w.varint(left + 1);
      w.varint(run.leftId.seq);
    }
    if (run.right == WireRun::Origin::None) w.varint(0);
    if (run.right == WireRun::Origin::Id) {
      w.varint(right + 1);
      w.varint(run.rightId.seq);
    }
    if (run.len != 1) w.varint(run.text.size());
    w.bytes(run.text);
  } else {
    if (!sameTargetAgent) w.varint(target);
    w.varint(run.target.seq);
  }
}

namespace {

std::string_view textAt(std::span<const std::uint8_t> bytes, std::uint32_t at) {
  return {reinterpret_cast<const char*>(bytes.data()) + at, bytes.size() - at};
}

}  // namespace

WireRun PackedUpdate::unpack(const PackedRun& p) const {
  WireRun run;
  run.kind = p.kind;
  run.agent = replica(p.agent);
  run.seq = p.seq;
  run.len = p.len;
  if (p.kind == OpKind::Insert) {
    run.left = p.left;
    run.right = p.right;
    if (p.left == WireRun::Origin::Id) run.leftId = {replica(p.leftAgent), p.leftSeq};
    if (p.right == WireRun::Origin::Id) run.rightId = {replica(p.rightAgent), p.rightSeq};
    const std::string_view rest = textAt(bytes, p.textAt);
    run.text.assign(rest.substr(0, utf8::offsetOf(rest, p.len)));
  } else {
    run.target = {replica(p.leftAgent), p.leftSeq};
    run.reversed = p.reversed;
  }
  return run;
}

void PackedUpdate::trimFront(PackedRun& run, std::uint32_t k) const {
  run.seq += k;
  run.len -= k;
  if (run.kind == OpKind::Insert) {
    run.textAt += static_cast<std::uint32_t>(utf8::offsetOf(textAt(bytes, run.textAt), k));
    run.left = WireRun::Origin::Chained;
  } else {
    run.leftSeq = run.reversed ? run.leftSeq - k : run.leftSeq + k;
  }
}

Result<PackedUpdate> decodePackedUpdate(std::span<const std::uint8_t> bytes, const StreamContext& stream) {
  ByteReader r(bytes);
  std::uint8_t magic = 0, version = 0;
  if (!r.byte(magic) || magic != kMagic || !r.byte(version))
    return fail(Error::malformed("update: missing 'Q' header"));
  if (version != kVersion)
    return fail(Error::unsupportedVersion("update: format version " + std::to_string(version) +
                                          ", this build reads version 1"));
  if (bytes.size() > 0xFFFFFFFFu)
    return fail(Error::malformed("update: " + std::to_string(bytes.size()) + " bytes (at most 4 GiB)"));
  std::uint64_t records;
  if (!r.varint(records)) return fail(Error::malformed("update: truncated record count"));
  // Every record takes at least three bytes (an agent definition seventeen): reserving for the
  // stated count costs at most 32 / 3 bytes per byte of the update.
  if (records > r.left() / 3)
    return fail(Error::malformed("update: " + std::to_string(records) + " records in " +
                                 std::to_string(r.left()) + " bytes"));
  PackedUpdate out;
  out.bytes = bytes;
  out.stream = &stream;
  out.runs.reserve(static_cast<std::size_t>(records));
  auto agentCount = [&] { return stream.agents.size() + out.newAgents.size(); };
  auto readRef = [&](std::uint64_t& ref) { return r.varint(ref) && ref < agentCount(); };
  for (std::size_t record = 0; record < records; ++record) {
    std::uint8_t tag;
    if (!r.byte(tag))
      return fail(Error::malformed("update: " + std::to_string(records) + " records announced, " +
                                   std::to_string(record) + " present"));
    std::uint8_t type = tag & 3;
    if (type == kTypeAgent) {
      std::span<const std::uint8_t> id;
      if (tag != kTypeAgent) return fail(Error::malformed(at(record) + "agent record with flags set"));
      if (!r.bytes(16, id)) return fail(Error::malformed(at(record) + "truncated replica id"));
      if (agentCount() >= Document::kMaxAgents)
        return fail(Error::malformed(at(record) + "agent-count: more than " +
                                     std::to_string(Document::kMaxAgents) + " agents on one stream"));
      ReplicaId rid;
      std::copy(id.begin(), id.end(), rid.bytes.begin());
      out.newAgents.push_back(rid);
      continue;
    }
    if (type != kTypeInsert && type != kTypeDelete)
      return fail(Error::malformed(at(record) + "unknown record type " + std::to_string(type)));
    PackedRun run;
    run.kind = type == kTypeInsert ? OpKind::Insert : OpKind::Delete;
    std::uint64_t agent = tag >> 5;
    if (agent == kInlineRefs && !r.varint(agent))
      return fail(Error::malformed(at(record) + "truncated agent reference"));
    if (agent >= agentCount())
      return fail(Error::malformed(at(record) + "agent reference " + std::to_string(agent) +
                                   " but only " + std::to_string(agentCount()) + " agents defined"));
    // Every reference is below agentCount() <= kMaxAgents: it fits 16 bits.
    static_assert(Document::kMaxAgents <= 0x10000);
    run.agent = static_cast<std::uint16_t>(agent);
    run.len = 1;
    if (!r.u32(run.seq) || (!(tag & kFlagSingle) && !r.u32(run.len)))
      return fail(Error::malformed(at(record) + "truncated seq or length"));
    if (run.len == 0 || run.seq > 0xFFFFFFFFu - run.len)
      return fail(Error::malformed(at(record) + "run length " + std::to_string(run.len) + " at seq " +
                                   std::to_string(run.seq) + " is out of range"));
    if (run.kind == OpKind::Insert) {
      // An origin: 0 (none) or an agent reference + 1 and a seq.
      auto origin = [&](WireRun::Origin& kind, std::uint16_t& ref, std::uint32_t& seq, const char* what)
          -> std::optional<Error> {
        std::uint64_t v;
        if (!r.varint(v)) return Error::malformed(at(record) + "truncated " + what);
        if (v == 0) return std::nullopt;
        if (v - 1 >= agentCount() || !r.u32(seq)) return Error::malformed(at(record) + "bad " + what);
        kind = WireRun::Origin::Id;
        ref = static_cast<std::uint16_t>(v - 1);
        return std::nullopt;
      };
      if (tag & kFlagA) {
        if (run.seq == 0) return fail(Error::malformed(at(record) + "chained insert at seq 0"));
        run.left = WireRun::Origin::Chained;
      } else if (auto e = origin(run.left, run.leftAgent, run.leftSeq, "origin-left")) {
        return fail(*e);
      }
      if (tag & kFlagB) {
        if (run.left != WireRun::Origin::Chained)
          return fail(Error::malformed(at(record) + "origin-right 'as before' on an unchained insert"));
        run.right = WireRun::Origin::SameAsPrevious;
      } else if (auto e = origin(run.right, run.rightAgent, run.rightSeq, "origin-right")) {
        return fail(*e);
      }
      run.textAt = static_cast<std::uint32_t>(bytes.size() - r.left());
      std::span<const std::uint8_t> text;
      if (tag & kFlagSingle) {
        std::uint8_t lead;
        if (!r.peek(lead) || !r.bytes(utf8::sequenceLength(lead), text))
          return fail(Error::malformed(at(record) + "truncated character"));
      } else {
        std::uint64_t n;
        if (!r.varint(n) || n > r.left() || !r.bytes(static_cast<std::size_t>(n), text))
          return fail(Error::malformed(at(record) + "text of " + std::to_string(run.len) +
                                       " characters runs past the end"));
        run.textAt = static_cast<std::uint32_t>(bytes.size() - r.left() - text.size());
      }
      auto count = utf8::countValid({reinterpret_cast<const char*>(text.data()), text.size()});
      if (!count) return fail(Error::malformed(at(record) + "text is not valid UTF-8"));
      if (*count != run.len)
        return fail(Error::malformed(at(record) + "run of " + std::to_string(run.len) +
                                     " characters carries " + std::to_string(*count)));
    } else {
      run.reversed = (tag & kFlagA) != 0;
      if (tag & kFlagB) {
        run.leftAgent = run.agent;
      } else {
        std::uint64_t ref;
        if (!readRef(ref)) return fail(Error::malformed(at(record) + "bad target agent"));
        run.leftAgent = static_cast<std::uint16_t>(ref);
      }
      if (!r.u32(run.leftSeq)) return fail(Error::malformed(at(record) + "truncated target"));
      bool ok = run.reversed ? run.leftSeq >= run.len - 1 : run.leftSeq <= 0xFFFFFFFFu - run.len;
      if (!ok) return fail(Error::malformed(at(record) + "delete targets run out of range"));
    }
    out.runs.push_back(run);
  }
  if (!r.atEnd())
    return fail(Error::malformed("update: " + std::to_string(r.left()) + " bytes after the last record"));
  return out;
}

std::uint64_t offeredOps(const PackedUpdate& update) {
  std::uint64_t offered = 0;
  for (const PackedRun& run : update.runs) offered += run.len;
  return offered;
}

Result<void> checkUpdateAlone(std::span<const std::uint8_t> bytes, const StreamContext& stream) {
  auto decoded = decodePackedUpdate(bytes, stream);
  if (!decoded) return fail(decoded.error());
  if (const std::uint64_t offered = offeredOps(*decoded); offered >= kNoLv)
    return fail(Error::malformed("update: op counter would pass 2^32 - 1 operations in one document (" +
                                 std::to_string(offered) + " offered)"));
  return {};
}

Result<DecodedUpdate> decodeUpdate(std::span<const std::uint8_t> bytes, const StreamContext& stream) {
  auto packed = decodePackedUpdate(bytes, stream);
  if (!packed) return fail(packed.error());
  DecodedUpdate out;
  out.runs.reserve(packed->runs.size());
  for (const PackedRun& run : packed->runs) out.runs.push_back(packed->unpack(run));
  out.newAgents = std::move(packed->newAgents);
  return out;
}

}  // namespace quire::engine
