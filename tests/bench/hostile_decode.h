// `quire-bench hostile`, decoding: each input (a fuzz corpus file or a crafted attack) is decoded
// the way a peer decodes it, in a forked child process under an address-space limit and a
// timeout, so a decoder that allocates gigabytes or runs for minutes costs a figure, not the
// machine. The child times the decode (heap counting off) and measures its peak heap (counting
// on, heap_counter.h's peak mode) and the bytes zstd really produced (hostile_zstd_meter.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "net/crypto.h"

namespace quire::bench {

// What a peer does with the bytes.
enum class HostileDecoder {
  Update,         // Document::applyUpdate on a copy of the target document
  History,        // Document::decodeHistory
  Frame,          // net::decodeFrame under the bench key, then what the message carries
  Message,        // net::decodeMessage, then what the message carries (an update is applied to
                  // the target document, a snapshot's history decoded)
  VersionVector,  // VersionVector::decode
  Link,           // net::parseShareLink
  StoredRows,     // a stored document's rows (tests/fuzz/checks_engine.h, stored_row kind 3):
                  // the snapshot decoded, then each tail row applied, damaged ones skipped
};

const char* decoderName(HostileDecoder decoder);

struct DecodeCase {
  std::string name;  // "corpus update_fuzz/FILE" or "crafted: ..."
  HostileDecoder decoder = HostileDecoder::Update;
  std::vector<std::uint8_t> bytes;
  // Update (and a message carrying one): the target document is an empty one, or the fuzz
  // targets' base document (tests/fuzz/fuzz_common.h), then `baseUpdate` applied, untimed.
  std::vector<std::uint8_t> baseUpdate;
  bool onFuzzBase = false;
  // Update: applied on a stream context that already names one agent (update_fuzz's *.stream).
  bool withFuzzStream = false;
};

struct DecodeLimitsForBench {
  int runs = 5;                   // timed decodes per input (fewer if one is slow)
  int timeoutMs = 60'000;         // per input, child killed after this
  int timedBudgetMs = 5'000;      // no further timed decode starts after this much timing
  std::uint64_t addressSpaceBytes = 4ull << 30;  // RLIMIT_AS headroom above the parent's size
};

struct DecodeFigures {
  std::string name;
  HostileDecoder decoder = HostileDecoder::Update;
  std::string verdict;            // "accepted", "rejected: ...", "timed out ...", "died ..."
  bool finished = false;          // the child reported (no timeout, no crash)
  double ms = 0, msMin = 0, msMax = 0;  // median, min, max of the timed decodes
  int timedRuns = 0;
  std::uint64_t inputBytes = 0;
  std::uint64_t zstdBytes = 0;    // bytes zstd produced during one decode
  std::uint64_t decodedBytes = 0; // max(input, zstd produced), at least 1
  std::int64_t peakBytes = 0;     // peak heap above the start of the decode (or RSS growth)
  bool peakFromRss = false;       // the child did not report: peak from its VmHWM, a lower bound
  // The decode's peak RSS above its start (VmHWM after /proc/self/clear_refs), malloc included
  // (zstd); page-granular and only what was touched. -1 if the peak could not be reset.
  std::int64_t peakRssGrowth = -1;
};

// Decodes `c` in a child process. Never fails: a crash or timeout is a verdict.
DecodeFigures measureDecode(const DecodeCase& c, const DecodeLimitsForBench& limits);

// The key the Frame decoder opens with, the crafted frames are sealed with, and the frame_fuzz
// corpus assumes: bytes 00 01 .. 1f (tests/fuzz/frame_fuzz.cpp's).
net::DocKey hostileFrameKey();

}  // namespace quire::bench
