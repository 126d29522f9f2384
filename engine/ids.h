// Identifiers of operations: the wire form (ReplicaId, seq) and the document-local forms
// (AgentIndex, LV). FORMAT.md, "Glossary".
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <limits>
#include <string>

namespace quire::engine {

// A replica's 16-byte random identity. The engine never invents one: randomness is passed in.
struct ReplicaId {
  std::array<std::uint8_t, 16> bytes{};

  constexpr auto operator<=>(const ReplicaId&) const = default;
  std::string toHex() const;
};

// A replica's small index in one document's agent table (differs between copies).
using AgentIndex = std::uint32_t;

// Local version: the index of an operation in one copy's op log, in the order it arrived.
// Every inserted and every deleted character is one operation and has one LV.
using LV = std::uint32_t;
inline constexpr LV kNoLv = std::numeric_limits<LV>::max();

// An operation's identity in one document: agent and that agent's dense sequence number.
struct OpId {
  AgentIndex agent = 0;
  std::uint32_t seq = 0;
  constexpr auto operator<=>(const OpId&) const = default;
};

}  // namespace quire::engine
