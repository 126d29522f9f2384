// Forged duplicates (engine/FORMAT.md, "Forks"): a second, different op under an (author, seq)
// that a copy already holds is refused with Error::Code::Forked, naming the field that differs,
// and changes nothing; a true duplicate, however it is split into runs, is still accepted.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/document.h"
#include "tests/support/test_util.h"

namespace {

using quire::Error;
using quire::engine::Document;
using quire::engine::VersionVector;
using quire::test::replicaId;

using Bytes = std::vector<std::uint8_t>;

// Author M's copy after `edit`, starting from `base` (shared text both versions build on).
template <typename Edit>
Bytes authored(const Document& base, Edit edit) {
  Document m = base;
  const VersionVector before = m.version();
  edit(m);
  return m.encodeUpdateBetween(before, m.version());
}

Document sharedBase() {
  Document h(replicaId(1));
  REQUIRE(h.insert(0, "hello world").has_value());
  Document m(replicaId(9));  // the forger, who holds the document
  REQUIRE(m.applyUpdate(h.encodeUpdateSince({})).has_value());
  return m;
}

// A copy of the base document as an honest peer holds it.
Document honestCopy(const Document& base) {
  Document c(replicaId(2));
  REQUIRE(c.applyUpdate(base.encodeUpdateSince({})).has_value());
  return c;
}

void requireFork(Document& copy, const Bytes& update, const std::string& field) {
  const std::string before = copy.text();
  const auto version = copy.version();
  auto r = copy.applyUpdate(update);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == Error::Code::Forked);
  CHECK_THAT(r.error().toString(), Catch::Contains("is held with a different " + field));
  CHECK(copy.text() == before);
  CHECK(copy.version() == version);
}

}  // namespace

TEST_CASE("fork: a different op under a held (author, seq) is refused, naming the field", "[fork]") {
  const Document base = sharedBase();
  Document copy = honestCopy(base);

  SECTION("different text at the same place") {
    Bytes genuine = authored(base, [](Document& m) { REQUIRE(m.insert(5, " there").has_value()); });
    Bytes forged = authored(base, [](Document& m) { REQUIRE(m.insert(5, " THERE").has_value()); });
    REQUIRE(copy.applyUpdate(genuine).has_value());
    requireFork(copy, forged, "text");
    CHECK(copy.text() == "hello there world");
  }
  SECTION("the same text at another place") {
    Bytes genuine = authored(base, [](Document& m) { REQUIRE(m.insert(0, "A").has_value()); });
    Bytes forged = authored(base, [](Document& m) { REQUIRE(m.insert(6, "A").has_value()); });
    REQUIRE(copy.applyUpdate(genuine).has_value());
    requireFork(copy, forged, "origin");
  }
  SECTION("a delete of other characters") {
    Bytes genuine = authored(base, [](Document& m) { REQUIRE(m.remove(0, 3).has_value()); });
    Bytes forged = authored(base, [](Document& m) { REQUIRE(m.remove(2, 3).has_value()); });
    REQUIRE(copy.applyUpdate(genuine).has_value());
    requireFork(copy, forged, "delete target");
    CHECK(copy.text() == "lo world");
  }
  SECTION("a delete where an insert was") {
    Bytes genuine = authored(base, [](Document& m) { REQUIRE(m.insert(0, "x").has_value()); });
    Bytes forged = authored(base, [](Document& m) { REQUIRE(m.remove(0, 1).has_value()); });
    REQUIRE(copy.applyUpdate(genuine).has_value());
    requireFork(copy, forged, "kind");
  }
  SECTION("a longer forgery whose held part differs, with new ops after it") {
    Bytes genuine = authored(base, [](Document& m) { REQUIRE(m.insert(11, "!").has_value()); });
    Bytes forged = authored(base, [](Document& m) { REQUIRE(m.insert(11, "?!?!").has_value()); });
    REQUIRE(copy.applyUpdate(genuine).has_value());
    requireFork(copy, forged, "text");
  }
}

TEST_CASE("fork: true duplicates are accepted however they are split", "[fork]") {
  const Document base = sharedBase();
  Document m = base;
  const VersionVector v0 = m.version();
  REQUIRE(m.insert(5, " there").has_value());
  const VersionVector v1 = m.version();
  REQUIRE(m.remove(0, 2).has_value());
  REQUIRE(m.insert(0, "Oh, h").has_value());
  const VersionVector v2 = m.version();

  Document copy = honestCopy(base);
  REQUIRE(copy.applyUpdate(m.encodeUpdateBetween(v0, v1)).has_value());
  // The same ops again, and a run that repeats the held ones and goes on past them.
  REQUIRE(copy.applyUpdate(m.encodeUpdateBetween(v0, v1)).has_value());
  REQUIRE(copy.applyUpdate(m.encodeUpdateBetween(v0, v2)).has_value());
  REQUIRE(copy.applyUpdate(m.encodeUpdateSince({})).has_value());
  CHECK(copy.text() == m.text());
  CHECK(copy.text() == "Oh, hllo there world");
}

TEST_CASE("fork: copies that see both versions in one order keep the same one", "[fork]") {
  // What a relay gives a room: every member sees the frames in the relay's order.
  const Document base = sharedBase();
  Bytes genuine = authored(base, [](Document& m) { REQUIRE(m.insert(0, ">> ").has_value()); });
  Bytes forged = authored(base, [](Document& m) { REQUIRE(m.insert(0, "XX ").has_value()); });
  std::vector<Document> copies{honestCopy(base), honestCopy(base), honestCopy(base)};
  for (Document& c : copies) {
    REQUIRE(c.applyUpdate(genuine).has_value());
    auto r = c.applyUpdate(forged);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == Error::Code::Forked);
  }
  for (const Document& c : copies) CHECK(c.text() == ">> hello world");
}

TEST_CASE("fork: a forged long delete run costs per stretch, not per stated op", "[fork]") {
  // 200,000 characters typed in one run and deleted in one run: a duplicate delete that differs
  // only at its very end is compared stretch by stretch (a handful of lookups), and caught.
  Document h(replicaId(1));
  REQUIRE(h.insert(0, std::string(200000, 'a')).has_value());
  Document m(replicaId(9));
  REQUIRE(m.applyUpdate(h.encodeUpdateSince({})).has_value());
  const Document base = m;
  Bytes genuine = authored(base, [](Document& d) { REQUIRE(d.remove(0, 199999).has_value()); });
  Bytes forged = authored(base, [](Document& d) {
    REQUIRE(d.remove(0, 199998).has_value());  // the same 199,998 deletes...
    REQUIRE(d.remove(1, 1).has_value());       // ...and a last one of another character
  });
  Document copy = honestCopy(base);
  REQUIRE(copy.applyUpdate(genuine).has_value());
  requireFork(copy, forged, "delete target");
  REQUIRE(copy.applyUpdate(genuine).has_value());  // the genuine one again: a duplicate
  CHECK(copy.text() == "a");
}

namespace {

// Applies `update` to `copy` the way a sync layer does: a fork is repaired by the verdict of
// repairFork. Returns the update of the held version to send on, if the held one won.
Bytes applyRepairing(Document& copy, const Bytes& update) {
  auto applied = copy.applyUpdate(update);
  if (applied) return {};
  REQUIRE(applied.error().code() == Error::Code::Forked);
  auto repair = copy.repairFork(update);
  REQUIRE(repair.has_value());
  if (!repair->incomingWins) return repair->winner;
  REQUIRE(repair->rebuilt);
  INFO(repair->rebuilt->checkInvariants());
  REQUIRE(repair->rebuilt->checkInvariants().empty());
  const std::string before = copy.text();
  const quire::engine::Patch patch = repair->replace(copy);
  CHECK(patch.pos == 0);
  CHECK(patch.deleted == quire::test::toU32(before).size());
  CHECK(patch.inserted == copy.text());
  return {};
}

}  // namespace

TEST_CASE("fork: copies that took different versions all end with the same one", "[fork]") {
  const Document base = sharedBase();
  struct Case {
    const char* name;
    Bytes one, other;
  };
  const std::vector<Case> cases{
      {"text", authored(base, [](Document& m) { REQUIRE(m.insert(5, " there").has_value()); }),
       authored(base, [](Document& m) { REQUIRE(m.insert(5, " THERE").has_value()); })},
      {"place", authored(base, [](Document& m) { REQUIRE(m.insert(0, "A").has_value()); }),
       authored(base, [](Document& m) { REQUIRE(m.insert(6, "A").has_value()); })},
      {"delete", authored(base, [](Document& m) { REQUIRE(m.remove(0, 3).has_value()); }),
       authored(base, [](Document& m) { REQUIRE(m.remove(2, 3).has_value()); })},
      {"kind", authored(base, [](Document& m) { REQUIRE(m.insert(0, "x").has_value()); }),
       authored(base, [](Document& m) { REQUIRE(m.remove(0, 1).has_value()); })},
      {"lengths", authored(base, [](Document& m) { REQUIRE(m.insert(11, "!").has_value()); }),
       authored(base, [](Document& m) { REQUIRE(m.insert(11, "?!?!").has_value()); })},
      {"late in a run", authored(base, [](Document& m) { REQUIRE(m.insert(11, " and more").has_value()); }),
       authored(base, [](Document& m) { REQUIRE(m.insert(11, " and MORE").has_value()); })},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      // A took one version, B the other; each then typed on its own (not on the forger's text:
      // see the next case for that).
      Document a = honestCopy(base);
      Document b(replicaId(3));
      REQUIRE(b.applyUpdate(base.encodeUpdateSince({})).has_value());
      REQUIRE(a.applyUpdate(c.one).has_value());
      REQUIRE(b.applyUpdate(c.other).has_value());
      auto beforeWorld = [](const Document& d) { return static_cast<std::uint32_t>(d.text().find("world")); };
      REQUIRE(a.insert(beforeWorld(a), "[a]").has_value());
      REQUIRE(b.insert(beforeWorld(b), "[b]").has_value());

      // Each sends the other everything it holds; the copy whose version wins sends it on.
      Bytes winnerFromA = applyRepairing(a, b.encodeUpdateSince({}));
      Bytes winnerFromB = applyRepairing(b, a.encodeUpdateSince({}));
      if (!winnerFromA.empty()) applyRepairing(b, winnerFromA);
      if (!winnerFromB.empty()) applyRepairing(a, winnerFromB);
      REQUIRE(a.applyUpdate(b.encodeUpdateSince({})).has_value());
      REQUIRE(b.applyUpdate(a.encodeUpdateSince({})).has_value());

      CHECK(a.text() == b.text());
      CHECK(a.version() == b.version());
      // Nothing the honest writers typed is lost, and exactly one version is kept: the same
      // one whichever copy decides.
      CHECK_THAT(a.text(), Catch::Contains("[a]") && Catch::Contains("[b]"));
      Document one = honestCopy(base), other = honestCopy(base);
      REQUIRE(one.applyUpdate(c.one).has_value());
      REQUIRE(other.applyUpdate(c.other).has_value());
      auto oneSays = one.repairFork(c.other);
      auto otherSays = other.repairFork(c.one);
      REQUIRE(oneSays.has_value());
      REQUIRE(otherSays.has_value());
      CHECK(oneSays->incomingWins != otherSays->incomingWins);
      CHECK(oneSays->seq == otherSays->seq);
    }
  }
}

TEST_CASE("fork: the author of forged ops follows the same rule, and nothing else is repaired", "[fork]") {
  const Document base = sharedBase();
  Document a = honestCopy(base);  // replica 2
  REQUIRE(a.insert(0, "zz").has_value());
  // Someone writes other ops under a's own ids. Nobody can tell which version a made, so a
  // picks as every other copy does: "AA" sorts first and wins; "~~" loses.
  auto forgery = [&](const char* text) {
    Document forger(replicaId(2));
    REQUIRE(forger.applyUpdate(base.encodeUpdateSince({})).has_value());
    const VersionVector before = forger.version();
    REQUIRE(forger.insert(0, text).has_value());
    return forger.encodeUpdateBetween(before, forger.version());
  };
  const Bytes loses = forgery("~~"), wins = forgery("AA");
  REQUIRE(a.applyUpdate(loses).error().code() == Error::Code::Forked);
  auto kept = a.repairFork(loses);
  REQUIRE(kept.has_value());
  CHECK_FALSE(kept->incomingWins);
  CHECK(kept->seq == 0);
  Document other = honestCopy(base);
  REQUIRE(other.applyUpdate(kept->winner).has_value());
  CHECK(other.text() == "zzhello world");

  Bytes sendOn = applyRepairing(a, wins);
  CHECK(sendOn.empty());
  CHECK(a.text() == "AAhello world");
  // a's next keystrokes take fresh ids after the winner's.
  REQUIRE(a.insert(2, "!").has_value());
  REQUIRE(other.applyUpdate(wins).error().code() == Error::Code::Forked);
  applyRepairing(other, wins);
  REQUIRE(other.applyUpdate(a.encodeUpdateSince({})).has_value());
  CHECK(other.text() == "AA!hello world");

  auto none = a.repairFork(base.encodeUpdateSince({}));
  REQUIRE_FALSE(none.has_value());
  CHECK(none.error().code() == Error::Code::InvalidArgument);
}

TEST_CASE("fork: a copy whose own edits build on the losing version keeps it and says so", "[fork]") {
  const Document base = sharedBase();
  // The winner ("A" sorts first) has no op 1, which this copy's "!" follows.
  Bytes lower = authored(base, [](Document& m) { REQUIRE(m.insert(0, "A").has_value()); });
  Bytes higher = authored(base, [](Document& m) { REQUIRE(m.insert(0, "ab").has_value()); });
  Document a = honestCopy(base);
  REQUIRE(a.applyUpdate(higher).has_value());
  REQUIRE(a.insert(2, "!").has_value());  // right after the forger's "b"
  auto repair = a.repairFork(lower);
  REQUIRE_FALSE(repair.has_value());
  CHECK(repair.error().code() == Error::Code::Forked);
  CHECK_THAT(repair.error().toString(), Catch::Contains("build on the losing version"));
  CHECK(a.text() == "ab!hello world");
}
