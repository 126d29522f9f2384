// One user's documents in one SQLite database: the device identity, the library of documents
// and each document's history as a compacted snapshot plus a tail of updates. SCHEMA.md
// describes the tables, their invariants and the durability model.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/document.h"
#include "engine/ids.h"
#include "engine/result.h"

namespace quire::storage {

// A document's identity: 16 random bytes, written as 32 lowercase hex digits.
struct DocumentId {
  std::array<std::uint8_t, 16> bytes{};
  auto operator<=>(const DocumentId&) const = default;
  std::string toHex() const;
  // Empty unless `hex` is exactly 32 hex digits.
  static std::optional<DocumentId> fromHex(std::string_view hex);
};

// The secret a document's copies share (sync encrypts with it later): 32 random bytes.
using DocumentKey = std::array<std::uint8_t, 32>;

// This device, created once with the database.
struct Device {
  engine::ReplicaId replica;
  std::string displayName;
  std::uint32_t color = 0;  // 0xRRGGBB
};

// A row of the library.
struct DocumentInfo {
  DocumentId id;
  std::string title;
  std::int64_t createdMs = 0;  // Unix time, milliseconds
  std::int64_t editedMs = 0;
  std::uint64_t storedBytes = 0;  // snapshot + tail
  std::uint64_t tailRows = 0;
};

struct OpenOptions {
  // Name of a registered sqlite3_vfs to use instead of the default (tests use a faulty one).
  std::string vfs;
  // Compaction runs by itself when a document's tail passes either limit.
  std::uint64_t compactRows = 2000;
  std::uint64_t compactBytes = 1u << 20;
  // Clock for created/edited times; defaults to the system clock. Tests pass their own.
  std::function<std::int64_t()> nowMs;
};

// Owns one sqlite3 connection. Every call is synchronous and either completes or returns an
// Error and leaves the database as it was (each write is one transaction). Not thread-safe:
// use it from one thread.
class DocumentStore {
 public:
  // Opens or creates the database at `path` (file mode 0600, WAL, migrated to the current
  // schema). A damaged or foreign file gives Error::corrupt saying what is wrong.
  [[nodiscard]] static Result<std::unique_ptr<DocumentStore>> open(const std::string& path,
                                                                   OpenOptions options = {});
  ~DocumentStore();
  DocumentStore(const DocumentStore&) = delete;
  DocumentStore& operator=(const DocumentStore&) = delete;

  const Device& device() const;
  [[nodiscard]] Result<void> setDevice(const std::string& displayName, std::uint32_t color);

  // ---- Library.
  [[nodiscard]] Result<std::vector<DocumentInfo>> list();
  [[nodiscard]] Result<DocumentInfo> info(const DocumentId& id);
  // Finds a document by full id, unique id prefix (at least 4 hex digits) or exact title.
  [[nodiscard]] Result<DocumentId> resolve(const std::string& idPrefixOrTitle);
  // A new, empty document with a fresh id and key.
  [[nodiscard]] Result<DocumentId> create(const std::string& title);
  // Adds an empty document that came from elsewhere (a share link): its id and key are given.
  // Fails if a document with that id is already here.
  [[nodiscard]] Result<void> adopt(const DocumentId& id, const DocumentKey& key,
                                   const std::string& title);
  [[nodiscard]] Result<void> rename(const DocumentId& id, const std::string& title);
  [[nodiscard]] Result<void> remove(const DocumentId& id);
  [[nodiscard]] Result<DocumentKey> key(const DocumentId& id);
  [[nodiscard]] Result<std::vector<std::string>> routes(const DocumentId& id);
  [[nodiscard]] Result<void> setRoutes(const DocumentId& id, const std::vector<std::string>& routes);

  // ---- History.
  // The editable document: snapshot, then every tail update in order. The replica is device().
  [[nodiscard]] Result<engine::Document> load(const DocumentId& id);
  // The same, editing as `replica` (a process that must not share the device's replica id with
  // another writer, e.g. the editor next to quire-cli).
  [[nodiscard]] Result<engine::Document> load(const DocumentId& id,
                                              const engine::ReplicaId& replica);
  // Like load(), but a snapshot or tail row that does not decode is skipped (and described in
  // `skipped`, naming the document and row) instead of failing the whole load: the salvage path
  // for a damaged database. Rows are never deleted by loading; compaction keeps rows it cannot
  // decode. Fails only when SQLite itself cannot read the document.
  [[nodiscard]] Result<engine::Document> loadSkippingDamaged(const DocumentId& id,
                                                             std::vector<Error>& skipped);
  [[nodiscard]] Result<engine::Document> loadSkippingDamaged(const DocumentId& id,
                                                             const engine::ReplicaId& replica,
                                                             std::vector<Error>& skipped);
  // Stores an update (local or remote) and returns once it is committed. A duplicate is
  // harmless. May compact afterwards (see OpenOptions), using `current` if given.
  [[nodiscard]] Result<void> append(const DocumentId& id, std::span<const std::uint8_t> update,
                                    const engine::Document* current = nullptr);
  // Replaces the snapshot with `doc`'s history and drops the tail rows it covers, in one
  // transaction; rows appended meanwhile (not covered by `doc`) are kept, and ops of the stored
  // snapshot that `doc` lacks are merged in (a snapshot never moves backwards). SCHEMA.md,
  // "Compaction". REQUIRES: `doc` is a copy of document `id` (loaded from this store or kept
  // in step with it).
  [[nodiscard]] Result<void> compact(const DocumentId& id, const engine::Document& doc);
  // For a document rebuilt on purpose (a fork repaired: engine FORMAT.md "Forks"); anything
  // appended before this call that `doc` lacks is gone. In one transaction, `doc`'s history
  // becomes the snapshot and EVERY tail row of document `id` is deleted (tail counters 0,
  // edited_ms moves as on an append). Unlike compact() nothing stored is merged back: this is
  // the only call that may move a snapshot backwards. Ops of `doc` waiting on dependencies are
  // not in a history, so they are not stored either. Fails with Error::invalidArgument for an
  // unknown document; any failure changes nothing. SCHEMA.md, "Replacing a history (fork
  // repair)". REQUIRES: `doc` is a copy of document `id`.
  [[nodiscard]] Result<void> replaceHistory(const DocumentId& id, const engine::Document& doc);
  // The same, from `history` = Document::encodeHistory() made elsewhere (e.g. on the thread that
  // owns the Document). `history` is decoded first, to check it and find its version: one that
  // does not decode is refused with Error::invalidArgument and changes nothing.
  [[nodiscard]] Result<void> replaceHistory(const DocumentId& id,
                                            std::span<const std::uint8_t> history);

  // ---- Files.
  // A new document holding the UTF-8 text of `path` (.txt, .md, ...); binary or non-UTF-8
  // files are refused with a message saying why.
  [[nodiscard]] Result<DocumentId> importFile(const std::string& path, const std::string& title = {});
  // Writes the document's text to `path` atomically (temporary file, fsync, rename).
  [[nodiscard]] Result<void> exportFile(const DocumentId& id, const std::string& path);

  // Things worth telling a person that did not stop a call: at open, a database file readable
  // by other users (it holds document keys; the file is left as it is); after append(), an
  // automatic compaction that failed (the append itself had committed). Oldest first.
  const std::vector<std::string>& warnings() const;

  const std::string& path() const;

  // Test only: runs PRAGMA integrity_check; "ok" when healthy.
  std::string testIntegrityCheck();

 private:
  struct Impl;
  explicit DocumentStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace quire::storage
