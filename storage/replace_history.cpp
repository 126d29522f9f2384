#include "storage/replace_history.h"

#include "engine/document.h"
#include "engine/version_vector.h"
#include "storage/sqlite_db.h"

namespace quire::storage {

Result<std::vector<std::uint8_t>> versionOfHistory(std::span<const std::uint8_t> history,
                                                   const std::string& context) {
  // The local replica only says who would edit the decoded copy; any id will do here.
  auto decoded = engine::Document::decodeHistory(history, engine::ReplicaId{});
  if (!decoded) {
    return fail(Error::invalidArgument(
        context + ": the new history does not decode: " + decoded.error().message()));
  }
  return decoded->version().encode();
}

Result<std::optional<std::int64_t>> writeReplacedHistory(Connection& db, const DocumentId& id,
                                                         std::span<const std::uint8_t> history,
                                                         std::span<const std::uint8_t> version,
                                                         std::int64_t nowMs,
                                                         const std::string& context) {
  std::int64_t doc = 0;
  {
    // Every tail row goes, so through_seq (for diagnosis) is the last row this write looked at:
    // the highest seq of the old tail, or the old snapshot's own if that is higher.
    auto st = Statement::prepare(
        db,
        "SELECT d.doc, max(coalesce((SELECT through_seq FROM snapshots WHERE doc = d.doc), 0), "
        "coalesce((SELECT max(seq) FROM updates WHERE doc = d.doc), 0)) "
        "FROM documents d WHERE d.id = ?1",
        context);
    if (!st) return fail(st.error());
    st->bind(1, std::span<const std::uint8_t>(id.bytes));
    auto row = st->step(context);
    if (!row) return fail(row.error());
    if (!*row) return std::nullopt;
    doc = st->columnInt(0);
    const std::int64_t throughSeq = st->columnInt(1);

    auto snap = Statement::prepare(
        db,
        "INSERT OR REPLACE INTO snapshots (doc, history, version, through_seq, written_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5)",
        context);
    if (!snap) return fail(snap.error());
    snap->bind(1, doc).bind(2, history).bind(3, version).bind(4, throughSeq).bind(5, nowMs);
    if (auto r = snap->run(context); !r) return fail(r.error());
  }
  {
    auto del = Statement::prepare(db, "DELETE FROM updates WHERE doc = ?1", context);
    if (!del) return fail(del.error());
    del->bind(1, doc);
    if (auto r = del->run(context); !r) return fail(r.error());
  }
  {
    auto upd = Statement::prepare(
        db, "UPDATE documents SET edited_ms = ?2, tail_rows = 0, tail_bytes = 0 WHERE doc = ?1",
        context);
    if (!upd) return fail(upd.error());
    upd->bind(1, doc).bind(2, nowMs);
    if (auto r = upd->run(context); !r) return fail(r.error());
  }
  // As compaction does: the pages of the old snapshot and tail go back to the file system.
  if (auto r = db.exec("PRAGMA incremental_vacuum", context); !r) return fail(r.error());
  return doc;
}

}  // namespace quire::storage
