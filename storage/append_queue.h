// Group commit for appended updates: a writer thread with its own connection stores every
// update that arrived while the previous transaction was committing in one transaction, so a
// burst of typing costs one fsync instead of one per keystroke. SCHEMA.md, "Durability model".
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/result.h"
#include "storage/document_store.h"

namespace quire::storage {

// Appends updates to the tail of documents in the database at a path, asynchronously: append()
// queues and returns at once; a writer thread commits and then reports each update to its
// `committed` callback. The rows it writes are the ones DocumentStore::append() writes (an
// `updates` row, plus edited_ms and the tail counters of `documents`, in the same transaction).
//
// Group commit: the writer never waits on purpose. When it is idle, the next append starts a
// transaction at once; every append that arrives while a transaction is in flight goes into the
// next one, together. So an update is committed at most two transactions after it was queued
// (the one in flight when it arrived, then its own).
//
// It never compacts. Compaction stays with the DocumentStore on the same file, called by its
// owner (e.g. when DocumentStore::info(id).tailRows passes a limit); DocumentStore::compact
// drops only rows whose ops its snapshot covers, so rows this queue adds while it runs survive.
// The two connections take turns for the write lock (busy timeout 5 s, as every connection).
//
// Owns its connection and its thread; the destructor commits what is queued, then joins.
// Thread-safe: append(), replace(), appendAndWait() and flush() may be called from any thread.
class AppendQueue {
 public:
  // Called on the writer thread once the update's transaction committed (success), or with the
  // Error that stopped it. Callers that live on another thread (a Qt object) marshal the result
  // there themselves (QMetaObject::invokeMethod with a queued connection). A callback may call
  // append(), but not flush() or appendAndWait() (it would wait for itself), and should be quick:
  // the next transaction starts after the callbacks of the previous one returned.
  using Committed = std::function<void(Result<void>)>;

  // Opens a second connection to the existing database at `path`, with the settings every
  // connection uses (openDatabase()), and starts the writer thread. `options.vfs` and
  // `options.nowMs` are used as DocumentStore::open() uses them; the compaction limits are not
  // (this queue never compacts). Fails with the open's Error, or Error::unsupportedVersion /
  // Error::corrupt for a file whose schema this build does not write.
  // REQUIRES: the file was created by DocumentStore::open() (it is never created here).
  [[nodiscard]] static Result<std::unique_ptr<AppendQueue>> open(const std::string& path,
                                                                 OpenOptions options = {});
  // Commits everything queued, calls its callbacks, then stops the writer thread.
  // REQUIRES: not called from a callback; no append() races with it.
  ~AppendQueue();
  AppendQueue(const AppendQueue&) = delete;
  AppendQueue& operator=(const AppendQueue&) = delete;

  // Queues `update` (local or remote, FORMAT.md "Update encoding") for document `id` and returns
  // at once; `committed` (may be empty) is called as described above. Updates are stored in the
  // order append() was called. Per update: an empty update or an unknown document gives
  // Error::invalidArgument and does not affect the others in its transaction. A failed
  // transaction (I/O error, disk full, lock timeout) gives every update in it the same Error
  // and stores none of them; the queue goes on, and later appends are tried afresh. A failed
  // update is not retried by the queue: the caller still has the edit in its Document and
  // appends it again (encodeUpdateSince(stored version)) once writing works.
  void append(const DocumentId& id, std::vector<std::uint8_t> update, Committed committed);

  // Queues replacing document `id`'s stored history with `history` (Document::encodeHistory(),
  // made on the caller's thread: the queue holds no reference to a Document the caller goes on
  // editing), for a document rebuilt on purpose (a fork repaired): DocumentStore::replaceHistory
  // does the same synchronously and says what it writes. Returns at once; `done` (may be empty)
  // is called like an append's `committed`. It runs in queue order with the appends: updates
  // queued before it are committed first and then deleted by it (in the same transaction or an
  // earlier one), updates queued after it are kept on top of the new history. The history is
  // decoded on the writer thread before its transaction; one that does not decode, or an unknown
  // document, gives Error::invalidArgument to this call alone and changes nothing. A failed
  // transaction fails it with the others in it, and the stored history stays as it was.
  void replace(const DocumentId& id, std::vector<std::uint8_t> history, Committed done);

  // append(), then waits for the result. REQUIRES: not called from a callback.
  [[nodiscard]] Result<void> appendAndWait(const DocumentId& id, std::vector<std::uint8_t> update);

  // Returns once every update queued before the call has been committed (or has failed) and its
  // callback has returned. REQUIRES: not called from a callback.
  void flush();

  // Test only: transactions committed so far (each may hold many updates).
  std::uint64_t testCommitCount() const;
  // Test only: batches the writer has taken so far, committed or failed. Read inside a callback,
  // it names that callback's batch (the count is bumped before a batch's callbacks run).
  std::uint64_t testBatchCount() const;

 private:
  struct Impl;
  explicit AppendQueue(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace quire::storage
