// A text document as a CRDT: local edits, remote updates, versions, anchors and the two binary
// encodings. FORMAT.md describes the model ("Glossary", "Ordering") and the bytes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/ids.h"
#include "engine/result.h"
#include "engine/version_vector.h"

namespace quire::engine {

class ContentTree;
class OpLog;
struct PendingRuns;
struct ForkRepair;

// A change to the visible text, in the coordinates of the text as it was just before this patch
// (patches of one call apply one after another): delete `deleted` code points at `pos`, then
// insert `inserted` (UTF-8) there.
struct Patch {
  std::uint32_t pos = 0;
  std::uint32_t deleted = 0;
  std::string inserted;
  bool operator==(const Patch&) const = default;
};

// Collects patches in order, folding each into the last where the two are one contiguous
// insert or delete (typing on, forward delete, backspace). O(1) per patch plus its text.
class PatchCollector {
 public:
  void add(Patch p);
  std::vector<Patch> take() { return std::move(m_patches); }

 private:
  std::vector<Patch> m_patches;
  std::uint32_t m_lastInsertedLength = 0;  // code points of m_patches.back().inserted
};

// Which side of its character an anchor sticks to. `After` follows the character (a caret just
// typed after it); `Before` precedes it. If the character is deleted, the anchor resolves to the
// place where it stood.
enum class Bias : std::uint8_t { Before = 0, After = 1 };

// A stable position that survives concurrent edits: a character id plus a bias, or one of the
// document's two ends. Wire form (replica id), so it can travel in presence messages.
struct Anchor {
  enum class Kind : std::uint8_t { Start = 0, End = 1, Char = 2 };
  Kind kind = Kind::Start;
  ReplicaId replica;
  std::uint32_t seq = 0;
  Bias bias = Bias::Before;
  bool operator==(const Anchor&) const = default;
};

// The agents announced on one update stream, in order: an update refers to an agent by its
// index here. A fresh (empty) context makes an update self-contained. Each direction of a
// connection keeps its own. Owned by the caller; not thread-safe.
struct StreamContext {
  std::vector<ReplicaId> agents;

  // The index of `r` in `agents`, if announced. O(log n): a lookup table follows `agents` (which
  // callers may append to or replace at will; a stale entry is detected and the table rebuilt).
  std::optional<std::uint32_t> find(const ReplicaId& r) const;

 private:
  mutable std::map<ReplicaId, std::uint32_t> m_index;
  mutable std::size_t m_indexed = 0;  // agents[0, m_indexed) are in m_index
};

// Bounds on what decoding one document may cost (FORMAT.md, "Decoding limits").
struct DecodeLimits {
  static constexpr std::uint64_t kDefaultMaxDecompressedBytes = 64ull << 20;
  // A history's body (after zstd) may be at most this large; a stated size above it is refused
  // before anything is allocated.
  std::uint64_t maxDecompressedBytes = processMaxDecompressedBytes();

  // What a default-constructed DecodeLimits holds in this process (64 MiB unless set). Set it
  // once at start, before any thread decodes: quire and quire-cli take QUIRE_MAX_DOCUMENT_MIB.
  static std::uint64_t processMaxDecompressedBytes();
  // `mib`: a whole number of MiB, 1 to 65,536. On an error nothing changes.
  [[nodiscard]] static Result<void> setProcessMaxDecompressedMiB(std::string_view mib);
  // From the environment variable QUIRE_MAX_DOCUMENT_MIB, if it is set.
  [[nodiscard]] static Result<void> setProcessFromEnvironment();
};

// One copy of a document. Owns its op log and its order tree. Copyable (a copy is a fork that
// still edits as the same replica). Not thread-safe.
class Document {
 public:
  explicit Document(ReplicaId localReplica);
  ~Document();
  Document(const Document& other);
  Document& operator=(const Document& other);
  Document(Document&&) noexcept;
  Document& operator=(Document&&) noexcept;

  ReplicaId localReplica() const;

  // ---- Local edits (code points). Fail with InvalidArgument on a position past the end or
  // text that is not valid UTF-8, changing nothing.
  [[nodiscard]] Result<void> insert(std::uint32_t pos, std::string_view utf8);
  [[nodiscard]] Result<void> remove(std::uint32_t pos, std::uint32_t count);

  std::uint32_t length() const;  // code points
  std::string text() const;      // UTF-8

  // ---- Versions.
  VersionVector version() const;
  // The text as it was at `version`, which must be a version this document has passed through
  // or a causally closed subset of its ops (e.g. another peer's version, intersected).
  std::string textAt(const VersionVector& version) const;
  // Local version counter: every op this copy holds has an LV below this.
  LV nextLv() const;

  // ---- Live updates (FORMAT.md, "Update encoding").
  // Everything this copy has that a peer at `theirs` lacks. Self-contained.
  std::vector<std::uint8_t> encodeUpdateSince(const VersionVector& theirs) const;
  // The ops in `to` but not in `from` (for each replica, seqs in [from, to)). `to` must be
  // causally closed (a version some copy has been at), so the result applies on a copy at `from`.
  std::vector<std::uint8_t> encodeUpdateBetween(const VersionVector& from,
                                                const VersionVector& to) const;
  // Every op whose LV is >= `from` (e.g. the keystroke just typed). With a stream context, agents
  // already announced on the stream are referred to by index and new ones are added to it.
  std::vector<std::uint8_t> encodeOpsSince(LV from, StreamContext* stream = nullptr) const;
  // The ops with LVs in [from, to) (`to` is clamped to nextLv()), e.g. the local edits whose
  // commit just completed while later ones are still being committed.
  std::vector<std::uint8_t> encodeOpsBetween(LV from, LV to, StreamContext* stream = nullptr) const;
  // At most this many ops wait for missing dependencies; an update that would leave more
  // waiting is refused (Error::malformed) and changes nothing.
  static constexpr std::uint64_t kMaxPendingOps = 1u << 20;
  // ... and at most this many runs (each costs a record's worth of memory, whatever its length).
  static constexpr std::uint64_t kMaxPendingRuns = 1u << 16;
  // A document holds at most this many authors (agents); an update or history that would bring
  // more is refused with Error::malformed. FORMAT.md, "Decoding limits".
  static constexpr std::size_t kMaxAgents = 1u << 16;
  // Applies a remote update: idempotent, order-independent (ops whose dependencies are missing
  // wait, see pendingOpCount()), atomic (a malformed update changes nothing, stream included).
  // Returns the patches to the visible text, in order.
  [[nodiscard]] Result<std::vector<Patch>> applyUpdate(std::span<const std::uint8_t> update,
                                                       StreamContext* stream = nullptr);
  std::size_t pendingOpCount() const;

  // ---- Forks (FORMAT.md, "Forks"): `update` was refused as Error::Code::Forked, naming an op
  // this copy holds in another version. Finds the first op of its author that the two versions
  // hold differently and which version wins there; if it is the update's, this document rebuilt
  // without the losing ops and with the update applied (the result's `rebuilt`), else the
  // author's ops from that op on as held here, for the copies that hold the other version
  // (`winner`). Changes nothing; `stream` is extended only if the update was applied. Fails if
  // the update forks nothing here, or if it wins but ops this copy made itself build on ops only
  // the losing version has (they would wait for good, and this copy's next ops reuse their ids).
  [[nodiscard]] Result<ForkRepair> repairFork(std::span<const std::uint8_t> update,
                                              StreamContext* stream = nullptr) const;
  // This document without `author`'s ops from `seq` on; ops that build on them wait, as if they
  // had arrived before them.
  [[nodiscard]] Result<Document> without(const ReplicaId& author, std::uint32_t seq) const;

  // ---- Whole history (FORMAT.md, "History encoding"): columnar, compressed, keeps deleted text.
  std::vector<std::uint8_t> encodeHistory() const;
  [[nodiscard]] static Result<Document> decodeHistory(std::span<const std::uint8_t> bytes,
                                                      ReplicaId localReplica,
                                                      const DecodeLimits& limits = {});

  // ---- Anchors.
  // REQUIRES: pos <= length().
  Anchor anchorAt(std::uint32_t pos, Bias bias) const;
  // Empty if the anchor names a character this copy has not received yet.
  std::optional<std::uint32_t> resolveAnchor(const Anchor& anchor) const;

  // ---- Introspection.
  std::uint64_t opCount() const;   // every insert and delete, one per character
  std::size_t runCount() const;    // items in the order tree
  std::size_t memoryUsage() const; // bytes of heap held (capacity, not size)
  // Test/debug only: asserts the tree and the log agree. Returns a description of the first
  // violation, empty if none.
  std::string checkInvariants() const;

  // Internal access for UndoManager and the codecs.
  OpLog& opLog() { return *m_log; }
  const OpLog& opLog() const { return *m_log; }
  const ContentTree& tree() const { return *m_tree; }

 private:
  friend class UndoManager;
  friend struct DocumentAccess;

  // Local-style insert/delete of `agent` at a visible position (also used to decode histories).
  void insertAt(AgentIndex agent, std::uint32_t pos, std::string_view utf8, std::uint32_t n, bool ascii);
  void deleteAt(AgentIndex agent, std::uint32_t pos, std::uint32_t n);
  // Local insert right after character `left` (which may be deleted); returns its visible position.
  std::uint32_t insertAfterChar(AgentIndex agent, LV left, std::string_view utf8, std::uint32_t n,
                                bool ascii);
  // One delete run whose targets (target, target±1, ...) are the n visible characters at pos.
  void deleteRunAt(AgentIndex agent, std::uint32_t pos, std::uint32_t n, LV target, bool reversed);
  // Places a remote insert by the ordering rule; returns its visible position.
  std::uint32_t integrate(AgentIndex agent, std::uint32_t seq, LV left, LV right,
                          std::string_view utf8, std::uint32_t n, bool ascii);
  // Applies a delete run whose targets are the LVs target, target±1, ...; adds patches.
  void deleteTargets(AgentIndex agent, std::uint32_t seq, LV target, std::uint32_t n, bool reversed,
                     PatchCollector* patches);
  void appendText(std::string& out, LV lv, std::uint32_t n) const;
  std::vector<std::uint8_t> encodeRanges(std::vector<std::pair<LV, LV>> ranges, StreamContext& stream) const;

  std::unique_ptr<OpLog> m_log;
  std::unique_ptr<ContentTree> m_tree;
  std::unique_ptr<PendingRuns> m_pending;
  AgentIndex m_local = 0;
  // Visible position of the last local delete: a delete there (or just before) continues its run.
  std::uint32_t m_lastDeletePos = 0xFFFFFFFFu;
};

// Document::repairFork's verdict on a forked update.
struct ForkRepair {
  ReplicaId author;       // whose ops the two versions hold differently
  std::uint32_t seq = 0;  // the first of them
  std::string why;        // which field differs there, as the refusal said
  // The update's version has the smaller canonical key at `seq` (fork_check.h): it wins, even
  // over this copy's own ops (nobody can tell which version is genuine without signatures).
  bool incomingWins = false;
  std::unique_ptr<Document> rebuilt;   // incomingWins: the repaired document
  std::vector<std::uint8_t> winner;    // otherwise: an update of the held version from `seq` on

  // "a fork at op 1a2b3c4d:17 (op 1a2b3c4d:17 is held with a different text)", for a log line.
  std::string summary() const;
  // Puts `rebuilt` in place of `doc` (the copy this verdict is about) and returns the one patch
  // that turns the text shown before into the new text. REQUIRES: incomingWins.
  Patch replace(Document& doc);
};

}  // namespace quire::engine
