#include "storage/append_queue.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "storage/replace_history.h"
#include "storage/schema.h"
#include "storage/sqlite_db.h"

namespace quire::storage {
namespace {

struct Item {
  enum class Kind : std::uint8_t { Append, Replace };
  Kind kind = Kind::Append;
  DocumentId id;
  std::vector<std::uint8_t> bytes;    // Append: the update; Replace: the whole new history
  std::vector<std::uint8_t> version;  // Replace: the history's encoded version (writer thread)
  AppendQueue::Committed committed;
  Result<void> result;
};

std::string appendContext(const DocumentId& id) {
  return "storage: append to document " + id.toHex().substr(0, 8) + "\u2026";
}

std::string replaceContext(const DocumentId& id) {
  return "storage: replace the history of document " + id.toHex().substr(0, 8) + "\u2026";
}

std::string itemContext(const Item& item) {
  return item.kind == Item::Kind::Replace ? replaceContext(item.id) : appendContext(item.id);
}

// The batch's failure as seen by one of its items: same code and detail, but the message
// names that item's document, as DocumentStore's errors do.
Error forItem(const Error& batchError, std::string_view batchContext, const Item& item,
              std::size_t batchSize) {
  std::string msg = itemContext(item);
  if (batchSize > 1) msg += " (one transaction of " + std::to_string(batchSize) + " updates)";
  std::string_view detail = batchError.message();
  if (detail.starts_with(batchContext)) detail.remove_prefix(batchContext.size());
  msg += detail;
  switch (batchError.code()) {
    case Error::Code::Corrupt: return Error::corrupt(std::move(msg));
    case Error::Code::InvalidArgument: return Error::invalidArgument(std::move(msg));
    default: return Error::io(std::move(msg));
  }
}

}  // namespace

struct AppendQueue::Impl {
  OpenOptions options;
  Connection db;
  Statement insertRow;
  Statement updateDocument;

  std::mutex mutex;
  std::condition_variable queued;  // writer waits: something to commit, or stopping
  std::condition_variable done;    // flush() waits: `finished` moved on
  std::vector<Item> pending;       // guarded by `mutex`
  std::uint64_t enqueued = 0;      // guarded by `mutex`: appends so far
  std::uint64_t finished = 0;      // guarded by `mutex`: appends whose callback has returned
  bool stopping = false;           // guarded by `mutex`

  std::atomic<std::uint64_t> commits{0};
  std::atomic<std::uint64_t> batches{0};
  std::thread writer;

  void run();
  Result<void> commitBatch(std::vector<Item>& batch, const std::string& context);
};

void AppendQueue::Impl::run() {
  std::unique_lock lock(mutex);
  for (;;) {
    queued.wait(lock, [&] { return stopping || !pending.empty(); });
    if (pending.empty()) return;  // stopping, and everything is committed
    // Everything that arrived while the last transaction was in flight goes into this one.
    std::vector<Item> batch;
    batch.swap(pending);
    lock.unlock();

    // A replacement history is checked (decoded) before the transaction takes the write lock.
    for (auto& item : batch) {
      if (item.kind != Item::Kind::Replace) continue;
      auto version = versionOfHistory(item.bytes, replaceContext(item.id));
      if (version) {
        item.version = std::move(*version);
      } else {
        item.result = fail(version.error());
      }
    }
    const std::string context =
        "storage: append (one transaction of " + std::to_string(batch.size()) + " updates)";
    if (auto r = commitBatch(batch, context); r) {
      ++commits;
    } else {
      for (auto& item : batch) {
        if (item.result) item.result = fail(forItem(r.error(), context, item, batch.size()));
      }
    }
    ++batches;
    for (auto& item : batch) {
      if (item.committed) item.committed(std::move(item.result));
    }

    lock.lock();
    finished += batch.size();
    done.notify_all();
  }
}

// One transaction for the whole batch, in queue order: either every valid item in it is stored,
// or none is (the Transaction rolls back on every error path). Items that are invalid on their
// own get their own error in `item.result` and write nothing.
Result<void> AppendQueue::Impl::commitBatch(std::vector<Item>& batch, const std::string& context) {
  auto tx = Transaction::begin(db, context);
  if (!tx) return fail(tx.error());
  const std::int64_t now = options.nowMs();
  std::map<DocumentId, std::pair<std::int64_t, std::int64_t>> added;  // rows, bytes
  for (auto& item : batch) {
    if (!item.result) continue;  // a replacement history that does not decode
    if (item.kind == Item::Kind::Replace) {
      auto replaced = writeReplacedHistory(db, item.id, item.bytes, item.version, now, context);
      if (!replaced) return fail(replaced.error());
      if (!*replaced) {
        item.result = fail(Error::invalidArgument(replaceContext(item.id) + ": no such document"));
        continue;
      }
      // The rows appended to this document earlier in the batch are gone with the rest of its
      // tail, whose counters are now 0; only the ones after this item count.
      added.erase(item.id);
      continue;
    }
    if (item.bytes.empty()) {
      item.result = fail(Error::invalidArgument(appendContext(item.id) + ": the update is empty"));
      continue;
    }
    insertRow.reset();
    insertRow.bind(1, std::span<const std::uint8_t>(item.id.bytes));
    insertRow.bind(2, std::span<const std::uint8_t>(item.bytes));
    if (auto r = insertRow.run(context); !r) return r;
    if (db.changes() == 0) {
      item.result = fail(Error::invalidArgument(appendContext(item.id) + ": no such document"));
      continue;
    }
    auto& [rows, bytes] = added[item.id];
    ++rows;
    bytes += static_cast<std::int64_t>(item.bytes.size());
  }
  for (const auto& [id, counts] : added) {
    updateDocument.reset();
    updateDocument.bind(1, std::span<const std::uint8_t>(id.bytes)).bind(2, now);
    updateDocument.bind(3, counts.first).bind(4, counts.second);
    if (auto r = updateDocument.run(context); !r) return r;
  }
  insertRow.reset();
  updateDocument.reset();
  return tx->commit(context);
}

AppendQueue::AppendQueue(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {
  m_impl->writer = std::thread([impl = m_impl.get()] { impl->run(); });
}

AppendQueue::~AppendQueue() {
  {
    std::lock_guard lock(m_impl->mutex);
    m_impl->stopping = true;
  }
  m_impl->queued.notify_one();
  m_impl->writer.join();
}

Result<std::unique_ptr<AppendQueue>> AppendQueue::open(const std::string& path,
                                                       OpenOptions options) {
  const std::string context = "storage: open " + path + " for appending";
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  if (!impl->options.nowMs) {
    impl->options.nowMs = [] {
      using namespace std::chrono;
      return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    };
  }
  auto conn = openDatabase(path, impl->options.vfs);
  if (!conn) return fail(conn.error());
  impl->db = std::move(*conn);
  // Already at the current version when DocumentStore opened the file first: then this only
  // checks it (a newer or foreign file is refused here, before any write).
  if (auto r = migrate(impl->db, path); !r) return fail(r.error());
  // The same rows DocumentStore::append writes (SCHEMA.md, "Tables").
  auto ins = Statement::prepare(
      impl->db, "INSERT INTO updates (doc, data) SELECT doc, ?2 FROM documents WHERE id = ?1",
      context, true);
  if (!ins) return fail(ins.error());
  impl->insertRow = std::move(*ins);
  auto upd = Statement::prepare(impl->db,
                                "UPDATE documents SET edited_ms = ?2, tail_rows = tail_rows + ?3, "
                                "tail_bytes = tail_bytes + ?4 WHERE id = ?1",
                                context, true);
  if (!upd) return fail(upd.error());
  impl->updateDocument = std::move(*upd);
  return std::unique_ptr<AppendQueue>(new AppendQueue(std::move(impl)));
}

void AppendQueue::append(const DocumentId& id, std::vector<std::uint8_t> update,
                         Committed committed) {
  {
    std::lock_guard lock(m_impl->mutex);
    m_impl->pending.push_back(
        Item{Item::Kind::Append, id, std::move(update), {}, std::move(committed), {}});
    ++m_impl->enqueued;
  }
  m_impl->queued.notify_one();
}

void AppendQueue::replace(const DocumentId& id, std::vector<std::uint8_t> history, Committed done) {
  {
    std::lock_guard lock(m_impl->mutex);
    m_impl->pending.push_back(
        Item{Item::Kind::Replace, id, std::move(history), {}, std::move(done), {}});
    ++m_impl->enqueued;
  }
  m_impl->queued.notify_one();
}

Result<void> AppendQueue::appendAndWait(const DocumentId& id, std::vector<std::uint8_t> update) {
  std::promise<Result<void>> result;
  auto future = result.get_future();
  append(id, std::move(update), [&result](Result<void> r) { result.set_value(std::move(r)); });
  return future.get();
}

void AppendQueue::flush() {
  std::unique_lock lock(m_impl->mutex);
  const std::uint64_t target = m_impl->enqueued;
  m_impl->done.wait(lock, [&] { return m_impl->finished >= target; });
}

std::uint64_t AppendQueue::testCommitCount() const { return m_impl->commits.load(); }
std::uint64_t AppendQueue::testBatchCount() const { return m_impl->batches.load(); }

}  // namespace quire::storage
