#include <string>

#include <catch2/catch.hpp>

#include "net/share_link.h"

using namespace quire;
using namespace quire::net;

namespace {

ShareLink sampleLink() {
  ShareLink link;
  for (std::size_t i = 0; i < link.doc.bytes.size(); ++i)
    link.doc.bytes[i] = static_cast<std::uint8_t>(0xa0 + i);
  for (std::size_t i = 0; i < link.key.bytes.size(); ++i)
    link.key.bytes[i] = static_cast<std::uint8_t>(i * 7 + 0xfb);
  link.routes = {"ws://192.168.1.20:7070", "wss://relay.example.org/quire"};
  return link;
}

const std::string kDoc = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf";
const std::string kKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";  // 32 zero bytes

std::string errorOf(const std::string& link) {
  auto r = parseShareLink(link);
  if (r) return "";
  CHECK(r.error().code() == Error::Code::Malformed);
  return r.error().message();
}

}  // namespace

TEST_CASE("share link round trips through text", "[net][link]") {
  const ShareLink link = sampleLink();
  const std::string text = encodeShareLink(link);
  INFO(text);
  CHECK(text.rfind("quire://open?doc=" + kDoc + "&via=", 0) == 0);
  CHECK(text.find("#k=") != std::string::npos);
  auto parsed = parseShareLink(text);
  REQUIRE(parsed);
  CHECK(*parsed == link);
}

TEST_CASE("share link keeps a route's own query intact", "[net][link]") {
  ShareLink link = sampleLink();
  link.routes = {"wss://relay.example.org/r?x=1&y=a+b#frag"};
  auto parsed = parseShareLink(encodeShareLink(link));
  REQUIRE(parsed);
  CHECK(parsed->routes == link.routes);
}

TEST_CASE("share link parses a hand-written link", "[net][link]") {
  auto r = parseShareLink("quire://open?doc=" + kDoc + "&via=ws://127.0.0.1:9000#k=" + kKey);
  REQUIRE(r);
  CHECK(r->routes == std::vector<std::string>{"ws://127.0.0.1:9000"});
  CHECK(r->key == DocKey{});
  CHECK(r->doc.bytes[0] == 0xa0);
  // Upper-case hex and unknown extra items are accepted.
  CHECK(parseShareLink("quire://open?doc=A0A1A2A3A4A5A6A7A8A9AAABACADAEAF&via=ws://h&future=1#k=" +
                       kKey));
}

TEST_CASE("share link rejects each malformed part with a reason", "[net][link]") {
  const std::string via = "&via=ws://h:1";
  const std::string k = "#k=" + kKey;
  CHECK(errorOf("") == "share link: empty");
  CHECK(errorOf("https://open?doc=" + kDoc + via + k).find("scheme must be quire://") !=
        std::string::npos);
  CHECK(errorOf("quire://edit?doc=" + kDoc + via + k).find("quire://open") != std::string::npos);
  CHECK(errorOf("quire://open?via=ws://h:1" + k).find("missing doc") != std::string::npos);
  CHECK(errorOf("quire://open?doc=" + kDoc + "&doc=" + kDoc + via + k).find("doc given 2 times") !=
        std::string::npos);
  CHECK(errorOf("quire://open?doc=abc" + via + k).find("32 hex digits") != std::string::npos);
  CHECK(errorOf("quire://open?doc=" + std::string(31, 'a') + "g" + via + k).find("not hex") !=
        std::string::npos);
  CHECK(errorOf("quire://open?doc=" + kDoc + k).find("missing via") != std::string::npos);
  CHECK(errorOf("quire://open?doc=" + kDoc + "&via=http://h:1" + k).find("ws:// or wss://") !=
        std::string::npos);
  CHECK(errorOf("quire://open?doc=" + kDoc + "&via=ws://h:1&via=ftp://x" + k)
            .find("ws:// or wss://") != std::string::npos);
  CHECK(errorOf("quire://open?doc=" + kDoc + "&via=ws:///path" + k).find("no host") !=
        std::string::npos);
  CHECK(errorOf("quire://open?doc=" + kDoc + via).find("missing key") != std::string::npos);
  CHECK(errorOf("quire://open?doc=" + kDoc + via + "#x=1").find("missing key") !=
        std::string::npos);
  CHECK(errorOf("quire://open?doc=" + kDoc + via + "&k=" + kKey).find("in the query") !=
        std::string::npos);
  CHECK(errorOf("quire://open?doc=" + kDoc + via + "#k=AAAA").find("43 base64url") !=
        std::string::npos);
  CHECK(errorOf("quire://open?doc=" + kDoc + via + "#k=" + kKey + "AAAA").find("43 base64url") !=
        std::string::npos);
  // Padding, standard-alphabet characters and stray low bits are not base64url of 32 bytes.
  CHECK(errorOf("quire://open?doc=" + kDoc + via + "#k=" + kKey.substr(0, 42) + "=")
            .find("not base64url") != std::string::npos);
  CHECK(errorOf("quire://open?doc=" + kDoc + via + "#k=" + kKey.substr(0, 42) + "B")
            .find("not base64url") != std::string::npos);
  CHECK(errorOf("quire://open?doc=" + kDoc + via + "#k=" + kKey + "&k=" + kKey)
            .find("given 2 times") != std::string::npos);
  CHECK(errorOf("quire://open:80?doc=" + kDoc + via + k) != "");
}
