// Decoders against hostile bytes: Document::applyUpdate, Document::decodeHistory and
// VersionVector::decode get random byte strings and mutations of valid encodings (bit flips,
// truncations, insertions, duplicated and deleted spans, huge varints, splices). Each must
// return an Error (changing nothing) or a valid result, never crash or hang. The libFuzzer corpora
// (tests/fuzz/corpus/) are replayed by corpus_replay_test.cpp.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <zstd.h>

#include "engine/document.h"
#include "engine/version_vector.h"
#include "tests/support/random_edits.h"
#include "tests/support/test_util.h"

using quire::engine::Document;
using quire::engine::LV;
using quire::engine::StreamContext;
using quire::engine::VersionVector;
using namespace quire::test;

namespace {

using Bytes = std::vector<std::uint8_t>;
using Clock = std::chrono::steady_clock;

// The history encoding, version 1 (engine/FORMAT.md, "History encoding"): "QHST", a version byte,
// the body size as a varint, then the body as one zstd frame. Mutating compressed bytes almost
// always fails decompression, so the body parser is also fuzzed by mutating decompressed bodies
// and compressing them again.
constexpr std::uint8_t kHistoryMagic[4] = {'Q', 'H', 'S', 'T'};

// The decompressed body of a version-1 history, or nothing if `h` is not one.
std::optional<Bytes> historyBody(const Bytes& h) {
  if (h.size() < 6 || !std::equal(kHistoryMagic, kHistoryMagic + 4, h.begin()) || h[4] != 1) {
    return std::nullopt;
  }
  std::size_t i = 5;
  std::uint64_t size = 0;
  for (int shift = 0; i < h.size() && shift < 64; shift += 7) {
    const std::uint8_t b = h[i++];
    size |= std::uint64_t{b & 0x7Fu} << shift;
    if ((b & 0x80) == 0) break;
  }
  if (size > (1u << 26)) return std::nullopt;
  Bytes body(size);
  const std::size_t got = ZSTD_decompress(body.data(), body.size(), h.data() + i, h.size() - i);
  if (ZSTD_isError(got) || got != size) return std::nullopt;
  return body;
}


// One decode may take this long at most (generous, for sanitizer builds).
constexpr auto kSlowDecode = std::chrono::seconds(5);
constexpr int kMaxReportedFailures = 20;

// Valid encodings of random documents, and receivers to apply updates to.
struct Samples {
  std::vector<Bytes> updates;
  std::vector<Bytes> histories;
  std::vector<Bytes> vectors;
  std::vector<Document> receivers;  // empty, and sharing part of the history with ops pending
};

Samples makeSamples(std::uint64_t seed) {
  Samples s;
  Rng rng(seed);
  EditMix mix;
  mix.pasteShare = 0.01;
  mix.pasteMin = 100;
  mix.pasteMax = 400;
  for (int docIndex = 0; docIndex < 4; ++docIndex) {
    std::vector<EditingReplica> reps;
    const std::size_t n = rng.between(1, 3);
    for (std::size_t i = 0; i < n; ++i) {
      reps.emplace_back(replicaId(static_cast<std::uint8_t>(rng.next()), rng.next()));
    }
    Document partial = reps[0].doc;
    LV lv = 0;
    const int steps = static_cast<int>(rng.between(10, 60));
    for (int step = 0; step < steps; ++step) {
      const std::size_t i = rng.below(static_cast<std::uint32_t>(n));
      if (n > 1 && rng.chance(0.2)) {
        const std::size_t j = rng.below(static_cast<std::uint32_t>(n));
        if (i != j) {
          auto r = reps[j].doc.applyUpdate(reps[i].doc.encodeUpdateSince(reps[j].doc.version()));
          REQUIRE(errorOf(r) == "");
          reps[j].mirror = toU32(reps[j].doc.text());
        }
      } else {
        REQUIRE(randomLocalEdit(rng, reps[i], mixedAlphabet(), mix) == "");
      }
      if (step == steps / 2) {
        partial = reps[0].doc;
        lv = reps[0].doc.nextLv();
      }
    }
    const Document& doc = reps[0].doc;
    s.updates.push_back(doc.encodeUpdateSince(VersionVector{}));
    s.updates.push_back(doc.encodeUpdateSince(partial.version()));
    s.updates.push_back(doc.encodeOpsSince(lv));
    StreamContext ctx;
    s.updates.push_back(doc.encodeOpsSince(0, &ctx));
    s.updates.push_back(doc.encodeOpsSince(lv, &ctx));
    s.histories.push_back(doc.encodeHistory());
    s.histories.push_back(partial.encodeHistory());
    s.vectors.push_back(doc.version().encode());
    s.vectors.push_back(partial.version().encode());
    if (docIndex == 0) {
      s.receivers.emplace_back(replicaId(0xF0));
      // A receiver with the first half, plus the last ops waiting for the middle ones.
      Document r(replicaId(0xF1));
      auto a = r.applyUpdate(partial.encodeUpdateSince(VersionVector{}));
      REQUIRE(errorOf(a) == "");
      auto b = r.applyUpdate(doc.encodeOpsSince(std::max<LV>(lv, doc.nextLv() - 1)));
      REQUIRE(errorOf(b) == "");
      s.receivers.push_back(std::move(r));
    }
  }
  s.vectors.push_back(VersionVector{}.encode());
  return s;
}

void appendHugeVarint(Rng& rng, Bytes& out) {
  const std::size_t n = rng.between(5, 12);
  for (std::size_t i = 0; i < n; ++i) out.push_back(0xFF);
  out.push_back(static_cast<std::uint8_t>(rng.below(0x80)));
}

Bytes mutate(Rng& rng, const Bytes& valid, const std::vector<Bytes>& others, int depth = 0) {
  Bytes b = valid;
  auto pos = [&](std::size_t size) { return rng.below(static_cast<std::uint32_t>(size + 1)); };
  switch (rng.below(9)) {
    case 0: {  // flip a few bits
      if (b.empty()) break;
      const int flips = static_cast<int>(rng.between(1, 4));
      for (int i = 0; i < flips; ++i) {
        b[rng.below(static_cast<std::uint32_t>(b.size()))] ^=
            static_cast<std::uint8_t>(1u << rng.below(8));
      }
      break;
    }
    case 1:  // truncate
      b.resize(rng.below(static_cast<std::uint32_t>(b.size() + 1)));
      break;
    case 2: {  // insert random bytes
      Bytes extra(rng.between(1, 8));
      for (auto& x : extra) x = static_cast<std::uint8_t>(rng.next());
      b.insert(b.begin() + pos(b.size()), extra.begin(), extra.end());
      break;
    }
    case 3: {  // duplicate a span
      if (b.empty()) break;
      const std::size_t from = rng.below(static_cast<std::uint32_t>(b.size()));
      const std::size_t len = rng.between(1, static_cast<std::uint32_t>(std::min<std::size_t>(64, b.size() - from)));
      const Bytes span(b.begin() + from, b.begin() + from + len);
      b.insert(b.begin() + pos(b.size()), span.begin(), span.end());
      break;
    }
    case 4: {  // delete a span
      if (b.empty()) break;
      const std::size_t from = rng.below(static_cast<std::uint32_t>(b.size()));
      const std::size_t len = rng.between(1, static_cast<std::uint32_t>(std::min<std::size_t>(32, b.size() - from)));
      b.erase(b.begin() + from, b.begin() + from + len);
      break;
    }
    case 5: {  // a huge varint, inserted or overwriting
      Bytes v;
      appendHugeVarint(rng, v);
      const std::size_t at = pos(b.size());
      if (rng.chance(0.5)) {
        b.insert(b.begin() + at, v.begin(), v.end());
      } else {
        b.resize(std::max(b.size(), at + v.size()));
        std::copy(v.begin(), v.end(), b.begin() + at);
      }
      break;
    }
    case 6: {  // an extreme byte value
      if (b.empty()) break;
      static constexpr std::uint8_t kValues[] = {0x00, 0xFF, 0x7F, 0x80, 0x01};
      b[rng.below(static_cast<std::uint32_t>(b.size()))] = kValues[rng.below(5)];
      break;
    }
    case 7: {  // splice with another sample
      const Bytes& other = others[rng.below(static_cast<std::uint32_t>(others.size()))];
      b.resize(rng.below(static_cast<std::uint32_t>(b.size() + 1)));
      const std::size_t from = rng.below(static_cast<std::uint32_t>(other.size() + 1));
      b.insert(b.end(), other.begin() + from, other.end());
      break;
    }
    default:  // several mutations
      if (depth < 3) {
        const int n = static_cast<int>(rng.between(2, 4));
        for (int i = 0; i < n; ++i) b = mutate(rng, b, others, depth + 1);
      }
      break;
  }
  return b;
}

Bytes randomBytes(Rng& rng, const std::vector<Bytes>& valid) {
  Bytes b;
  if (rng.chance(0.5) && !valid.empty()) {
    // A valid header (some prefix of a real encoding), then random bytes: gets past magic checks.
    const Bytes& v = valid[rng.below(static_cast<std::uint32_t>(valid.size()))];
    b.assign(v.begin(), v.begin() + rng.below(static_cast<std::uint32_t>(std::min<std::size_t>(v.size(), 12) + 1)));
  }
  const std::size_t n = rng.below(rng.chance(0.1) ? 2000 : 100);
  for (std::size_t i = 0; i < n; ++i) {
    if (rng.chance(0.05)) {
      appendHugeVarint(rng, b);
    } else {
      b.push_back(static_cast<std::uint8_t>(rng.next()));
    }
  }
  return b;
}

std::string tooSlow(Clock::time_point start) {
  const auto elapsed = Clock::now() - start;
  if (elapsed < kSlowDecode) return {};
  return "took " +
         std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()) +
         " ms";
}

// "" if `bytes` applied to a copy of `receiver` either failed leaving everything unchanged, or
// succeeded into a valid document with fitting patches.
std::string checkUpdate(const Document& receiver, const Bytes& bytes, bool withStream) {
  Document d = receiver;
  const DocState before = stateOf(d);
  StreamContext ctx;
  ctx.agents.push_back(replicaId(0x33));
  const StreamContext ctxBefore = ctx;
  const auto start = Clock::now();
  auto r = d.applyUpdate(bytes, withStream ? &ctx : nullptr);
  if (auto slow = tooSlow(start); !slow.empty()) return "applyUpdate " + slow;
  if (!r) {
    if (!(stateOf(d) == before)) {
      return "rejected update changed the document: " + r.error().toString() + "; before " +
             Catch::Detail::stringify(before) + ", after " + Catch::Detail::stringify(stateOf(d));
    }
    if (ctx.agents != ctxBefore.agents) return "rejected update changed the stream context";
    if (r.error().message().empty()) return "error without a message";
    return {};
  }
  if (auto inv = d.checkInvariants(); !inv.empty()) return "accepted update broke invariants: " + inv;
  std::u32string mirror = toU32(before.text);
  if (auto p = applyPatches(mirror, *r)) return "accepted update's patches: " + *p;
  if (toUtf8(mirror) != d.text()) return "accepted update's patches do not give the new text";
  return {};
}

std::string checkHistory(const Bytes& bytes) {
  const auto start = Clock::now();
  auto r = Document::decodeHistory(bytes, replicaId(0xF2));
  if (auto slow = tooSlow(start); !slow.empty()) return "decodeHistory " + slow;
  if (!r) return r.error().message().empty() ? "error without a message" : "";
  if (auto inv = r->checkInvariants(); !inv.empty()) return "decoded history broke invariants: " + inv;
  if (r->length() != toU32(r->text()).size()) return "decoded length differs from its text";
  auto again = Document::decodeHistory(r->encodeHistory(), replicaId(0xF3));
  if (!again) return "re-encoded history does not decode: " + again.error().toString();
  if (again->text() != r->text() || !(again->version() == r->version())) {
    return "re-encoded history decodes to another document";
  }
  return {};
}

std::string checkVector(const Bytes& bytes) {
  const auto start = Clock::now();
  auto r = VersionVector::decode(bytes);
  if (auto slow = tooSlow(start); !slow.empty()) return "VersionVector::decode " + slow;
  if (!r) return r.error().message().empty() ? "error without a message" : "";
  const auto& e = r->entries();
  for (std::size_t i = 0; i < e.size(); ++i) {
    if (e[i].second == 0) return "decoded entry with seq 0";
    if (i > 0 && !(e[i - 1].first < e[i].first)) return "decoded entries not strictly sorted";
  }
  auto again = VersionVector::decode(r->encode());
  if (!again || !(*again == *r)) return "decoded vector does not round-trip";
  return {};
}

enum class Target { Update, History, Vector };

struct Runner {
  const Samples& samples;
  int failures = 0;
  int inputs = 0;

  void check(Target target, const Bytes& bytes, const std::string& what) {
    ++inputs;
    std::string problem;
    switch (target) {
      case Target::Update:
        for (std::size_t i = 0; i < samples.receivers.size() && problem.empty(); ++i) {
          problem = checkUpdate(samples.receivers[i], bytes, i % 2 == 1);
        }
        break;
      case Target::History:
        problem = checkHistory(bytes);
        break;
      case Target::Vector:
        problem = checkVector(bytes);
        break;
    }
    if (!problem.empty() && ++failures <= kMaxReportedFailures) {
      FAIL_CHECK(what << ": " << problem << "; input " << hexDump(bytes));
    }
  }
};

void fuzz(Target target, int randomCount, int mutationCount) {
  const auto seed = testSeed(static_cast<std::uint64_t>(target) + 100);
  INFO("seed " << seed);
  Rng rng(seed);
  const Samples samples = makeSamples(rng.next());
  const std::vector<Bytes>& corpus = target == Target::Update    ? samples.updates
                                     : target == Target::History ? samples.histories
                                                                 : samples.vectors;
  Runner runner{samples};
  for (const Bytes& v : corpus) runner.check(target, v, "valid sample");
  for (int i = 0; i < randomCount; ++i) {
    runner.check(target, randomBytes(rng, corpus), "random input #" + std::to_string(i));
  }
  for (int i = 0; i < mutationCount; ++i) {
    const Bytes& v = corpus[rng.below(static_cast<std::uint32_t>(corpus.size()))];
    runner.check(target, mutate(rng, v, corpus), "mutation #" + std::to_string(i));
  }
  if (target == Target::History) {
    std::vector<Bytes> bodies;
    for (const Bytes& h : corpus) {
      if (auto body = historyBody(h)) bodies.push_back(std::move(*body));
    }
    if (bodies.size() != corpus.size()) {
      WARN("history bodies could not be extracted (format changed?); body mutations skipped");
    }
    if (!bodies.empty()) {
      for (const Bytes& b : bodies) runner.check(target, wrapHistoryBody(b), "re-wrapped body");
      for (int i = 0; i < mutationCount; ++i) {
        const Bytes& b = bodies[rng.below(static_cast<std::uint32_t>(bodies.size()))];
        runner.check(target, wrapHistoryBody(mutate(rng, b, bodies)),
                     "body mutation #" + std::to_string(i));
      }
      for (int i = 0; i < randomCount / 4; ++i) {
        runner.check(target, wrapHistoryBody(randomBytes(rng, bodies)),
                     "random body #" + std::to_string(i));
      }
    }
  }
  CHECK(runner.failures == 0);
  SUCCEED(runner.inputs << " inputs checked");
}

}  // namespace

TEST_CASE("applyUpdate survives random and mutated updates", "[engine][format][fuzz]") {
  fuzz(Target::Update, 20000, 60000);
}

TEST_CASE("decodeHistory survives random and mutated histories", "[engine][format][fuzz]") {
  fuzz(Target::History, 20000, 60000);
}

TEST_CASE("VersionVector::decode survives random and mutated bytes", "[engine][format][fuzz]") {
  fuzz(Target::Vector, 20000, 40000);
}
