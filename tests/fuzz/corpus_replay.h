// The Catch2 side of a corpus replay, shared by tests/{engine,net,storage}/corpus_replay_test.cpp:
// every file of corpus/<target>/ through the fuzz target's own check; an empty corpus fails.
#pragma once

#include <cstdint>

#include <catch2/catch.hpp>

#include "tests/fuzz/corpus_files.h"

namespace quire::fuzz {

using CorpusCheck = const char* (*)(const std::uint8_t*, std::size_t);

inline void replayCorpus(const char* target, CorpusCheck check) {
  const auto files = corpusFiles(target);
  INFO("corpus " << (corpusRoot() / target).string());
  REQUIRE_FALSE(files.empty());
  int failures = 0;
  for (const auto& f : files) {
    const char* problem = check(f.bytes.data(), f.bytes.size());
    if (problem != nullptr && ++failures <= 20) FAIL_CHECK(f.name << ": " << problem);
  }
  CHECK(failures == 0);
  SUCCEED("replayed " << files.size() << " files of " << target);
}

}  // namespace quire::fuzz
