// DocumentStore's history rewrites: compaction (snapshot + the tail rows it covers) and
// replacing a history outright (fork repair). SCHEMA.md, "Compaction" and "Replacing a history
// (fork repair)".
#include <algorithm>
#include <optional>
#include <vector>

#include "engine/version_vector.h"
#include "storage/document_store.h"
#include "storage/document_store_impl.h"
#include "storage/replace_history.h"
#include "storage/sqlite_db.h"

namespace quire::storage {

Result<void> DocumentStore::compact(const DocumentId& id, const engine::Document& doc) {
  const std::string context = docContext("compact", id);
  Impl& m = *m_impl;
  auto tx = Transaction::begin(m.db, context);
  if (!tx) return fail(tx.error());
  auto row = m.docRow(id, context);
  if (!row) return fail(row.error());

  // If the stored snapshot holds ops `doc` lacks (another process compacted meanwhile), merge
  // them in: a snapshot must never move backwards.
  std::optional<engine::Document> merged;
  std::int64_t throughSeq = 0;
  {
    auto st = m.stmt("SELECT history, version, through_seq FROM snapshots WHERE doc = ?1", context);
    if (!st) return fail(st.error());
    Use use(**st);
    use->bind(1, *row);
    auto found = use->step(context);
    if (!found) return fail(found.error());
    if (*found) {
      throughSeq = use->columnInt(2);
      auto version = engine::VersionVector::decode(use->columnBlob(1));
      if (version && !doc.version().includes(*version)) {
        auto stored = engine::Document::decodeHistory(use->columnBlob(0), m.device.replica);
        if (stored) {
          merged.emplace(doc);
          auto missing = stored->encodeUpdateSince(doc.version());
          if (auto r = merged->applyUpdate(missing); !r) {
            return fail(
                Error::corrupt(context + ": merging the stored snapshot: " + r.error().message()));
          }
        }
      }
    }
  }
  const engine::Document& base = merged ? *merged : doc;
  const auto history = base.encodeHistory();

  // What the new snapshot holds. Ops waiting on dependencies are not in a history, so when
  // there are any, ask the snapshot itself.
  std::optional<engine::Document> covered;
  if (base.pendingOpCount() != 0) {
    auto decoded = engine::Document::decodeHistory(history, m.device.replica);
    if (!decoded)
      return fail(Error::corrupt(
          context + ": the new snapshot does not decode: " + decoded.error().message()));
    covered.emplace(std::move(*decoded));
  } else {
    covered.emplace(base);
  }
  const auto version = covered->version().encode();

  // A tail row may go only if applying it to the snapshot (plus the rows kept before it)
  // changes nothing: then every op in it is already stored elsewhere.
  std::vector<std::int64_t> drop;
  std::uint64_t keptRows = 0;
  std::uint64_t keptBytes = 0;
  {
    auto st = m.stmt("SELECT seq, data FROM updates WHERE doc = ?1 ORDER BY seq", context);
    if (!st) return fail(st.error());
    Use use(**st);
    use->bind(1, *row);
    for (;;) {
      auto next = use->step(context);
      if (!next) return fail(next.error());
      if (!*next) break;
      const auto seq = use->columnInt(0);
      const auto data = use->columnBlobView(1);
      throughSeq = std::max(throughSeq, seq);
      const auto before = covered->version();
      const auto pending = covered->pendingOpCount();
      auto applied = covered->applyUpdate(data);
      if (applied && covered->version() == before && covered->pendingOpCount() == pending) {
        drop.push_back(seq);
      } else {
        ++keptRows;
        keptBytes += data.size();
      }
    }
  }
  const auto t = m.now();
  {
    auto st = m.stmt(
        "INSERT OR REPLACE INTO snapshots (doc, history, version, through_seq, written_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5)",
        context);
    if (!st) return fail(st.error());
    Use use(**st);
    use->bind(1, *row).bind(2, std::span<const std::uint8_t>(history));
    use->bind(3, std::span<const std::uint8_t>(version)).bind(4, throughSeq).bind(5, t);
    if (auto r = use->run(context); !r) return r;
  }
  {
    auto st = m.stmt("DELETE FROM updates WHERE seq = ?1", context);
    if (!st) return fail(st.error());
    for (auto seq : drop) {
      Use use(**st);
      use->bind(1, seq);
      if (auto r = use->run(context); !r) return r;
    }
  }
  {
    auto st =
        m.stmt("UPDATE documents SET tail_rows = ?2, tail_bytes = ?3 WHERE doc = ?1", context);
    if (!st) return fail(st.error());
    Use use(**st);
    use->bind(1, *row)
        .bind(2, static_cast<std::int64_t>(keptRows))
        .bind(3, static_cast<std::int64_t>(keptBytes));
    if (auto r = use->run(context); !r) return r;
  }
  // Give the pages of the deleted rows and the old snapshot back to the file system, in the
  // same transaction (a no-op on a database made without auto-vacuum).
  if (auto r = m.db.exec("PRAGMA incremental_vacuum", context); !r) return r;
  if (auto r = tx->commit(context); !r) return r;
  m.leftover[*row] = {keptRows, keptBytes};
  return {};
}

Result<void> DocumentStore::replaceHistory(const DocumentId& id, const engine::Document& doc) {
  const auto history = doc.encodeHistory();
  return replaceHistory(id, history);
}

Result<void> DocumentStore::replaceHistory(const DocumentId& id,
                                           std::span<const std::uint8_t> history) {
  const std::string context = docContext("replace the history of", id);
  Impl& m = *m_impl;
  // Checked before the write lock is taken: a history load() would refuse is never stored.
  auto version = versionOfHistory(history, context);
  if (!version) return fail(version.error());
  auto tx = Transaction::begin(m.db, context);
  if (!tx) return fail(tx.error());
  auto replaced = writeReplacedHistory(m.db, id, history, *version, m.now(), context);
  if (!replaced) return fail(replaced.error());
  if (!*replaced) return fail(noSuchDocument(context));
  if (auto r = tx->commit(context); !r) return r;
  // The tail is empty: auto-compaction counts from zero again.
  m.leftover.erase(**replaced);
  return {};
}

}  // namespace quire::storage
