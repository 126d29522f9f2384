// Per-user undo and redo over a Document. Only the local user's own ops are undone: undoing an
// insert deletes the characters it inserted (if still there); undoing a delete inserts the deleted
// text again (as new characters) where it stood. FORMAT.md, "Undo".
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/document.h"

namespace quire::engine {

// What an undo or redo did: the patches applied to the text (apply them to a view in order) and
// where the caret belongs afterwards.
struct UndoStep {
  std::uint32_t caret = 0;
  std::vector<Patch> patches;
};

// Records the local edits made through it, grouped as people expect: a pause longer than
// `pauseMs`, a word boundary after typing, a switch between typing and deleting, or breakGroup()
// ends a group. Holds a reference to the document, which must outlive it. Not thread-safe.
class UndoManager {
 public:
  explicit UndoManager(Document& doc, std::uint64_t pauseMs = 1000);
  UndoManager(const UndoManager&) = delete;
  UndoManager& operator=(const UndoManager&) = delete;

  // Local edits, as Document::insert/remove, recorded for undo. `nowMs` is any monotonic clock.
  [[nodiscard]] Result<void> insert(std::uint32_t pos, std::string_view utf8, std::uint64_t nowMs);
  [[nodiscard]] Result<void> remove(std::uint32_t pos, std::uint32_t count, std::uint64_t nowMs);
  // Ends the current group (the caret moved, the document was saved, ...).
  void breakGroup();
  // Every edit between beginGroup() and the matching endGroup() is one undo step, whatever
  // its kind or timing (a replace-all, a replaced selection). Nestable; endGroup() of the
  // outermost also ends the group, so the next edit starts a new one.
  void beginGroup();
  void endGroup();

  // Forgets every step: the document was replaced (its LVs renumbered, e.g. by a fork's repair).
  void clear();
  bool canUndo() const { return !m_undo.empty(); }
  bool canRedo() const { return !m_redo.empty(); }
  // Empty when there is nothing to undo/redo. The ops made are local ops of the document.
  std::optional<UndoStep> undo();
  std::optional<UndoStep> redo();

 private:
  // A group of local ops, as LV ranges [begin, end) in the document's op log.
  struct Group {
    std::vector<std::pair<LV, LV>> ranges;
  };
  enum class LastKind { None, Insert, Delete };

  void record(LV begin, LV end, LastKind kind, std::uint64_t nowMs, bool wordBoundary);
  std::optional<UndoStep> revert(Group group, std::vector<Group>& opposite);
  LV liveCopy(LV lv) const;

  Document& m_doc;
  std::uint64_t m_pauseMs;
  std::vector<Group> m_undo;
  std::vector<Group> m_redo;
  bool m_open = false;  // the top undo group still accepts edits
  int m_explicitDepth = 0;        // beginGroup() calls not yet ended
  bool m_explicitStarted = false;  // the explicit group has its first edit (its own group)
  LastKind m_lastKind = LastKind::None;
  std::uint64_t m_lastMs = 0;
  bool m_lastWasSpace = false;
  // A character re-inserted by an undo of its deletion: old LV -> its new copy.
  std::unordered_map<LV, LV> m_revived;
};

}  // namespace quire::engine
