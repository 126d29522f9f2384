// Replacing a stored history (fork repair): DocumentStore::replaceHistory and
// AppendQueue::replace drop the snapshot's and the tail's ops that the replacement lacks, so the
// rebuilt document loads as it is and the winning versions of the dropped op ids load on top
// (were the losing ops still stored, loading would refuse those as a fork). A failure changes
// nothing.
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include "engine/document.h"
#include "engine/version_vector.h"
#include "storage/append_queue.h"
#include "storage/document_store.h"
#include "storage/fault_vfs.h"
#include "tests/storage/store_test_util.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_util.h"

using quire::Error;
using quire::Result;
using quire::engine::Document;
using quire::storage::AppendQueue;
using quire::storage::DocumentId;
using quire::storage::DocumentStore;
using quire::storage::OpenOptions;
using quire::storage::testing::FaultVfs;
using quire::test::errorOf;
using Bytes = std::vector<std::uint8_t>;

namespace {

using quire::test::FaultGuard;
using quire::test::TempDir;
using quire::test::openStore;
using quire::test::rawInt;
using quire::test::openQueue;
using quire::test::manualCompaction;

// `text` typed at the end of `doc` as one update.
Bytes typed(Document& doc, const std::string& text) {
  const auto before = doc.nextLv();
  REQUIRE(errorOf(doc.insert(doc.length(), text)) == "");
  return doc.encodeOpsSince(before);
}

// `text` typed at the end of `doc`, one keystroke (one appended update) per character.
void typeInto(DocumentStore& store, const DocumentId& id, Document& doc, const std::string& text) {
  for (const char c : text) REQUIRE(errorOf(store.append(id, typed(doc, std::string(1, c)))) == "");
}

Document loaded(DocumentStore& store, const DocumentId& id) {
  auto doc = store.load(id);
  INFO((doc ? std::string() : doc.error().toString()));
  REQUIRE(doc);
  return std::move(*doc);
}

Bytes rawBlob(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(st, 0));
  Bytes v(p, p + sqlite3_column_bytes(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

// Holds the queue's writer thread in the callback of `update` until release(): everything queued
// meanwhile goes into its next transaction, together, in order.
class Hold {
 public:
  Hold(AppendQueue& queue, const DocumentId& id, Bytes update) {
    auto released = m_release.get_future().share();
    queue.append(id, std::move(update), [this, released](Result<void>) {
      m_entered.set_value();
      released.wait();
    });
    m_entered.get_future().wait();  // the writer took that batch and is in its callback
  }
  ~Hold() { release(); }
  Hold(const Hold&) = delete;
  Hold& operator=(const Hold&) = delete;
  void release() {
    if (!m_released) m_release.set_value();
    m_released = true;
  }

 private:
  std::promise<void> m_entered;
  std::promise<void> m_release;
  bool m_released = false;
};

// A stored document whose snapshot (compacted) holds "hello" and whose tail holds " world", one
// row per keystroke; `repaired` is a copy that lacks the snapshot's "lo" and the whole tail (it
// was taken after "hel") and holds a peer's "p" instead: "help". Its next local ops reuse the op
// ids of the dropped "lo world", as a copy rebuilt without a losing version does.
struct Forked {
  std::unique_ptr<DocumentStore> store;
  DocumentId id;
  Document stored;    // what the database holds: "hello world"
  Document repaired;  // the rebuilt copy: "help"
};

Forked makeForked(const std::string& path, OpenOptions options = {}) {
  auto store = openStore(path, manualCompaction(std::move(options)));
  const auto id = store->create("t").value();
  Document doc(store->device().replica);
  typeInto(*store, id, doc, "hel");
  Document repaired = doc;
  typeInto(*store, id, doc, "lo");
  REQUIRE(errorOf(store->compact(id, doc)) == "");
  REQUIRE(store->info(id)->tailRows == 0);
  typeInto(*store, id, doc, " world");
  REQUIRE(store->info(id)->tailRows == 6);

  Document peer(quire::test::replicaId(200));
  REQUIRE(errorOf(peer.applyUpdate(repaired.encodeUpdateSince({}))) == "");
  const auto before = peer.nextLv();
  REQUIRE(errorOf(peer.insert(3, "p")) == "");
  REQUIRE(errorOf(repaired.applyUpdate(peer.encodeOpsSince(before))) == "");
  REQUIRE(repaired.text() == "help");
  REQUIRE(loaded(*store, id).text() == "hello world");
  return Forked{std::move(store), id, std::move(doc), std::move(repaired)};
}

}  // namespace

TEST_CASE("replaceHistory stores exactly the replacement, dropping snapshot and tail ops it lacks",
          "[storage][replace]") {
  TempDir dir("quire-replace");
  const auto path = dir.file("quire.db");
  std::int64_t clock = 1000;
  OpenOptions options;
  options.nowMs = [&clock] { return clock; };
  auto f = makeForked(path, options);
  REQUIRE_FALSE(f.repaired.version().includes(f.stored.version()));

  // compact() cannot do this: it merges the stored snapshot's ops back in (and would then keep
  // nothing of the tail, which the merged snapshot covers).
  clock = 2000;
  REQUIRE(errorOf(f.store->replaceHistory(f.id, f.repaired)) == "");

  const auto doc = loaded(*f.store, f.id);
  CHECK(doc.text() == "help");
  CHECK(doc.version() == f.repaired.version());
  CHECK(doc.pendingOpCount() == 0);
  const auto info = f.store->info(f.id).value();
  CHECK(info.tailRows == 0);
  CHECK(info.editedMs == 2000);
  CHECK(info.storedBytes == f.repaired.encodeHistory().size());
  CHECK(rawInt(path, "SELECT count(*) FROM updates") == 0);
  CHECK(rawInt(path, "SELECT tail_bytes FROM documents") == 0);
  // The snapshot moved backwards: its version is the replacement's, not a merge.
  CHECK(rawBlob(path, "SELECT version FROM snapshots") == f.repaired.version().encode());
  CHECK(rawInt(path, "SELECT through_seq FROM snapshots") == 11);  // the last row it deleted

  // A compaction afterwards has nothing to bring back.
  REQUIRE(errorOf(f.store->compact(f.id, doc)) == "");
  CHECK(loaded(*f.store, f.id).text() == "help");
  CHECK(f.store->testIntegrityCheck() == "ok");
}

TEST_CASE("updates appended after replaceHistory are kept and load on top of it",
          "[storage][replace]") {
  TempDir dir("quire-replace");
  const auto path = dir.file("quire.db");
  auto f = makeForked(path);
  REQUIRE(errorOf(f.store->replaceHistory(f.id, f.repaired)) == "");

  // The repaired copy types on: its ops take the ids of the dropped "lo world", with other
  // text. Stored beside those, loading would refuse them as a fork.
  const auto update = typed(f.repaired, "ful");
  REQUIRE(errorOf(f.store->append(f.id, update)) == "");
  CHECK(f.store->info(f.id)->tailRows == 1);
  auto doc = loaded(*f.store, f.id);
  CHECK(doc.text() == "helpful");
  CHECK(doc.version() == f.repaired.version());

  // The same through a fresh connection, and after a compaction.
  auto fresh = openStore(path, {});
  CHECK(loaded(*fresh, f.id).text() == "helpful");
  REQUIRE(errorOf(fresh->compact(f.id, doc)) == "");
  CHECK(fresh->info(f.id)->tailRows == 0);
  CHECK(loaded(*fresh, f.id).text() == "helpful");

  // Without the replacement, loading refuses the same update: it forks the stored "lo".
  TempDir other("quire-replace");
  auto g = makeForked(other.file("quire.db"));
  REQUIRE(errorOf(g.store->append(g.id, typed(g.repaired, "ful"))) == "");
  auto refused = g.store->load(g.id);
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message(),
             Catch::Contains("update row") && Catch::Contains("is held with a different"));
}

TEST_CASE("replaceHistory of an unknown document or an undecodable history changes nothing",
          "[storage][replace]") {
  TempDir dir("quire-replace");
  const auto path = dir.file("quire.db");
  auto f = makeForked(path);
  const auto before = f.store->info(f.id).value();
  const auto snapshot = rawBlob(path, "SELECT history FROM snapshots");

  DocumentId unknown;
  unknown.bytes.fill(0xEE);
  auto r = f.store->replaceHistory(unknown, f.repaired);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Error::Code::InvalidArgument);
  CHECK_THAT(r.error().message(), Catch::Contains("replace the history of document eeeeeeee"));
  CHECK_THAT(r.error().message(), Catch::Contains("no such document"));

  auto history = f.repaired.encodeHistory();
  history.resize(history.size() / 2);
  r = f.store->replaceHistory(f.id, history);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Error::Code::InvalidArgument);
  CHECK_THAT(r.error().message(), Catch::Contains("does not decode"));

  CHECK(f.store->list()->size() == 1);
  const auto after = f.store->info(f.id).value();
  CHECK(after.tailRows == before.tailRows);
  CHECK(after.storedBytes == before.storedBytes);
  CHECK(after.editedMs == before.editedMs);
  CHECK(rawBlob(path, "SELECT history FROM snapshots") == snapshot);
  const auto doc = loaded(*f.store, f.id);
  CHECK(doc.text() == "hello world");
  CHECK(doc.version() == f.stored.version());
}

TEST_CASE("AppendQueue::replace runs in queue order: earlier appends go, later ones stay",
          "[storage][replace][queue]") {
  TempDir dir("quire-replace");
  const auto path = dir.file("quire.db");
  auto store = openStore(path, manualCompaction());
  const auto id = store->create("t").value();
  auto queue = openQueue(path);
  Document doc(store->device().replica);
  REQUIRE(errorOf(queue->appendAndWait(id, typed(doc, "base "))) == "");
  Document repaired = doc;  // rebuilt without A, below
  const auto a = typed(doc, "AAA");
  const auto b = typed(repaired, "B");  // reuses A's op ids: a fork of A

  struct Outcome {
    std::uint64_t batch = 0;
    std::string error = "not called";
  };
  Outcome outA, outReplace, outB;
  auto record = [&queue](Outcome& out) {
    return [&queue, &out](Result<void> r) {
      out.batch = queue->testBatchCount();
      out.error = errorOf(r);
    };
  };

  const bool oneTransaction = GENERATE(true, false);
  if (oneTransaction) {
    INFO("A, the replacement and B in one transaction");
    Hold hold(*queue, id, typed(doc, "-"));
    queue->append(id, a, record(outA));
    queue->replace(id, repaired.encodeHistory(), record(outReplace));
    queue->append(id, b, record(outB));
    hold.release();
    queue->flush();
    CHECK(outA.batch == outReplace.batch);
    CHECK(outB.batch == outReplace.batch);
  } else {
    INFO("A, the replacement and B in transactions of their own");
    queue->append(id, a, record(outA));
    queue->flush();
    CHECK(loaded(*store, id).text() == "base AAA");
    queue->replace(id, repaired.encodeHistory(), record(outReplace));
    queue->flush();
    queue->append(id, b, record(outB));
    queue->flush();
    CHECK(outA.batch < outReplace.batch);
    CHECK(outReplace.batch < outB.batch);
  }
  CHECK(outA.error == "");
  CHECK(outReplace.error == "");
  CHECK(outB.error == "");

  const auto loadedDoc = loaded(*store, id);
  CHECK(loadedDoc.text() == "base B");
  CHECK(loadedDoc.version() == repaired.version());
  CHECK(store->info(id)->tailRows == 1);
  CHECK(rawInt(path, "SELECT tail_bytes FROM documents") == static_cast<std::int64_t>(b.size()));
  CHECK(rawBlob(path, "SELECT data FROM updates") == b);
  CHECK(store->testIntegrityCheck() == "ok");
}

TEST_CASE("AppendQueue::replace of an unknown document or a bad history fails alone",
          "[storage][replace][queue]") {
  TempDir dir("quire-replace");
  const auto path = dir.file("quire.db");
  auto store = openStore(path, manualCompaction());
  const auto id = store->create("t").value();
  auto queue = openQueue(path);
  Document doc(store->device().replica);
  REQUIRE(errorOf(queue->appendAndWait(id, typed(doc, "abc"))) == "");

  DocumentId unknown;
  unknown.bytes.fill(0xEE);
  std::vector<std::string> errors(4, "not called");
  Hold hold(*queue, id, typed(doc, "d"));
  queue->append(id, typed(doc, "e"), [&](Result<void> r) { errors[0] = errorOf(r); });
  queue->replace(unknown, doc.encodeHistory(), [&](Result<void> r) { errors[1] = errorOf(r); });
  queue->replace(id, Bytes{1, 2, 3}, [&](Result<void> r) { errors[2] = errorOf(r); });
  queue->append(id, typed(doc, "f"), [&](Result<void> r) { errors[3] = errorOf(r); });
  hold.release();
  queue->flush();

  CHECK(errors[0] == "");
  CHECK_THAT(errors[1], Catch::Contains("replace the history of document eeeeeeee") &&
                            Catch::Contains("no such document"));
  CHECK_THAT(errors[2], Catch::Contains("does not decode"));
  CHECK(errors[3] == "");
  CHECK(loaded(*store, id).text() == "abcdef");
  CHECK(store->info(id)->tailRows == 4);
}

TEST_CASE("a failed write during replaceHistory leaves the old history loadable, unchanged",
          "[storage][replace][fault]") {
  FaultGuard guard;
  struct Mode {
    const char* name;
    FaultVfs::Failure failure;
    bool sticky;
  };
  const Mode mode = GENERATE(Mode{"I/O error, sticky", FaultVfs::Failure::IoErr, true},
                             Mode{"I/O error, once", FaultVfs::Failure::IoErr, false},
                             Mode{"disk full, sticky", FaultVfs::Failure::DiskFull, true});
  INFO(mode.name);
  OpenOptions options;
  options.vfs = FaultVfs::install();
  int unchanged = 0;
  for (std::uint64_t n = 1;; ++n) {
    INFO("failing counted write/sync " << n);
    REQUIRE(n < 200);
    TempDir dir("quire-replace");
    const auto path = dir.file("quire.db");
    auto f = makeForked(path, options);
    const auto history = f.repaired.encodeHistory();

    FaultVfs::failNth(n, mode.failure, mode.sticky);
    auto r = f.store->replaceHistory(f.id, history);
    FaultVfs::clear();
    if (r) {
      CHECK_FALSE(FaultVfs::fired());
      CHECK(loaded(*f.store, f.id).text() == "help");
      break;
    }
    CHECK_THAT(r.error().message(),
               Catch::Contains("replace the history of document " + f.id.toHex().substr(0, 8)));
    {
      // A fresh connection through the plain VFS finds the old history whole, snapshot and
      // tail. (A sync that fails after SQLite wrote the commit record may still commit: then
      // it finds the whole replacement instead, never a mix.)
      auto fresh = openStore(path, {});
      CHECK(fresh->testIntegrityCheck() == "ok");
      const auto doc = loaded(*fresh, f.id);
      const auto tailRows = fresh->info(f.id)->tailRows;
      if (doc.text() == "hello world") {
        CHECK(doc.version() == f.stored.version());
        CHECK(tailRows == 6);
        ++unchanged;
      } else {
        CHECK(doc.text() == "help");
        CHECK(doc.version() == f.repaired.version());
        CHECK(tailRows == 0);
      }
    }
    // The same store works once the fault clears.
    REQUIRE(errorOf(f.store->replaceHistory(f.id, history)) == "");
    CHECK(loaded(*f.store, f.id).text() == "help");
    CHECK(f.store->info(f.id)->tailRows == 0);
  }
  CHECK(unchanged >= 2);
}

TEST_CASE("a failed transaction fails AppendQueue::replace and keeps the old history",
          "[storage][replace][queue][fault]") {
  FaultGuard guard;
  TempDir dir("quire-replace");
  const auto path = dir.file("quire.db");
  auto f = makeForked(path);
  OpenOptions options;
  options.vfs = FaultVfs::install();
  auto queue = openQueue(path, options);

  std::promise<Result<void>> result;
  FaultVfs::failNth(1, FaultVfs::Failure::IoErr, true);
  queue->replace(f.id, f.repaired.encodeHistory(),
                 [&result](Result<void> r) { result.set_value(std::move(r)); });
  auto r = result.get_future().get();
  FaultVfs::clear();
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Error::Code::Io);
  CHECK_THAT(r.error().message(),
             Catch::Contains("replace the history of document " + f.id.toHex().substr(0, 8)));
  auto doc = loaded(*f.store, f.id);
  CHECK(doc.text() == "hello world");
  CHECK(doc.version() == f.stored.version());
  CHECK(f.store->info(f.id)->tailRows == 6);

  // Once writing works, the queue goes on: the replacement is stored.
  std::promise<Result<void>> again;
  queue->replace(f.id, f.repaired.encodeHistory(),
                 [&again](Result<void> r) { again.set_value(std::move(r)); });
  CHECK(errorOf(again.get_future().get()) == "");
  CHECK(loaded(*f.store, f.id).text() == "help");
  CHECK(f.store->info(f.id)->tailRows == 0);
}
