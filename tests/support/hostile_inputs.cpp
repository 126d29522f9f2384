#include "tests/support/hostile_inputs.h"

#include <algorithm>
#include <cassert>
#include <string>

#include "engine/byte_io.h"
#include "engine/document.h"

namespace quire::test::hostile {

namespace {

using engine::ByteWriter;

// Update record tags (FORMAT.md, "Update encoding").
constexpr std::uint8_t kInsert = 1;
constexpr std::uint8_t kDelete = 2;
constexpr std::uint8_t kChainedLeft = 1 << 2;
constexpr std::uint8_t kRightAsBefore = 1 << 3;
constexpr std::uint8_t kSingle = 1 << 4;
constexpr std::uint64_t kInlineRefs = 7;

// zstd (RFC 8878): a block holds at most 128 KiB; an RLE block is a 3-byte header and the byte.
constexpr std::uint32_t kZstdMaxBlock = 128u << 10;
constexpr std::uint8_t kZstdRle = 1;

std::uint64_t splitmix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Writes a tag with an agent reference (inline if it fits in bits 5-7, else as a varint after).
void tagWithRef(ByteWriter& w, std::uint8_t tag, std::uint64_t ref) {
  if (ref < kInlineRefs) {
    w.byte(static_cast<std::uint8_t>(tag | (ref << 5)));
  } else {
    w.byte(static_cast<std::uint8_t>(tag | (kInlineRefs << 5)));
    w.varint(ref);
  }
}

void agentDef(ByteWriter& w, const engine::ReplicaId& id) {
  w.byte(0);
  w.bytes(id.bytes);
}

std::vector<std::uint8_t> updateOf(std::uint64_t records, const std::vector<std::uint8_t>& body) {
  std::vector<std::uint8_t> out{'Q', 1};
  ByteWriter w(out);
  w.varint(records);
  w.bytes(body);
  return out;
}

std::vector<std::uint8_t> historyHeader(std::uint64_t statedBody) {
  std::vector<std::uint8_t> out{'Q', 'H', 'S', 'T', 1};
  ByteWriter(out).varint(statedBody);
  return out;
}

}  // namespace

engine::ReplicaId attackerReplica(std::uint64_t seed) {
  engine::ReplicaId id;
  std::uint64_t state = seed ^ 0xA77AC4E5ull;
  for (std::size_t i = 0; i < id.bytes.size(); i += 8) {
    const std::uint64_t v = splitmix(state);
    for (std::size_t k = 0; k < 8; ++k) id.bytes[i + k] = static_cast<std::uint8_t>(v >> (8 * k));
  }
  id.bytes[0] |= 0x80;  // never all zeros, and never below an honest test replica
  return id;
}

std::vector<std::uint8_t> garbageBytes(std::size_t n, std::uint64_t seed) {
  std::vector<std::uint8_t> out(n);
  std::uint64_t state = seed;
  for (std::size_t i = 0; i < n; i += 8) {
    const std::uint64_t v = splitmix(state);
    for (std::size_t k = 0; k < 8 && i + k < n; ++k) out[i + k] = static_cast<std::uint8_t>(v >> (8 * k));
  }
  return out;
}

std::vector<std::uint8_t> zeroZstdFrame(std::uint64_t contentBytes, bool statesSize) {
  std::vector<std::uint8_t> out{0x28, 0xB5, 0x2F, 0xFD};  // magic 0xFD2FB528, little-endian
  if (statesSize) {
    // Descriptor: 8-byte content size field (flag 3), single segment (window = content size).
    out.push_back(0xE0);
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(contentBytes >> (8 * i)));
  } else {
    // Descriptor: no content size, not single segment; window descriptor 2^(10+7) = 128 KiB.
    out.push_back(0x00);
    out.push_back(7 << 3);
  }
  std::uint64_t left = contentBytes;
  do {
    const auto size = static_cast<std::uint32_t>(std::min<std::uint64_t>(left, kZstdMaxBlock));
    left -= size;
    const std::uint32_t last = left == 0 ? 1 : 0;
    const std::uint32_t header = last | (kZstdRle << 1) | (size << 3);
    out.push_back(static_cast<std::uint8_t>(header));
    out.push_back(static_cast<std::uint8_t>(header >> 8));
    out.push_back(static_cast<std::uint8_t>(header >> 16));
    out.push_back(0);  // the byte the block repeats
  } while (left > 0);
  return out;
}

std::vector<std::uint8_t> bombHistory(std::uint64_t bodyBytes) {
  std::vector<std::uint8_t> out = historyHeader(bodyBytes);
  const std::vector<std::uint8_t> frame = zeroZstdFrame(bodyBytes, true);
  out.insert(out.end(), frame.begin(), frame.end());
  return out;
}

std::vector<std::uint8_t> lyingBombHistory(std::uint64_t realBytes) {
  std::vector<std::uint8_t> out = historyHeader(kLyingBombStatedBytes);
  const std::vector<std::uint8_t> frame = zeroZstdFrame(realBytes, false);
  out.insert(out.end(), frame.begin(), frame.end());
  return out;
}

namespace {

// One agent, one insert run of `len` kAttackChar at `seq`, origins none.
std::vector<std::uint8_t> lonelyRun(std::uint32_t seq, std::uint32_t len) {
  std::vector<std::uint8_t> body;
  ByteWriter w(body);
  agentDef(w, attackerReplica(0x0F10));
  tagWithRef(w, kInsert, 0);
  w.varint(seq);
  w.varint(len);
  w.varint(0);  // origin-left: document start
  w.varint(0);  // origin-right: document end
  w.block(std::vector<std::uint8_t>(len, static_cast<std::uint8_t>(kAttackChar)));
  return updateOf(2, body);
}

}  // namespace

std::vector<std::uint8_t> seqOverflowUpdate() { return lonelyRun(kOverflowSeq, kOverflowLen); }

std::vector<std::uint8_t> seqAtLimitUpdate() {
  return lonelyRun(0xFFFFFFFFu - kOverflowLen, kOverflowLen);
}

namespace {

struct LvOverflowShape {
  std::uint64_t deleteRuns;     // runs of `width` deletes, 2^32 ops in all
  std::uint64_t runsPerAgent;   // as many as fit below seq 2^32 - 1
  std::uint64_t deleteAgents;
};

LvOverflowShape lvOverflowShape(std::uint32_t width) {
  assert(width >= 2 && width <= (1u << 20));
  LvOverflowShape s;
  s.deleteRuns = ((1ull << 32) + width - 1) / width;
  s.runsPerAgent = 0xFFFFFFFFull / width;
  s.deleteAgents = (s.deleteRuns + s.runsPerAgent - 1) / s.runsPerAgent;
  return s;
}

}  // namespace

std::uint64_t lvOverflowOpCount(std::uint32_t width) {
  return std::uint64_t{width} + lvOverflowShape(width).deleteRuns * width;
}

std::vector<std::uint8_t> lvOverflowUpdate(std::uint32_t width) {
  const LvOverflowShape shape = lvOverflowShape(width);
  std::vector<std::uint8_t> body;
  ByteWriter w(body);
  // Agent 0 inserts; agents 1.. delete.
  for (std::uint64_t a = 0; a <= shape.deleteAgents; ++a) agentDef(w, attackerReplica(0x1F00 + a));
  tagWithRef(w, kInsert, 0);
  w.varint(0);
  w.varint(width);
  w.varint(0);
  w.varint(0);
  w.block(std::vector<std::uint8_t>(width, static_cast<std::uint8_t>(kAttackChar)));
  for (std::uint64_t run = 0; run < shape.deleteRuns; ++run) {
    const std::uint64_t agent = 1 + run / shape.runsPerAgent;
    const std::uint64_t seq = (run % shape.runsPerAgent) * width;
    tagWithRef(w, kDelete, agent);
    w.varint(seq);
    w.varint(width);
    w.varint(0);  // target agent: the inserter
    w.varint(0);  // first target seq, ascending
  }
  return updateOf(shape.deleteAgents + 2 + shape.deleteRuns, body);
}

std::vector<std::uint8_t> manyAuthorsUpdate(std::uint32_t authors, std::uint64_t seed) {
  std::vector<std::uint8_t> body;
  body.reserve(std::size_t{authors} * 30);
  ByteWriter w(body);
  for (std::uint32_t i = 0; i < authors; ++i) {
    agentDef(w, attackerReplica((seed << 32) + i));
    tagWithRef(w, kInsert | kSingle, i);
    w.varint(0);  // seq
    if (i == 0) {
      w.varint(0);
    } else {
      w.varint(i);  // origin-left: (agent i-1) + 1, seq 0
      w.varint(0);
    }
    w.varint(0);  // origin-right: document end
    w.byte(static_cast<std::uint8_t>(kAttackChar));
  }
  return updateOf(std::uint64_t{authors} * 2, body);
}

std::vector<std::uint8_t> reversedChainUpdate(std::uint32_t depth) {
  std::vector<std::uint8_t> body;
  ByteWriter w(body);
  agentDef(w, attackerReplica(0x3C00));
  for (std::uint32_t s = depth; s-- > 0;) {
    if (s == 0) {
      tagWithRef(w, kInsert | kSingle, 0);
      w.varint(0);
      w.varint(0);
      w.varint(0);
    } else {
      tagWithRef(w, kInsert | kSingle | kChainedLeft | kRightAsBefore, 0);
      w.varint(s);
    }
    w.byte(static_cast<std::uint8_t>(kAttackChar));
  }
  return updateOf(std::uint64_t{depth} + 1, body);
}

std::vector<std::uint8_t> orphanChainUpdate(std::uint32_t depth) {
  std::vector<std::uint8_t> body;
  ByteWriter w(body);
  agentDef(w, attackerReplica(0x3D00));
  for (std::uint32_t s = depth; s-- > 1;) {
    tagWithRef(w, kInsert | kSingle | kChainedLeft | kRightAsBefore, 0);
    w.varint(s);
    w.byte(static_cast<std::uint8_t>(kAttackChar));
  }
  return updateOf(depth, body);
}

std::vector<std::uint8_t> truncatedUpdate(std::uint32_t records, std::size_t keepBytes) {
  std::vector<std::uint8_t> body;
  ByteWriter w(body);
  agentDef(w, attackerReplica(0x7C00));
  for (std::uint32_t s = 0; s < records; ++s) {
    if (s == 0) {
      tagWithRef(w, kInsert | kSingle, 0);
      w.varint(0);
      w.varint(0);
      w.varint(0);
    } else {
      tagWithRef(w, kInsert | kSingle | kChainedLeft | kRightAsBefore, 0);
      w.varint(s);
    }
    w.byte(static_cast<std::uint8_t>(kAttackChar));
  }
  std::vector<std::uint8_t> out = updateOf(std::uint64_t{records} + 1, body);
  out.resize(std::min(out.size(), keepBytes));
  return out;
}

std::vector<std::uint8_t> truncatedHistory() {
  engine::Document doc(attackerReplica(0x7D00));
  std::uint64_t state = 0x7D00;
  for (int i = 0; i < 3000; ++i) {
    const std::uint64_t r = splitmix(state);
    const auto len = doc.length();
    if (len > 10 && r % 5 == 0) {
      (void)doc.remove(static_cast<std::uint32_t>(r % (len - 3)), 1 + static_cast<std::uint32_t>((r >> 20) % 3));
    } else {
      const char c = static_cast<char>('a' + (r >> 8) % 26);
      (void)doc.insert(static_cast<std::uint32_t>((r >> 32) % (len + 1)), std::string_view(&c, 1));
    }
  }
  std::vector<std::uint8_t> out = doc.encodeHistory();
  out.resize(out.size() / 2);
  return out;
}

std::vector<std::uint8_t> bigInsertUpdate(std::size_t chars) {
  std::vector<std::uint8_t> body;
  body.reserve(chars + 64);
  ByteWriter w(body);
  agentDef(w, attackerReplica(0x6400));
  tagWithRef(w, kInsert, 0);
  w.varint(0);
  w.varint(chars);
  w.varint(0);
  w.varint(0);
  w.varint(chars);
  body.resize(body.size() + chars, static_cast<std::uint8_t>(kAttackChar));
  return updateOf(2, body);
}

engine::ReplicaId honestReplica() {
  engine::ReplicaId id;
  for (auto& b : id.bytes) b = 0x11;
  id.bytes[0] = 0x01;
  return id;
}

std::vector<std::uint8_t> honestUpdate() {
  engine::Document doc(honestReplica());
  (void)doc.insert(0, "hello");
  return doc.encodeUpdateSince({});
}

std::vector<std::uint8_t> forgedDuplicateUpdate(std::string_view text) {
  assert(text.size() == 5);
  std::vector<std::uint8_t> body;
  ByteWriter w(body);
  agentDef(w, honestReplica());
  tagWithRef(w, kInsert, 0);
  w.varint(0);  // seq 0, as the honest "h"
  w.varint(5);
  w.varint(0);
  w.varint(0);
  w.varint(5);  // text: a block of 5 bytes
  w.bytes(text);
  return updateOf(2, body);
}

std::vector<std::uint8_t> garbageUpdate(std::size_t n, std::uint64_t seed) {
  std::vector<std::uint8_t> out{'Q', 1};
  const std::vector<std::uint8_t> junk = garbageBytes(n, seed);
  out.insert(out.end(), junk.begin(), junk.end());
  return out;
}

}  // namespace quire::test::hostile
