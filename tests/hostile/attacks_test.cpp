// One multi-process test per attack of issue 12 ("Tests that prove it: tests/hostile/"): a
// relay, two honest quire-cli peers typing, and an attacker holding the link that sends the
// attack through the relay and straight to a peer. What every test checks is in
// hostile_harness.h (runAttack); each case here says what is sent and what the peers must say
// about it.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/document.h"
#include "storage/document_store.h"
#include "tests/hostile/hostile_harness.h"
#include "tests/support/hostile_frames.h"
#include "tests/support/hostile_inputs.h"

namespace hostile = quire::test::hostile;
using hostile::AttackPlan;
using hostile::RelayFrame;
using hostile::RoomView;
using quire::net::FrameKind;
using quire::net::Message;

namespace {

// A snapshot (kind 7) carrying `history` and claiming `version`.
Message snapshot(std::vector<std::uint8_t> history, quire::engine::VersionVector version) {
  Message m = hostile::snapshotMessage(std::move(history));
  m.version = std::move(version);
  return m;
}

}  // namespace

TEST_CASE("hostile: a decompression bomb in a snapshot is refused and skipped on rejoin",
          "[hostile][process]") {
  AttackPlan plan;
  // Two bombs, each ~32 KiB, that expand to 1 GiB of zeros: one states the size, one lies (a
  // small stated body, a zstd frame that states none). Each claims more than the room holds (a
  // snapshot that adds nothing is not even decoded), naming the honest peers' replicas.
  plan.viaRelay = [](const RoomView& v) {
    const auto claim = hostile::inflatedClaim(v.version);
    return std::vector<RelayFrame>{
        {hostile::sealed(v, snapshot(hostile::bombHistory(), claim)), "a snapshot that does not decode"},
        {hostile::sealed(v, snapshot(hostile::lyingBombHistory(), claim)), "a snapshot that does not decode"},
    };
  };
  // A direct session carries no snapshots (nothing compressed travels on it): the bomb ends it.
  plan.direct = [](const RoomView& v) {
    return std::vector<QByteArray>{
        hostile::sealed(v, snapshot(hostile::bombHistory(), hostile::inflatedClaim(v.version)), 1)};
  };
  plan.directCloseReason = "a relay room's frame arrived in a direct session";
  hostile::runAttack(plan);
}

TEST_CASE("hostile: counter overflows are refused and skipped on rejoin", "[hostile][process]") {
  AttackPlan plan;
  // One author's seq past 2^32, and the document's op counter past 2^32 in one ~0.8 MB update.
  plan.viaRelay = [](const RoomView& v) {
    return std::vector<RelayFrame>{
        {hostile::sealed(v, hostile::updateMessage(hostile::seqOverflowUpdate())), "is out of range"},
        {hostile::sealed(v, hostile::updateMessage(hostile::lvOverflowUpdate())), "op counter"},
    };
  };
  plan.direct = [](const RoomView& v) {
    return std::vector<QByteArray>{
        hostile::sealed(v, hostile::updateMessage(hostile::lvOverflowUpdate()), 1)};
  };
  plan.directCloseReason = "op counter";
  hostile::runAttack(plan);
}

TEST_CASE("hostile: 100,000 authors in one update are refused and skipped on rejoin",
          "[hostile][process]") {
  AttackPlan plan;
  // ~2.2 MB: more than quire-relay's default 1 MiB frame limit would let in.
  plan.viaRelay = [](const RoomView& v) {
    return std::vector<RelayFrame>{
        {hostile::sealed(v, hostile::updateMessage(hostile::manyAuthorsUpdate())), "agent-count"}};
  };
  plan.direct = [](const RoomView& v) {
    return std::vector<QByteArray>{
        hostile::sealed(v, hostile::updateMessage(hostile::manyAuthorsUpdate(hostile::kManyAuthors, 2)), 1)};
  };
  plan.directCloseReason = "agent-count";
  hostile::runAttack(plan);

  // quire-relay's default limit (1 MiB frames) would have closed the attacker instead.
  quire::net::DocKey key = quire::net::generateKey();
  const RoomView other{key, quire::net::roomIdOf(key), {}};
  hostile::checkDefaultRelayRefuses(
      hostile::sealed(other, hostile::updateMessage(hostile::manyAuthorsUpdate())));
}

TEST_CASE("hostile: truncated frames are dropped, the sealed ones skipped on rejoin",
          "[hostile][process]") {
  AttackPlan plan;
  // A sealed frame cut in half (does not open: dropped again, unopened, on every join), and
  // properly sealed cut content: an update cut mid-record and a history cut in half.
  plan.viaRelay = [](const RoomView& v) {
    return std::vector<RelayFrame>{
        {hostile::toQt(hostile::truncatedFrame(v.key, v.room)), "a frame failed authentication", false},
        {hostile::sealed(v, hostile::updateMessage(hostile::truncatedUpdate())), "a room update the document rejects"},
        {hostile::sealed(v, snapshot(hostile::truncatedHistory(), hostile::inflatedClaim(v.version))),
         "a snapshot that does not decode"},
    };
  };
  // Straight to A, the cut frames prove nothing about their sender (anyone on the path can cut
  // a frame), so A counts them and gives up on the connection after eight.
  plan.direct = [](const RoomView& v) {
    return std::vector<QByteArray>(8, hostile::toQt(hostile::truncatedFrame(v.key, v.room)));
  };
  plan.directCloseReason = "8 frames failed authentication";
  hostile::runAttack(plan);
}

TEST_CASE("hostile: a dependency chain 70,000 deep is refused and skipped on rejoin",
          "[hostile][process]") {
  AttackPlan plan;
  // Updates nest only through dependencies: each insert chained to the one before, sent deepest
  // first, the root never sent, so every run would have to wait (more than 2^16 runs).
  plan.viaRelay = [](const RoomView& v) {
    return std::vector<RelayFrame>{
        {hostile::sealed(v, hostile::updateMessage(hostile::orphanChainUpdate())), "waiting for dependencies"}};
  };
  plan.direct = [](const RoomView& v) {
    return std::vector<QByteArray>{
        hostile::sealed(v, hostile::updateMessage(hostile::orphanChainUpdate()), 1)};
  };
  plan.directCloseReason = "waiting for dependencies";
  hostile::runAttack(plan);
}

TEST_CASE("hostile: a 64 MiB frame is refused and skipped on rejoin", "[hostile][process]") {
  AttackPlan plan;
  // The largest frame a peer opens (net::kMaxFrameBytes): 64 MiB of garbage sealed with the key,
  // so every peer decrypts all of it before the plaintext is found malformed.
  auto bigFrame = [](const RoomView& v) {
    const std::size_t overhead = 1 + 24 + 16;  // header, nonce, tag
    return hostile::toQt(hostile::sealedGarbageFrame(v.key, v.room, quire::net::kMaxFrameBytes - overhead, 0x64));
  };
  plan.viaRelay = [bigFrame](const RoomView& v) {
    const QByteArray frame = bigFrame(v);
    REQUIRE(static_cast<std::size_t>(frame.size()) == quire::net::kMaxFrameBytes);
    return std::vector<RelayFrame>{{frame, "frame: "}};
  };
  plan.direct = [bigFrame](const RoomView& v) { return std::vector<QByteArray>{bigFrame(v)}; };
  plan.directCloseReason = "frame: ";
  // The bounds. A peer holds the 64 MiB message as Qt assembles it (the buffer may grow past
  // that while it fills) and the 64 MiB plaintext it decrypts to, at once: ~190 MiB measured,
  // 320 allowed, far below what one unbounded decode would take (a bomb's 1 GiB). The relay
  // holds the message and the copy it stores, and for each member it forwards to (A, B and
  // their two typists) a copy of its own plus the bytes queued on that member's socket: ~10 x
  // 64 MiB, 664 MiB measured, 1 GiB allowed. (Relay memory per big frame grows with the
  // members present; with its default 1 MiB frame limit that is small.)
  plan.rssBoundMiB = 320;
  plan.relayRssBoundMiB = 1024;
  hostile::runAttack(plan);

  // With quire-relay's default limit (1 MiB frames) the frame never reaches a peer: the relay
  // refuses it as it arrives, unread, closes its sender and stores nothing.
  quire::net::DocKey key = quire::net::generateKey();
  const RoomView other{key, quire::net::roomIdOf(key), {}};
  hostile::checkDefaultRelayRefuses(bigFrame(other));
}

TEST_CASE("hostile: a forged duplicate that loses is refused, the original kept everywhere",
          "[hostile][process]") {
  AttackPlan plan;
  // A writer's "hello" (seqs 0-4), then the same ids with the text "jello", which loses to it
  // on every copy (engine FORMAT.md, "Forks"; fork_attack_test.cpp has forgeries that win).
  plan.viaRelay = [](const RoomView& v) {
    return std::vector<RelayFrame>{
        {hostile::sealed(v, hostile::updateMessage(hostile::honestUpdate())), "", true, true},
        {hostile::sealed(v, hostile::updateMessage(hostile::forgedDuplicateUpdate())), "forked"},
    };
  };
  // A already holds the original (from the relay): the forgery sent straight to it is refused
  // and the connection closed with the engine's reason.
  plan.direct = [](const RoomView& v) {
    return std::vector<QByteArray>{
        hostile::sealed(v, hostile::updateMessage(hostile::forgedDuplicateUpdate()), 1)};
  };
  plan.directCloseReason = "peer sent an update the document rejects: forked";
  plan.acceptedText = "hello";
  hostile::runAttack(plan);
}

TEST_CASE("hostile: a poison row in a peer's database is skipped, the peer still syncs",
          "[hostile][process]") {
  AttackPlan plan;
  // B's database holds rows no version can use (written by an earlier version, or damaged): a
  // counter overflow and garbage behind an update header. The attacker sends the same overflow.
  plan.prepareB = [](const std::string& path, const std::string& id) {
    auto store = quire::storage::DocumentStore::open(path);
    REQUIRE(store.has_value());
    auto doc = (*store)->resolve(id);
    REQUIRE(doc.has_value());
    REQUIRE((*store)->append(*doc, hostile::seqOverflowUpdate()).has_value());
    REQUIRE((*store)->append(*doc, hostile::garbageUpdate(300, 3)).has_value());
  };
  plan.bStderrNote = "warning: skipped a stored update that does not decode";
  plan.viaRelay = [](const RoomView& v) {
    return std::vector<RelayFrame>{
        {hostile::sealed(v, hostile::updateMessage(hostile::seqOverflowUpdate())), "is out of range"}};
  };
  plan.direct = [](const RoomView& v) {
    return std::vector<QByteArray>{
        hostile::sealed(v, hostile::updateMessage(hostile::seqOverflowUpdate()), 1)};
  };
  plan.directCloseReason = "is out of range";
  hostile::runAttack(plan);
}
