// Large live updates decoded aside (RoomOptions::checkAsideBytes; PROTOCOL.md, "Large frames"):
// while one is held, the room's other streams go on being applied, what could depend on it
// waits, and every copy ends as if each frame had been applied in the relay's order.
#include <string>

#include <catch2/catch.hpp>

#include "engine/document.h"
#include "net/room_session.h"
#include "tests/net/room_fixture.h"
#include "tests/support/hostile_inputs.h"

using namespace quire;
using namespace quire::net;
using namespace quire::net::test_room;

namespace {

constexpr std::size_t kAside = 4096;

RoomOptions asideOptions() {
  RoomOptions o;
  o.checkAsideBytes = kAside;
  o.snapshotAfterItems = 0;
  o.snapshotAfterBytes = 0;
  return o;
}

}  // namespace

TEST_CASE("a large live update is decoded aside while other streams' keystrokes are applied",
          "[room][aside]") {
  Room r(3);
  r.options = asideOptions();
  for (std::size_t i = 0; i < 3; ++i) r.goOnline(i);
  r.run();

  const std::string big(kAside * 2, 'p');
  r.paste(0, 0, big);
  r.run();
  for (std::size_t i : {1u, 2u}) {
    INFO("member " << i);
    REQUIRE(r.members[i].checks.size() == 1);
    CHECK(r.members[i].session->holding());
    CHECK(r.doc(i).text().empty());
  }

  // Another member's keystroke, stored after the paste, is applied at once.
  r.type(2, 0, "k");
  r.run();
  CHECK(r.doc(1).text() == "k");
  // The paster's next keystroke refers to its stream as the paste left it: it waits.
  r.type(0, static_cast<std::uint32_t>(big.size()), "q");
  r.run();
  CHECK(r.doc(1).text() == "k");
  CHECK(r.members[1].session->waitingCount() == 1);

  r.settleChecks(1);
  r.settleChecks(2);
  CHECK_FALSE(r.members[1].session->holding());
  CHECK(r.members[1].session->waitingCount() == 0);
  CHECK(r.members[1].session->badFrames() == 0);
  requireConverged(r);
  CHECK(r.doc(0).text().size() == big.size() + 2);
}

TEST_CASE("a key holder's large poison update is refused aside, remembered and skipped on rejoin",
          "[room][aside][hostile]") {
  Room r(2);
  r.options = asideOptions();
  RejectedFrames remembered[2];
  onlineRemembering(r, 0, remembered[0]);
  onlineRemembering(r, 1, remembered[1]);
  r.type(0, 0, "honest");
  r.run();

  Message poison;
  poison.kind = FrameKind::Update;
  poison.update = test::hostile::lvOverflowUpdate();  // ~760 KiB
  REQUIRE(poison.update.size() > kAside);
  storeFromOutsider(r, poison);
  r.run();
  REQUIRE(r.members[0].checks.size() == 1);
  REQUIRE(r.members[1].checks.size() == 1);

  // Typing goes on meanwhile.
  r.type(1, 6, "!");
  r.run();
  CHECK(r.doc(0).text() == "honest!");

  for (std::size_t i : {0u, 1u}) {
    INFO("member " << i);
    r.settleChecks(i);
    CHECK(r.members[i].session->badFrames() == 1);
    CHECK_THAT(r.members[i].session->lastBadFrame(), Catch::Contains("op counter"));
    CHECK(remembered[i].size() == 1);
  }
  // The digest taken aside is the one a later join looks up.
  r.goOffline(1);
  onlineRemembering(r, 1, remembered[1]);
  CHECK(r.members[1].session->framesSkippedAsRejected() == 1);
  CHECK(r.members[1].session->badFrames() == 0);
  requireConverged(r);
  CHECK(r.doc(1).text() == "honest!");
}

TEST_CASE("the relay's mark waits behind a held frame, so the snapshot holds it", "[room][aside]") {
  Room r(4);
  r.options = asideOptions();
  r.goOnline(0);
  RoomOptions compacting = asideOptions();
  compacting.snapshotAfterItems = 4;  // spread to at most 5
  r.goOnline(1, compacting);
  r.goOnline(2);
  r.run();

  const std::string big(kAside * 2, 'p');
  r.paste(0, 0, big);
  r.run();
  REQUIRE(r.members[1].session->holding());
  // Member 1 types until its count asks the relay for a snapshot: the answer waits for the
  // paste, and so does everything stored after the answer, whatever its stream.
  const std::size_t storedBefore = r.storedItems();
  for (int i = 0; i < 6; ++i) r.type(1, 0, "m");
  r.run();
  REQUIRE(r.members[1].session->waitingCount() == 1);
  r.type(2, 0, "z");
  r.run();
  CHECK(r.members[1].session->waitingCount() == 2);
  CHECK(r.doc(1).text() == "mmmmmm");  // its own keystrokes only
  CHECK(r.storedItems() == storedBefore + 7);  // no snapshot yet

  r.settleChecks(1);
  r.settleChecks(2);
  r.run();
  CHECK(r.members[1].session->snapshotsStored() == 1);
  CHECK(r.storedItems() < storedBefore + 7);
  // A newcomer gets the room from the snapshot and what came after it: the paste is there.
  r.goOnline(3);
  r.run();
  requireConverged(r);
  CHECK(r.doc(3).text().size() == big.size() + 7);
}
