// quire-fuzz-seeds: writes the seed corpora of the libFuzzer targets (tests/fuzz/corpus/<target>/)
// from the shared editing traces: real bytes the project writes (histories, live updates,
// keystroke streams, version vectors, plaintext messages and sealed frames of every kind, share
// links, stored rows read back from a real DocumentStore, imported text files). Deterministic:
// the same traces give the same files. Each file is named seed-<what>; files with other names
// (crashers, inputs the fuzzer found) are left alone, and old seed-* files are removed first.
//
//   quire-fuzz-seeds --traces ../shared/traces --out tests/fuzz/corpus
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <sodium.h>
#include <sqlite3.h>
#include <zstd.h>

#include "app/trace/trace_file.h"
#include "app/trace/trace_replay.h"
#include "engine/document.h"
#include "engine/version_vector.h"
#include "net/crypto.h"
#include "net/frame.h"
#include "net/share_link.h"
#include "storage/document_store.h"
#include "tests/fuzz/checks_engine.h"
#include "tests/fuzz/checks_net.h"

namespace fs = std::filesystem;
using quire::engine::Document;
using quire::engine::LV;
using quire::engine::ReplicaId;
using quire::engine::StreamContext;
using quire::engine::VersionVector;
using Bytes = std::vector<std::uint8_t>;

namespace {

// libsodium's randomness, made deterministic (splitmix64 from a fixed state) so sealed frames
// get the same nonces on every run. Installed before anything initialises libsodium.
std::uint64_t g_random = 0x5EEDC0DE5EEDC0DEull;
std::uint32_t fixedRandom() {
  std::uint64_t z = (g_random += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return static_cast<std::uint32_t>(z ^ (z >> 31));
}
void fixedRandomBuf(void* const buf, const std::size_t size) {
  auto* p = static_cast<std::uint8_t*>(buf);
  for (std::size_t i = 0; i < size; ++i) p[i] = static_cast<std::uint8_t>(fixedRandom());
}
const char* fixedRandomName() { return "quire-fuzz-seeds"; }
randombytes_implementation g_fixedRandom = {&fixedRandomName, &fixedRandom, nullptr, nullptr,
                                            &fixedRandomBuf, nullptr};

// Seeds larger than this are not written: big inputs slow every libFuzzer mutation down.
constexpr std::size_t kMaxSeedBytes = 48 * 1024;

class Corpus {
 public:
  explicit Corpus(fs::path root) : m_root(std::move(root)) {}

  void clean(const std::string& target) {
    const fs::path dir = m_root / target;
    fs::create_directories(dir);
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().filename().string().starts_with("seed-")) fs::remove(e.path());
    }
  }

  // Writes one seed; skipped when too large.
  void put(const std::string& target, const std::string& name, const Bytes& bytes) {
    if (bytes.size() > kMaxSeedBytes) return;
    std::ofstream out(m_root / target / ("seed-" + name), std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    ++m_files[target];
    m_bytes[target] += bytes.size();
  }
  void put(const std::string& target, const std::string& name, const std::string& text) {
    put(target, name, Bytes(text.begin(), text.end()));
  }

  void report() const {
    for (const auto& [target, n] : m_files) {
      std::printf("%-22s %4zu files %9zu bytes\n", target.c_str(), n, m_bytes.at(target));
    }
  }

 private:
  fs::path m_root;
  std::map<std::string, std::size_t> m_files;
  std::map<std::string, std::size_t> m_bytes;
};

Bytes prefixed(std::uint8_t first, const Bytes& rest) {
  Bytes out{first};
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

// The decompressed body of a version-1 history (engine/FORMAT.md: "QHST", version 1, varint body
// size, one zstd frame), or empty if `h` is not one.
Bytes historyBody(const Bytes& h) {
  if (h.size() < 6 || h[0] != 'Q' || h[1] != 'H' || h[2] != 'S' || h[3] != 'T' || h[4] != 1) return {};
  std::size_t i = 5;
  std::uint64_t size = 0;
  for (int shift = 0; i < h.size() && shift < 64; shift += 7) {
    const std::uint8_t b = h[i++];
    size |= std::uint64_t{b & 0x7Fu} << shift;
    if ((b & 0x80) == 0) break;
  }
  if (size > kMaxSeedBytes) return {};
  Bytes body(size);
  const std::size_t got = ZSTD_decompress(body.data(), body.size(), h.data() + i, h.size() - i);
  if (ZSTD_isError(got) || got != size) return {};
  return body;
}

// A trace cut to its first `n` transactions (parents only point backwards, so any prefix of a
// concurrent trace is one too).
quire::trace::Trace prefixOf(const quire::trace::Trace& t, std::size_t n) {
  quire::trace::Trace p = t;
  p.txns.resize(std::min(n, p.txns.size()));
  return p;
}

std::string num5(std::size_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%05zu", n);
  return buf;
}

ReplicaId replica(std::uint8_t tag) {
  ReplicaId id;
  for (std::size_t i = 0; i < id.bytes.size(); ++i) id.bytes[i] = static_cast<std::uint8_t>(tag + 3 * i);
  return id;
}

// The messages of every kind in net/frame.h, with contents from `doc` (and `keystrokes`, live
// updates on one stream).
std::vector<std::pair<std::string, quire::net::Message>> messagesOf(const Document& doc,
                                                                   const std::vector<Bytes>& keystrokes,
                                                                   std::uint8_t tag) {
  using namespace quire::net;
  std::vector<std::pair<std::string, Message>> out;
  const Bytes whole = doc.encodeUpdateSince({});
  Message m;
  m.kind = FrameKind::Hello;
  m.sender = replica(tag);
  m.version = doc.version();
  out.emplace_back("hello", m);

  m = {};
  m.kind = FrameKind::Update;
  m.counter = 1;
  m.update = whole;
  out.emplace_back("update", m);

  for (std::size_t i = 0; i < keystrokes.size() && i < 3; ++i) {
    m = {};
    m.kind = FrameKind::Ops;
    m.counter = static_cast<std::uint32_t>(2 + i);
    m.update = keystrokes[i];
    out.emplace_back("ops" + std::to_string(i), m);
  }

  m = {};
  m.kind = FrameKind::Presence;
  m.counter = 7;
  m.presence.replica = replica(tag);
  m.presence.clock = 3;
  m.presence.name = tag % 2 ? "Ada" : "Z\xC3\xBC" "rich \xF0\x9F\x98\x80";
  m.presence.colour = 0x3366CC;
  const std::uint32_t len = doc.length();
  m.presence.cursor = doc.anchorAt(len / 2, quire::engine::Bias::After);
  m.presence.selection = len > 0 ? doc.anchorAt(len - 1, quire::engine::Bias::Before)
                                 : m.presence.cursor;
  out.emplace_back("presence", m);
  m.presence.cursor = doc.anchorAt(0, quire::engine::Bias::Before);
  m.presence.selection = doc.anchorAt(len, quire::engine::Bias::After);
  m.presence.name.clear();
  out.emplace_back("presence-ends", m);

  m = {};
  m.kind = FrameKind::Bye;
  m.counter = 9;
  out.emplace_back("bye", m);

  for (std::size_t i = 0; i < keystrokes.size() && i < 2; ++i) {
    m = {};
    m.kind = FrameKind::RoomOps;
    m.counter = static_cast<std::uint32_t>(i);
    m.stream = 0x1234567890ULL + tag;
    m.update = keystrokes[i];
    out.emplace_back("roomops" + std::to_string(i), m);
  }

  m = {};
  m.kind = FrameKind::Snapshot;
  m.version = doc.version();
  m.update = doc.encodeHistory();
  for (std::uint8_t s = 0; s < 3; ++s) {
    RoomStream rs;
    rs.id = 1000 + s;
    rs.nextCounter = 5u * s;
    for (std::uint8_t a = 0; a < s; ++a) rs.agents.push_back(replica(static_cast<std::uint8_t>(tag + a)));
    m.streams.push_back(rs);
  }
  out.emplace_back("snapshot", m);

  m = {};
  m.kind = FrameKind::Leave;
  m.sender = replica(tag);
  m.stream = 0x1234567890ULL + tag;
  out.emplace_back("leave", m);
  return out;
}

bool isTransientKind(quire::net::FrameKind k) {
  using quire::net::FrameKind;
  return k == FrameKind::Hello || k == FrameKind::Presence || k == FrameKind::Leave ||
         k == FrameKind::Bye;
}

// Every keystroke of the first `count` txns as its own live update on one stream, plus the same
// without a stream; returns the document after them.
Document keystrokes(const quire::trace::Trace& t, std::size_t from, std::size_t count,
                    std::vector<Bytes>& streamed, std::vector<Bytes>& plain) {
  Document doc(quire::trace::agentReplica(0));
  if (!t.startContent.empty()) (void)doc.insert(0, t.startContent);
  StreamContext ctx;
  for (std::size_t i = 0; i < t.txns.size() && i < from + count; ++i) {
    const LV before = doc.nextLv();
    for (const auto& p : t.txns[i].patches) {
      if (p.deleted) (void)doc.remove(p.pos, p.deleted);
      if (!p.inserted.empty()) (void)doc.insert(p.pos, p.inserted);
    }
    if (i >= from) {
      streamed.push_back(doc.encodeOpsSince(before, &ctx));
      plain.push_back(doc.encodeOpsSince(before));
    }
  }
  return doc;
}

// Rows as storage/document_store.cpp writes them: a real store in `dir`, one tail row per
// keystroke (what the editor appends), a compaction half-way; then the rows read back with
// SQLite. Returns {snapshot history, snapshot version, tail rows...} per document.
struct StoredDoc {
  Bytes history;
  Bytes version;
  std::vector<Bytes> tail;
};

std::vector<Bytes> blobs(sqlite3* db, const char* sql) {
  std::vector<Bytes> out;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) return out;
  while (sqlite3_step(st) == SQLITE_ROW) {
    const int n = sqlite3_column_bytes(st, 0);
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(st, 0));
    out.emplace_back(p, p + n);
  }
  sqlite3_finalize(st);
  return out;
}

std::vector<StoredDoc> storedRows(const quire::trace::Trace& t, const fs::path& dir,
                                  const std::string& importText) {
  using namespace quire::storage;
  std::vector<StoredDoc> out;
  fs::create_directories(dir);
  const std::string path = (dir / "seeds.db").string();
  OpenOptions options;
  options.compactRows = 1u << 30;  // compaction only when asked
  options.compactBytes = 1u << 30;
  options.nowMs = [] { return std::int64_t{1700000000000}; };
  // The device's replica id is random; fix it, so the imported document's rows (which carry
  // it) are the same on every run.
  if (auto first = DocumentStore::open(path, options); !first) {
    std::fprintf(stderr, "store: %s\n", first.error().message().c_str());
    return out;
  }
  {
    sqlite3* db = nullptr;
    if (sqlite3_open(path.c_str(), &db) == SQLITE_OK) {
      sqlite3_exec(db, "UPDATE device SET replica = x'51515151515151515151515151515102'", nullptr,
                   nullptr, nullptr);
    }
    sqlite3_close(db);
  }
  auto store = DocumentStore::open(path, options);
  if (!store) {
    std::fprintf(stderr, "store: %s\n", store.error().message().c_str());
    return out;
  }
  auto id = (*store)->create(t.name);
  if (!id) return out;
  const ReplicaId me = quire::trace::agentReplica(0);
  auto doc = (*store)->load(*id, me);
  if (!doc) return out;
  const std::size_t n = std::min<std::size_t>(t.txns.size(), 40);
  for (std::size_t i = 0; i < n; ++i) {
    const LV before = doc->nextLv();
    for (const auto& p : t.txns[i].patches) {
      if (p.deleted) (void)doc->remove(p.pos, p.deleted);
      if (!p.inserted.empty()) (void)doc->insert(p.pos, p.inserted);
    }
    (void)(*store)->append(*id, doc->encodeOpsSince(before));
    if (i == n / 2) (void)(*store)->compact(*id, *doc);
  }
  std::vector<DocumentId> ids{*id};
  const fs::path importPath = dir / "import.txt";
  {
    std::ofstream f(importPath, std::ios::binary);
    f << importText;
  }
  if (auto imported = (*store)->importFile(importPath.string(), "imported")) ids.push_back(*imported);
  store->reset();

  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return out;
  for (const auto& d : ids) {
    StoredDoc s;
    const std::string hex = d.toHex();
    const std::string where = " WHERE doc = (SELECT rowid FROM documents WHERE hex(id) = upper('" + hex + "'))";
    auto h = blobs(db, ("SELECT history FROM snapshots" + where).c_str());
    auto v = blobs(db, ("SELECT version FROM snapshots" + where).c_str());
    if (!h.empty()) s.history = h[0];
    if (!v.empty()) s.version = v[0];
    s.tail = blobs(db, ("SELECT data FROM updates" + where + " ORDER BY seq").c_str());
    out.push_back(std::move(s));
  }
  sqlite3_close(db);
  fs::remove_all(dir);
  return out;
}

// A valid UTF-8 slice of `text` of about `n` bytes starting near `from` (cut on boundaries).
std::string slice(const std::string& text, std::size_t from, std::size_t n) {
  auto boundary = [&](std::size_t i) {
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
    return std::min(i, text.size());
  };
  const std::size_t a = boundary(std::min(from, text.size()));
  const std::size_t b = boundary(std::min(a + n, text.size()));
  return text.substr(a, b - a);
}

void seedTrace(Corpus& c, const quire::trace::Trace& t, std::uint8_t tag, const fs::path& scratch) {
  const std::string name = t.name;
  std::printf("%s: %zu txns\n", name.c_str(), t.txns.size());
  // Partial replays of growing length: histories, whole and delta updates, version vectors.
  const std::size_t total = t.txns.size();
  std::vector<std::size_t> cuts{1, 3, 10, 40, 150, 600, 2500, 10000};
  cuts.push_back(total);
  std::vector<Document> docs;
  for (std::size_t n : cuts) {
    if (n > total) continue;
    auto d = quire::trace::replay(prefixOf(t, n));
    if (!d) {
      std::fprintf(stderr, "%s: replay of %zu txns failed: %s\n", name.c_str(), n,
                   d.error().message().c_str());
      continue;
    }
    const std::string at = name + "-" + num5(n);
    const Bytes history = d->encodeHistory();
    c.put("history_fuzz", at + ".raw", prefixed(0, history));
    const Bytes body = historyBody(history);
    if (!body.empty() && n <= 600) c.put("history_fuzz", at + ".body", prefixed(1, body));
    c.put("update_fuzz", at + ".whole", d->encodeUpdateSince({}));
    if (!docs.empty()) {
      c.put("update_fuzz", at + ".delta", d->encodeUpdateSince(docs.back().version()));
    }
    c.put("version_vector_fuzz", at, d->version().encode());
    c.put("stored_row_fuzz", at + ".snapshot", prefixed(0, history));
    c.put("stored_row_fuzz", at + ".version", prefixed(2, d->version().encode()));
    docs.push_back(std::move(*d));
  }

  // Keystrokes, one update each: at the start and in the middle of the trace.
  std::vector<Bytes> streamed, plain;
  Document typed = keystrokes(t, 0, 12, streamed, plain);
  std::vector<Bytes> midStreamed, midPlain;
  const std::size_t mid = std::min<std::size_t>(total / 2, 3000);
  (void)keystrokes(t, mid, 6, midStreamed, midPlain);
  for (std::size_t i = 0; i < streamed.size(); ++i) {
    c.put("update_fuzz", name + "-key" + num5(i) + ".stream", streamed[i]);
    if (i % 3 == 0) c.put("update_fuzz", name + "-key" + num5(i) + ".plain", plain[i]);
    if (i % 4 == 0) c.put("stored_row_fuzz", name + "-key" + num5(i) + ".tail", prefixed(1, plain[i]));
  }
  for (std::size_t i = 0; i < midStreamed.size(); ++i) {
    c.put("update_fuzz", name + "-mid" + num5(i) + ".stream", midStreamed[i]);
    c.put("update_fuzz", name + "-mid" + num5(i) + ".plain", midPlain[i]);
  }

  // Messages and frames of every kind, from a small document and a mid-sized one.
  using namespace quire::net;
  const DocKey key = quire::fuzz::frameFuzzKey();
  const RoomId room = roomIdOf(key);
  std::vector<const Document*> sources{&typed};
  if (docs.size() > 4) sources.push_back(&docs[4]);
  for (std::size_t s = 0; s < sources.size(); ++s) {
    const auto& keys = s == 0 ? streamed : midStreamed;
    for (const auto& [kind, m] : messagesOf(*sources[s], keys, static_cast<std::uint8_t>(tag + s))) {
      const std::string at = name + "-" + std::to_string(s) + "-" + kind;
      const Bytes plainMsg = encodeMessage(m);
      c.put("frame_message_fuzz", at, plainMsg);
      const bool transient = isTransientKind(m.kind);
      c.put("frame_fuzz", at + ".sealed", prefixed(0, encodeFrame(key, room, m, transient)));
      if (s == 0) c.put("frame_fuzz", at + ".plain", prefixed(transient ? 3 : 1, plainMsg));
    }
  }

  // Share links naming this trace's document.
  ShareLink link;
  for (std::size_t i = 0; i < link.doc.bytes.size(); ++i)
    link.doc.bytes[i] = static_cast<std::uint8_t>(tag * 17 + i * 5);
  link.key = key;
  link.key.bytes[0] = tag;
  link.routes = {"ws://127.0.0.1:7700"};
  c.put("share_link_fuzz", name + "-one", encodeShareLink(link));
  link.routes = {"wss://relay.example.org/room", "ws://[::1]:9000/", "ws://192.168.1.20:7700"};
  const std::string three = encodeShareLink(link);
  c.put("share_link_fuzz", name + "-three", three);
  if (const auto hash = three.find('#'); hash != std::string::npos) {
    c.put("share_link_fuzz", name + "-extra",
          three.substr(0, hash) + "&name=" + name + "&v=2" + three.substr(hash));
    c.put("share_link_fuzz", name + "-nofragment", three.substr(0, hash));
  }

  // Stored rows read back from a real store, and the imported text's rows.
  const std::string text = docs.empty() ? std::string() : docs.back().text();
  const std::string importText = slice(text, text.size() / 3, 1500);
  const auto stored = storedRows(t, scratch / name, importText);
  for (std::size_t d = 0; d < stored.size(); ++d) {
    const StoredDoc& s = stored[d];
    const std::string at = name + "-db" + std::to_string(d);
    if (!s.history.empty()) c.put("stored_row_fuzz", at + ".snapshot", prefixed(0, s.history));
    if (!s.version.empty()) c.put("stored_row_fuzz", at + ".version", prefixed(2, s.version));
    for (std::size_t i = 0; i < s.tail.size(); i += 7)
      c.put("stored_row_fuzz", at + ".tail" + num5(i), prefixed(1, s.tail[i]));
    std::vector<Bytes> rows{s.history};
    rows.insert(rows.end(), s.tail.begin(), s.tail.end());
    c.put("stored_row_fuzz", at + ".rows", quire::fuzz::joinStoredRows(rows));
    rows[0].clear();  // a document whose snapshot row is missing
    c.put("stored_row_fuzz", at + ".rows-nosnap", quire::fuzz::joinStoredRows(rows));
  }

  // Imported text files: slices of the final text, with and without a byte order mark, CRLF
  // line ends, and refused ones (a NUL byte, a cut in the middle of a code point).
  c.put("import_text_fuzz", name + "-head", slice(text, 0, 400));
  c.put("import_text_fuzz", name + "-mid", importText);
  c.put("import_text_fuzz", name + "-bom", "\xEF\xBB\xBF" + slice(text, text.size() / 2, 300));
  std::string crlf;
  for (char ch : slice(text, text.size() / 4, 600)) {
    if (ch == '\n') crlf += '\r';
    crlf += ch;
  }
  c.put("import_text_fuzz", name + "-crlf", crlf);
  std::string withNul = slice(text, 100, 200);
  withNul.insert(withNul.size() / 2, 1, '\0');
  c.put("import_text_fuzz", name + "-nul", withNul);
  const std::string cut = text.substr(0, std::min<std::size_t>(text.size(), 257));
  c.put("import_text_fuzz", name + "-cut", cut);
}

void seedFixed(Corpus& c) {
  // Inputs no trace produces: empty ones and hand-written edge cases.
  c.put("version_vector_fuzz", "empty-vector", VersionVector{}.encode());
  c.put("update_fuzz", "empty-doc-update", Document(replica(1)).encodeUpdateSince({}));
  // Forged duplicates of baseDocument()'s first ops (engine FORMAT.md, "Forks"): "FUZZ" beats
  // its "fuzz" (the copy rebuilds), "zzzz" loses to it (the copy keeps its own).
  for (const char* forged : {"FUZZ", "zzzz"}) {
    Document forger(quire::fuzz::fuzzReplica(1));
    if (!forger.insert(0, forged)) quire::fuzz::die("fork seed");
    c.put("update_fuzz", std::string("fork-") + forged, forger.encodeUpdateSince({}));
  }
  c.put("history_fuzz", "empty-doc.raw", prefixed(0, Document(replica(1)).encodeHistory()));
  c.put("stored_row_fuzz", "empty-doc.snapshot", prefixed(0, Document(replica(1)).encodeHistory()));
  c.put("stored_row_fuzz", "no-rows", Bytes{3});
  c.put("import_text_fuzz", "empty", std::string());
  c.put("import_text_fuzz", "unicode",
        std::string("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xE4\xB8\xAD\xE6\x96\x87\n"));
  c.put("import_text_fuzz", "bad-utf8",
        std::string("ok \xC0\xAF overlong \xED\xA0\x80 surrogate \xF4\x90\x80\x80 too big"));
  c.put("import_text_fuzz", "bom-only", std::string("\xEF\xBB\xBF"));
  c.put("share_link_fuzz", "wrong-scheme",
        std::string("https://open?doc=00112233445566778899aabbccddeeff&via=ws://h#k="));
  c.put("share_link_fuzz", "key-in-query",
        std::string("quire://open?doc=00112233445566778899aabbccddeeff&via=ws://h:1&k="
                    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"));
  c.put("share_link_fuzz", "percent-via",
        std::string("quire://open?doc=00112233445566778899AABBCCDDEEFF&via=ws%3A%2F%2Fh%3A1%2Fp"
                    "&via=wss://x.example#k=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"));
}

}  // namespace

int main(int argc, char** argv) {
  std::string traces, out;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--traces") traces = argv[i + 1];
    else if (a == "--out") out = argv[i + 1];
  }
  if (traces.empty() || out.empty()) {
    std::fprintf(stderr, "usage: quire-fuzz-seeds --traces DIR --out DIR\n");
    return 2;
  }
  randombytes_set_implementation(&g_fixedRandom);
  if (sodium_init() < 0) return 1;
  Corpus c{fs::path(out)};
  for (const char* t : {"update_fuzz", "history_fuzz", "version_vector_fuzz", "frame_message_fuzz",
                        "frame_fuzz", "share_link_fuzz", "stored_row_fuzz", "import_text_fuzz"}) {
    c.clean(t);
  }
  const fs::path scratch = fs::temp_directory_path() / "quire-fuzz-seeds";
  fs::remove_all(scratch);
  std::uint8_t tag = 1;
  const auto files = quire::trace::findTraces(traces);
  if (files.empty()) {
    std::fprintf(stderr, "no traces under %s\n", traces.c_str());
    return 1;
  }
  for (const auto& f : files) {
    auto t = quire::trace::loadTrace(f);
    if (!t) {
      std::fprintf(stderr, "%s\n", t.error().message().c_str());
      return 1;
    }
    seedTrace(c, *t, tag, scratch);
    tag = static_cast<std::uint8_t>(tag + 16);
  }
  seedFixed(c);
  fs::remove_all(scratch);
  c.report();
  return 0;
}
