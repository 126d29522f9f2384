// Ordering of concurrent inserts: the published interleaving counter-examples for RGA, Yjs/YATA,
// Treedoc and Logoot/LSEQ, which a FugueMax-style order must pass, plus a seeded search for
// interleaved concurrent runs. Sources, cited by section/figure (no text copied):
//  - M. Weidner, M. Kleppmann, "The Art of the Fugue: Minimizing Interleaving in Collaborative
//    Text Editing", arXiv 2305.00583 (v3) / IEEE TPDS 36(11) 2025. Cited as [Fugue].
//  - M. Kleppmann, V. Gomes, D. Mulligan, A. Beresford, "Interleaving anomalies in collaborative
//    text editors", PaPoC 2019. Cited as [PaPoC19].
//  - automerge/automerge-classic issue #395 (Kleppmann, 2021), where the three-replica Yjs case
//    was first reported; [Fugue] discusses the same case for Yjs.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/document.h"
#include "tests/support/random_edits.h"
#include "tests/support/test_util.h"

using quire::engine::Document;
using quire::engine::LV;
using quire::engine::ReplicaId;
using quire::engine::VersionVector;
using namespace quire::test;

namespace {

using Bytes = std::vector<std::uint8_t>;

// One user: a document (its own replica) and the updates of each keystroke, in typing order.
struct Typist {
  Document doc;
  std::vector<Bytes> keystrokes;
  explicit Typist(ReplicaId id) : doc(id) {}
};

void receive(Document& doc, const Bytes& update) {
  auto r = doc.applyUpdate(update);
  REQUIRE(errorOf(r) == "");
}

// Gives `t` everything `from` has (a full, self-contained update).
void catchUp(Typist& t, const Document& from) {
  receive(t.doc, from.encodeUpdateSince(t.doc.version()));
}

void typeOne(Typist& t, std::uint32_t pos, char32_t c) {
  const LV lv = t.doc.nextLv();
  REQUIRE(errorOf(t.doc.insert(pos, toUtf8(c))) == "");
  t.keystrokes.push_back(t.doc.encodeOpsSince(lv));
}

// Types `word` at `pos` one character after another, as people do.
void typeForward(Typist& t, std::uint32_t pos, std::u32string_view word) {
  for (std::size_t i = 0; i < word.size(); ++i) {
    typeOne(t, pos + static_cast<std::uint32_t>(i), word[i]);
  }
}

// Types `word` at `pos` last character first: each character goes in before the previous one
// (the caret stays put, as when typing right-to-left or pressing "Home" after each key).
void typeBackward(Typist& t, std::uint32_t pos, std::u32string_view word) {
  for (std::size_t i = word.size(); i-- > 0;) typeOne(t, pos, word[i]);
}

// Delivers every typist's keystrokes to every other typist and to a fresh observer (which starts
// from `base`), in every order of senders, each sender's keystrokes in order, reversed, and
// round-robin across senders. Requires that every delivery order gives the same text and version,
// and returns that text.
std::string mergeInEveryOrder(const Document& base, std::vector<Typist>& typists) {
  std::set<std::string> outcomes;
  VersionVector finalVersion;
  bool haveVersion = false;

  const std::size_t n = typists.size();
  for (std::size_t receiver = 0; receiver <= n; ++receiver) {
    std::vector<std::size_t> senders;
    for (std::size_t s = 0; s < n; ++s) {
      if (s != receiver) senders.push_back(s);
    }
    std::sort(senders.begin(), senders.end());
    do {
      for (int mode = 0; mode < 3; ++mode) {
        Document doc = receiver < n ? typists[receiver].doc : Document(replicaId(0xEE));
        if (receiver == n) receive(doc, base.encodeUpdateSince(VersionVector{}));
        std::u32string mirror = toU32(doc.text());
        std::vector<const Bytes*> order;
        if (mode == 2) {
          for (std::size_t k = 0;; ++k) {
            bool any = false;
            for (std::size_t s : senders) {
              if (k < typists[s].keystrokes.size()) {
                order.push_back(&typists[s].keystrokes[k]);
                any = true;
              }
            }
            if (!any) break;
          }
        } else {
          for (std::size_t s : senders) {
            const auto& ks = typists[s].keystrokes;
            if (mode == 0) {
              for (const auto& k : ks) order.push_back(&k);
            } else {
              for (auto it = ks.rbegin(); it != ks.rend(); ++it) order.push_back(&*it);
            }
          }
        }
        for (const Bytes* u : order) {
          auto r = doc.applyUpdate(*u);
          REQUIRE(errorOf(r) == "");
          auto problem = applyPatches(mirror, *r);
          REQUIRE(problem.value_or("") == "");
        }
        INFO("receiver " << receiver << ", delivery mode " << mode);
        REQUIRE(doc.pendingOpCount() == 0);
        REQUIRE(toUtf8(mirror) == doc.text());
        CHECK(doc.checkInvariants() == "");
        if (!haveVersion) {
          finalVersion = doc.version();
          haveVersion = true;
        }
        CHECK(doc.version() == finalVersion);
        outcomes.insert(doc.text());
      }
    } while (std::next_permutation(senders.begin(), senders.end()));
  }
  INFO("outcomes: " << Catch::Detail::stringify(std::vector<std::string>(outcomes.begin(),
                                                                         outcomes.end())));
  REQUIRE(outcomes.size() == 1);
  return *outcomes.begin();
}

// The texts that keep each of `runs` contiguous between prefix and suffix, in any order.
std::vector<std::string> nonInterleaved(const std::string& prefix, std::vector<std::string> runs,
                                        const std::string& suffix) {
  std::vector<std::string> out;
  std::sort(runs.begin(), runs.end());
  do {
    std::string s = prefix;
    for (const auto& r : runs) s += r;
    out.push_back(s + suffix);
  } while (std::next_permutation(runs.begin(), runs.end()));
  return out;
}

bool isOneOf(const std::string& s, const std::vector<std::string>& options) {
  return std::find(options.begin(), options.end(), s) != options.end();
}

// A base document typed by replica 0x01 (so base text is one run, then edited).
Document makeBase(std::string_view text) {
  Document base(replicaId(0x01));
  if (!text.empty()) REQUIRE(errorOf(base.insert(0, text)) == "");
  return base;
}

std::vector<Typist> makeTypists(const Document& base, const std::vector<std::uint8_t>& order) {
  std::vector<Typist> typists;
  for (std::uint8_t o : order) {
    typists.emplace_back(replicaId(o));
    catchUp(typists.back(), base);
  }
  return typists;
}

// Replica-id orders for two typists (both ways round) and three (all six).
const std::vector<std::vector<std::uint8_t>> kTwoOrders = {{0x10, 0x20}, {0x20, 0x10}};
const std::vector<std::vector<std::uint8_t>> kThreeOrders = {
    {0x10, 0x20, 0x30}, {0x10, 0x30, 0x20}, {0x20, 0x10, 0x30},
    {0x20, 0x30, 0x10}, {0x30, 0x10, 0x20}, {0x30, 0x20, 0x10}};

}  // namespace

// [PaPoC19], the introductory example: two users insert a word each at the same position;
// Logoot and LSEQ (and [Fugue]'s discussion of Treedoc) can interleave them character by character.
TEST_CASE("two users typing forward at the same place do not interleave", "[engine]") {
  const auto ids = GENERATE(from_range(kTwoOrders));
  INFO("replica order " << int(ids[0]) << ", " << int(ids[1]));
  SECTION("into an empty document") {
    const Document base = makeBase("");
    auto typists = makeTypists(base, ids);
    typeForward(typists[0], 0, U"Alice");
    typeForward(typists[1], 0, U"Bob");
    const auto merged = mergeInEveryOrder(base, typists);
    CHECK(isOneOf(merged, nonInterleaved("", {"Alice", "Bob"}, "")));
  }
  SECTION("in the middle of existing text") {
    const Document base = makeBase("Hello !");
    auto typists = makeTypists(base, ids);
    typeForward(typists[0], 6, U"Alice");
    typeForward(typists[1], 6, U"Charlie");
    const auto merged = mergeInEveryOrder(base, typists);
    CHECK(isOneOf(merged, nonInterleaved("Hello ", {"Alice", "Charlie"}, "!")));
  }
  SECTION("with astral-plane and combining characters") {
    const Document base = makeBase("[]");
    auto typists = makeTypists(base, ids);
    typeForward(typists[0], 1, U"\U0001F600\U0001F3FDe\u0301");
    typeForward(typists[1], 1, U"\u4e2d\u6587\U0001F680");
    const auto merged = mergeInEveryOrder(base, typists);
    CHECK(isOneOf(merged, nonInterleaved("[", {"\U0001F600\U0001F3FDe\u0301",
                                               "\u4e2d\u6587\U0001F680"}, "]")));
  }
}

// [Fugue], its discussion of RGA: when each character is typed before the previous one (typing in
// reverse), RGA orders the concurrent characters by timestamp alone and interleaves the two
// users' text.
TEST_CASE("two users typing in reverse at the same place do not interleave", "[engine]") {
  const auto ids = GENERATE(from_range(kTwoOrders));
  INFO("replica order " << int(ids[0]) << ", " << int(ids[1]));
  SECTION("into an empty document") {
    const Document base = makeBase("");
    auto typists = makeTypists(base, ids);
    typeBackward(typists[0], 0, U"milk");
    typeBackward(typists[1], 0, U"eggs");
    const auto merged = mergeInEveryOrder(base, typists);
    CHECK(isOneOf(merged, nonInterleaved("", {"milk", "eggs"}, "")));
  }
  SECTION("in the middle of existing text") {
    const Document base = makeBase("Shopping: .");
    auto typists = makeTypists(base, ids);
    typeBackward(typists[0], 10, U"bread ");
    typeBackward(typists[1], 10, U"cheese ");
    const auto merged = mergeInEveryOrder(base, typists);
    CHECK(isOneOf(merged, nonInterleaved("Shopping: ", {"bread ", "cheese "}, ".")));
  }
  SECTION("with the keystrokes of both users alternating in time") {
    // Same as above, but the two users' typing interleaves in LV/Lamport order, which is what
    // makes RGA interleave.
    const Document base = makeBase("");
    auto typists = makeTypists(base, ids);
    const std::u32string a = U"abcdef";
    const std::u32string b = U"UVWXYZ";
    for (std::size_t i = a.size(); i-- > 0;) {
      typeOne(typists[0], 0, a[i]);
      typeOne(typists[1], 0, b[i]);
    }
    const auto merged = mergeInEveryOrder(base, typists);
    CHECK(isOneOf(merged, nonInterleaved("", {"abcdef", "UVWXYZ"}, "")));
  }
}

// [Fugue] discusses forward and backward runs inserted concurrently at one place: both must stay
// contiguous (its "maximal non-interleaving", Definition 4, conditions 1 and 2).
TEST_CASE("one user typing forward and one in reverse at the same place do not interleave",
          "[engine]") {
  const auto ids = GENERATE(from_range(kTwoOrders));
  INFO("replica order " << int(ids[0]) << ", " << int(ids[1]));
  const Document base = makeBase("<>");
  auto typists = makeTypists(base, ids);
  typeForward(typists[0], 1, U"forward");
  typeBackward(typists[1], 1, U"backward");
  const auto merged = mergeInEveryOrder(base, typists);
  CHECK(isOneOf(merged, nonInterleaved("<", {"forward", "backward"}, ">")));
}

// [PaPoC19]'s RGA anomaly, and [Fugue]'s discussion of it: a user types a word, moves the caret
// back to the start and types another word in front of it; concurrently another user types at the
// same place. The first user's two words must not be split by the other user's text.
TEST_CASE("text prepended by one user to their own word is not split by a concurrent insert",
          "[engine]") {
  const auto ids = GENERATE(from_range(kTwoOrders));
  INFO("replica order " << int(ids[0]) << ", " << int(ids[1]));
  SECTION("at the start of the document") {
    const Document base = makeBase("");
    auto typists = makeTypists(base, ids);
    typeForward(typists[0], 0, U"world");
    typeForward(typists[0], 0, U"hello ");
    typeForward(typists[1], 0, U"BOB");
    const auto merged = mergeInEveryOrder(base, typists);
    CHECK(isOneOf(merged, nonInterleaved("", {"hello world", "BOB"}, "")));
  }
  SECTION("in the middle of a line") {
    const Document base = makeBase("(|)");
    auto typists = makeTypists(base, ids);
    typeForward(typists[0], 1, U"def");
    typeForward(typists[0], 1, U"abc");
    typeBackward(typists[1], 1, U"XYZ");
    const auto merged = mergeInEveryOrder(base, typists);
    CHECK(isOneOf(merged, nonInterleaved("(", {"abcdef", "XYZ"}, "|)")));
  }
}

// The three-replica Yjs case (automerge-classic #395; discussed in [Fugue]): replica C types a
// word; replica A receives it and prepends another word; concurrently replica B, which has seen
// neither, types at the same place. Yjs puts B's text between A's and C's words, which together
// read as one text. The outcome must keep A's and C's words together, for every order of ids.
TEST_CASE("three-replica prepend case that interleaves in Yjs keeps the prepended text together",
          "[engine]") {
  const auto ids = GENERATE(from_range(kThreeOrders));
  INFO("replica order A " << int(ids[0]) << ", B " << int(ids[1]) << ", C " << int(ids[2]));
  const Document base = makeBase("");
  auto typists = makeTypists(base, ids);
  Typist& a = typists[0];
  Typist& b = typists[1];
  Typist& c = typists[2];
  typeForward(c, 0, U"world");
  catchUp(a, c.doc);
  typeForward(a, 0, U"hello ");
  typeForward(b, 0, U"BBBBB");
  // A's keystroke updates refer to C's characters; a receiver that lacks C's ops must wait for
  // them, which mergeInEveryOrder also exercises (it delivers A's ops before C's in some orders).
  const auto merged = mergeInEveryOrder(base, typists);
  CHECK(isOneOf(merged, nonInterleaved("", {"hello world", "BBBBB"}, "")));
}

// [Fugue] Section 5.3, Figure 7: the execution on which plain Fugue is not maximally
// non-interleaving but FugueMax is. Three replicas concurrently insert one character each at the
// start; call them A, B, C in the merged order. A replica that has A and C inserts X between them;
// a replica that has A and B inserts Y between them. The only maximally non-interleaved result
// is A X Y B C (Y stays next to its right origin B), whatever the ids of X's and Y's replicas.
TEST_CASE("concurrent inserts with different right origins follow FugueMax (Fugue Figure 7)",
          "[engine]") {
  const auto ids = GENERATE(from_range(kThreeOrders));
  const bool xFirst = GENERATE(true, false);
  INFO("replica order " << int(ids[0]) << ", " << int(ids[1]) << ", " << int(ids[2])
                        << "; X's replica id " << (xFirst ? "below" : "above") << " Y's");
  const Document base = makeBase("");
  auto firsts = makeTypists(base, ids);
  typeForward(firsts[0], 0, U"1");
  typeForward(firsts[1], 0, U"2");
  typeForward(firsts[2], 0, U"3");
  Document observer(replicaId(0xEE));
  for (auto& t : firsts) receive(observer, t.doc.encodeUpdateSince(VersionVector{}));
  const std::string abc = observer.text();
  REQUIRE(abc.size() == 3);
  auto ownerOf = [&](char ch) -> Typist& { return firsts[static_cast<std::size_t>(ch - '1')]; };
  Typist& a = ownerOf(abc[0]);
  Typist& b = ownerOf(abc[1]);
  Typist& c = ownerOf(abc[2]);

  std::vector<Typist> xy;
  xy.emplace_back(replicaId(xFirst ? 0x40 : 0x50));  // X's replica
  xy.emplace_back(replicaId(xFirst ? 0x50 : 0x40));  // Y's replica
  catchUp(xy[0], a.doc);
  catchUp(xy[0], c.doc);
  REQUIRE(xy[0].doc.text() == std::string{abc[0], abc[2]});
  typeForward(xy[0], 1, U"X");
  catchUp(xy[1], a.doc);
  catchUp(xy[1], b.doc);
  REQUIRE(xy[1].doc.text() == std::string{abc[0], abc[1]});
  typeForward(xy[1], 1, U"Y");

  std::vector<Typist> all;
  for (auto* t : {&firsts[0], &firsts[1], &firsts[2], &xy[0], &xy[1]}) {
    all.emplace_back(t->doc.localReplica());
    all.back().doc = t->doc;
    // Each replica's whole history as one keystroke list: its own update since empty.
    all.back().keystrokes = {t->doc.encodeUpdateSince(VersionVector{})};
  }
  const auto merged = mergeInEveryOrder(base, all);
  CHECK(merged == std::string{abc[0], 'X', 'Y', abc[1], abc[2]});
}

// Three users at one place, in every combination of typing directions.
TEST_CASE("three users typing at the same place keep each user's text contiguous", "[engine]") {
  const auto ids = GENERATE(from_range(kThreeOrders));
  const int directions = GENERATE(range(0, 8));
  INFO("replica order " << int(ids[0]) << ", " << int(ids[1]) << ", " << int(ids[2])
                        << "; directions bitmask " << directions);
  const Document base = makeBase("{}");
  auto typists = makeTypists(base, ids);
  const std::vector<std::u32string> words = {U"alpha", U"\u03b2\u03b7\u03c4\u03b1",
                                             U"\U0001F600\U0001F601\U0001F602"};
  for (std::size_t i = 0; i < 3; ++i) {
    if (directions & (1 << i)) {
      typeBackward(typists[i], 1, words[i]);
    } else {
      typeForward(typists[i], 1, words[i]);
    }
  }
  const auto merged = mergeInEveryOrder(base, typists);
  CHECK(isOneOf(merged, nonInterleaved("{", {toUtf8(words[0]), toUtf8(words[1]),
                                             toUtf8(words[2])}, "}")));
}

// Seeded search for interleaving: 2-3 users type a run (forward or in reverse) concurrently at one
// place in a random document that has seen edits and deletions.
TEST_CASE("concurrent runs at one place never interleave (seeded)", "[engine][props]") {
  const auto seed = testSeed(GENERATE(range(0, 200)));
  INFO("seed " << seed);
  Rng rng(seed);
  EditingReplica author(replicaId(0x01));
  const int baseEdits = static_cast<int>(rng.below(40));
  EditMix mix;
  mix.pasteShare = 0;
  mix.maxRangeDelete = 5;
  for (int i = 0; i < baseEdits; ++i) REQUIRE(randomLocalEdit(rng, author, replicaAlphabet(0), mix) == "");
  const Document& base = author.doc;
  const std::uint32_t pos = rng.between(0, base.length());

  const std::size_t n = 2 + rng.below(2);
  std::vector<Typist> typists;
  std::vector<std::string> runs;
  for (std::size_t i = 0; i < n; ++i) {
    typists.emplace_back(replicaId(static_cast<std::uint8_t>(0x10 * (i + 1)), rng.next()));
    catchUp(typists.back(), base);
    const std::u32string word = randomText(rng, replicaAlphabet(i + 1), rng.between(1, 8));
    if (rng.chance(0.5)) {
      typeForward(typists.back(), pos, word);
    } else {
      typeBackward(typists.back(), pos, word);
    }
    runs.push_back(toUtf8(word));
  }
  const std::u32string baseText = toU32(base.text());
  const std::string prefix = toUtf8(baseText.substr(0, pos));
  const std::string suffix = toUtf8(baseText.substr(pos));
  const auto merged = mergeInEveryOrder(base, typists);
  CHECK(isOneOf(merged, nonInterleaved(prefix, runs, suffix)));
}
