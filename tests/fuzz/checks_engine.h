// The checks behind the engine-level libFuzzer targets (update, history, version_vector,
// stored_row), shared with the Catch2 corpus replay (tests/engine/corpus_replay_test.cpp,
// tests/storage/corpus_replay_test.cpp) so a corpus file is replayed through exactly what the
// fuzzer ran. Each returns nullptr when the input was handled correctly (rejected, or decoded
// to something valid), else a description of the invariant it broke. Header-only, no Qt.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/document.h"
#include "engine/update_codec.h"
#include "engine/version_vector.h"
#include "tests/fuzz/fuzz_common.h"

namespace quire::fuzz {

namespace detail {

inline std::size_t codePoints(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

// `bytes` was refused by `doc` as a fork (engine FORMAT.md, "Forks"): the repair's verdict
// changes nothing; a winning update gives a valid rebuilt document that holds it, a losing one
// gives the held version, which `doc` takes as a duplicate.
inline const char* forkChecked(const engine::Document& doc, std::span<const std::uint8_t> bytes,
                               bool withStream) {
  const std::string text = doc.text();
  engine::StreamContext ctx;
  ctx.agents.push_back(fuzzReplica(9));
  auto repair = doc.repairFork(bytes, withStream ? &ctx : nullptr);
  if (doc.text() != text) return "a fork's repair changed the document it was asked about";
  if (!repair) {
    if (ctx.agents.size() != 1) return "a failed fork repair changed the stream context";
    return nullptr;
  }
  if (repair->incomingWins) {
    if (!repair->rebuilt || !repair->rebuilt->checkInvariants().empty())
      return "a fork's rebuilt document broke invariants";
    engine::Document again = *repair->rebuilt;
    engine::StreamContext replay;
    replay.agents.push_back(fuzzReplica(9));
    if (!again.applyUpdate(bytes, withStream ? &replay : nullptr) || again.text() != repair->rebuilt->text())
      return "a fork's rebuilt document does not hold the winning update";
    return nullptr;
  }
  engine::Document held = doc;
  auto taken = held.applyUpdate(repair->winner);
  if (!taken || held.text() != text || !(held.version() == doc.version()))
    return "a fork's winner is not what the copy holds";
  return nullptr;
}

// Applies `bytes` to a copy of `base`: either rejected with nothing changed, or applied into a
// valid document whose patches fit. What the check without a document (checkUpdateAlone, a
// room's large frames: net/PROTOCOL.md, "Large frames") refuses, the document refuses too.
inline const char* applyChecked(const engine::Document& base, std::span<const std::uint8_t> bytes,
                                bool withStream) {
  engine::Document doc = base;
  const std::string text = doc.text();
  const auto version = doc.version();
  const std::size_t pending = doc.pendingOpCount();
  engine::StreamContext ctx;
  ctx.agents.push_back(fuzzReplica(9));
  const bool refusedAlone = !engine::checkUpdateAlone(bytes, withStream ? ctx : engine::StreamContext{});
  auto result = doc.applyUpdate(bytes, withStream ? &ctx : nullptr);
  if (result && refusedAlone) return "checkUpdateAlone refused an update a document took";
  if (!result) {
    if (doc.text() != text || !(doc.version() == version) || doc.pendingOpCount() != pending) {
      return "a rejected update changed the document";
    }
    if (ctx.agents.size() != 1) return "a rejected update changed the stream context";
    if (result.error().code() == Error::Code::Forked) return forkChecked(doc, bytes, withStream);
    return nullptr;
  }
  if (!doc.checkInvariants().empty()) return "an accepted update broke invariants";
  std::size_t length = codePoints(text);
  for (const auto& p : *result) {
    if (p.pos > length || p.deleted > length - p.pos) return "a patch does not fit";
    length = length - p.deleted + codePoints(p.inserted);
  }
  if (length != doc.length()) return "patches do not add up to the new length";
  return nullptr;
}

inline const char* historyChecked(std::span<const std::uint8_t> bytes) {
  auto doc = engine::Document::decodeHistory(bytes, fuzzReplica(4));
  if (!doc) return nullptr;
  if (!doc->checkInvariants().empty()) return "a decoded history broke invariants";
  auto again = engine::Document::decodeHistory(doc->encodeHistory(), fuzzReplica(5));
  if (!again) return "a re-encoded history does not decode";
  if (again->text() != doc->text() || !(again->version() == doc->version())) {
    return "a re-encoded history decodes to another document";
  }
  return nullptr;
}

inline const char* vectorChecked(std::span<const std::uint8_t> bytes) {
  auto v = engine::VersionVector::decode(bytes);
  if (!v) return nullptr;
  const auto& e = v->entries();
  for (std::size_t i = 0; i < e.size(); ++i) {
    if (e[i].second == 0) return "a decoded entry has seq 0";
    if (i > 0 && !(e[i - 1].first < e[i].first)) return "decoded entries not sorted";
  }
  auto again = engine::VersionVector::decode(v->encode());
  if (!again || !(*again == *v)) return "a decoded vector does not round-trip";
  return nullptr;
}

}  // namespace detail

// update_fuzz: Document::applyUpdate on an empty document (no stream context) and on
// baseDocument() (with a stream context that already names one agent).
inline const char* checkUpdateInput(const std::uint8_t* data, std::size_t size) {
  static const engine::Document empty(fuzzReplica(3));
  const std::span<const std::uint8_t> bytes(data, size);
  if (const char* p = detail::applyChecked(empty, bytes, false)) return p;
  return detail::applyChecked(baseDocument(), bytes, true);
}

// history_fuzz: Document::decodeHistory of historyInput() (raw bytes, or a body to wrap).
inline const char* checkHistoryInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = historyInput(data, size);
  return detail::historyChecked(bytes);
}

// version_vector_fuzz: VersionVector::decode.
inline const char* checkVersionVectorInput(const std::uint8_t* data, std::size_t size) {
  return detail::vectorChecked(std::span<const std::uint8_t>(data, size));
}

// stored_row_fuzz: what storage/document_store.cpp decodes from the rows it reads back
// (SCHEMA.md, "snapshots" and "updates"). The first byte picks the row kind (low two bits):
//   0  a snapshots.history blob: Document::decodeHistory, as load() does;
//   1  an updates.data blob: Document::applyUpdate onto baseDocument(), as load() does per row;
//   2  a snapshots.version blob: VersionVector::decode, as compact() does;
//   3  a whole document's rows: records of a 3-byte little-endian length and that many bytes;
//      the first is the snapshot (length 0: none), the rest are tail rows in seq order, loaded
//      as loadSkippingDamaged() does (a row that does not decode is skipped, the rest applied).
// The rest of the input is the blob (or the records).
inline constexpr std::size_t kMaxStoredRows = 64;

// Splits a kind-3 input (without its first byte) into blobs. Incomplete trailing bytes become
// one last, shorter record.
inline std::vector<std::span<const std::uint8_t>> splitStoredRows(
    std::span<const std::uint8_t> rest) {
  std::vector<std::span<const std::uint8_t>> rows;
  std::size_t i = 0;
  while (i < rest.size() && rows.size() < kMaxStoredRows) {
    if (rest.size() - i < 3) {
      rows.push_back(rest.subspan(i));
      break;
    }
    const std::size_t len = std::size_t{rest[i]} | (std::size_t{rest[i + 1]} << 8) |
                            (std::size_t{rest[i + 2]} << 16);
    i += 3;
    const std::size_t take = len < rest.size() - i ? len : rest.size() - i;
    rows.push_back(rest.subspan(i, take));
    i += take;
  }
  return rows;
}

// The kind-3 encoding of a snapshot and tail rows (used by the seed generator).
inline std::vector<std::uint8_t> joinStoredRows(const std::vector<std::vector<std::uint8_t>>& rows) {
  std::vector<std::uint8_t> out{3};
  for (const auto& r : rows) {
    const std::size_t n = r.size() & 0xFFFFFF;
    out.push_back(static_cast<std::uint8_t>(n));
    out.push_back(static_cast<std::uint8_t>(n >> 8));
    out.push_back(static_cast<std::uint8_t>(n >> 16));
    out.insert(out.end(), r.begin(), r.begin() + static_cast<std::ptrdiff_t>(n));
  }
  return out;
}

inline const char* checkStoredRowInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return nullptr;
  const std::span<const std::uint8_t> rest(data + 1, size - 1);
  switch (data[0] & 3) {
    case 0:
      return detail::historyChecked(rest);
    case 1:
      return detail::applyChecked(baseDocument(), rest, false);
    case 2:
      return detail::vectorChecked(rest);
    default:
      break;
  }
  const auto rows = splitStoredRows(rest);
  engine::Document doc(fuzzReplica(6));
  if (!rows.empty() && !rows[0].empty()) {
    if (auto snap = engine::Document::decodeHistory(rows[0], fuzzReplica(6))) doc = std::move(*snap);
  }
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const std::string before = doc.text();
    const auto version = doc.version();
    if (!doc.applyUpdate(rows[i])) {
      if (doc.text() != before || !(doc.version() == version))
        return "a skipped tail row changed the document";
    }
  }
  if (!doc.checkInvariants().empty()) return "loaded rows broke invariants";
  return nullptr;
}

}  // namespace quire::fuzz
