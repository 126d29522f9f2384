#include "net/crypto.h"

#include <cassert>
#include <string>

#include <sodium.h>

namespace quire::net {

namespace {

// Domain separator for the room id: changing it changes every room id, so it carries a version.
constexpr char kRoomContext[] = "quire/room-id/v1";

static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == kKeyBytes);
static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == kNonceBytes);
static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == kTagBytes);
static_assert(kKeyBytes >= crypto_generichash_KEYBYTES_MIN && kKeyBytes <= crypto_generichash_KEYBYTES_MAX);

bool sodiumReady() {
  // sodium_init() is itself thread-safe and idempotent; the static just avoids repeated calls.
  static const bool ready = sodium_init() >= 0;
  return ready;
}

}  // namespace

Result<void> initCrypto() {
  if (!sodiumReady()) return fail(Error::crypto("libsodium: sodium_init failed"));
  return {};
}

DocKey generateKey() {
  [[maybe_unused]] bool ready = sodiumReady();
  assert(ready);
  DocKey key;
  crypto_aead_xchacha20poly1305_ietf_keygen(key.bytes.data());
  return key;
}

std::uint64_t randomU64() {
  [[maybe_unused]] bool ready = sodiumReady();
  assert(ready);
  std::uint64_t v = 0;
  randombytes_buf(&v, sizeof v);
  return v;
}

RoomId roomIdOf(const DocKey& key) {
  [[maybe_unused]] bool ready = sodiumReady();
  assert(ready);
  RoomId room;
  crypto_generichash(room.bytes.data(), room.bytes.size(),
                     reinterpret_cast<const unsigned char*>(kRoomContext), sizeof kRoomContext - 1,
                     key.bytes.data(), key.bytes.size());
  return room;
}

std::vector<std::uint8_t> seal(const DocKey& key, std::span<const std::uint8_t> plaintext,
                               std::span<const std::uint8_t> ad) {
  [[maybe_unused]] bool ready = sodiumReady();
  assert(ready);
  std::vector<std::uint8_t> out(kNonceBytes + plaintext.size() + kTagBytes);
  randombytes_buf(out.data(), kNonceBytes);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + kNonceBytes, &written, plaintext.data(),
                                             plaintext.size(), ad.data(), ad.size(), nullptr,
                                             out.data(), key.bytes.data());
  assert(written == plaintext.size() + kTagBytes);
  return out;
}

Result<std::vector<std::uint8_t>> open(const DocKey& key, std::span<const std::uint8_t> sealed,
                                       std::span<const std::uint8_t> ad) {
  if (!sodiumReady()) return fail(Error::crypto("libsodium: sodium_init failed"));
  if (sealed.size() < kSealOverhead)
    return fail(Error::crypto("sealed payload of " + std::to_string(sealed.size()) +
                              " bytes is shorter than nonce + tag (" +
                              std::to_string(kSealOverhead) + ")"));
  std::vector<std::uint8_t> out(sealed.size() - kSealOverhead);
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          out.data(), &written, nullptr, sealed.data() + kNonceBytes,
          sealed.size() - kNonceBytes, ad.data(), ad.size(), sealed.data(), key.bytes.data()) != 0)
    return fail(Error::crypto("sealed payload failed authentication (wrong key, tampered or "
                              "truncated)"));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

}  // namespace quire::net
