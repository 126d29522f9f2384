// The frame bytes of protocol version 1, checked in (net/PROTOCOL.md, "Frames"): one plaintext
// message of every kind in tests/data/v1/frames/<kind>.msg, built from the fixed inputs below,
// and two frames sealed with a fixed key (room_ops.frame stored, presence.frame transient).
// encodeMessage must keep writing exactly these bytes and the decoders must keep reading them.
//
// Regenerate after a deliberate format change (then review the diff, and bump the protocol
// version if old peers cannot read the new bytes):
//   build/tests/quire_net_tests "[regen]"
// A sealed file is rewritten only if it no longer opens to its message (sealing draws a fresh
// nonce, so rewriting it would change its bytes for nothing).
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/document.h"
#include "net/crypto.h"
#include "net/frame.h"
#include "tests/support/test_util.h"

using namespace quire;
using namespace quire::net;
using quire::test::errorOf;

namespace {

using Bytes = std::vector<std::uint8_t>;

engine::ReplicaId filled(std::uint8_t b) {
  engine::ReplicaId id;
  id.bytes.fill(b);
  return id;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes repeat(std::uint8_t b, std::size_t n) { return Bytes(n, b); }

// engine/FORMAT.md's worked examples: A (0xAA...) types "h" (self-contained), then "i" (on the
// stream context).
Bytes typedH() {
  return concat({{0x51, 0x01, 0x02, 0x00}, repeat(0xAA, 16), {0x11, 0x00, 0x00, 0x00, 0x68}});
}
Bytes typedI() { return {0x51, 0x01, 0x01, 0x1d, 0x01, 0x69}; }

// FORMAT.md's history example ("hello", backspace, "!": text "hell!", A at 7) as a version-1
// history whose zstd frame holds the body as one raw block, so these bytes do not depend on the
// zstd version that compressed them.
Bytes historyHell() {
  const Bytes body = concat(
      {{0x01}, repeat(0xAA, 16), {0x03, 0x03, 0x29, 0x0b, 0x09, 0x02, 0x00, 0x03, 0x03, 0x00, 0x01,
                                  0x00, 0x00, 0x00, 0x06, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x21}});
  const auto size = static_cast<std::uint8_t>(body.size());  // 38
  // zstd: magic, descriptor (single segment, 1-byte content size), content size, one last raw
  // block (header = 1 | raw << 1 | size << 3, little-endian, 3 bytes).
  const std::uint32_t block = 1u | (std::uint32_t{size} << 3);
  const Bytes zstd =
      concat({{0x28, 0xB5, 0x2F, 0xFD, 0x20, size},
              {static_cast<std::uint8_t>(block), static_cast<std::uint8_t>(block >> 8),
               static_cast<std::uint8_t>(block >> 16)},
              body});
  return concat({{'Q', 'H', 'S', 'T', 0x01, size}, zstd});
}

struct Golden {
  std::string file;
  Message message;
};

// The fixed inputs, one message of every kind.
std::vector<Golden> goldenMessages() {
  std::vector<Golden> out;

  Message hello;
  hello.kind = FrameKind::Hello;
  hello.sender = filled(0xAA);
  hello.version.set(filled(0xAA), 7);
  hello.version.set(filled(0xBB), 300);
  out.push_back({"hello.msg", hello});

  Message update;
  update.kind = FrameKind::Update;
  update.counter = 1;
  update.update = typedH();
  out.push_back({"update.msg", update});

  Message ops;
  ops.kind = FrameKind::Ops;
  ops.counter = 2;  // PROTOCOL.md's worked example
  ops.update = typedI();
  out.push_back({"ops.msg", ops});

  Message presence;
  presence.kind = FrameKind::Presence;
  presence.counter = 200;
  presence.presence.replica = filled(0xBB);
  presence.presence.clock = 17;
  presence.presence.name = "Zo\xC3\xAB";
  presence.presence.colour = 0x3366CC;
  presence.presence.cursor.kind = engine::Anchor::Kind::Char;
  presence.presence.cursor.replica = filled(0xAA);
  presence.presence.cursor.seq = 1;
  presence.presence.cursor.bias = engine::Bias::After;
  presence.presence.selection.kind = engine::Anchor::Kind::End;
  out.push_back({"presence.msg", presence});

  Message bye;
  bye.kind = FrameKind::Bye;
  bye.counter = 5;
  out.push_back({"bye.msg", bye});

  Message roomOps;
  roomOps.kind = FrameKind::RoomOps;
  roomOps.counter = 3;
  roomOps.stream = 0x0123456789ABCDEFull;
  roomOps.update = typedH();
  out.push_back({"room_ops.msg", roomOps});

  Message snapshot;
  snapshot.kind = FrameKind::Snapshot;
  snapshot.streams.push_back({0x0123456789ABCDEFull, 4, {filled(0xAA)}});
  snapshot.streams.push_back({0xF0E0D0C0B0A09080ull, 300, {filled(0xBB), filled(0xCC)}});
  snapshot.version.set(filled(0xAA), 7);
  snapshot.update = historyHell();
  out.push_back({"snapshot.msg", snapshot});

  Message leave;
  leave.kind = FrameKind::Leave;
  leave.sender = filled(0xBB);
  leave.stream = 0xF0E0D0C0B0A09080ull;
  out.push_back({"leave.msg", leave});
  return out;
}

// The fixed key of the sealed files: bytes 0x00, 0x01, ..., 0x1F.
DocKey goldenKey() {
  DocKey key;
  for (std::size_t i = 0; i < key.bytes.size(); ++i) key.bytes[i] = static_cast<std::uint8_t>(i);
  return key;
}

struct SealedGolden {
  std::string file;
  std::string messageFile;  // which of goldenMessages() it seals
  bool transient = false;
};

const std::vector<SealedGolden> kSealed = {{"room_ops.frame", "room_ops.msg", false},
                                           {"presence.frame", "presence.msg", true}};

const Message& messageOf(const std::vector<Golden>& all, const std::string& file) {
  for (const Golden& g : all)
    if (g.file == file) return g.message;
  FAIL("no golden message " << file);
  return all.front().message;
}

std::filesystem::path framesDir() {
#ifdef QUIRE_SOURCE_DIR
  return std::filesystem::path(QUIRE_SOURCE_DIR) / "tests" / "data" / "v1" / "frames";
#else
  return std::filesystem::path(__FILE__).parent_path().parent_path() / "data" / "v1" / "frames";
#endif
}

Bytes readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  INFO(path.string());
  REQUIRE(in.good());
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void writeFile(const std::filesystem::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  INFO(path.string());
  REQUIRE(out.good());
}

}  // namespace

TEST_CASE("the fixed inputs of the golden frames are valid engine bytes", "[net][frame][format]") {
  engine::Document doc(filled(0xDD));
  REQUIRE(errorOf(doc.applyUpdate(typedH())) == "");
  CHECK(doc.text() == "h");
  auto history = engine::Document::decodeHistory(historyHell(), filled(0xDD));
  REQUIRE(errorOf(history) == "");
  CHECK(history->text() == "hell!");
  CHECK(history->version() == messageOf(goldenMessages(), "snapshot.msg").version);
}

TEST_CASE("golden frames of protocol version 1 are what the codec writes and reads",
          "[net][frame][format]") {
  const auto dir = framesDir();
  INFO("golden frames in " << dir.string());
  REQUIRE(std::filesystem::is_directory(dir));
  const auto golden = goldenMessages();
  REQUIRE(golden.size() == 8);  // one per FrameKind

  for (const Golden& g : golden) {
    INFO(g.file);
    const Bytes bytes = readFile(dir / g.file);
    CHECK(encodeMessage(g.message) == bytes);
    auto decoded = decodeMessage(bytes);
    REQUIRE(errorOf(decoded) == "");
    CHECK(*decoded == g.message);
  }

  const DocKey key = goldenKey();
  const RoomId room = roomIdOf(key);
  for (const SealedGolden& s : kSealed) {
    INFO(s.file);
    const Message& m = messageOf(golden, s.messageFile);
    Bytes frame = readFile(dir / s.file);
    REQUIRE(frame.size() == 1 + kSealOverhead + encodeMessage(m).size());
    CHECK(frame[0] == (kProtocolVersion | (s.transient ? kTransientFlag : 0)));
    CHECK(isTransientFrame(frame) == s.transient);
    auto opened = decodeFrame(key, room, frame);
    REQUIRE(errorOf(opened) == "");
    CHECK(*opened == m);
    // The transient flag is authenticated: flipped, the frame no longer opens.
    frame[0] ^= kTransientFlag;
    auto flipped = decodeFrame(key, room, frame);
    REQUIRE_FALSE(flipped);
    CHECK(flipped.error().code() == Error::Code::Crypto);
  }
}

TEST_CASE("regenerate the golden frames", "[.][regen]") {
  const auto dir = framesDir();
  std::filesystem::create_directories(dir);
  const auto golden = goldenMessages();
  for (const Golden& g : golden) writeFile(dir / g.file, encodeMessage(g.message));
  const DocKey key = goldenKey();
  const RoomId room = roomIdOf(key);
  for (const SealedGolden& s : kSealed) {
    const Message& m = messageOf(golden, s.messageFile);
    const auto path = dir / s.file;
    if (std::filesystem::exists(path)) {
      const Bytes old = readFile(path);
      auto opened = decodeFrame(key, room, old);
      if (opened && *opened == m && isTransientFrame(old) == s.transient) continue;
    }
    writeFile(path, encodeFrame(key, room, m, s.transient));
  }
  SUCCEED("golden frames written to " << dir.string());
}
