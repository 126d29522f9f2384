// Damaged database files: truncated or bit-flipped copies give an Error or a readable subset,
// never a crash; a damaged document does not take the others with it.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <unistd.h>

#include "engine/document.h"
#include "storage/document_store.h"
#include "tests/support/test_util.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using quire::Error;
using quire::engine::Document;
using quire::storage::DocumentId;
using quire::storage::DocumentStore;

namespace {

using quire::test::TempDir;

std::vector<char> readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void writeAll(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

struct Fixture {
  std::vector<DocumentId> ids;
  std::vector<std::string> texts;
  std::vector<std::vector<std::uint8_t>> snapshots;  // as compaction stored them (empty: none)
};

// A database of three documents (two compacted with a tail, one tail only), checkpointed into
// the main file by closing it.
Fixture buildDatabase(const std::string& path) {
  Fixture f;
  auto store = DocumentStore::open(path).value();
  quire::test::Rng rng(42);
  for (int d = 0; d < 3; ++d) {
    auto id = store->create("doc " + std::to_string(d)).value();
    Document doc(store->device().replica);
    std::string body;
    for (int i = 0; i < 3000; ++i) body += static_cast<char>('a' + rng.below(26));
    REQUIRE(doc.insert(0, body));
    REQUIRE(store->append(id, doc.encodeUpdateSince({}), &doc));
    std::vector<std::uint8_t> snapshot;
    if (d != 2) {
      REQUIRE(store->compact(id, doc));
      snapshot = doc.encodeHistory();
    }
    for (int k = 0; k < 20; ++k) {
      const auto before = doc.nextLv();
      REQUIRE(doc.insert(rng.below(doc.length()), std::string(1, static_cast<char>('A' + k))));
      REQUIRE(store->append(id, doc.encodeOpsSince(before), &doc));
    }
    f.ids.push_back(id);
    f.texts.push_back(doc.text());
    f.snapshots.push_back(std::move(snapshot));
  }
  return f;
}

// Everything a person can do with a damaged file; each call must return, value or Error.
// Returns how many documents loaded with their exact text.
int exercise(const std::string& path, const Fixture& f, std::vector<Error>& errors) {
  auto store = DocumentStore::open(path);
  if (!store) {
    errors.push_back(store.error());
    return 0;
  }
  int intact = 0;
  if (auto docs = (*store)->list(); !docs) errors.push_back(docs.error());
  for (std::size_t i = 0; i < f.ids.size(); ++i) {
    auto doc = (*store)->load(f.ids[i]);
    if (!doc) {
      errors.push_back(doc.error());
      std::vector<Error> skipped;
      auto salvaged = (*store)->loadSkippingDamaged(f.ids[i], skipped);
      if (!salvaged) errors.push_back(salvaged.error());
      continue;
    }
    if (doc->text() == f.texts[i]) ++intact;
  }
  (void)(*store)->testIntegrityCheck();
  return intact;
}

}  // namespace

TEST_CASE("a truncated database gives an error or a readable subset, never a crash",
          "[storage][damage]") {
  TempDir dir("quire-damage");
  const auto good = dir.file("good.db");
  const Fixture f = buildDatabase(good);
  REQUIRE_FALSE(fs::exists(good + "-wal"));  // closed: everything is in the main file
  const auto bytes = readAll(good);
  REQUIRE(bytes.size() > 8192);

  int corruptErrors = 0;
  for (std::size_t cut :
       {std::size_t{1}, std::size_t{16}, std::size_t{99}, std::size_t{100}, std::size_t{1000},
        std::size_t{4096}, std::size_t{4097}, std::size_t{8192}, bytes.size() / 2,
        bytes.size() - 4096, bytes.size() - 1}) {
    INFO("cut at " << cut << " of " << bytes.size());
    const auto path = dir.file("cut" + std::to_string(cut) + ".db");
    writeAll(path,
             std::vector<char>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut)));
    std::vector<Error> errors;
    exercise(path, f, errors);
    for (const auto& e : errors) {
      CHECK_THAT(e.message(), Catch::StartsWith("storage: "));
      if (e.code() == Error::Code::Corrupt) ++corruptErrors;
    }
  }
  CHECK(corruptErrors > 0);
}

TEST_CASE("a database with a bad header says it is not a database", "[storage][damage]") {
  TempDir dir("quire-damage");
  const auto path = dir.file("bad.db");
  const Fixture f = buildDatabase(path);
  auto bytes = readAll(path);
  bytes[3] ^= 0x20;  // "SQLite format 3" magic
  writeAll(path, bytes);
  auto store = DocumentStore::open(path);
  REQUIRE_FALSE(store);
  CHECK(store.error().code() == Error::Code::Corrupt);
  CHECK_THAT(store.error().message(),
             Catch::Contains("storage: open " + path) && Catch::Contains("not a database"));
}

TEST_CASE("a bit-flipped database gives an error or a readable subset, never a crash",
          "[storage][damage]") {
  TempDir dir("quire-damage");
  const auto good = dir.file("good.db");
  const Fixture f = buildDatabase(good);
  const auto bytes = readAll(good);
  const std::size_t pageSize = 4096;
  const std::size_t pages = bytes.size() / pageSize;
  quire::test::Rng rng(quire::test::testSeed(7));
  int opened = 0;
  for (std::size_t page = 0; page < pages; ++page) {
    for (int trial = 0; trial < 4; ++trial) {
      auto damaged = bytes;
      const int flips = 1 + static_cast<int>(rng.below(8));
      for (int k = 0; k < flips; ++k) {
        const std::size_t at = page * pageSize + rng.below(static_cast<std::uint32_t>(pageSize));
        damaged[at] = static_cast<char>(damaged[at] ^ (1u << rng.below(8)));
      }
      INFO("page " << page << " trial " << trial);
      const auto path = dir.file("flip.db");
      fs::remove(path);
      fs::remove(path + "-wal");
      fs::remove(path + "-shm");
      writeAll(path, damaged);
      std::vector<Error> errors;
      exercise(path, f, errors);
      for (const auto& e : errors) CHECK_THAT(e.message(), Catch::StartsWith("storage: "));
      if (errors.empty() || errors.front().message().find("open") == std::string::npos) ++opened;
    }
  }
  CHECK(opened > 0);
}

TEST_CASE("a damaged snapshot of one document leaves the others readable", "[storage][damage]") {
  TempDir dir("quire-damage");
  const auto path = dir.file("quire.db");
  const Fixture f = buildDatabase(path);
  auto bytes = readAll(path);
  // Find a stretch of document 0's stored snapshot that occurs once in the file; invert it.
  const auto& h = f.snapshots[0];
  const std::string hay(bytes.begin(), bytes.end());
  bool damaged = false;
  for (std::size_t window = h.size() / 2; window + 32 <= h.size() && !damaged; window += 16) {
    const std::string needle(reinterpret_cast<const char*>(h.data()) + window, 32);
    const auto at = hay.find(needle);
    if (at != std::string::npos && hay.find(needle, at + 1) == std::string::npos) {
      for (std::size_t k = 0; k < 32; ++k) bytes[at + k] = static_cast<char>(~bytes[at + k]);
      damaged = true;
    }
  }
  REQUIRE(damaged);
  writeAll(path, bytes);

  auto store = DocumentStore::open(path);
  REQUIRE(store);
  auto first = (*store)->load(f.ids[0]);
  INFO("damaged snapshot: " << (first ? "loaded, text " + std::string(first->text() == f.texts[0]
                                                                          ? "intact"
                                                                          : "changed")
                                      : first.error().toString()));
  if (!first) {
    CHECK(first.error().code() == Error::Code::Corrupt);
    CHECK_THAT(first.error().message(), Catch::Contains(f.ids[0].toHex().substr(0, 8)));
    std::vector<Error> skipped;
    auto salvaged = (*store)->loadSkippingDamaged(f.ids[0], skipped);
    REQUIRE(salvaged);
    CHECK_FALSE(skipped.empty());
  }
  for (std::size_t i = 1; i < f.ids.size(); ++i) {
    auto doc = (*store)->load(f.ids[i]);
    INFO((doc ? std::string() : doc.error().toString()));
    REQUIRE(doc);
    CHECK(doc->text() == f.texts[i]);
  }
  CHECK((*store)->list()->size() == 3);
}
