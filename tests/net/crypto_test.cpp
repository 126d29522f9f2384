#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include "net/crypto.h"

using namespace quire;
using namespace quire::net;

namespace {
std::vector<std::uint8_t> bytesOf(const char* s) {
  return std::vector<std::uint8_t>(s, s + std::char_traits<char>::length(s));
}
}  // namespace

TEST_CASE("seal then open gives the plaintext back", "[net][crypto]") {
  REQUIRE(initCrypto());
  const DocKey key = generateKey();
  const auto msg = bytesOf("hello, quire");
  const auto sealed = seal(key, msg);
  CHECK(sealed.size() == msg.size() + kSealOverhead);
  auto opened = open(key, sealed);
  REQUIRE(opened);
  CHECK(*opened == msg);
  // An empty message seals too.
  auto empty = open(key, seal(key, {}));
  REQUIRE(empty);
  CHECK(empty->empty());
}

TEST_CASE("two seals of one message differ (random nonce)", "[net][crypto]") {
  const DocKey key = generateKey();
  const auto msg = bytesOf("same");
  CHECK(seal(key, msg) != seal(key, msg));
}

TEST_CASE("open with the wrong key is a crypto error", "[net][crypto]") {
  const DocKey key = generateKey(), other = generateKey();
  auto r = open(other, seal(key, bytesOf("secret")));
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Error::Code::Crypto);
}

TEST_CASE("open rejects every single-bit flip", "[net][crypto]") {
  const DocKey key = generateKey();
  const auto sealed = seal(key, bytesOf("tamper with me"));
  for (std::size_t i = 0; i < sealed.size() * 8; ++i) {
    auto bad = sealed;
    bad[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
    auto r = open(key, bad);
    INFO("bit " << i);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Error::Code::Crypto);
  }
}

TEST_CASE("open rejects every truncation and an extension", "[net][crypto]") {
  const DocKey key = generateKey();
  const auto sealed = seal(key, bytesOf("cut me short"));
  for (std::size_t n = 0; n < sealed.size(); ++n) {
    auto r = open(key, std::span<const std::uint8_t>(sealed.data(), n));
    INFO("length " << n);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Error::Code::Crypto);
  }
  auto longer = sealed;
  longer.push_back(0);
  CHECK_FALSE(open(key, longer));
}

TEST_CASE("open rejects other associated data", "[net][crypto]") {
  const DocKey key = generateKey();
  const auto sealed = seal(key, bytesOf("x"), bytesOf("room-a"));
  CHECK(open(key, sealed, bytesOf("room-a")));
  CHECK_FALSE(open(key, sealed, bytesOf("room-b")));
  CHECK_FALSE(open(key, sealed));
}

TEST_CASE("room id is deterministic, differs per key and is not the key", "[net][crypto]") {
  const DocKey a = generateKey(), b = generateKey();
  CHECK(roomIdOf(a) == roomIdOf(a));
  CHECK_FALSE(roomIdOf(a) == roomIdOf(b));
  CHECK(roomIdOf(a).bytes != a.bytes);
  // Keyed by the document key: a room id from the context string alone (unkeyed) differs.
  CHECK_FALSE(roomIdOf(DocKey{}) == RoomId{});
}
