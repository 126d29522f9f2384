// Internal to storage/: the one write that replaces a document's stored history, shared by
// DocumentStore::replaceHistory and AppendQueue::replace (SCHEMA.md, "Replacing a history (fork
// repair)"). Not part of the API.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/result.h"
#include "storage/document_store.h"

namespace quire::storage {

class Connection;

// Decodes `history` (engine::Document::encodeHistory(), as load() decodes a snapshot) to check
// it, and returns the encoded version vector of what it holds, for the snapshot's `version`
// column. Error::invalidArgument naming `context` if it does not decode: a snapshot load() would
// refuse is never written. Reads no database: call it before taking the write lock.
[[nodiscard]] Result<std::vector<std::uint8_t>> versionOfHistory(
    std::span<const std::uint8_t> history, const std::string& context);

// Makes (`history`, `version`) document `id`'s snapshot row, deletes every one of its tail
// (`updates`) rows, sets its tail counters to 0 and its edited_ms to `nowMs`, then runs
// `PRAGMA incremental_vacuum`. Returns the document's row number, or nothing (having written
// nothing) if there is no such document; an SQLite failure is an Error (the caller's
// transaction then rolls everything back).
// REQUIRES: a write transaction is open on `db`; `version` is versionOfHistory(history).
[[nodiscard]] Result<std::optional<std::int64_t>> writeReplacedHistory(
    Connection& db, const DocumentId& id, std::span<const std::uint8_t> history,
    std::span<const std::uint8_t> version, std::int64_t nowMs, const std::string& context);

}  // namespace quire::storage
