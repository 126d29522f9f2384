// AppendQueue: group commit of appended updates on a writer thread. Each update's callback
// comes after its transaction committed; bursts share transactions; a failed transaction fails
// all of its updates and none is half stored; the queue keeps working once the fault clears.
#include "storage/append_queue.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <sqlite3.h>
#include <unistd.h>

#include "engine/document.h"
#include "storage/document_store.h"
#include "storage/fault_vfs.h"
#include "tests/support/test_util.h"
#include "tests/storage/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using quire::Error;
using quire::Result;
using quire::engine::Document;
using quire::storage::AppendQueue;
using quire::storage::DocumentId;
using quire::storage::DocumentStore;
using quire::storage::OpenOptions;
using quire::storage::testing::FaultVfs;
using Clock = std::chrono::steady_clock;
using Bytes = std::vector<std::uint8_t>;

namespace {

using quire::test::FaultGuard;
using quire::test::TempDir;
using quire::test::openStore;
using quire::test::openQueue;

// One keystroke at the end of `doc`, as the update a caller would queue.
Bytes keystroke(Document& doc, char c) {
  const auto before = doc.nextLv();
  REQUIRE(quire::test::errorOf(doc.insert(doc.length(), std::string(1, c))) == "");
  return doc.encodeOpsSince(before);
}

// `n` keystrokes cycling through a..z.
std::vector<Bytes> keystrokes(Document& doc, int n) {
  std::vector<Bytes> out;
  for (int i = 0; i < n; ++i) out.push_back(keystroke(doc, static_cast<char>('a' + i % 26)));
  return out;
}

// The tail's blobs in seq order, read through a separate raw connection.
std::vector<Bytes> tailRows(const std::string& path) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT data FROM updates ORDER BY seq", -1, &st, nullptr) ==
          SQLITE_OK);
  std::vector<Bytes> rows;
  while (sqlite3_step(st) == SQLITE_ROW) {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(st, 0));
    rows.emplace_back(p, p + sqlite3_column_bytes(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rows;
}

std::string loadText(DocumentStore& store, const DocumentId& id) {
  auto loaded = store.load(id);
  INFO((loaded ? std::string() : loaded.error().toString()));
  REQUIRE(loaded);
  return loaded->text();
}

}  // namespace

TEST_CASE("a queued append is committed before its callback runs", "[storage][queue]") {
  TempDir dir("quire-queue");
  const auto path = dir.file("quire.db");
  auto store = openStore(path);
  const auto id = store->create("t").value();
  Document doc(store->device().replica);
  OpenOptions options;
  options.nowMs = [] { return std::int64_t{424242}; };
  auto queue = openQueue(path, options);

  // The callback looks through the other connection: what it sees is committed. The test
  // thread waits meanwhile, so `store` is used by one thread at a time.
  std::promise<std::string> seen;
  queue->append(id, keystroke(doc, 'a'), [&](Result<void> r) {
    seen.set_value(r ? loadText(*store, id) : r.error().toString());
  });
  CHECK(seen.get_future().get() == "a");
  const auto info = store->info(id).value();
  CHECK(info.tailRows == 1);
  CHECK(info.editedMs == 424242);
  CHECK(queue->testCommitCount() == 1);

  CHECK(quire::test::errorOf(queue->appendAndWait(id, keystroke(doc, 'b'))) == "");
  CHECK(loadText(*store, id) == "ab");
  CHECK(store->testIntegrityCheck() == "ok");
}

TEST_CASE("appends from a producer thread are all committed, in order, in fewer transactions",
          "[storage][queue]") {
  constexpr int kAppends = 200;
  TempDir dir("quire-queue");
  const auto path = dir.file("quire.db");
  auto store = openStore(path);
  const auto id = store->create("t").value();
  Document doc(store->device().replica);
  const auto updates = keystrokes(doc, kAppends);
  auto queue = openQueue(path);

  std::vector<int> order;  // written by the writer thread only; read after flush()
  std::vector<std::string> errors;
  std::thread producer([&] {
    for (int i = 0; i < kAppends; ++i) {
      queue->append(id, updates[i], [&order, &errors, i](Result<void> r) {
        order.push_back(i);
        if (!r) errors.push_back(r.error().toString());
      });
    }
  });
  producer.join();
  queue->flush();

  CHECK(errors.empty());
  REQUIRE(order.size() == kAppends);
  for (int i = 0; i < kAppends; ++i) REQUIRE(order[i] == i);
  CHECK(tailRows(path) == updates);
  INFO("transactions: " << queue->testCommitCount());
  CHECK(queue->testCommitCount() < kAppends);
  CHECK(queue->testCommitCount() >= 1);
  CHECK(loadText(*store, id) == doc.text());
  CHECK(store->info(id)->tailRows == kAppends);
}

TEST_CASE("with a slow disk an update waits at most for the commit in flight and its own",
          "[storage][queue]") {
  FaultGuard guard;
  constexpr int kAppends = 60;
  constexpr auto kSyncDelay = std::chrono::milliseconds(15);
  TempDir dir("quire-queue");
  const auto path = dir.file("quire.db");
  auto store = openStore(path);
  const auto id = store->create("t").value();
  Document doc(store->device().replica);
  const auto updates = keystrokes(doc, kAppends);
  OpenOptions options;
  options.vfs = FaultVfs::install();
  auto queue = openQueue(path, options);
  FaultVfs::delaySyncs(static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(kSyncDelay).count()));

  struct Seen {
    std::uint64_t commitsBefore = 0;  // committed transactions when append() was called
    std::uint64_t commitsAfter = 0;   // ... when its callback ran (its own included)
    Clock::duration latency{};
    bool ok = false;
  };
  std::vector<Seen> seen(kAppends);
  // Fast typing: a keystroke every 3 ms, so several arrive during each slow commit.
  for (int i = 0; i < kAppends; ++i) {
    seen[i].commitsBefore = queue->testCommitCount();
    const auto start = Clock::now();
    queue->append(id, updates[i], [&, i, start](Result<void> r) {
      seen[i].latency = Clock::now() - start;
      seen[i].commitsAfter = queue->testCommitCount();
      seen[i].ok = bool(r);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
  queue->flush();
  FaultVfs::clear();

  Clock::duration worst{};
  for (int i = 0; i < kAppends; ++i) {
    INFO("append " << i);
    CHECK(seen[i].ok);
    // The transaction in flight when it arrived, then the one it is in: never a third.
    CHECK(seen[i].commitsAfter <= seen[i].commitsBefore + 2);
    worst = std::max(worst, seen[i].latency);
  }
  const auto worstMs = std::chrono::duration<double, std::milli>(worst).count();
  INFO("transactions: " << queue->testCommitCount() << ", worst latency " << worstMs << " ms");
  CHECK(queue->testCommitCount() < kAppends / 2);
  // Two commits of one slow sync each, with generous room for a loaded machine or a sanitizer.
  CHECK(worstMs < 2 * 15 + 150);
  CHECK(loadText(*store, id) == doc.text());
}

TEST_CASE("a failed write fails its whole transaction, keeps earlier commits, and later appends work",
          "[storage][queue][fault]") {
  FaultGuard guard;
  const auto failure = GENERATE(FaultVfs::Failure::IoErr, FaultVfs::Failure::DiskFull);
  const bool diskFull = failure == FaultVfs::Failure::DiskFull;
  INFO((diskFull ? "disk full" : "I/O error") << ", sticky");
  constexpr int kBurst = 8;
  int failures = 0;
  for (std::uint64_t n = 1;; ++n) {
    INFO("failing counted write/sync " << n);
    REQUIRE(n < 200);
    TempDir dir("quire-queue");
    const auto path = dir.file("quire.db");
    auto store = openStore(path);
    const auto id = store->create("t").value();
    Document doc(store->device().replica);
    OpenOptions options;
    options.vfs = FaultVfs::install();
    auto queue = openQueue(path, options);
    REQUIRE(quire::test::errorOf(queue->appendAndWait(id, keystroke(doc, '>'))) == "");
    const std::string before = doc.text();
    const auto burst = keystrokes(doc, kBurst);

    struct Outcome {
      std::uint64_t batch = 0;
      std::optional<Error> error;
    };
    std::vector<Outcome> outcomes(kBurst);
    FaultVfs::failNth(n, failure, true);
    for (int i = 0; i < kBurst; ++i) {
      queue->append(id, burst[i], [&, i](Result<void> r) {
        outcomes[i].batch = queue->testBatchCount();
        if (!r) outcomes[i].error = r.error();
      });
    }
    queue->flush();
    FaultVfs::clear();

    // Sticky: the updates before the fault are stored, every one from the first failed
    // transaction on is not; a transaction's updates share one outcome.
    int stored = 0;
    while (stored < kBurst && !outcomes[stored].error) ++stored;
    int firstFailedBatch = 0;  // updates in the first failed transaction
    for (int i = stored; i < kBurst; ++i) {
      REQUIRE(outcomes[i].error);
      CHECK_THAT(outcomes[i].error->message(),
                 Catch::Contains("append to document " + id.toHex().substr(0, 8)));
      if (diskFull) CHECK_THAT(outcomes[i].error->message(), Catch::Contains("full"));
      if (outcomes[i].batch == outcomes[stored].batch) ++firstFailedBatch;
    }
    for (int i = 1; i < kBurst; ++i) {
      if (outcomes[i].batch == outcomes[i - 1].batch) {
        CHECK(bool(outcomes[i].error) == bool(outcomes[i - 1].error));
      }
    }

    // A fresh connection finds a sound file holding everything committed, and no part of a
    // failed transaction (a sync that failed after its commit record was written may still
    // have committed that whole transaction).
    {
      auto fresh = openStore(path);
      CHECK(fresh->testIntegrityCheck() == "ok");
      const auto text = loadText(*fresh, id);
      const auto committed = doc.text().substr(0, before.size() + stored);
      const auto withFailed = doc.text().substr(0, before.size() + stored + firstFailedBatch);
      CHECK((text == committed || text == withFailed));
    }
    if (stored == kBurst) {
      CHECK_FALSE(FaultVfs::fired());
      break;
    }
    ++failures;
    // The fault is gone: the caller appends the failed updates again and they are stored.
    for (int i = stored; i < kBurst; ++i) {
      REQUIRE(quire::test::errorOf(queue->appendAndWait(id, burst[i])) == "");
    }
    CHECK(loadText(*store, id) == doc.text());
    CHECK(store->testIntegrityCheck() == "ok");
  }
  CHECK(failures >= 2);
}

TEST_CASE("destroying the queue commits what is still queued", "[storage][queue]") {
  constexpr int kAppends = 100;
  TempDir dir("quire-queue");
  const auto path = dir.file("quire.db");
  auto store = openStore(path);
  const auto id = store->create("t").value();
  Document doc(store->device().replica);
  const auto updates = keystrokes(doc, kAppends);
  std::atomic<int> ok{0};
  {
    auto queue = openQueue(path);
    for (const auto& u : updates) {
      queue->append(id, u, [&ok](Result<void> r) { ok += r ? 1 : 0; });
    }
  }
  CHECK(ok == kAppends);
  CHECK(loadText(*openStore(path), id) == doc.text());
}

TEST_CASE("a reader sees every queued update of every document after flush", "[storage][queue]") {
  TempDir dir("quire-queue");
  const auto path = dir.file("quire.db");
  auto store = openStore(path);
  const auto first = store->create("first").value();
  const auto second = store->create("second").value();
  Document a(store->device().replica);
  Document b(store->device().replica);
  OpenOptions options;
  options.nowMs = [] { return std::int64_t{777}; };
  auto queue = openQueue(path, options);
  for (int i = 0; i < 30; ++i) {  // interleaved, so transactions hold both documents
    queue->append(first, keystroke(a, 'a'), {});
    queue->append(second, keystroke(b, 'b'), {});
  }
  queue->flush();
  CHECK(loadText(*store, first) == std::string(30, 'a'));
  CHECK(loadText(*store, second) == std::string(30, 'b'));
  for (const auto& id : {first, second}) {
    const auto info = store->info(id).value();
    CHECK(info.tailRows == 30);
    CHECK(info.editedMs == 777);
  }
  CHECK(store->testIntegrityCheck() == "ok");
}

TEST_CASE("an empty update or unknown document fails alone, not its transaction",
          "[storage][queue]") {
  TempDir dir("quire-queue");
  const auto path = dir.file("quire.db");
  auto store = openStore(path);
  const auto id = store->create("t").value();
  Document doc(store->device().replica);
  auto queue = openQueue(path);
  DocumentId unknown;
  unknown.bytes.fill(0xAB);

  std::vector<std::optional<Error>> results(4);
  auto record = [&results](int i) {
    return [&results, i](Result<void> r) {
      if (!r) results[i] = r.error();
    };
  };
  queue->append(id, keystroke(doc, 'x'), record(0));
  queue->append(unknown, keystroke(doc, 'y'), record(1));
  queue->append(id, {}, record(2));
  queue->append(id, doc.encodeUpdateSince({}), record(3));
  queue->flush();

  CHECK_FALSE(results[0]);
  REQUIRE(results[1]);
  CHECK(results[1]->code() == Error::Code::InvalidArgument);
  CHECK_THAT(results[1]->message(), Catch::Contains("no such document"));
  REQUIRE(results[2]);
  CHECK(results[2]->code() == Error::Code::InvalidArgument);
  CHECK_FALSE(results[3]);
  CHECK(loadText(*store, id) == "xy");
  CHECK(store->info(id)->tailRows == 2);
}

TEST_CASE("compaction keeps the rows the queue appends while it runs", "[storage][queue]") {
  constexpr int kAppends = 300;
  TempDir dir("quire-queue");
  const auto path = dir.file("quire.db");
  OpenOptions storeOptions;
  storeOptions.compactRows = 1u << 30;  // compaction only when the test asks
  auto store = openStore(path, storeOptions);
  const auto id = store->create("t").value();
  Document doc(store->device().replica);
  const auto updates = keystrokes(doc, kAppends);
  auto queue = openQueue(path);

  std::atomic<int> failed{0};
  std::atomic<bool> producing{true};
  std::thread producer([&] {
    for (int i = 0; i < kAppends; ++i) {
      queue->append(id, updates[i], [&failed](Result<void> r) { failed += r ? 0 : 1; });
      if (i % 10 == 9) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    producing = false;
  });
  // The owner compacts from what it loaded; rows committed after its load are not in it.
  int compactions = 0;
  while (producing || compactions < 3) {
    auto loaded = store->load(id);
    REQUIRE(loaded);
    REQUIRE(quire::test::errorOf(store->compact(id, *loaded)) == "");
    ++compactions;
  }
  producer.join();
  queue->flush();

  CHECK(failed == 0);
  CHECK(loadText(*store, id) == doc.text());
  auto loaded = store->load(id);
  REQUIRE(loaded);
  REQUIRE(store->compact(id, *loaded));
  CHECK(store->info(id)->tailRows == 0);
  CHECK(loadText(*store, id) == doc.text());
  CHECK(store->testIntegrityCheck() == "ok");
}
