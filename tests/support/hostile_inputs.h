// Crafted attack inputs for the hostile-bytes work (issue 12): engine bytes that a peer holding
// the link could send, each built to hit one weakness a decoder may have (a stated size it
// trusts, a counter it does not check, a count that makes it scan, a cut it does not notice).
// Pure functions of their arguments; the byte formats are engine/FORMAT.md's. Shared by
// `quire-bench hostile` and the multi-process tests; the sealed-frame forms of these inputs are
// in hostile_frames.h (which needs quire_net). Test-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/ids.h"

namespace quire::test::hostile {

// The decompressed size a bomb states and really expands to: 1 GiB.
inline constexpr std::uint64_t kBombBodyBytes = 1ull << 30;
// The body size a lying bomb's header states (its zstd frame states none, and expands to 1 GiB).
inline constexpr std::uint64_t kLyingBombStatedBytes = 64u << 10;
inline constexpr std::uint32_t kManyAuthors = 100'000;
// The first seq of the overflowing run and its length: seq + len passes 2^32 - 1.
inline constexpr std::uint32_t kOverflowSeq = 0xFFFFFFF0u;
inline constexpr std::uint32_t kOverflowLen = 100;
// The character every crafted insert types, which honest typists in the bench never use.
inline constexpr char kAttackChar = '~';

// A replica id drawn from `seed` (splitmix64), never all zeros.
engine::ReplicaId attackerReplica(std::uint64_t seed);

// `n` bytes of seeded pseudo-random garbage (splitmix64).
std::vector<std::uint8_t> garbageBytes(std::size_t n, std::uint64_t seed);

// One zstd frame (RFC 8878) that decompresses to `contentBytes` zero bytes, built by hand from RLE
// blocks (4 bytes per 128 KiB), so a 1 GiB bomb costs ~32 KiB and no time to make. If
// `statesSize`, the frame header states the content size (single segment); otherwise it states
// only a 128 KiB window and no size, so a decoder learns the size only by decompressing.
std::vector<std::uint8_t> zeroZstdFrame(std::uint64_t contentBytes, bool statesSize);

// (a) A decompression bomb: a valid 'QHST' version 1 header whose body-size field and zstd
// frame both state `bodyBytes`, and whose frame really expands to that many zero bytes (a body
// that is malformed once parsed: zero agents, zero runs, empty columns, then zeros left over).
std::vector<std::uint8_t> bombHistory(std::uint64_t bodyBytes = kBombBodyBytes);
// (a') A lying bomb: the header's body-size says kLyingBombStatedBytes, the zstd frame states no
// size and expands to `realBytes` zeros. Only a decoder that stops at the stated size (or its
// cap) while streaming is safe.
std::vector<std::uint8_t> lyingBombHistory(std::uint64_t realBytes = kBombBodyBytes);

// (b) Counter overflow. A self-contained update whose one insert run starts at seq kOverflowSeq
// with kOverflowLen characters: seq + len passes 2^32.
std::vector<std::uint8_t> seqOverflowUpdate();
// An insert run that ends exactly at seq 2^32 - 1 (in range, but its earlier seqs never come: it
// can only wait for dependencies).
std::vector<std::uint8_t> seqAtLimitUpdate();
// The document-wide op counter (the next LV) past 2^32 in one update of ~0.8 MB: one author
// inserts `width` characters, then other authors delete those same characters again and again
// (a delete of a deleted character is a legal concurrent delete) in runs of `width` ops, until
// the ops add up to 2^32 + width. REQUIRES: 2 <= width <= 2^20.
std::vector<std::uint8_t> lvOverflowUpdate(std::uint32_t width = 1u << 16);
// The number of ops lvOverflowUpdate(width) carries (inserts and deletes).
std::uint64_t lvOverflowOpCount(std::uint32_t width = 1u << 16);

// (c) `authors` agent definitions in one update, each followed by one kAttackChar inserted after
// the previous author's (a chain to the document end), authors seeded by `seed`.
std::vector<std::uint8_t> manyAuthorsUpdate(std::uint32_t authors = kManyAuthors,
                                            std::uint64_t seed = 1);

// (d) Deep nesting, as far as the update format nests: a dependency chain of `depth` one-character
// inserts by one author, each chained to the one before, sent deepest first (seq depth-1 first,
// seq 0 last), so a decoder that orders runs by rescanning makes `depth` passes.
std::vector<std::uint8_t> reversedChainUpdate(std::uint32_t depth = 20'000);
// (d) The same chain without its root (seq 0 never comes): every run must wait for the one
// before it. Past Document::kMaxPendingRuns (65,536) waiting runs the update is refused whole.
std::vector<std::uint8_t> orphanChainUpdate(std::uint32_t depth = 70'000);
// (d) A self-contained update of `records` one-character inserts (one author), cut after
// `keepBytes` bytes (the record count still announces them all).
std::vector<std::uint8_t> truncatedUpdate(std::uint32_t records = 4096, std::size_t keepBytes = 9000);
// (d) A real history (a few thousand typed characters with deletions) cut to half its bytes.
std::vector<std::uint8_t> truncatedHistory();
// (d) A self-contained update with one insert of `chars` ASCII kAttackChar characters (the body
// of a 64 MiB frame).
std::vector<std::uint8_t> bigInsertUpdate(std::size_t chars);

// (e) A forged duplicate. honestUpdate() is replica 0x01..'s "hello" (seqs 0-4); the forgery
// names the same replica and seqs 0-4 with the 5-byte ASCII `text`. With "jello" it loses to
// the honest version on every copy ("j" sorts after "h": engine FORMAT.md, "Forks"), with
// "HELLO" it wins.
engine::ReplicaId honestReplica();
std::vector<std::uint8_t> honestUpdate();
std::vector<std::uint8_t> forgedDuplicateUpdate(std::string_view text = "jello");

// (f) Garbage behind a valid update header: 'Q', version 1, then `n` seeded random bytes.
std::vector<std::uint8_t> garbageUpdate(std::size_t n, std::uint64_t seed);

}  // namespace quire::test::hostile
