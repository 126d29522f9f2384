// Replays every file of the net fuzz targets' corpora (tests/fuzz/corpus/<target>/: seeds
// written by quire-fuzz-seeds from the traces, plus every crasher found) through the same check
// the libFuzzer target runs (tests/fuzz/checks_*.h). Each corpus must hold at least one file, so
// a replay never silently checks nothing. Tagged [fuzz] so the sanitizer stage runs it.
#include <cstdint>
#include <string>

#include <catch2/catch.hpp>

#include "tests/fuzz/checks_net.h"
#include "tests/fuzz/corpus_files.h"
#include "tests/fuzz/corpus_replay.h"

using quire::fuzz::replayCorpus;

TEST_CASE("every file in the frame_message_fuzz corpus decodes or is rejected safely", "[net][frame][fuzz]") {
  replayCorpus("frame_message_fuzz", &quire::fuzz::checkFrameMessageInput);
}

TEST_CASE("every file in the frame_fuzz corpus decodes or is rejected safely", "[net][frame][fuzz]") {
  replayCorpus("frame_fuzz", &quire::fuzz::checkFrameInput);
}

TEST_CASE("every file in the share_link_fuzz corpus decodes or is rejected safely", "[net][link][fuzz]") {
  replayCorpus("share_link_fuzz", &quire::fuzz::checkShareLinkInput);
}
