#include "storage/schema.h"

#include <array>
#include <string>

namespace quire::storage {
namespace {

using Migration = Result<void> (*)(Connection& db, const std::string& context);

// v0 -> v1: the first schema. SCHEMA.md explains every table and invariant.
Result<void> migrateV0ToV1(Connection& db, const std::string& context) {
  return db.exec(R"sql(
    CREATE TABLE device (
      id           INTEGER PRIMARY KEY CHECK (id = 1),
      replica      BLOB    NOT NULL CHECK (typeof(replica) = 'blob' AND length(replica) = 16),
      display_name TEXT    NOT NULL,
      color        INTEGER NOT NULL CHECK (color BETWEEN 0 AND 16777215)
    );
    CREATE TABLE documents (
      doc        INTEGER PRIMARY KEY,
      id         BLOB    NOT NULL UNIQUE CHECK (typeof(id) = 'blob' AND length(id) = 16),
      title      TEXT    NOT NULL,
      created_ms INTEGER NOT NULL,
      edited_ms  INTEGER NOT NULL,
      key        BLOB    NOT NULL CHECK (typeof(key) = 'blob' AND length(key) = 32),
      tail_rows  INTEGER NOT NULL DEFAULT 0 CHECK (tail_rows >= 0),
      tail_bytes INTEGER NOT NULL DEFAULT 0 CHECK (tail_bytes >= 0)
    );
    CREATE TABLE routes (
      doc      INTEGER NOT NULL REFERENCES documents(doc) ON DELETE CASCADE,
      position INTEGER NOT NULL,
      url      TEXT    NOT NULL,
      PRIMARY KEY (doc, position)
    ) WITHOUT ROWID;
    CREATE TABLE snapshots (
      doc           INTEGER PRIMARY KEY REFERENCES documents(doc) ON DELETE CASCADE,
      history       BLOB    NOT NULL,
      version       BLOB    NOT NULL,
      through_seq   INTEGER NOT NULL,
      written_ms    INTEGER NOT NULL
    );
    CREATE TABLE updates (
      seq   INTEGER PRIMARY KEY AUTOINCREMENT,
      doc   INTEGER NOT NULL REFERENCES documents(doc) ON DELETE CASCADE,
      data  BLOB    NOT NULL
    );
    CREATE INDEX updates_by_doc ON updates(doc);
  )sql",
                 context);
}

// Index i holds the step from version i to version i + 1.
constexpr std::array<Migration, kSchemaVersion> kMigrations = {migrateV0ToV1};

}  // namespace

Result<void> migrate(Connection& db, const std::string& path) {
  const std::string context = "storage: open " + path;
  auto version = db.queryInt("PRAGMA user_version", context);
  if (!version) return fail(version.error());
  auto appId = db.queryInt("PRAGMA application_id", context);
  if (!appId) return fail(appId.error());
  if (*appId != 0 && *appId != kApplicationId) {
    return fail(Error::corrupt(context + ": not a Quire database (application_id " +
                               std::to_string(*appId) + ")"));
  }
  if (*version > kSchemaVersion) {
    return fail(Error::unsupportedVersion(context + ": schema version " + std::to_string(*version) +
                                          " is newer than this build's " +
                                          std::to_string(kSchemaVersion)));
  }
  if (*version == 0) {
    auto objects = db.queryInt("SELECT count(*) FROM sqlite_schema", context);
    if (!objects) return fail(objects.error());
    if (*objects != 0) {
      return fail(
          Error::corrupt(context + ": not a Quire database (it has tables but no schema version)"));
    }
  }
  for (;;) {
    auto v = db.queryInt("PRAGMA user_version", context);
    if (!v) return fail(v.error());
    if (*v >= kSchemaVersion) break;
    const std::string step =
        context + ": migrate schema v" + std::to_string(*v) + " -> v" + std::to_string(*v + 1);
    auto tx = Transaction::begin(db, step);
    if (!tx) return fail(tx.error());
    // Re-read inside the write lock: another process may have migrated meanwhile.
    auto now = db.queryInt("PRAGMA user_version", step);
    if (!now) return fail(now.error());
    if (*now != *v) continue;  // the transaction rolls back; look again
    if (auto r = kMigrations[static_cast<std::size_t>(*v)](db, step); !r) return r;
    const std::string pragmas = "PRAGMA application_id = " + std::to_string(kApplicationId) +
                                "; PRAGMA user_version = " + std::to_string(*v + 1) + ";";
    if (auto r = db.exec(pragmas.c_str(), step); !r) return r;
    if (auto r = tx->commit(step); !r) return r;
  }
  return {};
}

}  // namespace quire::storage
