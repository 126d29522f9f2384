// Replays every file of the engine fuzz targets' corpora (tests/fuzz/corpus/<target>/: seeds
// written by quire-fuzz-seeds from the traces, plus every crasher found) through the same check
// the libFuzzer target runs (tests/fuzz/checks_*.h). Each corpus must hold at least one file, so
// a replay never silently checks nothing. Tagged [fuzz] so the sanitizer stage runs it.
#include <cstdint>
#include <string>

#include <catch2/catch.hpp>

#include "tests/fuzz/checks_engine.h"
#include "tests/fuzz/corpus_files.h"
#include "tests/fuzz/corpus_replay.h"

using quire::fuzz::replayCorpus;

TEST_CASE("every file in the update_fuzz corpus decodes or is rejected safely", "[engine][format][fuzz]") {
  replayCorpus("update_fuzz", &quire::fuzz::checkUpdateInput);
}

TEST_CASE("every file in the history_fuzz corpus decodes or is rejected safely", "[engine][format][fuzz]") {
  replayCorpus("history_fuzz", &quire::fuzz::checkHistoryInput);
}

TEST_CASE("every file in the version_vector_fuzz corpus decodes or is rejected safely", "[engine][format][fuzz]") {
  replayCorpus("version_vector_fuzz", &quire::fuzz::checkVersionVectorInput);
}

TEST_CASE("every fuzz corpus directory is one that a corpus replay reads", "[engine][fuzz]") {
  // A corpus directory no replay knows of would be checked by nothing: name it in
  // kCorpusTargets (tests/fuzz/corpus_files.h) and replay it in its suite.
  std::error_code ec;
  std::size_t dirs = 0;
  for (const auto& e : std::filesystem::directory_iterator(quire::fuzz::corpusRoot(), ec)) {
    if (!e.is_directory()) continue;
    ++dirs;
    const std::string name = e.path().filename().string();
    INFO("corpus directory " << name);
    bool known = false;
    for (const auto& [target, suite] : quire::fuzz::kCorpusTargets) known |= target == name;
    CHECK(known);
  }
  REQUIRE_FALSE(ec);
  CHECK(dirs == quire::fuzz::kCorpusTargets.size());
}
