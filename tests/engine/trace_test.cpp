// Real editing traces (../shared/traces/README.md) replayed through the engine: sequential traces
// as local edits, the concurrent one by fork and merge. Each result must equal the trace's
// endContent and survive both encodings. The folder comes from env QUIRE_TRACES (ctest sets it).
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "app/trace/trace_file.h"
#include "app/trace/trace_replay.h"
#include "engine/document.h"
#include "tests/support/test_util.h"

using quire::engine::Document;
using quire::engine::VersionVector;
using quire::trace::Trace;
using quire::trace::TracePatch;
using quire::trace::TraceTxn;
using namespace quire::test;

namespace {

// The traces folder, or a test failure naming where it looked.
std::string requireTracesDir() {
  const char* env = std::getenv("QUIRE_TRACES");
  const std::string dir = env != nullptr ? env : "";
  std::error_code ec;
  if (dir.empty() || !std::filesystem::is_directory(dir, ec)) {
    FAIL("trace directory not found: looked in "
         << (dir.empty() ? std::string("(QUIRE_TRACES is unset)") : dir)
         << " (set QUIRE_TRACES or -DQUIRE_TRACES_DIR)");
  }
  return dir;
}

std::vector<Trace> loadTraces(bool concurrent) {
  const std::string dir = requireTracesDir();
  std::vector<Trace> out;
  for (const std::string& path : quire::trace::findTraces(dir)) {
    auto t = quire::trace::loadTrace(path);
    INFO(path);
    REQUIRE(errorOf(t) == "");
    if (t->concurrent == concurrent) out.push_back(std::move(*t));
  }
  INFO("traces folder " << dir);
  REQUIRE_FALSE(out.empty());
  return out;
}

// The replayed document equals the trace's end, and both encodings give it back.
void checkReplayed(const Trace& trace, const Document& doc) {
  INFO("trace " << trace.name << " (" << trace.editCount() << " edits)");
  REQUIRE(doc.text() == trace.endContent);
  CHECK(doc.length() == toU32(trace.endContent).size());
  CHECK(doc.checkInvariants() == "");
  CHECK(doc.pendingOpCount() == 0);

  const auto history = doc.encodeHistory();
  auto decoded = Document::decodeHistory(history, replicaId(0xD0));
  REQUIRE(errorOf(decoded) == "");
  CHECK(decoded->text() == trace.endContent);
  CHECK(decoded->version() == doc.version());
  CHECK(decoded->checkInvariants() == "");

  Document rebuilt(replicaId(0xD1));
  auto applied = rebuilt.applyUpdate(doc.encodeUpdateSince(VersionVector{}));
  REQUIRE(errorOf(applied) == "");
  CHECK(rebuilt.text() == trace.endContent);
  CHECK(rebuilt.version() == doc.version());
  CHECK(rebuilt.pendingOpCount() == 0);
  CHECK(rebuilt.checkInvariants() == "");
  std::u32string mirror;
  auto problem = applyPatches(mirror, *applied);
  CHECK(problem.value_or("") == "");
  CHECK(toUtf8(mirror) == trace.endContent);
}

Trace tinyTrace(std::vector<TracePatch> patches) {
  Trace t;
  t.name = "tiny";
  t.startContent = "abc";
  t.endContent = "abcx";
  t.txns.push_back(TraceTxn{{}, 0, {TracePatch{3, 0, "x"}}});
  t.txns.push_back(TraceTxn{{0}, 0, std::move(patches)});
  return t;
}

}  // namespace

TEST_CASE("every sequential trace replays as local edits to its endContent",
          "[engine][traces][slow]") {
  for (const Trace& trace : loadTraces(false)) {
    auto doc = quire::trace::replaySequential(trace);
    INFO("trace " << trace.name);
    REQUIRE(errorOf(doc) == "");
    checkReplayed(trace, *doc);
  }
}

TEST_CASE("the concurrent trace replays by fork and merge to its endContent",
          "[engine][traces][slow]") {
  for (const Trace& trace : loadTraces(true)) {
    auto doc = quire::trace::replayConcurrent(trace);
    INFO("trace " << trace.name);
    REQUIRE(errorOf(doc) == "");
    checkReplayed(trace, *doc);
  }
}

TEST_CASE("replaying a trace with a position past the text fails with an error", "[engine]") {
  SECTION("a valid tiny trace replays") {
    const Trace ok = tinyTrace({TracePatch{0, 1, "A"}});
    auto doc = quire::trace::replaySequential(ok);
    REQUIRE(errorOf(doc) == "");
    CHECK(doc->text() == "Abcx");
  }
  SECTION("insert past the end") {
    const Trace bad = tinyTrace({TracePatch{0, 0, "y"}, TracePatch{6, 0, "z"}});
    auto doc = quire::trace::replaySequential(bad);
    REQUIRE_FALSE(doc.has_value());
    CHECK(doc.error().code() == quire::Error::Code::InvalidArgument);
    INFO(doc.error().toString());
    CHECK(doc.error().message().find("txn 1 patch 1") != std::string::npos);
  }
  SECTION("delete running past the end") {
    const Trace bad = tinyTrace({TracePatch{2, 5, ""}});
    auto doc = quire::trace::replaySequential(bad);
    REQUIRE_FALSE(doc.has_value());
    CHECK(doc.error().code() == quire::Error::Code::InvalidArgument);
  }
  SECTION("the same through the concurrent replay") {
    Trace bad = tinyTrace({TracePatch{99, 0, "z"}});
    bad.concurrent = true;
    auto doc = quire::trace::replayConcurrent(bad);
    REQUIRE_FALSE(doc.has_value());
    INFO(doc.error().toString());
    CHECK(doc.error().message().find("txn 1") != std::string::npos);
  }
}
