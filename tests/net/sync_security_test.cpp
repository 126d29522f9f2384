#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "net/sync_session.h"
#include "tests/support/test_util.h"

using namespace quire;
using namespace quire::net;
using quire::test::replicaId;

TEST_CASE("a peer without the key can neither read nor inject", "[net][session][crypto]") {
  const DocKey key = generateKey(), wrong = generateKey();
  engine::Document a(replicaId(1)), mallory(replicaId(6));
  REQUIRE(a.insert(0, "canary-secret-text"));
  REQUIRE(mallory.insert(0, "injected"));
  SyncSession sa(a, key);
  SyncSession sm(mallory, wrong);
  const Frame helloA = sa.start();
  const Frame helloM = sm.start();

  // Mallory cannot open a's frames; nothing reaches her document, and the plaintext does not
  // appear in the bytes.
  SessionOutput atM = sm.receive(helloA);
  CHECK(atM.frames.empty());
  CHECK(sm.badFrames() == 1);
  CHECK(mallory.text() == "injected");

  // a drops mallory's frames and its document is unchanged; a's reply carries nothing.
  const auto before = test::stateOf(a);
  SessionOutput atA = sa.receive(helloM);
  CHECK(atA.frames.empty());
  CHECK(sa.badFrames() == 1);
  CHECK_FALSE(sa.synced());
  CHECK(test::stateOf(a) == before);

  // Even after a real hello from a key holder, a's catch-up frame never shows the text.
  engine::Document b(replicaId(2));
  SyncSession sa3(a, key);
  sa3.start();
  SyncSession sb3(b, key);
  auto reply = sa3.receive(sb3.start());
  REQUIRE(reply.frames.size() == 1);
  const std::string wire(reply.frames[0].begin(), reply.frames[0].end());
  CHECK(wire.find("canary") == std::string::npos);
}

TEST_CASE("repeated frames that fail authentication end the session", "[net][session][crypto]") {
  const DocKey key = generateKey();
  engine::Document a(replicaId(1)), b(replicaId(2));
  SessionOptions opts;
  opts.maxBadFrames = 4;
  SyncSession sa(a, key, opts), sb(b, key, opts);
  const Frame helloA = sa.start(), helloB = sb.start();  // both started before either receives
  sb.receive(helloA);
  sa.receive(helloB);
  REQUIRE(sa.synced());
  REQUIRE(b.insert(0, "x"));
  Frame good = sb.localUpdate(0).at(0);
  for (std::size_t i = 1; i <= 4; ++i) {
    Frame bad = good;
    bad[bad.size() / 2] ^= 0x40;  // tampered in flight
    SessionOutput out = sa.receive(bad);
    CHECK(sa.badFrames() == i);
    CHECK(out.disconnect == (i == 4));
    if (out.disconnect) CHECK(out.reason.find("failed authentication") != std::string::npos);
  }
  CHECK(sa.closed());
  CHECK(a.text().empty());
}

TEST_CASE("a tampered frame is dropped and the good one still applies", "[net][session][crypto]") {
  const DocKey key = generateKey();
  engine::Document a(replicaId(1)), b(replicaId(2));
  SyncSession sa(a, key), sb(b, key);
  const Frame helloA = sa.start(), helloB = sb.start();  // both started before either receives
  sb.receive(helloA);
  sa.receive(helloB);
  REQUIRE(b.insert(0, "ok"));
  Frame good = sb.localUpdate(0).at(0);
  Frame truncated(good.begin(), good.end() - 1);
  CHECK_FALSE(sa.receive(truncated).disconnect);
  CHECK_FALSE(sa.receive(Frame{}).disconnect);
  CHECK(sa.badFrames() == 2);  // unauthenticated junk of any shape is counted, not obeyed
  SessionOutput out = sa.receive(good);
  CHECK_FALSE(out.disconnect);
  CHECK(a.text() == "ok");
}

TEST_CASE("a replayed frame ends the session instead of applying twice", "[net][session]") {
  const DocKey key = generateKey();
  engine::Document a(replicaId(1)), b(replicaId(2));
  SyncSession sa(a, key), sb(b, key);
  const Frame helloA = sa.start(), helloB = sb.start();  // both started before either receives
  sb.receive(helloA);
  sa.receive(helloB);
  REQUIRE(b.insert(0, "once"));
  Frame f = sb.localUpdate(0).at(0);
  CHECK_FALSE(sa.receive(f).disconnect);
  SessionOutput again = sa.receive(f);
  CHECK(again.disconnect);
  CHECK(again.reason.find("replayed") != std::string::npos);
  CHECK(a.text() == "once");
}
