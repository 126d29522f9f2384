// Import and export: UTF-8 text only, refused with a reason otherwise; export is atomic.
#include "storage/file_io.h"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/document.h"
#include "storage/document_store.h"
#include "tests/support/test_util.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using quire::Error;
using quire::storage::DocumentStore;

namespace {

using quire::test::TempDir;

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void writeAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

TEST_CASE("importing a UTF-8 file makes a document with its text and name", "[storage][files]") {
  TempDir dir("quire-files");
  auto store = DocumentStore::open(dir.file("quire.db")).value();
  const std::string text =
      "# Notes\n\nGr\xC3\xBC\xC3\x9F"
      "e \xF0\x9F\x98\x80 \xE6\x97\xA5\xE6\x9C\xAC\n";
  writeAll(dir.file("notes.md"), "\xEF\xBB\xBF" + text);  // a byte order mark is dropped
  auto id = store->importFile(dir.file("notes.md"));
  INFO((id ? std::string() : id.error().toString()));
  REQUIRE(id);
  CHECK(store->info(*id)->title == "notes");
  CHECK(store->load(*id)->text() == text);
  auto titled = store->importFile(dir.file("notes.md"), "Custom");
  REQUIRE(titled);
  CHECK(store->info(*titled)->title == "Custom");

  writeAll(dir.file("empty.txt"), "");
  auto empty = store->importFile(dir.file("empty.txt"));
  REQUIRE(empty);
  CHECK(store->load(*empty)->text().empty());
}

TEST_CASE("importing a large text file works", "[storage][files]") {
  TempDir dir("quire-files");
  auto store = DocumentStore::open(dir.file("quire.db")).value();
  std::string big;
  quire::test::Rng rng(1);
  while (big.size() < (1u << 20)) {
    big += static_cast<char>('a' + rng.below(26));
    if (rng.chance(0.15)) big += rng.chance(0.1) ? '\n' : ' ';
  }
  writeAll(dir.file("big.txt"), big);
  auto id = store->importFile(dir.file("big.txt"));
  INFO((id ? std::string() : id.error().toString()));
  REQUIRE(id);
  CHECK(store->load(*id)->text() == big);
  CHECK(store->info(*id)->tailRows == 0);  // stored as a snapshot
}

TEST_CASE("importing a binary or non-UTF-8 file is refused with a message", "[storage][files]") {
  TempDir dir("quire-files");
  auto store = DocumentStore::open(dir.file("quire.db")).value();
  SECTION("a NUL byte means binary") {
    writeAll(dir.file("image.png"), std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
    auto r = store->importFile(dir.file("image.png"));
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Error::Code::InvalidArgument);
    CHECK_THAT(r.error().message(), Catch::Contains("image.png") && Catch::Contains("binary") &&
                                        Catch::Contains("offset 8"));
  }
  SECTION("Latin-1 is not UTF-8") {
    writeAll(dir.file("latin1.txt"), "caf\xE9 au lait");
    auto r = store->importFile(dir.file("latin1.txt"));
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message(), Catch::Contains("latin1.txt") &&
                                        Catch::Contains("not valid UTF-8") &&
                                        Catch::Contains("offset 3"));
  }
  SECTION("an encoded surrogate is not UTF-8") {
    writeAll(dir.file("cesu.txt"), "ab\xED\xA0\x80");
    auto r = store->importFile(dir.file("cesu.txt"));
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message(), Catch::Contains("not valid UTF-8"));
  }
  SECTION("a missing file") {
    auto r = store->importFile(dir.file("nope.txt"));
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Error::Code::Io);
    CHECK_THAT(r.error().message(), Catch::Contains("nope.txt"));
  }
  CHECK(store->list()->empty());
}

TEST_CASE("export writes the text, replaces the old file and keeps its mode", "[storage][files]") {
  TempDir dir("quire-files");
  auto store = DocumentStore::open(dir.file("quire.db")).value();
  auto id = store->create("t").value();
  quire::engine::Document doc(store->device().replica);
  REQUIRE(doc.insert(0, "new text \xE2\x9C\x93\n"));
  REQUIRE(store->append(id, doc.encodeUpdateSince({})));
  const auto out = dir.file("out.txt");
  writeAll(out, "old text");
  REQUIRE(::chmod(out.c_str(), 0640) == 0);
  REQUIRE(store->exportFile(id, out));
  CHECK(readAll(out) == "new text \xE2\x9C\x93\n");
  struct stat st {};
  REQUIRE(::stat(out.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  CHECK_FALSE(fs::exists(out + ".tmp"));
}

TEST_CASE("a failed export leaves the old file as it was", "[storage][files]") {
  TempDir dir("quire-files");
  auto store = DocumentStore::open(dir.file("quire.db")).value();
  auto id = store->create("t").value();
  const auto out = dir.file("out.txt");
  writeAll(out, "old text");
  fs::create_directory(out + ".tmp");  // the temporary file cannot be created
  auto r = store->exportFile(id, out);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Error::Code::Io);
  CHECK_THAT(r.error().message(), Catch::Contains("export to " + out));
  CHECK(readAll(out) == "old text");

  auto missingDir = store->exportFile(id, dir.file("no/such/dir.txt"));
  REQUIRE_FALSE(missingDir);
}

TEST_CASE("an export killed at any moment leaves the old content or the new, never a mix",
          "[storage][files][slow]") {
  TempDir dir("quire-files");
  const auto out = dir.file("out.txt");
  const std::string a(1 << 20, 'a');
  const std::string b(1 << 20, 'b');
  writeAll(out, a);
  quire::test::Rng rng(quire::test::testSeed(3));
  for (int round = 0; round < 25; ++round) {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      // Only plain file calls in the child: no Catch, no SQLite.
      for (int i = 0;; ++i) {
        if (!quire::storage::writeFileAtomically(out, i % 2 ? a : b)) ::_exit(2);
      }
    }
    ::usleep(rng.between(0, 30000));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    CHECK(WIFSIGNALED(status));
    const std::string now = readAll(out);
    INFO("round " << round << ": " << now.size() << " bytes");
    CHECK((now == a || now == b));
  }
}
