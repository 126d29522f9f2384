// Document::encodeHistory / decodeHistory: the columnar whole-history encoding. FORMAT.md,
// "History encoding".
#include <algorithm>
#include <cassert>
#include <cstring>
#include <memory>
#include <optional>

#include <zstd.h>
#include <zstd_errors.h>

#include "engine/byte_io.h"
#include "engine/content_tree.h"
#include "engine/document.h"
#include "engine/op_log.h"
#include "engine/utf8.h"

namespace quire::engine {

namespace {

constexpr std::uint8_t kMagic[4] = {'Q', 'H', 'S', 'T'};
constexpr std::uint8_t kVersion = 1;
// Compaction encodes histories while people type, so speed matters as much as size: for
// automerge-paper level 9 takes ~8 ms for 76 kB where level 19 takes ~55 ms for 70.5 kB, and
// level 19 needs seconds for a multi-megabyte paste (FORMAT.md, "History encoding").
constexpr int kZstdLevel = 9;

// Bits of the per-run header, after the length.
constexpr std::uint64_t kPositional = 1;
constexpr std::uint64_t kDeleteBit = 2;
constexpr std::uint64_t kReversedBit = 4;
constexpr int kHeaderShift = 3;

struct Columns {
  std::vector<std::uint8_t> headers, agents, positions, origins, targets;
};

// If the characters [lo, lo+n) are all visible and fill n adjacent places of the visible text
// (in either order), the first of those places.
std::optional<std::uint32_t> visiblePlace(const ContentTree& tree, LV lo, std::uint32_t n) {
  std::uint32_t first = 0xFFFFFFFFu, last = 0;
  for (LV x = lo; x < lo + n;) {
    TreeCursor c = tree.find(x);
    const Item& it = tree.itemAt(c);
    if (!it.visible()) return std::nullopt;
    std::uint32_t k = std::min(lo + n - x, it.size() - c.off);
    std::uint32_t at = tree.visibleBefore(c);
    first = std::min(first, at);
    last = std::max(last, at + k - 1);
    x += k;
  }
  // n distinct visible characters within a span of n places fill it.
  if (last - first != n - 1) return std::nullopt;
  return first;
}

// The lowest LV among the n visible characters from `c`, if they are exactly the LVs
// [lowest, lowest+n) in some order.
std::optional<LV> visibleRange(const ContentTree& tree, TreeCursor c, std::uint32_t n) {
  LV lo = kNoLv, hi = 0;
  for (std::uint32_t left = n; left > 0;) {
    const Item& it = tree.itemAt(c);
    if (it.visible()) {
      std::uint32_t k = std::min(left, it.size() - c.off);
      lo = std::min(lo, it.lv + c.off);
      hi = std::max(hi, it.lv + c.off + k - 1);
      left -= k;
      if (left == 0) break;
    }
    if (!tree.nextItem(c)) return std::nullopt;
  }
  if (hi - lo != n - 1) return std::nullopt;
  return lo;
}

}  // namespace

std::vector<std::uint8_t> Document::encodeHistory() const {
  const OpLog& log = *m_log;
  // Replay into a scratch copy to learn which runs a position can describe (FORMAT.md explains
  // why the check is needed); the scratch copy holds the same LVs as this one.
  Document scratch(log.replica(0));
  for (AgentIndex a = 1; a < log.agentCount(); ++a) scratch.m_log->addAgent(log.replica(a));
  Columns col;
  ByteWriter headers(col.headers), agents(col.agents), positions(col.positions),
      origins(col.origins), targets(col.targets);
  std::string text;
  text.reserve(log.textArena().size());
  std::uint32_t cursor = 0;
  AgentIndex runAgent = 0;
  std::uint64_t runLength = 0;
  for (const OpRun& r : log.runs()) {
    if (r.agent != runAgent && runLength > 0) {
      agents.varint(runAgent);
      agents.varint(runLength);
      runLength = 0;
    }
    runAgent = r.agent;
    ++runLength;
    ContentTree& tree = *scratch.m_tree;
    if (r.kind == OpKind::Insert) {
      std::string_view t(log.textArena().data() + r.textOffset,
                         r.ascii ? r.len : utf8::offsetOf(std::string_view(log.textArena()).substr(r.textOffset), r.len));
      text += t;
      bool positional = false;
      std::uint32_t pos = 0;
      if (r.origin == kNoLv) {
        positional = tree.lvAfter(tree.start()) == r.right;
      } else {
        TreeCursor c = tree.find(r.origin);
        if (tree.itemAt(c).visible()) {
          pos = tree.visibleBefore(c) + 1;
          ++c.off;
          positional = tree.lvAfter(c) == r.right;
        }
      }
      headers.varint((std::uint64_t{r.len} << kHeaderShift) | (positional ? kPositional : 0));
      if (positional) {
        positions.zigzag(std::int64_t{pos} - cursor);
        cursor = pos + r.len;
        scratch.insertAt(r.agent, pos, t, r.len, r.ascii);
      } else {
        origins.varint(r.origin == kNoLv ? 0 : r.lv - r.origin);
        origins.varint(r.right == kNoLv ? 0 : r.lv - r.right);
        scratch.integrate(r.agent, r.seq, r.origin, r.right, t, r.len, r.ascii);
      }
    } else {
      LV lo = r.reversed ? r.origin - (r.len - 1) : r.origin;
      std::optional<std::uint32_t> place = visiblePlace(tree, lo, r.len);
      bool positional = place.has_value();
      headers.varint((std::uint64_t{r.len} << kHeaderShift) | kDeleteBit |
                     (r.reversed ? kReversedBit : 0) | (positional ? kPositional : 0));
      if (positional) {
        positions.zigzag(std::int64_t{*place} - cursor);
        cursor = *place;
      } else {
        targets.varint(r.lv - lo);
      }
      scratch.deleteTargets(r.agent, r.seq, r.origin, r.len, r.reversed, nullptr);
    }
  }
  if (runLength > 0) {
    agents.varint(runAgent);
    agents.varint(runLength);
  }

  std::vector<std::uint8_t> body;
  ByteWriter b(body);
  b.varint(log.agentCount());
  for (AgentIndex a = 0; a < log.agentCount(); ++a) b.bytes(log.replica(a).bytes);
  b.varint(log.runs().size());
  b.block(col.headers);
  b.block(col.agents);
  b.block(col.positions);
  b.block(col.origins);
  b.block(col.targets);
  b.varint(text.size());
  b.bytes(text);

  std::vector<std::uint8_t> out(sizeof kMagic + 1 + 10 + ZSTD_compressBound(body.size()));
  std::memcpy(out.data(), kMagic, sizeof kMagic);
  out[4] = kVersion;
  std::vector<std::uint8_t> sizeBytes;
  ByteWriter(sizeBytes).varint(body.size());
  std::memcpy(out.data() + 5, sizeBytes.data(), sizeBytes.size());
  std::size_t head = 5 + sizeBytes.size();
  std::size_t n = ZSTD_compress(out.data() + head, out.size() - head, body.data(), body.size(), kZstdLevel);
  assert(!ZSTD_isError(n));
  out.resize(head + n);
  return out;
}

namespace {

// Decompresses one zstd frame whose content size the header states as `stated` (already checked
// against the cap). zstd's single-shot call decodes into the buffer until it is full, so the
// buffer starts at what the compressed size can plausibly back and grows fourfold only when the
// frame really fills it: memory follows the bytes the frame produces, never the size it states
// (FORMAT.md, "Decoding limits").
Result<std::vector<std::uint8_t>> inflate(std::span<const std::uint8_t> packed, std::uint64_t stated) {
  constexpr std::uint64_t kFirstGuessFloor = 256u << 10;
  constexpr std::uint64_t kFirstGuessRatio = 8;  // histories compress 2-3x
  std::uint64_t capacity = std::min(stated, std::max(kFirstGuessFloor, kFirstGuessRatio * packed.size()));
  std::unique_ptr<ZSTD_DCtx, std::size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(), &ZSTD_freeDCtx);
  if (!dctx) return fail(Error::io("history: out of memory for the decompressor"));
  for (;;) {
    std::vector<std::uint8_t> body(static_cast<std::size_t>(capacity));
    std::size_t got = ZSTD_decompressDCtx(dctx.get(), body.data(), body.size(), packed.data(), packed.size());
    if (!ZSTD_isError(got)) {
      if (got != stated) return fail(Error::corrupt("history: body holds " + std::to_string(got) +
                                                    " bytes but its header states " + std::to_string(stated)));
      return body;
    }
    if (ZSTD_getErrorCode(got) != ZSTD_error_dstSize_tooSmall || capacity >= stated)
      return fail(Error::corrupt(std::string("history: body does not decompress: ") + ZSTD_getErrorName(got)));
    capacity = std::min(stated, capacity * 4);
  }
}

}  // namespace

Result<Document> Document::decodeHistory(std::span<const std::uint8_t> bytes, ReplicaId localReplica,
                                         const DecodeLimits& limits) {
  if (bytes.size() < 5 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return fail(Error::malformed("history: missing 'QHST' header"));
  if (bytes[4] != kVersion)
    return fail(Error::unsupportedVersion("history: format version " + std::to_string(bytes[4]) +
                                          ", this build reads version 1"));
  ByteReader head(bytes.subspan(5));
  std::uint64_t bodySize;
  if (!head.varint(bodySize)) return fail(Error::malformed("history: truncated size"));
  if (bodySize > limits.maxDecompressedBytes)
    return fail(Error::malformed("history: body-size " + std::to_string(bodySize) +
                                 " bytes is over the limit of " + std::to_string(limits.maxDecompressedBytes) +
                                 " decompressed bytes per document"));
  std::span<const std::uint8_t> packed = bytes.subspan(bytes.size() - head.left());
  unsigned long long frameSize = ZSTD_getFrameContentSize(packed.data(), packed.size());
  if (frameSize != bodySize) return fail(Error::corrupt("history: compressed body does not match its stated size"));
  auto inflated = inflate(packed, bodySize);
  if (!inflated) return fail(inflated.error());
  const std::vector<std::uint8_t>& body = *inflated;

  ByteReader r(body);
  auto bad = [](const std::string& what) { return fail(Error::malformed("history: " + what)); };
  std::uint64_t agentCount;
  if (!r.varint(agentCount) || agentCount > r.left() / 16) return bad("agent table runs past the end");
  if (agentCount > kMaxAgents)
    return bad("agent-count " + std::to_string(agentCount) + " is over the limit of " +
               std::to_string(kMaxAgents) + " authors per document");
  Document doc(localReplica);
  std::vector<AgentIndex> agentMap;
  agentMap.reserve(static_cast<std::size_t>(agentCount));
  bool localSeen = false;  // the local replica is agent 0 before the table is read
  for (std::uint64_t i = 0; i < agentCount; ++i) {
    std::span<const std::uint8_t> id;
    r.bytes(16, id);
    ReplicaId rid;
    std::copy(id.begin(), id.end(), rid.bytes.begin());
    std::size_t before = doc.m_log->agentCount();
    AgentIndex a = doc.m_log->addAgent(rid);
    bool fresh = doc.m_log->agentCount() > before;
    if (!fresh && (a != 0 || localSeen)) return bad("agent " + std::to_string(i) + " appears twice");
    localSeen |= a == 0;
    agentMap.push_back(a);
  }
  std::uint64_t runCount;
  std::span<const std::uint8_t> hSpan, aSpan, pSpan, oSpan, tSpan, textSpan;
  if (!r.varint(runCount) || !r.block(hSpan) || !r.block(aSpan) || !r.block(pSpan) ||
      !r.block(oSpan) || !r.block(tSpan) || !r.block(textSpan) || !r.atEnd())
    return bad("column table is truncated");
  if (runCount > hSpan.size()) return bad("run-count: more runs than run headers");
  // Every run takes at least one byte of the position, origin or target column: a count the
  // columns cannot back is refused before anything is reserved for it.
  if (runCount > pSpan.size() + oSpan.size() + tSpan.size())
    return bad("run-count " + std::to_string(runCount) + " is more than the columns describe");
  std::string_view text(reinterpret_cast<const char*>(textSpan.data()), textSpan.size());
  if (!utf8::countValid(text)) return bad("text block is not valid UTF-8");
  ByteReader headers(hSpan), agents(aSpan), positions(pSpan), origins(oSpan), targets(tSpan);

  OpLog& log = *doc.m_log;
  ContentTree& tree = *doc.m_tree;
  log.reserve(static_cast<std::size_t>(runCount), text.size());
  tree.reserve(static_cast<std::size_t>(runCount));
  std::uint32_t cursor = 0;
  std::size_t textAt = 0;
  std::uint64_t agentLeft = 0;
  AgentIndex agent = 0;
  for (std::uint64_t i = 0; i < runCount; ++i) {
    auto at = [i] { return "run " + std::to_string(i) + ": "; };  // only built for an error
    std::uint64_t header;
    if (!headers.varint(header)) return bad(at() + "truncated header");
    std::uint64_t len64 = header >> kHeaderShift;
    LV lv = log.nextLv();
    if (len64 == 0 || len64 > 0xFFFFFFF0ull - lv) return bad(at() + "length " + std::to_string(len64) + " out of range");
    std::uint32_t len = static_cast<std::uint32_t>(len64);
    if (agentLeft == 0) {
      std::uint64_t a;
      if (!agents.varint(a) || a >= agentMap.size() || !agents.varint(agentLeft) || agentLeft == 0)
        return bad(at() + "bad agent column");
      agent = agentMap[a];
    }
    --agentLeft;
    std::uint32_t seq = log.nextSeq(agent);
    if (seq > 0xFFFFFFF0u - len) return bad(at() + "agent seq overflows");
    bool positional = header & kPositional;
    std::int64_t delta = 0;
    if (positional && !positions.zigzag(delta)) return bad(at() + "truncated position column");
    std::int64_t pos = std::int64_t{cursor} + delta;
    if (!(header & kDeleteBit)) {
      if (header & kReversedBit) return bad(at() + "reversed flag on an insert");
      std::size_t begin = textAt;
      bool ascii = true;
      for (std::uint32_t k = 0; k < len; ++k) {
        if (textAt >= text.size()) return bad(at() + "text block ends early");
        unsigned char c = static_cast<unsigned char>(text[textAt]);
        ascii &= c < 0x80;
        textAt += utf8::sequenceLength(c);
      }
      std::string_view t = text.substr(begin, textAt - begin);
      if (positional) {
        if (pos < 0 || pos > doc.length()) return bad(at() + "insert position " + std::to_string(pos) + " outside the text");
        doc.insertAt(agent, static_cast<std::uint32_t>(pos), t, len, ascii);
        cursor = static_cast<std::uint32_t>(pos) + len;
      } else {
        std::uint64_t dl, dr;
        if (!origins.varint(dl) || !origins.varint(dr)) return bad(at() + "truncated origin column");
        if (dl > lv || dr > lv) return bad(at() + "origin after its insert");
        LV left = dl == 0 ? kNoLv : lv - static_cast<LV>(dl);
        LV right = dr == 0 ? kNoLv : lv - static_cast<LV>(dr);
        if ((left != kNoLv && log.kindOf(left) != OpKind::Insert) ||
            (right != kNoLv && log.kindOf(right) != OpKind::Insert))
          return bad(at() + "origin is not an inserted character");
        doc.integrate(agent, seq, left, right, t, len, ascii);
      }
    } else {
      bool reversed = header & kReversedBit;
      LV lo;
      if (positional) {
        if (pos < 0 || pos + len > doc.length()) return bad(at() + "delete outside the text");
        auto range = visibleRange(tree, tree.findVisible(static_cast<std::uint32_t>(pos)), len);
        if (!range) return bad(at() + "deleted characters are not one run");
        lo = *range;
        cursor = static_cast<std::uint32_t>(pos);
        doc.deleteRunAt(agent, cursor, len, reversed ? lo + len - 1 : lo, reversed);
        continue;
      } else {
        std::uint64_t d;
        if (!targets.varint(d) || d == 0 || d > lv || len > d) return bad(at() + "bad delete target");
        lo = lv - static_cast<LV>(d);
        for (LV t = lo; t < lo + len;) {
          const OpRun& tr = log.runAt(t);
          if (tr.kind != OpKind::Insert) return bad(at() + "delete targets a delete");
          t = tr.end();
        }
      }
      doc.deleteTargets(agent, seq, reversed ? lo + len - 1 : lo, len, reversed, nullptr);
    }
  }
  if (!headers.atEnd() || agentLeft != 0 || !agents.atEnd() || !positions.atEnd() ||
      !origins.atEnd() || !targets.atEnd() || textAt != text.size())
    return bad("columns hold more than the runs use");
  return doc;
}

}  // namespace quire::engine
