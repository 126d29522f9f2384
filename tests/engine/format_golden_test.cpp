// The bytes of engine/FORMAT.md: its worked examples must be what the engine writes and reads,
// and the golden files in tests/data/ (written by format version 1) must keep decoding to the
// texts stored beside them (FORMAT.md, "Compatibility").
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <zstd.h>

#include "engine/document.h"
#include "engine/version_vector.h"
#include "tests/support/test_util.h"

using quire::engine::Document;
using quire::engine::LV;
using quire::engine::ReplicaId;
using quire::engine::StreamContext;
using quire::engine::VersionVector;
using namespace quire::test;

namespace {

using Bytes = std::vector<std::uint8_t>;

ReplicaId filled(std::uint8_t b) {
  ReplicaId id;
  id.bytes.fill(b);
  return id;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes repeat(std::uint8_t b, std::size_t n) { return Bytes(n, b); }

std::filesystem::path dataDir() {
#ifdef QUIRE_SOURCE_DIR
  return std::filesystem::path(QUIRE_SOURCE_DIR) / "tests" / "data";
#else
  return std::filesystem::path(__FILE__).parent_path().parent_path() / "data";
#endif
}

Bytes readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  INFO(path.string());
  REQUIRE(in.good());
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string readText(const std::filesystem::path& path) {
  const Bytes b = readFile(path);
  return std::string(b.begin(), b.end());
}


}  // namespace

TEST_CASE("the update worked examples of FORMAT.md are the bytes the engine writes and reads",
          "[engine][format]") {
  Document a(filled(0xAA));
  Document b(filled(0xBB));
  StreamContext aOut;
  StreamContext bIn;

  LV lv = a.nextLv();
  REQUIRE(errorOf(a.insert(0, "h")) == "");
  const Bytes typedH = a.encodeOpsSince(lv, &aOut);
  CHECK(typedH == concat({{0x51, 0x01, 0x02, 0x00}, repeat(0xAA, 16), {0x11, 0x00, 0x00, 0x00, 0x68}}));

  lv = a.nextLv();
  REQUIRE(errorOf(a.insert(1, "i")) == "");
  const Bytes typedI = a.encodeOpsSince(lv, &aOut);
  CHECK(typedI == Bytes{0x51, 0x01, 0x01, 0x1d, 0x01, 0x69});

  // B holds "hi" and types "!" at the end: a self-contained update.
  for (const Bytes* u : {&typedH, &typedI}) {
    auto r = b.applyUpdate(*u, &bIn);
    REQUIRE(errorOf(r) == "");
  }
  REQUIRE(b.text() == "hi");
  lv = b.nextLv();
  REQUIRE(errorOf(b.insert(2, "!")) == "");
  const Bytes bang = b.encodeOpsSince(lv);
  CHECK(bang == concat({{0x51, 0x01, 0x03, 0x00}, repeat(0xBB, 16), {0x00}, repeat(0xAA, 16),
                        {0x11, 0x00, 0x02, 0x01, 0x00, 0x21}}));

  lv = a.nextLv();
  REQUIRE(errorOf(a.remove(1, 1)) == "");  // backspace over "i"
  const Bytes backspace = a.encodeOpsSince(lv, &aOut);
  CHECK(backspace == Bytes{0x51, 0x01, 0x01, 0x1a, 0x02, 0x01});

  // The documented bytes decode on a fresh copy (self-contained ones) and on the stream.
  Document c(filled(0xCC));
  StreamContext cIn;
  for (const Bytes& u : {concat({{0x51, 0x01, 0x02, 0x00}, repeat(0xAA, 16), {0x11, 0x00, 0x00, 0x00, 0x68}}),
                         Bytes{0x51, 0x01, 0x01, 0x1d, 0x01, 0x69}}) {
    auto r = c.applyUpdate(u, &cIn);
    REQUIRE(errorOf(r) == "");
  }
  CHECK(c.text() == "hi");
  auto r = c.applyUpdate(bang);
  REQUIRE(errorOf(r) == "");
  CHECK(c.text() == "hi!");
  r = c.applyUpdate(Bytes{0x51, 0x01, 0x01, 0x1a, 0x02, 0x01}, &cIn);
  REQUIRE(errorOf(r) == "");
  CHECK(c.text() == "h!");
}

TEST_CASE("the history worked example of FORMAT.md decodes, and the engine writes its body",
          "[engine][format]") {
  // "hello" typed, backspace over "o", "!" typed.
  const Bytes body = concat({{0x01}, repeat(0xAA, 16),
                             {0x03,                          // three runs
                              0x03, 0x29, 0x0b, 0x09,        // headers
                              0x02, 0x00, 0x03,              // agents
                              0x03, 0x00, 0x01, 0x00,        // positions
                              0x00,                          // origins
                              0x00,                          // targets
                              0x06, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x21}});
  REQUIRE(body.size() == 38);
  auto decoded = Document::decodeHistory(wrapHistoryBody(body), filled(0xCC));
  REQUIRE(errorOf(decoded) == "");
  CHECK(decoded->text() == "hell!");
  CHECK(decoded->version().get(filled(0xAA)) == 7);
  CHECK(decoded->checkInvariants() == "");

  Document doc(filled(0xAA));
  REQUIRE(errorOf(doc.insert(0, "hello")) == "");
  REQUIRE(errorOf(doc.remove(4, 1)) == "");
  REQUIRE(errorOf(doc.insert(4, "!")) == "");
  const Bytes written = doc.encodeHistory();
  REQUIRE(written.size() > 6);
  CHECK(Bytes(written.begin(), written.begin() + 5) == Bytes{'Q', 'H', 'S', 'T', 0x01});
  CHECK(written[5] == 38);  // body size
  Bytes unpacked(38);
  const std::size_t got =
      ZSTD_decompress(unpacked.data(), unpacked.size(), written.data() + 6, written.size() - 6);
  REQUIRE_FALSE(ZSTD_isError(got));
  CHECK(got == 38);
  CHECK(unpacked == body);
}

TEST_CASE("the version vector encoding is the one FORMAT.md gives", "[engine][format]") {
  VersionVector v;
  v.set(filled(0xBB), 300);
  v.set(filled(0xAA), 5);
  const Bytes expected = concat({{0x56, 0x01, 0x02}, repeat(0xAA, 16), {0x05}, repeat(0xBB, 16),
                                 {0xAC, 0x02}});
  CHECK(v.encode() == expected);
  auto d = VersionVector::decode(expected);
  REQUIRE(errorOf(d) == "");
  CHECK(*d == v);
}

TEST_CASE("golden files of format version 1 keep decoding to their texts", "[engine][format]") {
  const auto dir = dataDir() / "v1";
  INFO("golden files in " << dir.string());
  REQUIRE(std::filesystem::is_directory(dir));
  const std::string expected = readText(dir / "golden.txt");
  const auto version = VersionVector::decode(readFile(dir / "golden.version"));
  REQUIRE(errorOf(version) == "");

  SECTION("history") {
    auto doc = Document::decodeHistory(readFile(dir / "golden.history"), replicaId(0xE0));
    REQUIRE(errorOf(doc) == "");
    CHECK(doc->text() == expected);
    CHECK(doc->version() == *version);
    CHECK(doc->checkInvariants() == "");
    CHECK(doc->textAt(VersionVector{}) == "");
  }
  SECTION("update") {
    Document doc(replicaId(0xE1));
    auto r = doc.applyUpdate(readFile(dir / "golden.update"));
    REQUIRE(errorOf(r) == "");
    CHECK(doc.text() == expected);
    CHECK(doc.version() == *version);
    CHECK(doc.pendingOpCount() == 0);
  }
}
