// The net decoders and state machines against hostile bytes: decodeMessage, decodeFrame,
// parseShareLink, RelayRouter, SyncSession and RoomSession get random inputs and mutations of
// valid ones (bit flips, truncations, insertions, deleted and repeated spans, corrupted length
// fields, dropped and repeated frames). Each must answer with an Error or a sensible result,
// never crash, throw or leave a document broken. Seeded and deterministic (Catch's --rng-seed
// picks other cases). The libFuzzer corpora (tests/fuzz/corpus/) are replayed by
// corpus_replay_test.cpp. Run under ASan + UBSan by scripts/test.sh.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/document.h"
#include "net/crypto.h"
#include "net/frame.h"
#include "net/relay_router.h"
#include "net/room_session.h"
#include "net/share_link.h"
#include "net/sync_session.h"
#include "tests/support/test_util.h"

using namespace quire;
using namespace quire::net;
using quire::test::Rng;
using quire::test::testSeed;

namespace {

using Bytes = std::vector<std::uint8_t>;

std::filesystem::path sourceDir() {
#ifdef QUIRE_SOURCE_DIR
  return QUIRE_SOURCE_DIR;
#else
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
#endif
}

// The regular files of `dir` (not dotfiles), sorted, so runs are deterministic.
std::vector<std::filesystem::path> filesIn(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_regular_file() && !e.path().filename().string().starts_with("."))
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

Bytes readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::uint32_t below(Rng& rng, std::size_t n) { return rng.below(static_cast<std::uint32_t>(n)); }

template <typename T>
const T& pick(Rng& rng, const std::vector<T>& v) {
  return v[below(rng, v.size())];
}

Bytes randomBytes(Rng& rng, std::size_t maxLen) {
  Bytes b(rng.below(static_cast<std::uint32_t>(maxLen) + 1));
  for (auto& x : b) x = static_cast<std::uint8_t>(rng.next());
  return b;
}

// Varints and fixed-size fields that make a length or count lie: overlong, huge, zero, one past.
const std::vector<Bytes> kLengthLies = {
    {0x00},
    {0x01},
    {0x7F},
    {0x80, 0x00},
    {0xFF, 0x01},
    {0xFF, 0xFF, 0xFF, 0xFF, 0x0F},
    {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01},
    {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00},
    {0x81, 0x08},  // 1025: one more stream than a snapshot may name
    {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF},
};

// One to three random mutations of `b`. `first` keeps that many leading bytes intact (e.g. a
// frame's header byte) unless a mutation truncates past them.
Bytes mutate(Rng& rng, Bytes b, std::size_t first = 0) {
  const std::uint32_t n = rng.between(1, 3);
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::size_t lo = std::min(first, b.size());
    const std::size_t span = b.size() - lo;
    const auto at = [&] { return lo + below(rng, span + 1); };
    switch (rng.below(8)) {
      case 0:  // bit flips
        for (std::uint32_t k = rng.between(1, 4); k > 0 && span > 0; --k)
          b[lo + below(rng, span)] ^= static_cast<std::uint8_t>(1u << rng.below(8));
        break;
      case 1:  // truncation
        b.resize(below(rng, b.size() + 1));
        break;
      case 2: {  // insertion
        const Bytes extra = randomBytes(rng, 16);
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(at()), extra.begin(), extra.end());
        break;
      }
      case 3: {  // deleted span
        const std::size_t from = at();
        const std::size_t len = below(rng, b.size() - from + 1);
        b.erase(b.begin() + static_cast<std::ptrdiff_t>(from),
                b.begin() + static_cast<std::ptrdiff_t>(from + len));
        break;
      }
      case 4: {  // repeated span
        const std::size_t from = at();
        const std::size_t len = std::min<std::size_t>(below(rng, b.size() - from + 1), 64);
        const Bytes copy(b.begin() + static_cast<std::ptrdiff_t>(from),
                         b.begin() + static_cast<std::ptrdiff_t>(from + len));
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(at()), copy.begin(), copy.end());
        break;
      }
      case 5:
      case 6: {  // a length or count field lies (overwrites, or is inserted)
        const Bytes& lie = pick(rng, kLengthLies);
        const std::size_t pos = at();
        if (rng.chance(0.5)) {
          for (std::size_t k = 0; k < lie.size() && pos + k < b.size(); ++k) b[pos + k] = lie[k];
        } else {
          b.insert(b.begin() + static_cast<std::ptrdiff_t>(pos), lie.begin(), lie.end());
        }
        break;
      }
      default:  // one byte set to a small value (a kind, a tag, a count)
        if (span > 0) b[lo + below(rng, span)] = static_cast<std::uint8_t>(rng.below(10));
        break;
    }
  }
  return b;
}

// The fixed key of the golden frames and of the frame_fuzz target: bytes 0x00 ... 0x1F.
DocKey fixedKey() {
  DocKey key;
  for (std::size_t i = 0; i < key.bytes.size(); ++i) key.bytes[i] = static_cast<std::uint8_t>(i);
  return key;
}

Bytes associatedData(std::uint8_t header, const RoomId& room) {
  Bytes ad(1 + room.bytes.size());
  ad[0] = header;
  std::copy(room.bytes.begin(), room.bytes.end(), ad.begin() + 1);
  return ad;
}

// `plaintext` sealed as a frame, correctly, whatever it holds.
Bytes sealPlaintext(const DocKey& key, std::span<const std::uint8_t> plaintext, bool transient) {
  const std::uint8_t header = kProtocolVersion | (transient ? kTransientFlag : 0);
  Bytes frame{header};
  const Bytes sealed = seal(key, plaintext, associatedData(header, roomIdOf(key)));
  frame.insert(frame.end(), sealed.begin(), sealed.end());
  return frame;
}

// The plaintext inside a frame sealed under `key`, or nothing.
std::optional<Bytes> plaintextOf(const DocKey& key, std::span<const std::uint8_t> frame) {
  if (frame.empty()) return std::nullopt;
  auto plain = open(key, frame.subspan(1), associatedData(frame[0], roomIdOf(key)));
  if (!plain) return std::nullopt;
  return *plain;
}

// A frame of a transcript, mutated one of the ways a hostile relay or member could: raw bytes
// (fails authentication), or a mutated plaintext sealed properly under the key (only a key
// holder can do that; the decoders must still hold).
Bytes mutateFrame(Rng& rng, const DocKey& key, const Bytes& frame) {
  if (rng.chance(0.4)) return mutate(rng, frame);
  auto plain = plaintextOf(key, frame);
  if (!plain) return mutate(rng, frame);
  return sealPlaintext(key, mutate(rng, *plain), isTransientFrame(frame));
}

std::string asString(const Bytes& b) { return std::string(b.begin(), b.end()); }

// Checks of one decodeMessage call; counts failures instead of asserting each (a round runs
// thousands).
struct MessageChecker {
  std::size_t decoded = 0;
  std::size_t failures = 0;
  std::string firstFailure;

  void fail(const std::string& what, const Bytes& bytes) {
    if (failures++ == 0) firstFailure = what + ": " + quire::test::hexDump(bytes);
  }

  void check(const Bytes& bytes) {
    auto m = decodeMessage(bytes);
    if (!m) {
      const auto code = m.error().code();
      if (code != Error::Code::Malformed && code != Error::Code::UnsupportedVersion)
        fail("decodeMessage failed with an unexpected code", bytes);
      return;
    }
    ++decoded;
    const Bytes again = encodeMessage(*m);
    auto back = decodeMessage(again);
    if (!back || !(*back == *m)) fail("a decoded message does not round-trip", bytes);
    // Overlong varints decode (ByteReader accepts them), so the bytes may differ, but never
    // grow; canonical input comes back byte for byte.
    if (again.size() > bytes.size()) fail("a decoded message re-encodes longer", bytes);
    if (again.size() == bytes.size() && again != bytes)
      fail("a decoded message re-encodes to other bytes of the same size", bytes);
    if (m->presence.name.size() > kMaxDisplayNameBytes) fail("display name too long", bytes);
    if (m->streams.size() > kMaxSnapshotStreams) fail("too many snapshot streams", bytes);
  }
};

// A document and the frames one peer sent it over a real SyncSession (hello, catch-up, live
// keystrokes, presence, bye): replayed into a fresh session on a copy of `start`.
struct SessionTranscript {
  engine::Document start;
  std::string finalText;
  std::vector<Bytes> frames;
};

SessionTranscript sessionTranscript(const DocKey& key) {
  engine::Document a(quire::test::replicaId(1));
  engine::Document b(quire::test::replicaId(2));
  REQUIRE(a.insert(0, "caf\xC3\xA9 shared "));
  REQUIRE(quire::test::syncPair(a, b) == "");
  REQUIRE(a.insert(0, "only a knows \xF0\x9F\x93\x9D. "));
  REQUIRE(b.insert(b.length(), "and only b this."));
  REQUIRE(a.remove(2, 3));
  SessionTranscript t{b, "", {}};
  SyncSession sa(a, key), sb(b, key);
  std::vector<Bytes> toA{sb.start()};
  std::vector<Bytes> toB{sa.start()};
  // Deliver until quiet, recording what reaches b.
  std::size_t j = 0;
  for (std::size_t i = 0; i < toA.size() || j < toB.size();) {
    if (i < toA.size()) {
      auto out = sa.receive(toA[i++]);
      REQUIRE_FALSE(out.disconnect);
      toB.insert(toB.end(), out.frames.begin(), out.frames.end());
    }
    if (j < toB.size()) {
      auto out = sb.receive(toB[j++]);
      REQUIRE_FALSE(out.disconnect);
      toA.insert(toA.end(), out.frames.begin(), out.frames.end());
    }
  }
  // Live typing and presence from a, then goodbye.
  for (const char* s : {"x", "y", "\xC3\xBC", "z"}) {
    const engine::LV from = a.nextLv();
    REQUIRE(a.insert(3, s));
    for (auto& f : sa.localUpdate(from)) toB.push_back(std::move(f));
  }
  const engine::LV from = a.nextLv();
  REQUIRE(a.remove(0, 4));
  for (auto& f : sa.localUpdate(from)) toB.push_back(std::move(f));
  Presence p;
  p.replica = quire::test::replicaId(1);
  p.clock = 1;
  p.name = "A";
  p.cursor = a.anchorAt(2, engine::Bias::After);
  p.selection = a.anchorAt(5, engine::Bias::Before);
  sa.setLocalPresence(p);
  for (auto& f : sa.flushPresence()) toB.push_back(std::move(f));
  toB.push_back(sa.bye());
  for (; j < toB.size(); ++j) {
    const auto out = sb.receive(toB[j]);
    INFO("frame " << j << " of " << toB.size() << ": " << out.reason);
    REQUIRE(out.disconnect == (j + 1 == toB.size()));  // the bye ends the session
  }
  t.finalText = b.text();
  t.frames = std::move(toB);
  return t;
}

// What a room member receives from the relay (RelayMessage, in order) while another member,
// which types, snapshots and leaves, is in the room: `live` as seen by a member there from
// the start, `late` as replayed to one that joins after everything.
struct RoomTranscript {
  std::string finalText;
  std::vector<RelayMessage> live;
  std::vector<RelayMessage> late;
};

RoomTranscript roomTranscript(const DocKey& key) {
  MemoryRelayStore store;
  RelayRouter router(store);
  std::int64_t now = 1000;
  engine::Document a(quire::test::replicaId(1));
  REQUIRE(a.insert(0, "room text before the join, caf\xC3\xA9. "));
  RoomOptions options;
  options.snapshotAfterItems = 3;
  options.streamId = 0x77;
  RoomSession member(a, key, options);
  const RelayMessage join = member.start();

  RoomTranscript t;
  const auto observer = router.connect("192.0.2.7", now).conn;
  const auto conn = router.connect("192.0.2.8", now).conn;
  // Everything the router sends: to the observer, recorded; to the member, handled, and its
  // answers sent on, until quiet.
  std::vector<RelayRouter::Output> pending;
  const auto send = [&](const std::vector<RelayMessage>& messages) {
    for (const RelayMessage& m : messages) {
      now += 10;
      pending.push_back(m.text ? router.receiveText(conn, m.asText(), now)
                               : router.receiveBinary(conn, m.bytes, now));
    }
  };
  const auto drain = [&] {
    while (!pending.empty()) {
      RelayRouter::Output out = std::move(pending.front());
      pending.erase(pending.begin());
      REQUIRE(out.close.empty());
      for (const auto& m : out.messages) {
        const RelayMessage got{m.text, m.bytes};
        if (m.to == observer) {
          t.live.push_back(got);
        } else {
          REQUIRE(m.to == conn);
          RoomOutput o = m.text ? member.receiveText(got.asText()) : member.receiveBinary(m.bytes);
          REQUIRE_FALSE(o.disconnect);
          send(o.messages);
        }
      }
    }
  };
  pending.push_back(router.receiveText(observer, join.asText(), now));
  drain();
  send({join});
  drain();
  REQUIRE(member.joined());
  for (int i = 0; i < 8; ++i) {
    const engine::LV from = a.nextLv();
    REQUIRE(a.insert(static_cast<std::uint32_t>(i * 2), i % 3 == 0 ? "\xE2\x9C\x93" : "k"));
    if (i == 5) REQUIRE(a.remove(0, 3));
    send(member.localUpdate(from));
    drain();
  }
  Presence p;
  p.replica = quire::test::replicaId(1);
  p.clock = 1;
  p.name = "member";
  p.cursor = a.anchorAt(4, engine::Bias::After);
  p.selection = p.cursor;
  member.setLocalPresence(p);
  send(member.flushPresence());
  send({member.bye()});
  drain();
  CHECK(member.snapshotsStored() > 0);
  t.finalText = a.text();

  const auto late = router.connect("192.0.2.9", now).conn;
  for (const auto& m : router.receiveText(late, join.asText(), now).messages)
    if (m.to == late) t.late.push_back({m.text, m.bytes});
  return t;
}

// A document's text checked against a mirror that only patches changed.
struct Mirror {
  std::u32string text;
  std::optional<std::string> problem;

  explicit Mirror(const engine::Document& doc) : text(quire::test::toU32(doc.text())) {}
  void apply(const std::vector<engine::Patch>& patches, const engine::Document& doc) {
    if (problem) return;
    problem = quire::test::applyPatches(text, patches);
    if (!problem && text != quire::test::toU32(doc.text()))
      problem = "patches do not add up to the document's text";
  }
};

// `original` as a broken or hostile transport delivers it, one time in four: dropped, repeated,
// after something `inject` makes, or replaced by what `mutated` makes of it.
template <typename T, typename Inject, typename Mutate>
std::vector<T> disturb(Rng& rng, const T& original, Inject inject, Mutate mutated) {
  if (!rng.chance(0.25)) return {original};
  switch (rng.below(5)) {
    case 0:
      return {};
    case 1:
      return {original, original};
    case 2:
      return {inject(), original};
    default:
      return {mutated()};
  }
}

// The checks of one fuzz round of a session (SyncSession or RoomSession) over `doc`, and of all
// the rounds: patches add up to the text, nothing comes out once the session ended, the document
// stays valid; some rounds ended the session and some still got the whole document through.
struct SessionRounds {
  std::size_t closedRounds = 0;
  std::size_t fullRounds = 0;
  std::optional<Mirror> mirror;
  bool closed = false;

  void begin(const engine::Document& doc) {
    mirror.emplace(doc);
    closed = false;
  }
  void take(const engine::Document& doc, const std::vector<engine::Patch>& patches, bool sent,
            bool disconnect, engine::LV newOpsFrom, engine::LV newOpsTo) {
    mirror->apply(patches, doc);
    if (closed) CHECK_FALSE((sent || !patches.empty()));
    closed = closed || disconnect;
    CHECK(newOpsFrom <= newOpsTo);
  }
  void end(const engine::Document& doc, bool sessionClosed, const std::string& finalText) {
    CHECK(doc.checkInvariants() == "");
    CHECK(mirror->problem.value_or("") == "");
    CHECK(sessionClosed == closed);
    closedRounds += closed ? 1 : 0;
    fullRounds += doc.text() == finalText ? 1 : 0;
  }
  void check() const {
    CHECK(closedRounds > 0);
    CHECK(fullRounds > 0);
  }
};

// The link the share-link fuzz starts from.
ShareLink sampleLink(Rng& rng) {
  ShareLink link;
  for (auto& b : link.doc.bytes) b = static_cast<std::uint8_t>(rng.next());
  for (auto& b : link.key.bytes) b = static_cast<std::uint8_t>(rng.next());
  const std::vector<std::string> routes = {"ws://127.0.0.1:9000", "wss://relay.example.org/q",
                                           "ws://[::1]:80/path", "wss://h"};
  for (std::uint32_t i = rng.between(1, 3); i > 0; --i) link.routes.push_back(pick(rng, routes));
  return link;
}

std::string mutateText(Rng& rng, const std::string& s) {
  static const std::string kAlphabet = "?&=#%:/.[]@-_+~ wsquireopnvdk0123456789abcdefABCDEF\x7f";
  std::string out = s;
  for (std::uint32_t n = rng.between(1, 3); n > 0; --n) {
    const std::size_t at = below(rng, out.size() + 1);
    switch (rng.below(6)) {
      case 0:  // replace a character
        if (!out.empty()) out[below(rng, out.size())] = kAlphabet[below(rng, kAlphabet.size())];
        break;
      case 1:  // insert one
        out.insert(at, 1, kAlphabet[below(rng, kAlphabet.size())]);
        break;
      case 2:  // truncate
        out.resize(at);
        break;
      case 3: {  // delete a span
        out.erase(at, below(rng, out.size() - at + 1));
        break;
      }
      case 4: {  // repeat a span
        const std::string span = out.substr(at, below(rng, out.size() - at + 1));
        out.insert(below(rng, out.size() + 1), span);
        break;
      }
      default:  // a raw byte, maybe not ASCII
        out.insert(at, 1, static_cast<char>(rng.next()));
        break;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("decodeMessage survives random and mutated messages", "[net][frame][fuzz]") {
  const auto seed = testSeed(GENERATE(range(0, 8)));
  INFO("seed " << seed);
  Rng rng(seed);
  const DocKey key = fixedKey();
  std::vector<Bytes> valid;
  for (const auto& f : filesIn(sourceDir() / "tests" / "data" / "v1" / "frames"))
    if (f.extension() == ".msg") valid.push_back(readFile(f));
  REQUIRE(valid.size() == 8);
  for (const auto& frame : sessionTranscript(key).frames)
    if (auto p = plaintextOf(key, frame)) valid.push_back(*p);
  for (const auto& m : roomTranscript(key).late)
    if (auto p = plaintextOf(key, m.bytes)) valid.push_back(*p);

  MessageChecker checker;
  for (const Bytes& v : valid) checker.check(v);
  REQUIRE(checker.decoded == valid.size());
  for (int round = 0; round < 30000; ++round) {
    if (rng.chance(0.15)) {
      Bytes b = randomBytes(rng, 64);
      if (!b.empty() && rng.chance(0.7)) b[0] = static_cast<std::uint8_t>(rng.between(1, 8));
      checker.check(b);
    } else {
      checker.check(mutate(rng, pick(rng, valid)));
    }
  }
  INFO(checker.firstFailure);
  CHECK(checker.failures == 0);
  CHECK(checker.decoded > valid.size());  // mutations reached past the first error, too
}

TEST_CASE("decodeFrame opens only what the key sealed, and agrees with decodeMessage",
          "[net][frame][fuzz]") {
  const auto seed = testSeed(GENERATE(range(0, 4)));
  INFO("seed " << seed);
  Rng rng(seed);
  const DocKey key = fixedKey();
  const RoomId room = roomIdOf(key);
  DocKey otherKey = key;
  otherKey.bytes[0] ^= 1;
  const auto dir = sourceDir() / "tests" / "data" / "v1" / "frames";
  std::vector<Bytes> frames{readFile(dir / "room_ops.frame"), readFile(dir / "presence.frame")};
  std::vector<Bytes> plaintexts;
  for (const auto& f : filesIn(dir))
    if (f.extension() == ".msg") plaintexts.push_back(readFile(f));
  for (const Bytes& p : plaintexts) frames.push_back(sealPlaintext(key, p, rng.chance(0.5)));

  std::size_t failures = 0;
  std::string firstFailure;
  const auto fail = [&](const std::string& what, const Bytes& b) {
    if (failures++ == 0) firstFailure = what + ": " + quire::test::hexDump(b);
  };
  for (int round = 0; round < 10000; ++round) {
    const Bytes& original = pick(rng, frames);
    switch (rng.below(4)) {
      case 0: {  // tampered on the way: only the untouched frame opens
        const Bytes b = mutate(rng, original);
        auto r = decodeFrame(key, room, b);
        if (r && b != original) fail("a tampered frame opened", b);
        if (!r && b == original) fail("an untouched frame did not open", b);
        if (!r && r.error().code() != Error::Code::Crypto &&
            r.error().code() != Error::Code::UnsupportedVersion &&
            r.error().code() != Error::Code::Malformed)
          fail("decodeFrame failed with an unexpected code", b);
        if (isTransientFrame(b) != (!b.empty() && (b[0] & kTransientFlag) != 0))
          fail("isTransientFrame misread the header", b);
        break;
      }
      case 1: {  // random bytes behind a valid header never open
        Bytes b = randomBytes(rng, 120);
        if (!b.empty() && rng.chance(0.8)) b[0] = rng.chance(0.5) ? 0x01 : 0x81;
        if (decodeFrame(key, room, b)) fail("random bytes opened", b);
        break;
      }
      case 2: {  // another key or room
        if (decodeFrame(otherKey, roomIdOf(otherKey), original) ||
            decodeFrame(otherKey, room, original))
          fail("a frame opened under another key", original);
        break;
      }
      default: {  // a key holder seals a mutated plaintext: decodeFrame == decodeMessage
        const Bytes plain = mutate(rng, pick(rng, plaintexts));
        const Bytes b = sealPlaintext(key, plain, rng.chance(0.5));
        auto viaFrame = decodeFrame(key, room, b);
        auto direct = decodeMessage(plain);
        if (bool(viaFrame) != bool(direct) || (viaFrame && !(*viaFrame == *direct)))
          fail("decodeFrame and decodeMessage disagree on the plaintext", plain);
        break;
      }
    }
  }
  INFO(firstFailure);
  CHECK(failures == 0);
}

TEST_CASE("parseShareLink survives random and mutated links", "[net][link][fuzz]") {
  REQUIRE(initCrypto());
  const auto seed = testSeed(GENERATE(range(0, 4)));
  INFO("seed " << seed);
  Rng rng(seed);
  std::size_t parsed = 0, failures = 0;
  std::string firstFailure;
  for (int round = 0; round < 4000; ++round) {
    std::string text;
    if (rng.chance(0.1)) {
      text = asString(randomBytes(rng, 120));
    } else {
      text = encodeShareLink(sampleLink(rng));
      if (rng.chance(0.2)) {  // items repeated, reordered or added
        const auto q = text.find('?'), h = text.find('#');
        const std::string items = text.substr(q + 1, h - q - 1);
        text.insert(h, pick(rng, std::vector<std::string>{"&" + items, "&doc=", "&k=x", "&&",
                                                          "&via=", "&x=%zz", "&via=ws://"}));
      }
      text = mutateText(rng, text);
    }
    auto link = parseShareLink(text);
    if (!link) {
      if (link.error().code() != Error::Code::Malformed && failures++ == 0)
        firstFailure = "unexpected error code for " + text;
      continue;
    }
    ++parsed;
    bool ok = !link->routes.empty();
    for (const std::string& r : link->routes)
      ok = ok && (r.rfind("ws://", 0) == 0 || r.rfind("wss://", 0) == 0) &&
           r.find_first_of("#") == std::string::npos;
    if (!ok) {
      if (failures++ == 0) firstFailure = "a parsed link has a bad route: " + text;
      continue;
    }
    auto again = parseShareLink(encodeShareLink(*link));
    if ((!again || !(*again == *link)) && failures++ == 0)
      firstFailure = "a parsed link does not round-trip: " + text + " -> " + encodeShareLink(*link);
  }
  INFO(firstFailure);
  CHECK(failures == 0);
  CHECK(parsed > 0);
}

TEST_CASE("RelayRouter survives random envelopes and frames and keeps its store consistent",
          "[net][relay][fuzz]") {
  const auto seed = testSeed(GENERATE(range(0, 6)));
  INFO("seed " << seed);
  Rng rng(seed);
  MemoryRelayStore store;
  RelayLimits limits;
  limits.maxFrameBytes = 200;
  limits.maxRoomBytes = 3000;
  limits.maxMessagesPerSecond = 50;
  limits.idleTimeoutMs = 5000;
  limits.maxConnectionsPerAddress = 3;
  RelayRouter router(store, limits);
  const std::vector<std::string> rooms = {
      std::string(64, 'a'), std::string(64, 'B'),
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"};
  std::vector<RelayRoomKey> roomKeys;
  for (const auto& r : rooms) {
    auto k = parseRelayRoom(r);
    REQUIRE(k);
    roomKeys.push_back(*k);
  }
  const std::vector<std::string> addresses = {"192.0.2.1", "192.0.2.2", "2001:db8::1"};

  std::set<RelayRouter::ConnId> open;     // connected, not disconnected
  std::set<RelayRouter::ConnId> closing;  // told to close, not disconnected yet
  std::int64_t now = 0;
  std::size_t failures = 0;
  std::string firstFailure;
  const auto fail = [&](const std::string& what) {
    if (failures++ == 0) firstFailure = what;
  };
  std::size_t forwarded = 0, closes = 0;
  std::set<Bytes> snapshots;  // blobs sent after "snapshot N": stored whatever their header
  std::map<RelayRouter::ConnId, std::uint64_t> joined;  // member -> last seq it was told of
  const auto take = [&](const RelayRouter::Output& out) {
    forwarded += out.messages.size();
    closes += out.close.size();
    for (const auto& m : out.messages) {
      if (!open.count(m.to)) fail("a message to an unknown connection " + std::to_string(m.to));
      if (closing.count(m.to)) fail("a message to a closed connection " + std::to_string(m.to));
      const std::string text = m.text ? asString(m.bytes) : "";
      for (const char* reply : {"joined ", "mark "})
        if (text.rfind(reply, 0) == 0) joined[m.to] = std::stoull(text.substr(std::strlen(reply)));
    }
    for (const auto& c : out.close) {
      if (!open.count(c.conn)) fail("closing an unknown connection");
      if (c.reason.empty()) fail("closing without a reason");
      closing.insert(c.conn);
      joined.erase(c.conn);
    }
  };
  // Mostly a connection that is open, sometimes one being closed or an unknown id.
  const auto any = [&]() -> RelayRouter::ConnId {
    if (open.empty() || rng.chance(0.01)) return rng.below(50);
    auto it = open.begin();
    std::advance(it, below(rng, open.size()));
    return *it;
  };
  const auto member = [&]() -> std::optional<RelayRouter::ConnId> {
    if (joined.empty()) return std::nullopt;
    auto it = joined.begin();
    std::advance(it, below(rng, joined.size()));
    return it->first;
  };
  // What was sent, noting each binary message that follows a "snapshot..." line: the router
  // may store it as a snapshot blob, whatever its header says.
  std::set<RelayRouter::ConnId> afterSnapshotLine;
  const auto sendText = [&](RelayRouter::ConnId conn, std::string_view text) {
    if (text.starts_with("snapshot")) {
      afterSnapshotLine.insert(conn);
    } else {
      afterSnapshotLine.erase(conn);
    }
    return router.receiveText(conn, text, now);
  };
  const auto sendBinary = [&](RelayRouter::ConnId conn, const Bytes& bytes) {
    if (afterSnapshotLine.erase(conn) > 0) snapshots.insert(bytes);
    return router.receiveBinary(conn, bytes, now);
  };
  const auto frame = [&] {
    Bytes f = randomBytes(rng, rng.chance(0.03) ? 400 : 120);
    if (!f.empty() && rng.chance(0.9)) f[0] = rng.chance(0.7) ? 0x01 : 0x81;
    return f;
  };

  for (int step = 0; step < 20000; ++step) {
    now += rng.chance(0.002) ? 6000 : rng.below(20);
    const auto m = member();
    const std::uint32_t action = rng.below(100);
    if (action < 3 || open.size() < 2) {
      auto c = router.connect(pick(rng, addresses), now);
      open.insert(c.conn);
      take(c.out);
    } else if (action < 8) {
      // Mostly the socket of a connection the router closed going away.
      const auto id = !closing.empty() && rng.chance(0.8) ? *closing.begin() : any();
      router.disconnect(id);
      open.erase(id);
      closing.erase(id);
      joined.erase(id);
    } else if (action < 9) {
      take(router.expireIdle(now));
    } else if (action < 20 || !m) {
      std::string text = "join " + pick(rng, rooms);
      if (rng.chance(0.1)) text = mutateText(rng, text);
      RelayRouter::ConnId to = any();
      for (const auto id : open)  // usually one that has not joined yet
        if (!joined.count(id) && !closing.count(id) && rng.chance(0.9)) to = id;
      take(sendText(to, text));
    } else if (action < 70) {  // a member's frame
      take(sendBinary(*m, frame()));
    } else if (action < 78) {
      take(sendText(*m, "mark"));
    } else if (action < 86) {  // a snapshot, usually of what the last mark said
      const std::uint64_t upTo = rng.chance(0.8) ? joined[*m] : rng.below(40);
      take(sendText(*m, "snapshot " + std::to_string(upTo)));
      if (rng.chance(0.9)) {
        take(sendBinary(*m, frame()));
      }
    } else if (action < 94) {
      std::string text =
          pick(rng, std::vector<std::string>{"mark", "snapshot 0", "snapshot 18446744073709551615",
                                             "snapshot 18446744073709551616", "snapshot -1",
                                             "snapshot ", "snapshot 1 2", "leave", "", "join"});
      if (rng.chance(0.5)) text = mutateText(rng, text);
      take(sendText(any(), text));
    } else if (action < 97) {
      take(sendText(any(), asString(randomBytes(rng, 40))));
    } else {
      take(sendBinary(any(), frame()));
    }
    if (router.connectionCount() != open.size())
      fail("connectionCount " + std::to_string(router.connectionCount()) + ", expected " +
           std::to_string(open.size()));
  }
  // What each room stored adds up.
  for (const auto& room : roomKeys) {
    auto state = store.roomState(room);
    auto items = store.items(room, 0, SIZE_MAX);
    REQUIRE(state);
    REQUIRE(items);
    std::uint64_t bytes = 0;
    for (std::size_t i = 0; i < items->size(); ++i) {
      bytes += (*items)[i].bytes.size();
      if (i > 0) CHECK((*items)[i - 1].seq < (*items)[i].seq);
      CHECK_FALSE((*items)[i].bytes.empty());
      // A transient frame is forwarded, never stored (a snapshot blob is stored as it is).
      if (isTransientFrame((*items)[i].bytes)) CHECK(snapshots.count((*items)[i].bytes) == 1);
    }
    CHECK(state->count == items->size());
    CHECK(state->bytes == bytes);
    CHECK(state->bytes <= limits.maxRoomBytes);
    if (!items->empty()) {
      CHECK(state->firstSeq == items->front().seq);
      CHECK(state->lastSeq >= items->back().seq);
    }
  }
  INFO(firstFailure);
  CHECK(failures == 0);
  // The run got past the envelope's first errors.
  CHECK(forwarded > 1000);
  CHECK(closes > 0);
}

TEST_CASE("SyncSession survives tampered, forged, dropped and repeated frames",
          "[net][session][fuzz]") {
  REQUIRE(initCrypto());
  const DocKey key = fixedKey();
  const SessionTranscript t = sessionTranscript(key);
  {  // The transcript as it was sent gets the document there.
    engine::Document doc = t.start;
    SyncSession s(doc, key);
    s.start();
    for (std::size_t i = 0; i < t.frames.size(); ++i)
      REQUIRE(s.receive(t.frames[i]).disconnect == (i + 1 == t.frames.size()));  // bye
    REQUIRE(doc.text() == t.finalText);
  }
  const auto seed = testSeed(GENERATE(range(0, 6)));
  INFO("seed " << seed);
  Rng rng(seed);
  SessionRounds rounds;
  for (int round = 0; round < 300; ++round) {
    INFO("round " << round);
    engine::Document doc = t.start;
    SyncSession s(doc, key);
    s.start();
    rounds.begin(doc);
    for (std::size_t i = 0; i < t.frames.size(); ++i) {
      const auto feed = disturb(
          rng, t.frames[i], [&] { return randomBytes(rng, 90); },
          [&] { return mutateFrame(rng, key, t.frames[i]); });
      for (const Bytes& f : feed) {
        const SessionOutput out = s.receive(f);
        rounds.take(doc, out.patches, !out.frames.empty(), out.disconnect, out.newOpsFrom,
                    out.newOpsTo);
      }
    }
    rounds.end(doc, s.closed(), t.finalText);
  }
  rounds.check();
}

TEST_CASE("RoomSession survives tampered, forged, dropped and repeated relay messages",
          "[net][room][fuzz]") {
  REQUIRE(initCrypto());
  const DocKey key = fixedKey();
  const RoomTranscript t = roomTranscript(key);
  REQUIRE_FALSE(t.live.empty());
  REQUIRE_FALSE(t.late.empty());
  RoomOptions options;
  options.streamId = 0x99;
  options.snapshotAfterItems = 0;
  for (const auto* messages : {&t.live, &t.late}) {  // as sent, they get the document there
    engine::Document doc(quire::test::replicaId(9));
    RoomSession s(doc, key, options);
    s.start();
    for (const RelayMessage& m : *messages) {
      RoomOutput out = m.text ? s.receiveText(m.asText()) : s.receiveBinary(m.bytes);
      REQUIRE_FALSE(out.disconnect);
    }
    CHECK(s.joined());
    REQUIRE(doc.text() == t.finalText);
  }
  const auto seed = testSeed(GENERATE(range(0, 6)));
  INFO("seed " << seed);
  Rng rng(seed);
  SessionRounds rounds;
  for (int round = 0; round < 300; ++round) {
    INFO("round " << round);
    const auto& messages = rng.chance(0.5) ? t.live : t.late;
    engine::Document doc(quire::test::replicaId(9));
    if (rng.chance(0.3)) REQUIRE(doc.insert(0, "local text "));
    RoomSession s(doc, key, options);
    s.start();
    rounds.begin(doc);
    for (const RelayMessage& original : messages) {
      const auto feed = disturb(
          rng, original,
          [&] {
            const std::string line =
                pick(rng, std::vector<std::string>{
                              "joined 3", "mark 2", "snapshot-stored 9", "snapshot-refused 1 late",
                              "joined", "mark 18446744073709551616", "joined -1", "hello"});
            return relayText(mutateText(rng, line));
          },
          [&] {
            return original.text ? relayText(mutateText(rng, std::string(original.asText())))
                                 : relayBinary(mutateFrame(rng, key, original.bytes));
          });
      for (const RelayMessage& m : feed) {
        const RoomOutput out = m.text ? s.receiveText(m.asText()) : s.receiveBinary(m.bytes);
        rounds.take(doc, out.patches, !out.messages.empty(), out.disconnect, out.newOpsFrom,
                    out.newOpsTo);
      }
    }
    rounds.end(doc, s.closed(), t.finalText);
  }
  rounds.check();
}
