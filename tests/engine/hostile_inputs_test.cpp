// The crafted attack inputs of tests/support/hostile_inputs.h are what they claim to be: a bomb
// states (and really expands to) a gigabyte, an overflow run really passes 2^32, the author
// update really names 100,000 authors, and so on. These tests check the bytes, read by hand
// or by zstd, not what the engine makes of them (the decoders are what is being tested with them).
#include "tests/support/hostile_inputs.h"

#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <zstd.h>

#include "engine/byte_io.h"
#include "engine/document.h"
#include "engine/update_codec.h"

namespace {

namespace hostile = quire::test::hostile;
using quire::engine::ByteReader;

// The zstd frame of a history (after 'QHST', version and the body-size varint), and that varint.
std::span<const std::uint8_t> zstdFrameOf(const std::vector<std::uint8_t>& history, std::uint64_t& bodySize) {
  REQUIRE(history.size() > 5);
  REQUIRE(std::string(history.begin(), history.begin() + 4) == "QHST");
  REQUIRE(history[4] == 1);
  ByteReader r(std::span<const std::uint8_t>(history).subspan(5));
  REQUIRE(r.varint(bodySize));
  return std::span<const std::uint8_t>(history).subspan(history.size() - r.left());
}

struct Expansion {
  std::uint64_t bytes = 0;
  bool allZero = true;
  bool complete = false;
};

struct Blocks {
  bool wellFormed = false;
  std::uint64_t rleZeroBytes = 0;
};

// Reads zstd blocks (RFC 8878, 3.1.1.2) from just after the frame header: every block must be an
// RLE block of the byte 0, the last one flagged, nothing after it.
Blocks walkBlocks(std::span<const std::uint8_t> blocks) {
  Blocks b;
  std::size_t i = 0;
  while (i + 4 <= blocks.size()) {
    const std::uint32_t header = blocks[i] | (blocks[i + 1] << 8) | (blocks[i + 2] << 16);
    const bool last = header & 1;
    const std::uint32_t type = (header >> 1) & 3;
    const std::uint32_t size = header >> 3;
    if (type != 1 || blocks[i + 3] != 0 || size > (128u << 10)) return b;
    b.rleZeroBytes += size;
    i += 4;
    if (last) {
      b.wellFormed = i == blocks.size();
      return b;
    }
  }
  return b;
}

// Streams the frame through zstd into a small buffer: what it really expands to.
Expansion expand(std::span<const std::uint8_t> frame) {
  Expansion e;
  ZSTD_DStream* ds = ZSTD_createDStream();
  ZSTD_initDStream(ds);
  std::vector<std::uint8_t> buf(1u << 17);
  ZSTD_inBuffer in{frame.data(), frame.size(), 0};
  for (;;) {
    ZSTD_outBuffer out{buf.data(), buf.size(), 0};
    const std::size_t r = ZSTD_decompressStream(ds, &out, &in);
    if (ZSTD_isError(r)) break;
    e.bytes += out.pos;
    for (std::size_t i = 0; i < out.pos; ++i) e.allZero &= buf[i] == 0;
    if (r == 0) {
      e.complete = in.pos == in.size;
      break;
    }
    if (out.pos == 0 && in.pos == in.size) break;
  }
  ZSTD_freeDStream(ds);
  return e;
}

}  // namespace

TEST_CASE("the bomb states 1 GiB in its header and its zstd frame, and its blocks expand to 1 GiB of zeros",
          "[engine][hostile]") {
  const std::vector<std::uint8_t> bomb = hostile::bombHistory();
  CHECK(bomb.size() < 40'000);  // ~32 KiB of RLE blocks
  std::uint64_t bodySize = 0;
  const auto frame = zstdFrameOf(bomb, bodySize);
  CHECK(bodySize == hostile::kBombBodyBytes);
  CHECK(ZSTD_getFrameContentSize(frame.data(), frame.size()) == hostile::kBombBodyBytes);
  CHECK(ZSTD_findFrameCompressedSize(frame.data(), frame.size()) == frame.size());
  // Its window is the whole gigabyte (single segment), which zstd's streaming decoder refuses to
  // buffer by default: walk the blocks by hand (the one-shot decoder checks small frames below,
  // and the lying bomb, whose blocks are the same, is streamed through zstd).
  const Blocks b = walkBlocks(frame.subspan(4 + 1 + 8));
  CHECK(b.wellFormed);
  CHECK(b.rleZeroBytes == hostile::kBombBodyBytes);
}

TEST_CASE("the lying bomb states 64 KiB and no frame size, and expands to 1 GiB", "[engine][hostile]") {
  const std::vector<std::uint8_t> bomb = hostile::lyingBombHistory();
  std::uint64_t bodySize = 0;
  const auto frame = zstdFrameOf(bomb, bodySize);
  CHECK(bodySize == hostile::kLyingBombStatedBytes);
  CHECK(ZSTD_getFrameContentSize(frame.data(), frame.size()) == ZSTD_CONTENTSIZE_UNKNOWN);
  const Expansion e = expand(frame);
  CHECK(e.complete);
  CHECK(e.bytes == hostile::kBombBodyBytes);
}

TEST_CASE("a small zero frame is exactly what zstd's one-shot decoder gives", "[engine][hostile]") {
  for (std::uint64_t n : {0ull, 1ull, 131072ull, 131073ull, 1000000ull}) {
    for (bool states : {true, false}) {
      INFO("bytes " << n << " states size " << states);
      const auto frame = hostile::zeroZstdFrame(n, states);
      std::vector<std::uint8_t> out(n + 16, 0xFF);
      const std::size_t got = ZSTD_decompress(out.data(), out.size(), frame.data(), frame.size());
      REQUIRE_FALSE(ZSTD_isError(got));
      CHECK(got == n);
      bool zero = true;
      for (std::size_t i = 0; i < got; ++i) zero &= out[i] == 0;
      CHECK(zero);
    }
  }
}

TEST_CASE("the seq overflow update's run passes 2^32", "[engine][hostile]") {
  // Decoded by hand: 'Q' 1, 2 records, agent-def, then insert tag, seq, len.
  const auto bytes = hostile::seqOverflowUpdate();
  ByteReader r(bytes);
  std::uint8_t b = 0;
  std::uint64_t records = 0, seq = 0, len = 0;
  REQUIRE(r.byte(b));
  CHECK(b == 'Q');
  REQUIRE(r.byte(b));
  CHECK(b == 1);
  REQUIRE(r.varint(records));
  CHECK(records == 2);
  std::span<const std::uint8_t> id;
  REQUIRE(r.byte(b));
  CHECK(b == 0);
  REQUIRE(r.bytes(16, id));
  REQUIRE(r.byte(b));
  CHECK((b & 3) == 1);  // insert, several ops
  CHECK((b & 0x10) == 0);
  REQUIRE(r.varint(seq));
  REQUIRE(r.varint(len));
  CHECK(seq == hostile::kOverflowSeq);
  CHECK(len == hostile::kOverflowLen);
  CHECK(seq + len > 0xFFFFFFFFull);
}

TEST_CASE("the seq-at-limit update is well formed and ends at seq 2^32 - 1", "[engine][hostile]") {
  quire::engine::StreamContext ctx;
  auto decoded = quire::engine::decodeUpdate(hostile::seqAtLimitUpdate(), ctx);
  REQUIRE(decoded);
  REQUIRE(decoded->runs.size() == 1);
  const auto& run = decoded->runs[0];
  CHECK(std::uint64_t{run.seq} + run.len - 1 == 0xFFFFFFFFull - 1);
  CHECK(std::uint64_t{run.seq} + run.len == 0xFFFFFFFFull);
}

TEST_CASE("the op-counter update is well formed and carries more than 2^32 ops", "[engine][hostile]") {
  // Parsed by hand (FORMAT.md, "Update encoding"): the engine is meant to refuse it.
  const std::uint32_t width = 1u << 16;
  const auto bytes = hostile::lvOverflowUpdate(width);
  CHECK(bytes.size() < 1'000'000);  // fits the relay's default 1 MiB frame limit
  ByteReader r(bytes);
  std::uint8_t b = 0;
  std::uint64_t records = 0;
  REQUIRE(r.byte(b));
  REQUIRE(r.byte(b));
  REQUIRE(r.varint(records));
  std::uint64_t agents = 0, ops = 0, deletes = 0, inserts = 0;
  std::vector<std::uint64_t> nextSeq;
  bool shaped = true;
  for (std::uint64_t i = 0; i < records && shaped; ++i) {
    shaped &= r.byte(b);
    if (b == 0) {
      std::span<const std::uint8_t> id;
      shaped &= r.bytes(16, id);
      ++agents;
      nextSeq.push_back(0);
      continue;
    }
    std::uint64_t ref = b >> 5, seq = 0, len = 0;
    shaped &= ref < 7 && ref < agents && r.varint(seq) && r.varint(len) && seq == nextSeq[ref] &&
              seq + len <= 0xFFFFFFFFull;  // every agent's seqs stay in range...
    nextSeq[ref] = seq + len;
    ops += len;
    if ((b & 3) == 1) {
      std::uint64_t left = 0, right = 0, textBytes = 0;
      std::span<const std::uint8_t> text;
      shaped &= ref == 0 && r.varint(left) && r.varint(right) && r.varint(textBytes) &&
                textBytes == len && r.bytes(textBytes, text);
      ++inserts;
    } else {
      std::uint64_t targetAgent = 0, targetSeq = 0;
      shaped &= (b & 3) == 2 && (b & 0x1C) == 0 && len == width && r.varint(targetAgent) &&
                targetAgent == 0 && r.varint(targetSeq) && targetSeq == 0;
      ++deletes;
    }
  }
  CHECK(shaped);
  CHECK(r.atEnd());
  CHECK(inserts == 1);
  CHECK(deletes == (1ull << 32) / width);
  CHECK(ops == hostile::lvOverflowOpCount(width));
  CHECK(ops > (1ull << 32));  // ...but the document's op counter passes 2^32
}

TEST_CASE("the author update names 100,000 distinct authors, each inserting one character",
          "[engine][hostile]") {
  // Parsed by hand (FORMAT.md, "Update encoding"): the engine may refuse so many authors.
  const auto bytes = hostile::manyAuthorsUpdate();
  ByteReader r(bytes);
  std::uint8_t b = 0;
  std::uint64_t records = 0;
  REQUIRE(r.byte(b));
  REQUIRE(r.byte(b));
  REQUIRE(r.varint(records));
  CHECK(records == 2ull * hostile::kManyAuthors);
  std::set<std::string> distinct;
  std::uint64_t inserts = 0;
  bool shaped = true;
  for (std::uint64_t i = 0; i < records / 2 && shaped; ++i) {
    std::span<const std::uint8_t> id;
    shaped &= r.byte(b) && b == 0 && r.bytes(16, id);
    distinct.emplace(id.begin(), id.end());
    // insert, one op, its own agent's ref, seq 0, left = previous author's char, right none.
    std::uint64_t ref = 0, seq = 0, left = 0, leftSeq = 0, right = 0;
    shaped &= r.byte(b) && (b & 0x1F) == 0x11;
    ref = b >> 5;
    if (ref == 7) shaped &= r.varint(ref);
    shaped &= ref == i && r.varint(seq) && seq == 0 && r.varint(left) && left == i;
    if (left > 0) shaped &= r.varint(leftSeq) && leftSeq == 0;
    shaped &= r.varint(right) && right == 0 && r.byte(b) && b == hostile::kAttackChar;
    ++inserts;
  }
  CHECK(shaped);
  CHECK(r.atEnd());
  CHECK(inserts == hostile::kManyAuthors);
  CHECK(distinct.size() == hostile::kManyAuthors);
}

TEST_CASE("the dependency chain comes deepest first and applies to the whole chain",
          "[engine][hostile]") {
  const std::uint32_t depth = 300;
  const auto bytes = hostile::reversedChainUpdate(depth);
  quire::engine::StreamContext ctx;
  auto decoded = quire::engine::decodeUpdate(bytes, ctx);
  REQUIRE(decoded);
  REQUIRE(decoded->runs.size() == depth);
  CHECK(decoded->runs.front().seq == depth - 1);
  CHECK(decoded->runs.back().seq == 0);
  quire::engine::Document doc(hostile::attackerReplica(1));
  REQUIRE(doc.applyUpdate(bytes));
  CHECK(doc.text() == std::string(depth, hostile::kAttackChar));
}

TEST_CASE("the truncated inputs are cut: the update announces more records than it holds",
          "[engine][hostile]") {
  const auto cut = hostile::truncatedUpdate(4096, 9000);
  CHECK(cut.size() == 9000);
  quire::engine::StreamContext ctx;
  CHECK_FALSE(quire::engine::decodeUpdate(cut, ctx));
  const auto whole = hostile::truncatedUpdate(4096, 1u << 20);
  CHECK(quire::engine::decodeUpdate(whole, ctx));
  const auto history = hostile::truncatedHistory();
  CHECK(history.size() > 100);
  CHECK(std::string(history.begin(), history.begin() + 4) == "QHST");
}

TEST_CASE("the big insert update holds exactly the characters asked for", "[engine][hostile]") {
  quire::engine::StreamContext ctx;
  auto decoded = quire::engine::decodeUpdate(hostile::bigInsertUpdate(100'000), ctx);
  REQUIRE(decoded);
  REQUIRE(decoded->runs.size() == 1);
  CHECK(decoded->runs[0].len == 100'000);
  CHECK(decoded->runs[0].text.size() == 100'000);
}

TEST_CASE("the forged duplicate reuses the honest op ids with other text", "[engine][hostile]") {
  quire::engine::StreamContext a, b;
  auto honest = quire::engine::decodeUpdate(hostile::honestUpdate(), a);
  auto forged = quire::engine::decodeUpdate(hostile::forgedDuplicateUpdate(), b);
  REQUIRE(honest);
  REQUIRE(forged);
  REQUIRE(honest->runs.size() == 1);
  REQUIRE(forged->runs.size() == 1);
  CHECK(honest->runs[0].agent == forged->runs[0].agent);
  CHECK(honest->runs[0].agent == hostile::honestReplica());
  CHECK(honest->runs[0].seq == forged->runs[0].seq);
  CHECK(honest->runs[0].len == forged->runs[0].len);
  CHECK(honest->runs[0].text == "hello");
  CHECK(forged->runs[0].text == "jello");
}

TEST_CASE("garbage is seeded: the same seed gives the same bytes, another seed others",
          "[engine][hostile]") {
  CHECK(hostile::garbageBytes(1000, 7) == hostile::garbageBytes(1000, 7));
  CHECK(hostile::garbageBytes(1000, 7) != hostile::garbageBytes(1000, 8));
  const auto u = hostile::garbageUpdate(100, 7);
  CHECK(u.size() == 102);
  CHECK(u[0] == 'Q');
  CHECK(u[1] == 1);
}
