// Binds a QPlainTextEdit to a DocumentSession: local edits flow to the engine in code points,
// remote patches flow into the widget without echoing back, without entering any undo history
// and without moving the local caret away from the text it was in. Undo and redo are the
// engine's per-user ones (the widget's own undo stack is off). Remote people's carets and
// selections are drawn over the text in their colours, with their names.
//
// A long text is shown in slices, one per event-loop turn (loadProgress reports them), so
// opening or joining a multi-megabyte document never freezes the window; meanwhile the widget
// holds a prefix of the text, and typing, remote patches and undo work on that prefix as usual.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include <QObject>
#include <QString>

#include "engine/document.h"
#include "engine/undo_manager.h"
#include "net/frame.h"

class QPainter;
class QTextDocument;

namespace quire::app {

class CollabTextEdit;
class DocumentSession;

class TextBinding : public QObject {
  Q_OBJECT
 public:
  // Loads the session's text into `edit` (replacing what it shows). Both must outlive the
  // binding (make it their child).
  TextBinding(CollabTextEdit* edit, DocumentSession* session, QObject* parent = nullptr);
  ~TextBinding() override;

  // Shows remote patches that are waiting (they are shown once per event-loop turn, together).
  // Code that edits the widget directly may call it first; local input does it by itself.
  void flushRemote();
  // Per-user undo/redo through the engine; the caret goes where the step says.
  void undo();
  void redo();
  // The widget edits made between these (by code: a replace-all) are one undo step. Shows
  // waiting remote patches first, so the edits apply to the engine's text.
  void beginEditGroup();
  void endEditGroup();
  // Code point <-> UTF-16 position in the current text (surrogate pairs count once / twice).
  std::uint32_t toCodePoints(int utf16) const;
  int toUtf16(std::uint32_t codePoints) const;

  // Whether part of the text is still to be shown (see loadProgress).
  bool loading() const { return m_loaded < m_mirror.size(); }
  // UTF-16 units shown so far, and of the whole text.
  qint64 shownLength() const { return m_loaded; }
  qint64 textLength() const { return m_mirror.size(); }

  // Remote presences shown now (for tests and the people list).
  const std::map<engine::ReplicaId, net::Presence>& presences() const { return m_presences; }

 signals:
  // A local edit could not be applied to the engine (should not happen; the text is reloaded).
  void bindingFailed(const QString& error);
  // A long text is being shown: `shown` of `total` UTF-16 units so far (equal: done).
  void loadProgress(qint64 shown, qint64 total);

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void reload();
  void loadSlice();
  // A position in the text clamped to what the widget shows (while loading, a prefix).
  int shown(int utf16) const { return std::min(utf16, m_loaded); }
  void contentsChanged(int position, int removed, int added);
  void applyRemote(const std::vector<engine::Patch>& patches);
  void flush(bool restoreCaret);
  void localEditOverPending(int position, int removed, int added);
  void applyStep(const engine::UndoStep& step);
  void applyPatches(const std::vector<engine::Patch>& patches);
  void caretMoved();
  void restoreCaret();
  void paintPresence(QPainter& painter);
  void updateSelections();
  QString textRange(int from, int to) const;

  CollabTextEdit* m_edit;
  QTextDocument* m_document;
  DocumentSession* m_session;
  // The text as the engine has it (UTF-16, '\n' for newlines), in step with the widget: the
  // widget shows its first m_loaded units (all of it, once loaded).
  QString m_mirror;
  int m_loaded = 0;
  bool m_sliceQueued = false;
  // The caret could not be put back where its anchors say (that text was not shown yet):
  // try again when it is.
  bool m_caretDeferred = false;
  bool m_hasSurrogates = false;
  int m_applying = 0;  // > 0 while the binding itself changes the widget
  // Where the local caret and selection anchor are, as engine anchors, so remote edits leave
  // them by the text they were next to.
  engine::Anchor m_caret;
  engine::Anchor m_selectionAnchor;
  std::map<engine::ReplicaId, net::Presence> m_presences;
  std::vector<engine::Patch> m_pendingRemote;  // applied to the engine, not yet to the widget
  bool m_flushQueued = false;
};

}  // namespace quire::app
