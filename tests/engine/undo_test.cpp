// UndoManager: how local edits group into undo steps, where the caret goes, redo, and per-user
// undo next to concurrent remote edits.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/document.h"
#include "engine/undo_manager.h"
#include "tests/support/random_edits.h"
#include "tests/support/test_util.h"

using quire::Error;
using quire::engine::Document;
using quire::engine::UndoManager;
using quire::engine::UndoStep;
using namespace quire::test;

namespace {

constexpr std::uint64_t kPauseMs = 1000;

// Types `text` one code point at a time at `pos`, `gapMs` apart, starting at `t` (advanced).
void typeAt(UndoManager& undo, std::uint32_t pos, std::u32string_view text, std::uint64_t& t,
            std::uint64_t gapMs = 50) {
  for (char32_t c : text) {
    REQUIRE(errorOf(undo.insert(pos++, toUtf8(c), t)) == "");
    t += gapMs;
  }
}

// Runs undo (or redo) and checks that its patches turn the old text into the new one.
std::optional<UndoStep> step(Document& doc, UndoManager& undo, bool isRedo = false) {
  std::u32string mirror = toU32(doc.text());
  auto s = isRedo ? undo.redo() : undo.undo();
  if (s) {
    auto problem = applyPatches(mirror, s->patches);
    REQUIRE(problem.value_or("") == "");
    REQUIRE(toUtf8(mirror) == doc.text());
    CHECK(s->caret <= doc.length());
  }
  return s;
}

}  // namespace

TEST_CASE("undo and redo with nothing recorded return nothing", "[engine][undo]") {
  Document doc(replicaId(1));
  UndoManager undo(doc, kPauseMs);
  CHECK_FALSE(undo.canUndo());
  CHECK_FALSE(undo.canRedo());
  CHECK_FALSE(undo.undo().has_value());
  CHECK_FALSE(undo.redo().has_value());

  // Remote or unrecorded edits are not undoable either.
  REQUIRE(errorOf(doc.insert(0, "not recorded")) == "");
  CHECK_FALSE(undo.undo().has_value());
  CHECK(doc.text() == "not recorded");
}

TEST_CASE("a rejected edit records nothing", "[engine][undo]") {
  Document doc(replicaId(1));
  UndoManager undo(doc, kPauseMs);
  auto r = undo.insert(3, "x", 0);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == Error::Code::InvalidArgument);
  auto bad = undo.insert(0, "\xff", 0);
  REQUIRE_FALSE(bad.has_value());
  auto del = undo.remove(0, 1, 0);
  REQUIRE_FALSE(del.has_value());
  CHECK_FALSE(undo.canUndo());
  CHECK(doc.text() == "");
}

TEST_CASE("edits closer together than the pause form one group, a longer pause starts another",
          "[engine][undo]") {
  Document doc(replicaId(1));
  UndoManager undo(doc, kPauseMs);
  REQUIRE(errorOf(undo.insert(0, "a", 0)) == "");
  REQUIRE(errorOf(undo.insert(1, "b", 900)) == "");   // 900 ms later: same group
  REQUIRE(errorOf(undo.insert(2, "c", 1800)) == "");  // 900 ms later again: same group
  REQUIRE(errorOf(undo.insert(3, "d", 2900)) == "");  // 1100 ms later: a new group
  REQUIRE(errorOf(undo.insert(4, "e", 3000)) == "");
  REQUIRE(doc.text() == "abcde");

  REQUIRE(step(doc, undo).has_value());
  CHECK(doc.text() == "abc");
  REQUIRE(step(doc, undo).has_value());
  CHECK(doc.text() == "");
  CHECK_FALSE(step(doc, undo).has_value());
}

TEST_CASE("typing words separated by a space gives one group per word", "[engine][undo]") {
  Document doc(replicaId(1));
  UndoManager undo(doc, kPauseMs);
  std::uint64_t t = 0;
  typeAt(undo, 0, U"hello world", t);
  REQUIRE(doc.text() == "hello world");

  REQUIRE(step(doc, undo).has_value());
  // The space may end the first word's group or start the second's.
  CHECK((doc.text() == "hello" || doc.text() == "hello "));
  REQUIRE(step(doc, undo).has_value());
  CHECK(doc.text() == "");
  CHECK_FALSE(step(doc, undo).has_value());
}

TEST_CASE("switching between typing and deleting starts a new group", "[engine][undo]") {
  Document doc(replicaId(1));
  UndoManager undo(doc, kPauseMs);
  std::uint64_t t = 0;
  typeAt(undo, 0, U"abc", t);
  // Two backspaces.
  REQUIRE(errorOf(undo.remove(2, 1, t)) == "");
  t += 50;
  REQUIRE(errorOf(undo.remove(1, 1, t)) == "");
  t += 50;
  typeAt(undo, 1, U"XY", t);
  REQUIRE(doc.text() == "aXY");

  REQUIRE(step(doc, undo).has_value());
  CHECK(doc.text() == "a");
  REQUIRE(step(doc, undo).has_value());
  CHECK(doc.text() == "abc");
  REQUIRE(step(doc, undo).has_value());
  CHECK(doc.text() == "");
  CHECK_FALSE(undo.canUndo());
}

TEST_CASE("breakGroup ends the current group", "[engine][undo]") {
  Document doc(replicaId(1));
  UndoManager undo(doc, kPauseMs);
  std::uint64_t t = 0;
  typeAt(undo, 0, U"ab", t);
  undo.breakGroup();
  typeAt(undo, 2, U"cd", t);
  REQUIRE(step(doc, undo).has_value());
  CHECK(doc.text() == "ab");
  REQUIRE(step(doc, undo).has_value());
  CHECK(doc.text() == "");
}

TEST_CASE("beginGroup/endGroup make one step of mixed edits, breaks and pauses", "[engine][undo]") {
  Document doc(replicaId(1));
  UndoManager undo(doc, kPauseMs);
  std::uint64_t t = 0;
  typeAt(undo, 0, U"cat dog cat", t);
  undo.breakGroup();
  // A replace-all of "cat" by "fox": delete + insert twice, with a break and a long pause
  // inside, and a nested group around the second replacement.
  undo.beginGroup();
  REQUIRE(errorOf(undo.remove(0, 3, t)) == "");
  REQUIRE(errorOf(undo.insert(0, "fox", t)) == "");
  undo.breakGroup();
  t += 10 * kPauseMs;
  undo.beginGroup();
  REQUIRE(errorOf(undo.remove(8, 3, t)) == "");
  REQUIRE(errorOf(undo.insert(8, "fox", t)) == "");
  undo.endGroup();
  undo.endGroup();
  undo.endGroup();  // unmatched: ignored
  REQUIRE(doc.text() == "fox dog fox");
  // The next edit after the group is a group of its own, though it is a quick insert.
  REQUIRE(errorOf(undo.insert(11, "!", t + 1)) == "");

  REQUIRE(step(doc, undo).has_value());
  CHECK(doc.text() == "fox dog fox");
  REQUIRE(step(doc, undo).has_value());
  CHECK(doc.text() == "cat dog cat");  // the whole replace-all in one step
  REQUIRE(step(doc, undo, true).has_value());
  CHECK(doc.text() == "fox dog fox");
  REQUIRE(step(doc, undo).has_value());
  CHECK(doc.text() == "cat dog cat");
  REQUIRE(step(doc, undo).has_value());
  CHECK(doc.text() == "cat dog ");  // then the typing, by word as before
}

TEST_CASE("undo puts the caret where the change was", "[engine][undo]") {
  Document doc(replicaId(1));
  UndoManager undo(doc, kPauseMs);
  REQUIRE(errorOf(undo.insert(0, "hello", 0)) == "");
  undo.breakGroup();

  SECTION("undoing a paste at the end") {
    REQUIRE(errorOf(undo.insert(5, " w\u00f6rld", 10)) == "");
    auto s = step(doc, undo);
    REQUIRE(s.has_value());
    CHECK(doc.text() == "hello");
    CHECK(s->caret == 5);
  }
  SECTION("undoing an insert in the middle") {
    REQUIRE(errorOf(undo.insert(2, "\U0001F600\U0001F600", 10)) == "");
    auto s = step(doc, undo);
    REQUIRE(s.has_value());
    CHECK(doc.text() == "hello");
    CHECK(s->caret == 2);
  }
  SECTION("undoing a delete puts the caret at either end of the restored text") {
    REQUIRE(errorOf(undo.remove(1, 3, 10)) == "");
    REQUIRE(doc.text() == "ho");
    auto s = step(doc, undo);
    REQUIRE(s.has_value());
    CHECK(doc.text() == "hello");
    CHECK((s->caret == 1 || s->caret == 4));
  }
  SECTION("redo puts the caret at the redone change") {
    REQUIRE(errorOf(undo.insert(5, "!!", 10)) == "");
    REQUIRE(step(doc, undo).has_value());
    auto s = step(doc, undo, /*isRedo=*/true);
    REQUIRE(s.has_value());
    CHECK(doc.text() == "hello!!");
    CHECK((s->caret == 5 || s->caret == 7));
  }
}

TEST_CASE("redo after undo restores the text", "[engine][undo]") {
  Document doc(replicaId(1));
  UndoManager undo(doc, kPauseMs);
  std::uint64_t t = 0;
  typeAt(undo, 0, U"hello", t);
  undo.breakGroup();
  REQUIRE(errorOf(undo.remove(1, 2, t)) == "");  // "hlo"
  undo.breakGroup();
  REQUIRE(errorOf(undo.insert(3, "x\U0001F30D", t)) == "");  // one edit, one group
  REQUIRE(doc.text() == "hlox\U0001F30D");

  REQUIRE(step(doc, undo).has_value());
  REQUIRE(step(doc, undo).has_value());
  REQUIRE(step(doc, undo).has_value());
  CHECK(doc.text() == "");
  CHECK(undo.canRedo());

  REQUIRE(step(doc, undo, true).has_value());
  CHECK(doc.text() == "hello");
  REQUIRE(step(doc, undo, true).has_value());
  CHECK(doc.text() == "hlo");
  REQUIRE(step(doc, undo, true).has_value());
  CHECK(doc.text() == "hlox\U0001F30D");
  CHECK_FALSE(undo.canRedo());
  CHECK_FALSE(step(doc, undo, true).has_value());

  // And undo works again after redo.
  REQUIRE(step(doc, undo).has_value());
  CHECK(doc.text() == "hlo");
  CHECK(doc.checkInvariants() == "");
}

TEST_CASE("undo leaves text a remote user inserted inside the undone range", "[engine][undo]") {
  Document a(replicaId(1));
  Document b(replicaId(2));
  UndoManager undo(a, kPauseMs);
  REQUIRE(errorOf(undo.insert(0, "hello world", 0)) == "");
  REQUIRE(sendMissing(a, b) == "");

  SECTION("the remote insert arrives before the undo") {
    REQUIRE(errorOf(b.insert(5, "XYZ")) == "");
    REQUIRE(sendMissing(b, a) == "");
    REQUIRE(a.text() == "helloXYZ world");
    REQUIRE(step(a, undo).has_value());
    CHECK(a.text() == "XYZ");
  }
  SECTION("the remote insert is concurrent with the undo") {
    REQUIRE(errorOf(b.insert(5, "XYZ")) == "");
    REQUIRE(step(a, undo).has_value());
    CHECK(a.text() == "");
    REQUIRE(syncPair(a, b) == "");
    CHECK(a.text() == "XYZ");
  }
  REQUIRE(syncPair(a, b) == "");
  CHECK(b.text() == "XYZ");
  CHECK(a.version() == b.version());
}

TEST_CASE("undoing a delete re-inserts the text where it stood despite remote edits around it",
          "[engine][undo]") {
  Document a(replicaId(1));
  Document b(replicaId(2));
  UndoManager undo(a, kPauseMs);
  REQUIRE(errorOf(undo.insert(0, "hello big world", 0)) == "");
  undo.breakGroup();
  REQUIRE(sendMissing(a, b) == "");
  REQUIRE(errorOf(undo.remove(6, 4, 10)) == "");  // "big "
  REQUIRE(a.text() == "hello world");

  SECTION("remote inserts before, after and inside the neighbours") {
    REQUIRE(errorOf(b.insert(15, ">>")) == "");
    REQUIRE(errorOf(b.insert(13, "~")) == "");  // "wor~ld"
    REQUIRE(errorOf(b.insert(0, "<<")) == "");
    REQUIRE(syncPair(a, b) == "");
    REQUIRE(a.text() == "<<hello wor~ld>>");
    REQUIRE(step(a, undo).has_value());
    CHECK(a.text() == "<<hello big wor~ld>>");
  }
  SECTION("the remote user deleted the text on both sides") {
    REQUIRE(errorOf(b.remove(0, 6)) == "");  // "hello "
    REQUIRE(errorOf(b.remove(4, 5)) == "");  // "world"
    REQUIRE(syncPair(a, b) == "");
    REQUIRE(a.text() == "");
    REQUIRE(step(a, undo).has_value());
    CHECK(a.text() == "big ");
  }
  REQUIRE(syncPair(a, b) == "");
  CHECK(b.text() == a.text());
  CHECK(a.checkInvariants() == "");
}

TEST_CASE("undoing an insert that a remote user partly deleted removes only what is left",
          "[engine][undo]") {
  Document a(replicaId(1));
  Document b(replicaId(2));
  UndoManager undo(a, kPauseMs);
  REQUIRE(errorOf(b.insert(0, "[]")) == "");
  REQUIRE(sendMissing(b, a) == "");
  REQUIRE(errorOf(undo.insert(1, "abcdef", 0)) == "");
  REQUIRE(sendMissing(a, b) == "");
  REQUIRE(errorOf(b.remove(2, 3)) == "");  // "bcd"
  REQUIRE(errorOf(b.insert(1, "*")) == "");
  REQUIRE(syncPair(a, b) == "");
  REQUIRE(a.text() == "[*aef]");
  REQUIRE(step(a, undo).has_value());
  CHECK(a.text() == "[*]");
  REQUIRE(syncPair(a, b) == "");
  CHECK(b.text() == "[*]");
}

TEST_CASE("undo and redo walk back and forth through the texts one user made (seeded)",
          "[engine][undo][props]") {
  const auto seed = testSeed(GENERATE(range(0, 50)));
  INFO("seed " << seed);
  Rng rng(seed);
  Document doc(replicaId(1));
  UndoManager undo(doc, kPauseMs);
  std::vector<std::string> texts = {doc.text()};
  std::uint64_t t = 0;
  for (int i = 0; i < 60; ++i) {
    const std::uint32_t length = doc.length();
    if (length == 0 || rng.chance(0.6)) {
      const std::u32string text = randomText(rng, mixedAlphabet(), rng.between(1, 12));
      REQUIRE(errorOf(undo.insert(rng.between(0, length), toUtf8(text), t)) == "");
    } else {
      const std::uint32_t pos = rng.below(length);
      const std::uint32_t count = std::min(length - pos, rng.between(1, 12));
      REQUIRE(errorOf(undo.remove(pos, count, t)) == "");
    }
    t += 10;
    undo.breakGroup();  // every edit is its own step
    texts.push_back(doc.text());
  }
  for (std::size_t i = texts.size() - 1; i-- > 0;) {
    INFO("undo back to text #" << i);
    REQUIRE(step(doc, undo).has_value());
    REQUIRE(doc.text() == texts[i]);
  }
  CHECK_FALSE(step(doc, undo).has_value());
  for (std::size_t i = 1; i < texts.size(); ++i) {
    INFO("redo forward to text #" << i);
    REQUIRE(step(doc, undo, true).has_value());
    REQUIRE(doc.text() == texts[i]);
  }
  CHECK_FALSE(step(doc, undo, true).has_value());
  CHECK(doc.checkInvariants() == "");
}
