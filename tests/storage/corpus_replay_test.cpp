// Replays every file of the storage fuzz targets' corpora (tests/fuzz/corpus/<target>/: seeds
// written by quire-fuzz-seeds from the traces, plus every crasher found) through the same check
// the libFuzzer target runs (tests/fuzz/checks_*.h). Each corpus must hold at least one file, so
// a replay never silently checks nothing. Tagged [fuzz] so the sanitizer stage runs it.
#include <cstdint>
#include <string>

#include <catch2/catch.hpp>

#include "tests/fuzz/checks_storage.h"
#include "tests/fuzz/checks_engine.h"
#include "tests/fuzz/corpus_files.h"
#include "tests/fuzz/corpus_replay.h"

using quire::fuzz::replayCorpus;

TEST_CASE("every file in the stored_row_fuzz corpus decodes or is rejected safely", "[storage][fuzz]") {
  replayCorpus("stored_row_fuzz", &quire::fuzz::checkStoredRowInput);
}

TEST_CASE("every file in the import_text_fuzz corpus decodes or is rejected safely", "[storage][fuzz]") {
  replayCorpus("import_text_fuzz", &quire::fuzz::checkImportTextInput);
}
