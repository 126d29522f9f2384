// Random local edits for property and fuzz tests: typing, word inserts, multi-kB pastes,
// backspaces and range deletes, over alphabets that include astral-plane emoji and combining
// marks. Every edit is mirrored into a std::u32string so tests can compare. Test-only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/document.h"
#include "tests/support/test_util.h"

namespace quire::test {

// Code points to draw text from.
struct Alphabet {
  std::vector<char32_t> chars;
  bool contains(char32_t c) const;
};

// A mix of ASCII, Latin-1, Greek, CJK, emoji (U+1Fxxx), combining marks and newlines.
const Alphabet& mixedAlphabet();
// Pairwise disjoint alphabets, one per replica index (0..15), each with ASCII-free ranges past
// index 0 (index 0 is lowercase ASCII plus a few emoji), so text can be traced to its author.
const Alphabet& replicaAlphabet(std::size_t replica);

std::u32string randomText(Rng& rng, const Alphabet& alphabet, std::size_t codePoints);

// How often each kind of edit happens, and how large they get.
struct EditMix {
  double insertShare = 0.62;     // of all edits; the rest are deletes
  double wordShare = 0.15;       // of inserts: 2..12 code points
  double pasteShare = 0.02;      // of inserts: pasteMin..pasteMax code points
  std::uint32_t pasteMin = 1000;
  std::uint32_t pasteMax = 4000;
  double rangeDeleteShare = 0.3; // of deletes: up to maxRangeDelete code points
  std::uint32_t maxRangeDelete = 300;
  std::uint32_t maxLength = 30000;  // no pastes once the text is this long
  double continueShare = 0.7;    // edit at the caret of the previous edit
};

// One replica's editing state: its document, a mirror of its text and its caret.
struct EditingReplica {
  engine::Document doc;
  std::u32string mirror;
  std::uint32_t caret = 0;
  explicit EditingReplica(engine::ReplicaId id) : doc(id) {}
};

// Makes one random local edit on `r` (and its mirror). Returns "" or the engine's error text.
std::string randomLocalEdit(Rng& rng, EditingReplica& r, const Alphabet& alphabet,
                            const EditMix& mix = {});

}  // namespace quire::test
