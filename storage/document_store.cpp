#include "storage/document_store.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <utility>

#include "engine/version_vector.h"
#include "storage/document_store_impl.h"
#include "storage/file_io.h"
#include "storage/schema.h"
#include "storage/sqlite_db.h"

namespace quire::storage {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

DocumentId idFromBlob(const std::vector<std::uint8_t>& blob) {
  DocumentId id;
  if (blob.size() == id.bytes.size()) std::copy(blob.begin(), blob.end(), id.bytes.begin());
  return id;
}

}  // namespace

// ---- DocumentId.

std::string DocumentId::toHex() const {
  std::string s;
  s.reserve(32);
  for (auto b : bytes) {
    s += kHexDigits[b >> 4];
    s += kHexDigits[b & 15];
  }
  return s;
}

std::optional<DocumentId> DocumentId::fromHex(std::string_view hex) {
  DocumentId id;
  if (hex.size() != 2 * id.bytes.size()) return std::nullopt;
  for (std::size_t i = 0; i < id.bytes.size(); ++i) {
    const int hi = hexValue(hex[2 * i]);
    const int lo = hexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    id.bytes[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return id;
}

// ---- Impl.

Result<void> DocumentStore::Impl::loadDevice(const std::string& context) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    {
      auto st = Statement::prepare(
          db, "SELECT replica, display_name, color FROM device WHERE id = 1", context);
      if (!st) return fail(st.error());
      auto row = st->step(context);
      if (!row) return fail(row.error());
      if (*row) {
        const auto replica = st->columnBlob(0);
        if (replica.size() != device.replica.bytes.size()) {
          return fail(Error::corrupt(context + ": device replica id is " +
                                     std::to_string(replica.size()) + " bytes, not 16"));
        }
        std::copy(replica.begin(), replica.end(), device.replica.bytes.begin());
        device.displayName = st->columnText(1);
        device.color = static_cast<std::uint32_t>(st->columnInt(2));
        return {};
      }
    }
    // First open: this device's identity is made once, here.
    std::array<std::uint8_t, 16> replica{};
    if (auto r = fillRandom(replica); !r) return r;
    auto tx = Transaction::begin(db, context);
    if (!tx) return fail(tx.error());
    auto ins = Statement::prepare(
        db, "INSERT OR IGNORE INTO device (id, replica, display_name, color) VALUES (1, ?1, '', 0)",
        context);
    if (!ins) return fail(ins.error());
    ins->bind(1, std::span<const std::uint8_t>(replica));
    if (auto r = ins->run(context); !r) return r;
    if (auto r = tx->commit(context); !r) return r;
  }
  return fail(Error::corrupt(context + ": the device row could not be created"));
}

Result<engine::Document> DocumentStore::Impl::load(const DocumentId& id,
                                                  const engine::ReplicaId& replica,
                                                   std::vector<Error>* skipped) {
  const std::string context = docContext("load", id);
  // One read transaction: a compaction by another process cannot slip between the snapshot and
  // the tail.
  auto tx = Transaction::begin(db, context, false);
  if (!tx) return fail(tx.error());
  auto doc = docRow(id, context);
  if (!doc) return fail(doc.error());

  engine::Document result(replica);
  {
    auto st = stmt("SELECT history FROM snapshots WHERE doc = ?1", context);
    if (!st) return fail(st.error());
    Use use(**st);
    use->bind(1, *doc);
    auto row = use->step(context);
    if (!row) return fail(row.error());
    if (*row) {
      auto decoded = engine::Document::decodeHistory(use->columnBlobView(0), replica);
      if (decoded) {
        result = std::move(*decoded);
      } else {
        Error e =
            Error::corrupt(context + ": snapshot does not decode: " + decoded.error().message());
        if (!skipped) return fail(std::move(e));
        skipped->push_back(std::move(e));
      }
    }
  }
  auto st = stmt("SELECT seq, data FROM updates WHERE doc = ?1 ORDER BY seq", context);
  if (!st) return fail(st.error());
  Use use(**st);
  use->bind(1, *doc);
  for (;;) {
    auto row = use->step(context);
    if (!row) return fail(row.error());
    if (!*row) break;
    const auto seq = use->columnInt(0);
    auto applied = result.applyUpdate(use->columnBlobView(1));
    if (!applied) {
      Error e = Error::corrupt(context + ": update row " + std::to_string(seq) +
                               " does not decode: " + applied.error().message());
      if (!skipped) return fail(std::move(e));
      skipped->push_back(std::move(e));
    }
  }
  return result;
}

Result<DocumentInfo> DocumentStore::Impl::infoRow(Statement& st) {
  DocumentInfo info;
  info.id = idFromBlob(st.columnBlob(0));
  info.title = st.columnText(1);
  info.createdMs = st.columnInt(2);
  info.editedMs = st.columnInt(3);
  info.tailRows = static_cast<std::uint64_t>(st.columnInt(4));
  info.storedBytes = static_cast<std::uint64_t>(st.columnInt(5) + st.columnInt(6));
  return info;
}

Result<DocumentId> DocumentStore::Impl::insertDocument(
    const std::string& title, const std::string& context, const engine::Document* initial,
    const std::pair<DocumentId, DocumentKey>* shared) {
  DocumentId id;
  DocumentKey key{};
  if (shared) {
    id = shared->first;
    key = shared->second;
  } else {
    if (auto r = fillRandom(id.bytes); !r) return fail(r.error());
    if (auto r = fillRandom(key); !r) return fail(r.error());
  }
  std::vector<std::uint8_t> history;
  std::vector<std::uint8_t> version;
  if (initial) {
    history = initial->encodeHistory();
    version = initial->version().encode();
  }
  const auto t = now();
  auto tx = Transaction::begin(db, context);
  if (!tx) return fail(tx.error());
  {
    auto st = stmt(
        "INSERT INTO documents (id, title, created_ms, edited_ms, key) VALUES (?1, ?2, ?3, ?3, ?4) "
        "RETURNING doc",
        context);
    if (!st) return fail(st.error());
    Use use(**st);
    use->bind(1, std::span<const std::uint8_t>(id.bytes)).bind(2, title).bind(3, t);
    use->bind(4, std::span<const std::uint8_t>(key));
    auto row = use->step(context);
    if (!row) return fail(row.error());
    const auto doc = use->columnInt(0);
    if (auto r = use->run(context); !r) return fail(r.error());
    if (initial) {
      auto snap = stmt(
          "INSERT INTO snapshots (doc, history, version, through_seq, written_ms) "
          "VALUES (?1, ?2, ?3, 0, ?4)",
          context);
      if (!snap) return fail(snap.error());
      Use s(**snap);
      s->bind(1, doc).bind(2, std::span<const std::uint8_t>(history));
      s->bind(3, std::span<const std::uint8_t>(version)).bind(4, t);
      if (auto r = s->run(context); !r) return fail(r.error());
    }
  }
  if (auto r = tx->commit(context); !r) return fail(r.error());
  return id;
}

// ---- DocumentStore.

DocumentStore::DocumentStore(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
DocumentStore::~DocumentStore() = default;

Result<std::unique_ptr<DocumentStore>> DocumentStore::open(const std::string& path,
                                                           OpenOptions options) {
  const std::string context = "storage: open " + path;
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->options = std::move(options);
  if (!impl->options.nowMs) {
    impl->options.nowMs = [] {
      using namespace std::chrono;
      return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    };
  }

  bool created = false;
  if (auto r = createPrivateFile(path, created); !r) return fail(r.error());
  if (!created) {
    auto mode = fileMode(path);
    if (!mode) return fail(mode.error());
    if (*mode & 077) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%04o", *mode);
      impl->warnings.push_back(context + ": the file has mode " + buf +
                               " and holds document keys; 0600 is expected (left unchanged)");
    }
  }

  auto conn = openDatabase(path, impl->options.vfs);
  if (!conn) return fail(conn.error());
  impl->db = std::move(*conn);
  if (auto r = migrate(impl->db, path); !r) return fail(r.error());
  if (auto r = impl->loadDevice(context); !r) return fail(r.error());
  return std::unique_ptr<DocumentStore>(new DocumentStore(std::move(impl)));
}

const Device& DocumentStore::device() const { return m_impl->device; }
const std::vector<std::string>& DocumentStore::warnings() const { return m_impl->warnings; }
const std::string& DocumentStore::path() const { return m_impl->path; }

Result<void> DocumentStore::setDevice(const std::string& displayName, std::uint32_t color) {
  const std::string context = "storage: set device name and colour in " + m_impl->path;
  if (color > 0xFFFFFF) return fail(Error::invalidArgument(context + ": colour is not 0xRRGGBB"));
  auto st = m_impl->stmt("UPDATE device SET display_name = ?1, color = ?2 WHERE id = 1", context);
  if (!st) return fail(st.error());
  Use use(**st);
  use->bind(1, displayName).bind(2, static_cast<std::int64_t>(color));
  if (auto r = use->run(context); !r) return r;
  m_impl->device.displayName = displayName;
  m_impl->device.color = color;
  return {};
}

namespace {
constexpr const char* kInfoColumns =
    "SELECT d.id, d.title, d.created_ms, d.edited_ms, d.tail_rows, d.tail_bytes, "
    "coalesce(length(s.history), 0) FROM documents d LEFT JOIN snapshots s ON s.doc = d.doc ";
}

Result<std::vector<DocumentInfo>> DocumentStore::list() {
  const std::string context = "storage: list documents in " + m_impl->path;
  auto st = m_impl->stmt(std::string(kInfoColumns) + "ORDER BY d.edited_ms DESC, d.doc", context);
  if (!st) return fail(st.error());
  Use use(**st);
  std::vector<DocumentInfo> out;
  for (;;) {
    auto row = use->step(context);
    if (!row) return fail(row.error());
    if (!*row) break;
    auto info = m_impl->infoRow(*use);
    if (!info) return fail(info.error());
    out.push_back(std::move(*info));
  }
  return out;
}

Result<DocumentInfo> DocumentStore::info(const DocumentId& id) {
  const std::string context = docContext("read", id);
  auto st = m_impl->stmt(std::string(kInfoColumns) + "WHERE d.id = ?1", context);
  if (!st) return fail(st.error());
  Use use(**st);
  use->bind(1, std::span<const std::uint8_t>(id.bytes));
  auto row = use->step(context);
  if (!row) return fail(row.error());
  if (!*row) return fail(noSuchDocument(context));
  return m_impl->infoRow(*use);
}

Result<DocumentId> DocumentStore::resolve(const std::string& query) {
  const std::string context = "storage: find document '" + query + "'";
  if (auto id = DocumentId::fromHex(query)) {
    auto doc = m_impl->docRow(*id, context);
    if (doc) return *id;
    if (doc.error().code() != Error::Code::InvalidArgument) return fail(doc.error());
  }
  auto all = list();
  if (!all) return fail(all.error());
  std::vector<DocumentId> byTitle;
  for (const auto& d : *all) {
    if (d.title == query) byTitle.push_back(d.id);
  }
  if (byTitle.size() == 1) return byTitle.front();
  if (byTitle.size() > 1) {
    return fail(Error::invalidArgument(context + ": " + std::to_string(byTitle.size()) +
                                       " documents have this title; use an id"));
  }
  bool hex = query.size() >= 4;
  std::string prefix;
  for (char c : query) {
    if (hexValue(c) < 0) hex = false;
    prefix += static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
  }
  if (hex) {
    std::vector<DocumentId> byPrefix;
    for (const auto& d : *all) {
      if (d.id.toHex().starts_with(prefix)) byPrefix.push_back(d.id);
    }
    if (byPrefix.size() == 1) return byPrefix.front();
    if (byPrefix.size() > 1) {
      return fail(Error::invalidArgument(context + ": the id prefix matches " +
                                         std::to_string(byPrefix.size()) + " documents"));
    }
  }
  return fail(noSuchDocument(context));
}

Result<DocumentId> DocumentStore::create(const std::string& title) {
  return m_impl->insertDocument(title, "storage: create document '" + title + "'", nullptr);
}

Result<void> DocumentStore::adopt(const DocumentId& id, const DocumentKey& key,
                                  const std::string& title) {
  const std::pair<DocumentId, DocumentKey> shared{id, key};
  auto r = m_impl->insertDocument(title, docContext("add shared", id), nullptr, &shared);
  if (!r) return fail(r.error());
  return {};
}

Result<void> DocumentStore::rename(const DocumentId& id, const std::string& title) {
  const std::string context = docContext("rename", id);
  auto st = m_impl->stmt("UPDATE documents SET title = ?1 WHERE id = ?2", context);
  if (!st) return fail(st.error());
  Use use(**st);
  use->bind(1, title).bind(2, std::span<const std::uint8_t>(id.bytes));
  if (auto r = use->run(context); !r) return r;
  if (m_impl->db.changes() == 0) return fail(noSuchDocument(context));
  return {};
}

Result<void> DocumentStore::remove(const DocumentId& id) {
  const std::string context = docContext("delete", id);
  auto st = m_impl->stmt("DELETE FROM documents WHERE id = ?1", context);
  if (!st) return fail(st.error());
  Use use(**st);
  use->bind(1, std::span<const std::uint8_t>(id.bytes));
  if (auto r = use->run(context); !r) return r;
  if (m_impl->db.changes() == 0) return fail(noSuchDocument(context));
  return {};
}

Result<DocumentKey> DocumentStore::key(const DocumentId& id) {
  const std::string context = docContext("read the key of", id);
  auto st = m_impl->stmt("SELECT key FROM documents WHERE id = ?1", context);
  if (!st) return fail(st.error());
  Use use(**st);
  use->bind(1, std::span<const std::uint8_t>(id.bytes));
  auto row = use->step(context);
  if (!row) return fail(row.error());
  if (!*row) return fail(noSuchDocument(context));
  const auto blob = use->columnBlob(0);
  DocumentKey key{};
  if (blob.size() != key.size()) return fail(Error::corrupt(context + ": the key is not 32 bytes"));
  std::copy(blob.begin(), blob.end(), key.begin());
  return key;
}

Result<std::vector<std::string>> DocumentStore::routes(const DocumentId& id) {
  const std::string context = docContext("read the routes of", id);
  auto tx = Transaction::begin(m_impl->db, context, false);
  if (!tx) return fail(tx.error());
  auto doc = m_impl->docRow(id, context);
  if (!doc) return fail(doc.error());
  auto st = m_impl->stmt("SELECT url FROM routes WHERE doc = ?1 ORDER BY position", context);
  if (!st) return fail(st.error());
  Use use(**st);
  use->bind(1, *doc);
  std::vector<std::string> out;
  for (;;) {
    auto row = use->step(context);
    if (!row) return fail(row.error());
    if (!*row) break;
    out.push_back(use->columnText(0));
  }
  return out;
}

Result<void> DocumentStore::setRoutes(const DocumentId& id,
                                      const std::vector<std::string>& routes) {
  const std::string context = docContext("set the routes of", id);
  auto tx = Transaction::begin(m_impl->db, context);
  if (!tx) return fail(tx.error());
  auto doc = m_impl->docRow(id, context);
  if (!doc) return fail(doc.error());
  {
    auto del = m_impl->stmt("DELETE FROM routes WHERE doc = ?1", context);
    if (!del) return fail(del.error());
    Use use(**del);
    use->bind(1, *doc);
    if (auto r = use->run(context); !r) return r;
  }
  auto ins = m_impl->stmt("INSERT INTO routes (doc, position, url) VALUES (?1, ?2, ?3)", context);
  if (!ins) return fail(ins.error());
  for (std::size_t i = 0; i < routes.size(); ++i) {
    Use use(**ins);
    use->bind(1, *doc).bind(2, static_cast<std::int64_t>(i)).bind(3, routes[i]);
    if (auto r = use->run(context); !r) return r;
  }
  return tx->commit(context);
}

Result<engine::Document> DocumentStore::load(const DocumentId& id) {
  return m_impl->load(id, m_impl->device.replica, nullptr);
}

Result<engine::Document> DocumentStore::load(const DocumentId& id,
                                             const engine::ReplicaId& replica) {
  return m_impl->load(id, replica, nullptr);
}

Result<engine::Document> DocumentStore::loadSkippingDamaged(const DocumentId& id,
                                                            std::vector<Error>& skipped) {
  return m_impl->load(id, m_impl->device.replica, &skipped);
}

Result<engine::Document> DocumentStore::loadSkippingDamaged(const DocumentId& id,
                                                            const engine::ReplicaId& replica,
                                                            std::vector<Error>& skipped) {
  return m_impl->load(id, replica, &skipped);
}

Result<void> DocumentStore::append(const DocumentId& id, std::span<const std::uint8_t> update,
                                   const engine::Document* current) {
  const std::string context = docContext("append to", id);
  if (update.empty()) return fail(Error::invalidArgument(context + ": the update is empty"));
  std::int64_t doc = 0;
  std::uint64_t rows = 0;
  std::uint64_t bytes = 0;
  {
    auto tx = Transaction::begin(m_impl->db, context);
    if (!tx) return fail(tx.error());
    {
      auto ins = m_impl->stmt(
          "INSERT INTO updates (doc, data) SELECT doc, ?2 FROM documents WHERE id = ?1", context);
      if (!ins) return fail(ins.error());
      Use use(**ins);
      use->bind(1, std::span<const std::uint8_t>(id.bytes)).bind(2, update);
      if (auto r = use->run(context); !r) return r;
      if (m_impl->db.changes() == 0) return fail(noSuchDocument(context));
    }
    {
      auto upd = m_impl->stmt(
          "UPDATE documents SET edited_ms = ?2, tail_rows = tail_rows + 1, "
          "tail_bytes = tail_bytes + ?3 WHERE id = ?1 "
          "RETURNING doc, tail_rows, tail_bytes",
          context);
      if (!upd) return fail(upd.error());
      Use use(**upd);
      use->bind(1, std::span<const std::uint8_t>(id.bytes)).bind(2, m_impl->now());
      use->bind(3, static_cast<std::int64_t>(update.size()));
      auto row = use->step(context);
      if (!row) return fail(row.error());
      if (!*row) return fail(noSuchDocument(context));
      doc = use->columnInt(0);
      rows = static_cast<std::uint64_t>(use->columnInt(1));
      bytes = static_cast<std::uint64_t>(use->columnInt(2));
      if (auto r = use->run(context); !r) return r;
    }
    if (auto r = tx->commit(context); !r) return r;
  }

  // Committed. Compaction is housekeeping from here on: its failure is a warning, not an
  // append failure (the caller must not think the update was lost).
  const auto [leftRows, leftBytes] = m_impl->leftover[doc];
  const auto& o = m_impl->options;
  if (rows < o.compactRows + leftRows && bytes < o.compactBytes + leftBytes) return {};
  Result<void> compacted;
  if (current) {
    compacted = compact(id, *current);
  } else {
    auto loaded = load(id);
    compacted = loaded ? compact(id, *loaded) : Result<void>(fail(loaded.error()));
  }
  if (!compacted) {
    m_impl->warnings.push_back("storage: automatic compaction after " + context +
                               " failed: " + compacted.error().toString());
  }
  return {};
}

Result<DocumentId> DocumentStore::importFile(const std::string& path, const std::string& title) {
  auto text = readUtf8File(path);
  if (!text) return fail(text.error());
  std::string name = title;
  if (name.empty()) {
    const auto slash = path.rfind('/');
    name = slash == std::string::npos ? path : path.substr(slash + 1);
    const auto dot = name.rfind('.');
    if (dot != std::string::npos && dot > 0) name.erase(dot);
  }
  const std::string context = "storage: import " + path;
  engine::Document doc(m_impl->device.replica);
  if (!text->empty()) {
    if (auto r = doc.insert(0, *text); !r)
      return fail(Error::invalidArgument(context + ": " + r.error().message()));
  }
  return m_impl->insertDocument(name, context, &doc);
}

Result<void> DocumentStore::exportFile(const DocumentId& id, const std::string& path) {
  auto doc = load(id);
  if (!doc) return fail(doc.error());
  return writeFileAtomically(path, doc->text());
}

std::string DocumentStore::testIntegrityCheck() {
  auto st = Statement::prepare(m_impl->db, "PRAGMA integrity_check", "storage: integrity check");
  if (!st) return st.error().toString();
  std::string out;
  for (;;) {
    auto row = st->step("storage: integrity check");
    if (!row) return out + row.error().toString();
    if (!*row) break;
    if (!out.empty()) out += '\n';
    out += st->columnText(0);
  }
  return out;
}

}  // namespace quire::storage
