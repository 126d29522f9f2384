// Share links: `quire://open?doc=<32 hex>&via=<ws-url>[&via=...]#k=<base64url key>`. The key
// travels in the fragment, which browsers and URL handlers never send to a server.
// PROTOCOL.md, "Share links" holds the exact grammar.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"
#include "net/crypto.h"

namespace quire::net {

// A document's 16-byte id (32 lowercase hex digits in a link).
struct DocumentId {
  std::array<std::uint8_t, 16> bytes{};
  bool operator==(const DocumentId&) const = default;
};

// What a link names. A value type.
struct ShareLink {
  DocumentId doc;
  std::vector<std::string> routes;  // ws:// or wss:// URLs, in the link's order; at least one
  DocKey key;
  bool operator==(const ShareLink&) const = default;
};

// The link for `link`. REQUIRES: at least one route, each a ws:// or wss:// URL with a host
// (asserted in debug builds; check with parseShareLink on untrusted input).
std::string encodeShareLink(const ShareLink& link);

// Parses a link. Fails with Error::malformed naming the first thing wrong: scheme, host
// (must be `open`), doc (missing, duplicate, not 32 hex digits), via (missing, not a ws:// or
// wss:// URL with a host), k (missing, duplicate, in the query, not 43 base64url characters
// of a 32-byte key). Unknown query items are ignored, so later versions can add some.
[[nodiscard]] Result<ShareLink> parseShareLink(std::string_view text);

}  // namespace quire::net
