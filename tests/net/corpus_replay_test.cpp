// Replays every file of the net fuzz targets' corpora (tests/fuzz/corpus/<target>/: seeds
// written by quire-fuzz-seeds from the traces, plus every crasher found) through the same check
// the libFuzzer target runs (tests/fuzz/checks_*.h). Each corpus must hold at least one file, so
// a replay never silently checks nothing. Tagged [fuzz] so the sanitizer stage runs it.
#include <cstdint>
#include <string>

#include <catch2/catch.hpp>

#include "tests/fuzz/checks_net.h"
#include "tests/fuzz/corpus_files.h"

namespace {

using Check = const char* (*)(const std::uint8_t*, std::size_t);

void replay(const char* target, Check check) {
  const auto files = quire::fuzz::corpusFiles(target);
  INFO("corpus " << (quire::fuzz::corpusRoot() / target).string());
  REQUIRE_FALSE(files.empty());
  int failures = 0;
  for (const auto& f : files) {
    const char* problem = check(f.bytes.data(), f.bytes.size());
    if (problem != nullptr && ++failures <= 20) FAIL_CHECK(f.name << ": " << problem);
  }
  CHECK(failures == 0);
  SUCCEED("replayed " << files.size() << " files of " << target);
}

}  // namespace

TEST_CASE("every file in the frame_message_fuzz corpus decodes or is rejected safely", "[net][frame][fuzz]") {
  replay("frame_message_fuzz", &quire::fuzz::checkFrameMessageInput);
}

TEST_CASE("every file in the frame_fuzz corpus decodes or is rejected safely", "[net][frame][fuzz]") {
  replay("frame_fuzz", &quire::fuzz::checkFrameInput);
}

TEST_CASE("every file in the share_link_fuzz corpus decodes or is rejected safely", "[net][link][fuzz]") {
  replay("share_link_fuzz", &quire::fuzz::checkShareLinkInput);
}
