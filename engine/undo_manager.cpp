#include "engine/undo_manager.h"

#include <algorithm>

#include "engine/content_tree.h"
#include "engine/op_log.h"
#include "engine/utf8.h"

namespace quire::engine {

namespace {
bool isSpace(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return c == ' ' || c == '\n' || c == '\t' || c == '\r';
  });
}
}  // namespace

UndoManager::UndoManager(Document& doc, std::uint64_t pauseMs) : m_doc(doc), m_pauseMs(pauseMs) {}

void UndoManager::breakGroup() { m_open = false; }

void UndoManager::clear() {
  m_undo.clear();
  m_redo.clear();
  m_revived.clear();
  m_open = false;
  m_lastKind = LastKind::None;
}

Result<void> UndoManager::insert(std::uint32_t pos, std::string_view utf8, std::uint64_t nowMs) {
  LV before = m_doc.nextLv();
  auto r = m_doc.insert(pos, utf8);
  if (!r) return r;
  // A word ends a group: the first non-space typed after a space starts a new one.
  bool boundary = m_lastKind == LastKind::Insert && m_lastWasSpace && !isSpace(utf8);
  record(before, m_doc.nextLv(), LastKind::Insert, nowMs, boundary);
  m_lastWasSpace = isSpace(utf8);
  return r;
}

Result<void> UndoManager::remove(std::uint32_t pos, std::uint32_t count, std::uint64_t nowMs) {
  LV before = m_doc.nextLv();
  auto r = m_doc.remove(pos, count);
  if (!r) return r;
  record(before, m_doc.nextLv(), LastKind::Delete, nowMs, false);
  return r;
}

void UndoManager::record(LV begin, LV end, LastKind kind, std::uint64_t nowMs, bool wordBoundary) {
  if (begin == end) return;
  m_redo.clear();
  bool fresh = !m_open || kind != m_lastKind || nowMs < m_lastMs || nowMs - m_lastMs > m_pauseMs ||
               wordBoundary;
  if (m_explicitDepth > 0) {
    fresh = !m_explicitStarted;
    m_explicitStarted = true;
  }
  if (fresh || m_undo.empty()) m_undo.emplace_back();
  auto& ranges = m_undo.back().ranges;
  if (!ranges.empty() && ranges.back().second == begin)
    ranges.back().second = end;
  else
    ranges.push_back({begin, end});
  m_open = true;
  m_lastKind = kind;
  m_lastMs = nowMs;
}

void UndoManager::beginGroup() {
  if (m_explicitDepth++ == 0) m_explicitStarted = false;
}

void UndoManager::endGroup() {
  if (m_explicitDepth == 0) return;
  if (--m_explicitDepth == 0) m_open = false;
}

LV UndoManager::liveCopy(LV lv) const {
  for (auto it = m_revived.find(lv); it != m_revived.end(); it = m_revived.find(lv)) lv = it->second;
  return lv;
}

std::optional<UndoStep> UndoManager::undo() {
  if (m_undo.empty()) return std::nullopt;
  Group g = std::move(m_undo.back());
  m_undo.pop_back();
  m_open = false;
  return revert(std::move(g), m_redo);
}

std::optional<UndoStep> UndoManager::redo() {
  if (m_redo.empty()) return std::nullopt;
  Group g = std::move(m_redo.back());
  m_redo.pop_back();
  m_open = false;
  return revert(std::move(g), m_undo);
}

// Undoes the ops of `group`, newest first, as new local ops, which become a group on `opposite`.
std::optional<UndoStep> UndoManager::revert(Group group, std::vector<Group>& opposite) {
  OpLog& log = m_doc.opLog();
  const ContentTree& tree = m_doc.tree();
  UndoStep step;
  PatchCollector patches;
  LV begin = m_doc.nextLv();
  std::vector<LV> restored, removed;
  for (auto range = group.ranges.rbegin(); range != group.ranges.rend(); ++range) {
    for (LV lv = range->second; lv-- > range->first;) {
      const OpRun& run = log.runAt(lv);
      if (run.kind == OpKind::Insert) {
        // Our character (or the copy an undo made of it): delete it if it is still there.
        LV live = liveCopy(lv);
        TreeCursor c = tree.find(live);
        if (!tree.itemAt(c).visible()) continue;
        std::uint32_t pos = tree.visibleBefore(c);
        m_doc.deleteAt(m_doc.m_local, pos, 1);
        patches.add(Patch{pos, 1, {}});
        removed.push_back(live);
      } else {
        // A character we deleted: insert its text again right behind its tombstone, so it
        // keeps its place among other tombstones that may come back later; unless it is back.
        LV target = run.target(lv - run.lv);
        LV live = liveCopy(target);
        TreeCursor c = tree.find(live);
        if (tree.itemAt(c).visible()) continue;
        std::string text(log.text(target, 1));
        LV copy = m_doc.nextLv();
        std::uint32_t pos = m_doc.insertAfterChar(m_doc.m_local, live, text, 1,
                                                  static_cast<unsigned char>(text[0]) < 0x80);
        m_revived[live] = copy;
        patches.add(Patch{pos, 0, std::move(text)});
        restored.push_back(copy);
      }
    }
  }
  LV end = m_doc.nextLv();
  if (begin == end) {
    // Nothing of the group was left to undo (others removed it): try the next one.
    if (&opposite == &m_redo) return undo();
    return redo();
  }
  step.patches = patches.take();
  // The caret goes after the restored text, or where the removed text stood.
  if (!restored.empty()) {
    step.caret = 0;
    for (LV lv : restored) step.caret = std::max(step.caret, tree.visibleBefore(tree.find(lv)) + 1);
  } else {
    step.caret = m_doc.length();
    for (LV lv : removed) step.caret = std::min(step.caret, tree.visibleBefore(tree.find(lv)));
  }
  opposite.push_back(Group{{{begin, end}}});
  return step;
}

}  // namespace quire::engine
