// libsodium wrappers for end-to-end encryption: the document key, the room id the relay routes
// by, and sealing/opening of frame payloads. PROTOCOL.md, "Encryption" and "Threat model".
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/result.h"

namespace quire::net {

inline constexpr std::size_t kKeyBytes = 32;
inline constexpr std::size_t kNonceBytes = 24;  // XChaCha20-Poly1305 IETF
inline constexpr std::size_t kTagBytes = 16;
inline constexpr std::size_t kSealOverhead = kNonceBytes + kTagBytes;
inline constexpr std::size_t kRoomIdBytes = 32;

// A document's 32-byte secret key. Whoever holds it can read and write the document. A small
// value type; the bytes are not wiped on destruction (the app holds the key for its lifetime).
struct DocKey {
  std::array<std::uint8_t, kKeyBytes> bytes{};
  bool operator==(const DocKey&) const = default;
};

// The id the relay routes by: keyed BLAKE2b-256 of a fixed context string under the document
// key. One-way: knowing a room id does not help find the key.
struct RoomId {
  std::array<std::uint8_t, kRoomIdBytes> bytes{};
  bool operator==(const RoomId&) const = default;
};

// Initialises libsodium once per process (thread-safe, idempotent). Every function below calls
// it; calling it first only surfaces the failure early. Fails with Error::crypto if libsodium
// cannot initialise (no entropy source).
[[nodiscard]] Result<void> initCrypto();

// A fresh random key. REQUIRES: initCrypto() succeeded (asserted).
DocKey generateKey();

// 64 random bits (e.g. a room stream id). REQUIRES: initCrypto() succeeded (asserted).
std::uint64_t randomU64();

// The room id of `key` (deterministic).
RoomId roomIdOf(const DocKey& key);

// Seals `plaintext` with a fresh random nonce: returns nonce (24) || ciphertext || tag (16).
// `ad` is authenticated but not encrypted (nor included in the output).
std::vector<std::uint8_t> seal(const DocKey& key, std::span<const std::uint8_t> plaintext,
                               std::span<const std::uint8_t> ad = {});

// Opens what seal() made with the same key and `ad`. Fails with Error::crypto if the input is
// too short, was tampered with, or was sealed under another key or another `ad`.
[[nodiscard]] Result<std::vector<std::uint8_t>> open(const DocKey& key,
                                                     std::span<const std::uint8_t> sealed,
                                                     std::span<const std::uint8_t> ad = {});

}  // namespace quire::net
