// Rooms with a key holder that stores frames every member must refuse: poison updates, a
// forged duplicate. Each is dropped, remembered and skipped on the next join, and the room goes
// on converging and compacting (PROTOCOL.md, "Hostile frames").
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/document.h"
#include "net/relay_router.h"
#include "net/room_session.h"
#include "tests/net/room_fixture.h"
#include "tests/support/hostile_inputs.h"

using namespace quire;
using namespace quire::net;
using namespace quire::net::test_room;

TEST_CASE("a poison frame stored by a key holder is refused, remembered and skipped on rejoin", "[room][hostile]") {
  Room r(2);
  r.options.snapshotAfterItems = 0;
  RejectedFrames remembered[2];
  onlineRemembering(r, 0, remembered[0]);
  r.type(0, 0, "honest");
  r.run();

  // An attacker that holds the key stores updates the document must refuse.
  for (const auto& poison : {test::hostile::seqOverflowUpdate(), test::hostile::lvOverflowUpdate()}) {
    Message m;
    m.kind = FrameKind::Update;
    m.update = poison;
    storeFromOutsider(r, m);
  }
  r.run();
  CHECK(r.members[0].session->badFrames() == 2);  // dropped live, never a reason to leave
  CHECK(remembered[0].size() == 2);

  // A newcomer meets them in the replay, refuses them and remembers them...
  onlineRemembering(r, 1, remembered[1]);
  CHECK(r.members[1].session->badFrames() == 2);
  CHECK(remembered[1].size() == 2);
  r.type(1, 6, " text");
  r.run();
  // ... and on every later join skips them without decoding.
  r.goOffline(1);
  onlineRemembering(r, 1, remembered[1]);
  CHECK(r.members[1].session->framesSkippedAsRejected() == 2);
  CHECK(r.members[1].session->badFrames() == 0);
  r.type(0, 0, "> ");
  r.run();
  requireConverged(r);
  CHECK(r.doc(1).text() == "> honest text");
}

TEST_CASE("a poison frame does not stop a room's members from compacting it", "[room][hostile]") {
  Room r(2);
  r.options.snapshotAfterItems = 8;
  r.goOnline(0);
  r.goOnline(1);
  r.run();

  // A key holder stores updates every member must refuse, on a stream of its own and as a plain
  // update.
  Message onStream;
  onStream.kind = FrameKind::RoomOps;
  onStream.stream = 77;
  onStream.counter = 0;
  onStream.update = test::hostile::seqOverflowUpdate();
  Message plain;
  plain.kind = FrameKind::Update;
  plain.update = test::hostile::lvOverflowUpdate();
  for (const Message& m : {onStream, plain}) storeFromOutsider(r, m);
  r.run();
  CHECK(r.members[0].session->badFrames() == 2);
  CHECK(r.members[1].session->badFrames() == 2);

  // Typing on: the room is compacted as if the frames had never come.
  for (int i = 0; i < 40; ++i) {
    r.type(static_cast<std::size_t>(i % 2), 0, "x");
    r.run();
  }
  CHECK(r.members[0].session->snapshotsStored() + r.members[1].session->snapshotsStored() > 0);
  requireConverged(r);
  CHECK(r.doc(0).text() == std::string(40, 'x'));
}

namespace {

// A key holder's update that writes `text` at the start under `author`'s ids from seq 0.
Message forgedBy(const engine::ReplicaId& author, const std::string& text) {
  engine::Document forger(author);
  REQUIRE(forger.insert(0, text));
  Message m;
  m.kind = FrameKind::Update;
  m.update = forger.encodeUpdateSince({});
  return m;
}

}  // namespace

TEST_CASE("a forged duplicate that loses is refused by every member, remembered and skipped", "[room][hostile][fork]") {
  Room r(2);
  r.options.snapshotAfterItems = 0;
  RejectedFrames remembered[2];
  onlineRemembering(r, 0, remembered[0]);
  r.type(0, 0, "honest");
  r.run();

  // A key holder stores other ops under member 0's ids (its seqs 0..5). The two versions first
  // differ at seq 0, where "z" sorts after "h": the held version wins (engine FORMAT.md, "Forks").
  storeFromOutsider(r, forgedBy(r.doc(0).localReplica(), "zonest"));
  r.run();
  CHECK(r.members[0].session->badFrames() == 1);
  CHECK_THAT(r.members[0].session->lastBadFrame(), Catch::Contains("forked"));
  CHECK(remembered[0].size() == 1);

  // A newcomer replays the room in the relay's order: the genuine ops first, then the forgery,
  // which it refuses too. Both keep the same version; later joins skip the frame.
  onlineRemembering(r, 1, remembered[1]);
  CHECK(r.members[1].session->badFrames() == 1);
  CHECK(r.doc(1).text() == "honest");
  r.type(1, 6, "!");
  r.run();
  r.goOffline(1);
  onlineRemembering(r, 1, remembered[1]);
  CHECK(r.members[1].session->framesSkippedAsRejected() == 1);
  requireConverged(r);
  CHECK(r.doc(0).text() == "honest!");
}

TEST_CASE("a forged duplicate that wins is taken by every member, its author's copy included", "[room][hostile][fork]") {
  Room r(3);
  r.options.snapshotAfterItems = 0;
  r.goOnline(0);
  r.goOnline(1);
  r.run();
  r.type(0, 0, "honest");
  r.run();
  // "F" sorts before "h": the forgery wins on every copy, so all still hold one version.
  storeFromOutsider(r, forgedBy(r.doc(0).localReplica(), "FORGED"));
  r.run();
  CHECK(r.members[0].replaced);
  CHECK(r.members[1].replaced);
  CHECK(r.doc(0).text() == "FORGED");
  r.type(0, 6, "?");  // the author types on, with fresh ids
  r.type(1, 0, ">");
  r.run();
  r.goOnline(2);  // a newcomer replays the genuine ops, then the forgery
  r.run();
  requireConverged(r);
  CHECK(r.doc(2).text() == ">FORGED?");
}

TEST_CASE("a member that sends one version to half a room and another to the rest: every copy ends identical", "[room][hostile][fork]") {
  Room r(3);
  r.options.snapshotAfterItems = 0;
  for (std::size_t i = 0; i < 3; ++i) r.goOnline(i);
  r.run();
  r.type(1, 0, "base");
  r.run();
  const engine::ReplicaId mallory = replicaId(0x4D);
  for (const bool roomWins : {true, false}) {
    DYNAMIC_SECTION("the room's version " << (roomWins ? "wins" : "loses")) {
      const std::string direct = roomWins ? "mallory" : "MALLORY";
      const std::string viaRoom = roomWins ? "Mallory" : "mallorY";
      // Straight to member 0 (as a direct peer would): it takes it and passes it on to the room,
      // as its hub forwards whatever a direct peer brings.
      const engine::LV before = r.doc(0).nextLv();
      REQUIRE(r.doc(0).applyUpdate(forgedBy(mallory, direct).update));
      r.members[0].replica->mirror = test::toU32(r.doc(0).text());
      // Meanwhile the other version goes into the room.
      storeFromOutsider(r, forgedBy(mallory, viaRoom));
      r.toRelay(0, r.members[0].session->localUpdate(before));
      r.run();
      r.type(0, 0, "[0]");
      r.type(2, 0, "[2]");
      r.run();
      requireConverged(r);
      const std::string winner = std::min(direct, viaRoom);
      CHECK_THAT(r.doc(0).text(), Catch::Contains(winner) && Catch::Contains("[0]") &&
                                      Catch::Contains("[2]") && Catch::Contains("base"));
      CHECK_THAT(r.doc(0).text(), !Catch::Contains(std::max(direct, viaRoom)));
    }
  }
}

TEST_CASE("rejected frames are remembered by a digest under a key of their own", "[room][hostile]") {
  RejectedFrames a, b;
  const std::vector<std::uint8_t> frame(1000, 0x5A);
  std::vector<std::uint8_t> other = frame;
  other.back() ^= 1;
  CHECK(a.empty());
  // The same set gives the same digest every time; another frame (one bit apart) another one.
  CHECK(a.digestOf(frame) == a.digestOf(frame));
  CHECK(a.digestOf(frame) != a.digestOf(other));
  // Each set draws its own key: the digests say nothing another set (or a peer) could predict.
  CHECK(a.digestOf(frame) != b.digestOf(frame));
  a.add(a.digestOf(frame));
  CHECK_FALSE(a.empty());
  CHECK(a.contains(a.digestOf(frame)));
  CHECK_FALSE(a.contains(a.digestOf(other)));
  CHECK_FALSE(b.contains(b.digestOf(frame)));
}

TEST_CASE("junk that every member refuses is compacted away once it passes the byte threshold", "[room][hostile]") {
  for (const bool byBytes : {true, false}) {
    DYNAMIC_SECTION((byBytes ? "with" : "without") << " the byte threshold") {
      Room r(2);
      r.options.snapshotAfterItems = 0;  // by bytes only
      r.options.snapshotAfterBytes = byBytes ? 64u << 10 : 0;
      for (std::size_t i = 0; i < 2; ++i) r.goOnline(i);
      r.run();
      r.type(0, 0, "honest words");
      r.run();
      // A key holder stores 320 KiB of updates no document takes.
      Message junk;
      junk.kind = FrameKind::Update;
      junk.update.assign(64u << 10, 0xFF);
      for (int i = 0; i < 5; ++i) {
        storeFromOutsider(r, junk);
        r.run();
      }
      requireConverged(r);
      CHECK(r.doc(0).text() == "honest words");
      auto state = r.store.roomState(roomIdOf(r.key).bytes);
      REQUIRE(state);
      std::size_t snapshots = 0;
      for (auto& m : r.members) snapshots += m.session->snapshotsStored();
      if (byBytes) {
        // Replaced by a snapshot at least every 64-80 KiB: what a joiner downloads stays small.
        CHECK(snapshots >= 2);
        CHECK(state->bytes < (100u << 10));
      } else {
        CHECK(snapshots == 0);
        CHECK(state->bytes > (320u << 10));
      }
    }
  }
}
