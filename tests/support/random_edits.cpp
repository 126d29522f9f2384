#include "tests/support/random_edits.h"

#include <algorithm>
#include <array>

namespace quire::test {

namespace {

void addRange(std::vector<char32_t>& out, char32_t first, char32_t last) {
  for (char32_t c = first; c <= last; ++c) out.push_back(c);
}

Alphabet makeMixed() {
  Alphabet a;
  addRange(a.chars, U'a', U'z');
  addRange(a.chars, U'A', U'Z');
  addRange(a.chars, U'0', U'9');
  for (char32_t c : {U' ', U' ', U' ', U'\n', U'.', U','}) a.chars.push_back(c);
  addRange(a.chars, 0x00E0, 0x00FF);    // Latin-1 letters (2 bytes)
  addRange(a.chars, 0x03B1, 0x03C9);    // Greek
  addRange(a.chars, 0x0300, 0x0310);    // combining marks
  addRange(a.chars, 0x4E00, 0x4E20);    // CJK (3 bytes)
  addRange(a.chars, 0x1F600, 0x1F620);  // emoji (4 bytes, astral plane)
  addRange(a.chars, 0x1F3FB, 0x1F3FF);  // skin-tone modifiers
  return a;
}

std::vector<Alphabet> makePerReplica() {
  // Disjoint blocks. Each mixes in combining marks or astral characters of its own so every
  // replica still exercises multi-byte and astral text.
  struct Block {
    char32_t first, last, extraFirst, extraLast;
  };
  static constexpr std::array<Block, 16> kBlocks = {{
      {U'a', U'z', 0x1F600, 0x1F60F},
      {0x0410, 0x044F, 0x0300, 0x030F},   // Cyrillic + combining
      {0x05D0, 0x05EA, 0x1F680, 0x1F68F},  // Hebrew + transport emoji
      {0x3041, 0x3096, 0x0310, 0x031F},   // Hiragana + combining
      {0x0391, 0x03A9, 0x1F330, 0x1F33F},  // Greek capitals + plants
      {0x0E01, 0x0E2E, 0x0320, 0x032F},   // Thai + combining
      {0x4E00, 0x4E3F, 0x1F400, 0x1F40F},  // CJK + animals
      {0x0531, 0x0556, 0x0330, 0x033F},   // Armenian + combining
      {0x10A0, 0x10C5, 0x1F4A0, 0x1F4AF},  // Georgian + symbols
      {0x0905, 0x0939, 0x0340, 0x034E},   // Devanagari + combining
      {0xAC00, 0xAC3F, 0x1F300, 0x1F30F},  // Hangul + weather
      {0x1200, 0x123F, 0x0350, 0x035F},   // Ethiopic + combining
      {0x13A0, 0x13DF, 0x1F950, 0x1F95F},  // Cherokee + food
      {0x0D05, 0x0D39, 0x0360, 0x036F},   // Malayalam + combining
      {0x1E00, 0x1E3F, 0x1F9D0, 0x1F9DF},  // Latin extended additional + people
      {0x2C00, 0x2C2E, 0x10400, 0x1040F},  // Glagolitic + Deseret (astral)
  }};
  std::vector<Alphabet> out;
  for (const Block& b : kBlocks) {
    Alphabet a;
    addRange(a.chars, b.first, b.last);
    addRange(a.chars, b.extraFirst, b.extraLast);
    out.push_back(std::move(a));
  }
  return out;
}

std::u32string::size_type clampCaret(std::uint32_t caret, std::size_t length) {
  return std::min<std::size_t>(caret, length);
}

}  // namespace

bool Alphabet::contains(char32_t c) const {
  return std::find(chars.begin(), chars.end(), c) != chars.end();
}

const Alphabet& mixedAlphabet() {
  static const Alphabet kMixed = makeMixed();
  return kMixed;
}

const Alphabet& replicaAlphabet(std::size_t replica) {
  static const std::vector<Alphabet> kPerReplica = makePerReplica();
  return kPerReplica.at(replica % kPerReplica.size());
}

std::u32string randomText(Rng& rng, const Alphabet& alphabet, std::size_t codePoints) {
  std::u32string out;
  out.reserve(codePoints);
  for (std::size_t i = 0; i < codePoints; ++i) {
    out.push_back(alphabet.chars[rng.below(static_cast<std::uint32_t>(alphabet.chars.size()))]);
  }
  return out;
}

std::string randomLocalEdit(Rng& rng, EditingReplica& r, const Alphabet& alphabet,
                            const EditMix& mix) {
  const auto length = static_cast<std::uint32_t>(r.mirror.size());
  const bool atCaret = rng.chance(mix.continueShare);
  std::uint32_t pos = atCaret ? static_cast<std::uint32_t>(clampCaret(r.caret, length))
                              : rng.between(0, length);
  if (length == 0 || rng.chance(mix.insertShare)) {
    std::size_t n = 1;
    const double kind = static_cast<double>(rng.below(1000)) / 1000.0;
    if (kind < mix.pasteShare && length < mix.maxLength) {
      n = rng.between(mix.pasteMin, mix.pasteMax);
    } else if (kind < mix.pasteShare + mix.wordShare) {
      n = rng.between(2, 12);
    }
    const std::u32string text = randomText(rng, alphabet, n);
    auto result = r.doc.insert(pos, toUtf8(text));
    if (!result) return "insert(" + std::to_string(pos) + ", " + std::to_string(n) +
                        " code points): " + result.error().toString();
    r.mirror.insert(pos, text);
    r.caret = pos + static_cast<std::uint32_t>(n);
    return {};
  }
  std::uint32_t count = 1;
  if (rng.chance(mix.rangeDeleteShare)) {
    count = rng.between(1, std::max<std::uint32_t>(1, std::min(length, mix.maxRangeDelete)));
  }
  if (atCaret && count == 1 && pos > 0) {
    --pos;  // backspace
  }
  if (pos >= length) pos = length - 1;
  count = std::min(count, length - pos);
  auto result = r.doc.remove(pos, count);
  if (!result) return "remove(" + std::to_string(pos) + ", " + std::to_string(count) +
                      "): " + result.error().toString();
  r.mirror.erase(pos, count);
  r.caret = pos;
  return {};
}

}  // namespace quire::test
