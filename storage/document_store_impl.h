// Internal to storage/: DocumentStore's state and the helpers its source files share
// (document_store.cpp: the library and loading; document_store_compact.cpp: compaction and
// replacing a history). Not part of the API: include document_store.h instead.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/document_store.h"
#include "storage/sqlite_db.h"

namespace quire::storage {

// "3fa2c1d0…": enough of an id to find the document in a message.
inline std::string shortId(const DocumentId& id) { return id.toHex().substr(0, 8) + "\u2026"; }

// "storage: compact document 3fa2c1d0…"
inline std::string docContext(std::string_view verb, const DocumentId& id) {
  return "storage: " + std::string(verb) + " document " + shortId(id);
}

inline Error noSuchDocument(const std::string& context) {
  return Error::invalidArgument(context + ": no such document");
}

// Resets a cached statement when the caller is done with it, so a SELECT that stopped after
// its first row does not hold a read transaction open.
class Use {
 public:
  explicit Use(Statement& st) : m_st(st) { m_st.reset(); }
  ~Use() { m_st.reset(); }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;
  Statement* operator->() { return &m_st; }
  Statement& operator*() { return m_st; }

 private:
  Statement& m_st;
};

struct DocumentStore::Impl {
  std::string path;
  OpenOptions options;
  Connection db;
  Device device;
  std::vector<std::string> warnings;
  std::map<std::string, Statement, std::less<>> statements;
  // Tail rows and bytes the last compaction in this process could not drop, per document row:
  // auto-compaction waits for a full compactRows/compactBytes beyond them, so rows that can
  // never be covered (undecodable, waiting on dependencies) do not make every append compact.
  std::map<std::int64_t, std::pair<std::uint64_t, std::uint64_t>> leftover;

  std::int64_t now() const { return options.nowMs(); }

  Result<Statement*> stmt(std::string_view sql, const std::string& context) {
    auto it = statements.find(sql);
    if (it == statements.end()) {
      std::string key(sql);
      auto st = Statement::prepare(db, key.c_str(), context, true);
      if (!st) return fail(st.error());
      it = statements.emplace(std::move(key), std::move(*st)).first;
    }
    return &it->second;
  }

  // The document's row number, or an error naming it.
  Result<std::int64_t> docRow(const DocumentId& id, const std::string& context) {
    auto st = stmt("SELECT doc FROM documents WHERE id = ?1", context);
    if (!st) return fail(st.error());
    Use use(**st);
    use->bind(1, std::span<const std::uint8_t>(id.bytes));
    auto row = use->step(context);
    if (!row) return fail(row.error());
    if (!*row) return fail(noSuchDocument(context));
    return use->columnInt(0);
  }

  Result<void> loadDevice(const std::string& context);
  Result<engine::Document> load(const DocumentId& id, const engine::ReplicaId& replica,
                                std::vector<Error>* skipped);
  Result<DocumentInfo> infoRow(Statement& st);
  // Inserts a library row (and a snapshot of `initial`, if given). A fresh id and key are made
  // unless `shared` names the id and key of a document that came from elsewhere.
  Result<DocumentId> insertDocument(const std::string& title, const std::string& context,
                                    const engine::Document* initial,
                                    const std::pair<DocumentId, DocumentKey>* shared = nullptr);
};

}  // namespace quire::storage
