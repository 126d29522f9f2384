// The database schema and its migrations: PRAGMA user_version is the schema version and each
// step v(N) -> v(N+1) is one function run in its own transaction. SCHEMA.md, "Tables" and
// "Migrations".
#pragma once

#include <string>

#include "engine/result.h"
#include "storage/sqlite_db.h"

namespace quire::storage {

// The schema this build writes.
inline constexpr int kSchemaVersion = 1;
// PRAGMA application_id of a Quire database: "QUIR".
inline constexpr int kApplicationId = 0x51554952;

// Brings the database at `path` (already open as `db`, WAL set) to kSchemaVersion. A newer
// version is refused with Error::unsupportedVersion; another application's database with
// Error::corrupt; a failed step leaves the database at the version before it.
[[nodiscard]] Result<void> migrate(Connection& db, const std::string& path);

}  // namespace quire::storage
