#include "app/quire/text_binding.h"

#include <algorithm>

#include <QElapsedTimer>
#include <QKeyEvent>
#include <QPainter>
#include <QTextBlock>
#include <QTextCursor>
#include <QTextDocument>
#include <QTimer>

#include "app/quire/collab_text_edit.h"
#include "app/quire/document_session.h"

namespace quire::app {

namespace {

// A text up to this long (UTF-16 units) is shown at once: setPlainText of 256 Ki units takes
// ~15 ms here. A longer one goes in slices of kSliceUnits, as many as fit in kSliceBudgetNs
// per event-loop turn (measured: a 4 MB text shows in ~300 ms, no turn over ~25 ms, against a
// 340 ms freeze for one setPlainText).
constexpr int kLoadAtOnce = 256 * 1024;
constexpr int kSliceUnits = 16 * 1024;
constexpr qint64 kSliceBudgetNs = 8'000'000;

// QTextDocument keeps paragraph separators (U+2029) where the text has '\n'.
QString plain(QString s) {
  s.replace(QChar::ParagraphSeparator, QLatin1Char('\n'));
  s.replace(QChar::LineSeparator, QLatin1Char('\n'));
  return s;
}

bool hasSurrogates(const QString& s) {
  return std::any_of(s.begin(), s.end(), [](QChar c) { return c.isSurrogate(); });
}

// Pushes the binding's "I am changing the widget" state for a scope.
class Applying {
 public:
  explicit Applying(int& depth) : m_depth(depth) { ++m_depth; }
  ~Applying() { --m_depth; }
  Applying(const Applying&) = delete;
  Applying& operator=(const Applying&) = delete;

 private:
  int& m_depth;
};

}  // namespace

TextBinding::TextBinding(CollabTextEdit* edit, DocumentSession* session, QObject* parent)
    : QObject(parent), m_edit(edit), m_document(edit->document()), m_session(session) {
  // The engine's per-user undo replaces the widget's, which would undo other people's text.
  m_document->setUndoRedoEnabled(false);
  reload();
  connect(m_document, &QTextDocument::contentsChange, this, &TextBinding::contentsChanged);
  connect(m_edit, &QPlainTextEdit::cursorPositionChanged, this, &TextBinding::caretMoved);
  connect(m_edit, &QPlainTextEdit::selectionChanged, this, &TextBinding::caretMoved);
  connect(m_session, &DocumentSession::remoteEdited, this, &TextBinding::applyRemote);
  connect(m_session, &DocumentSession::documentReplaced, this, &TextBinding::reload);
  connect(m_session, &DocumentSession::presenceChanged, this, [this](const net::Presence& p) {
    m_presences[p.replica] = p;
    flushRemote();  // its anchors resolve in the engine's text, which the widget must show
    updateSelections();
  });
  connect(m_session, &DocumentSession::presenceLeft, this, [this](const engine::ReplicaId& r) {
    m_presences.erase(r);
    updateSelections();
  });
  m_edit->installEventFilter(this);
  m_edit->viewport()->installEventFilter(this);
  m_edit->setOverlayPainter([this](QPainter& painter) { paintPresence(painter); });
}

TextBinding::~TextBinding() {
  m_edit->removeEventFilter(this);
  m_edit->viewport()->removeEventFilter(this);
  m_edit->setOverlayPainter({});
}

void TextBinding::reload() {
  m_pendingRemote.clear();
  Applying guard(m_applying);
  m_mirror = QString::fromStdString(m_session->document().text());
  m_hasSurrogates = hasSurrogates(m_mirror);
  if (m_mirror.size() <= kLoadAtOnce) {
    m_loaded = m_mirror.size();
    m_edit->setPlainText(m_mirror);
  } else {
    m_loaded = 0;
    m_edit->setPlainText(QString());
    loadSlice();  // the first screenful now, the rest in later turns
  }
  caretMoved();
}

// Appends the next slice of the text to the widget; schedules the next one.
void TextBinding::loadSlice() {
  m_sliceQueued = false;
  if (!loading()) return;
  Applying guard(m_applying);
  QTextCursor user = m_edit->textCursor();
  const int anchor = user.anchor(), position = user.position();
  QElapsedTimer clock;
  clock.start();
  QTextCursor c(m_document);
  c.movePosition(QTextCursor::End);
  c.beginEditBlock();
  do {
    int end = std::min<int>(m_loaded + kSliceUnits, m_mirror.size());
    if (end < m_mirror.size() && m_mirror.at(end - 1).isHighSurrogate()) --end;  // whole pairs
    c.insertText(m_mirror.mid(m_loaded, end - m_loaded));
    m_loaded = end;
  } while (loading() && clock.nsecsElapsed() < kSliceBudgetNs);
  c.endEditBlock();
  // Text inserted at the caret pushes it along: a caret at the end of the shown text stays.
  if (m_edit->textCursor().anchor() != anchor || m_edit->textCursor().position() != position) {
    user.setPosition(anchor);
    user.setPosition(position, QTextCursor::KeepAnchor);
    m_edit->setTextCursor(user);
  }
  emit loadProgress(m_loaded, m_mirror.size());
  if (loading()) {
    if (!m_sliceQueued) QTimer::singleShot(0, this, &TextBinding::loadSlice);
    m_sliceQueued = true;
    return;
  }
  if (m_caretDeferred) restoreCaret();
  updateSelections();
}

std::uint32_t TextBinding::toCodePoints(int utf16) const {
  utf16 = std::clamp(utf16, 0, static_cast<int>(m_mirror.size()));
  if (!m_hasSurrogates) return static_cast<std::uint32_t>(utf16);
  std::uint32_t cp = 0;
  for (int i = 0; i < utf16; ++i)
    if (!m_mirror.at(i).isLowSurrogate()) ++cp;
  return cp;
}

int TextBinding::toUtf16(std::uint32_t codePoints) const {
  if (!m_hasSurrogates) return std::min<int>(static_cast<int>(codePoints), m_mirror.size());
  int i = 0;
  for (std::uint32_t cp = 0; cp < codePoints && i < m_mirror.size(); ++cp)
    i += m_mirror.at(i).isHighSurrogate() ? 2 : 1;
  return std::min<int>(i, m_mirror.size());
}

QString TextBinding::textRange(int from, int to) const {
  QTextCursor c(m_document);
  c.setPosition(from);
  c.setPosition(to, QTextCursor::KeepAnchor);
  return plain(c.selectedText());
}

// The widget changed. Qt may report more than changed (a whole block, on some pastes), so the
// old and new text of the reported range are compared and only the difference goes to the
// engine, never splitting a surrogate pair.
void TextBinding::contentsChanged(int position, int removed, int added) {
  if (m_applying > 0) return;
  if (!m_pendingRemote.empty()) return localEditOverPending(position, removed, added);
  // Lengths of the whole text; the widget shows all but `unshown` units at its end.
  const int unshown = m_mirror.size() - m_loaded;
  const int shownLength = m_document->characterCount() - 1;  // without the final separator
  const int newLength = shownLength + unshown;
  const int oldLength = m_mirror.size();
  position = std::clamp(position, 0, m_loaded);
  // Both counts may include the document's final separator; clamp them to real text.
  int oldEnd = std::min(position + removed, m_loaded);
  int newEnd = std::min(position + added, shownLength);
  // What lies after the range must be the same text in both: trust the lengths over the counts.
  const int tailOld = oldLength - oldEnd, tailNew = newLength - newEnd;
  if (tailOld != tailNew) {
    const int tail = std::min(tailOld, tailNew);
    oldEnd = oldLength - tail;
    newEnd = newLength - tail;
  }
  QString before = m_mirror.mid(position, oldEnd - position);
  QString after = textRange(position, newEnd);
  // Trim what did not change, then widen back to whole code points.
  int prefix = 0;
  while (prefix < before.size() && prefix < after.size() && before[prefix] == after[prefix]) ++prefix;
  int suffix = 0;
  while (suffix < before.size() - prefix && suffix < after.size() - prefix &&
         before[before.size() - 1 - suffix] == after[after.size() - 1 - suffix])
    ++suffix;
  if (prefix > 0 && before.size() > prefix - 1 && before[prefix - 1].isHighSurrogate()) --prefix;
  if (suffix > 0 && before[before.size() - suffix].isLowSurrogate()) --suffix;
  const QString removedText = before.mid(prefix, before.size() - prefix - suffix);
  const QString insertedText = after.mid(prefix, after.size() - prefix - suffix);
  const int at = position + prefix;

  const std::uint32_t cpAt = toCodePoints(at);
  const std::uint32_t cpRemoved =
      static_cast<std::uint32_t>(removedText.size()) -
      static_cast<std::uint32_t>(std::count_if(removedText.begin(), removedText.end(),
                                               [](QChar c) { return c.isLowSurrogate(); }));
  m_mirror.replace(at, removedText.size(), insertedText);
  m_loaded += insertedText.size() - removedText.size();
  if (!m_hasSurrogates) m_hasSurrogates = hasSurrogates(insertedText);
  Result<void> done;
  if (cpRemoved > 0) done = m_session->remove(cpAt, cpRemoved);
  if (done && !insertedText.isEmpty()) done = m_session->insert(cpAt, insertedText.toStdString());
  if (!done) {
    emit bindingFailed(QString::fromStdString(done.error().toString()));
    reload();
  }
  caretMoved();
}

// Patches come in engine order, each in the coordinates left by the one before.
void TextBinding::applyPatches(const std::vector<engine::Patch>& patches) {
  Applying guard(m_applying);
  QTextCursor c(m_document);
  c.beginEditBlock();
  for (const engine::Patch& p : patches) {
    const int from = toUtf16(p.pos);
    const int to = toUtf16(p.pos + p.deleted);
    const QString inserted = QString::fromStdString(p.inserted);
    // While a long text is still being shown, a patch beyond the shown part changes only the
    // text still to come; one that reaches past it cuts the shown part short there.
    if (from < m_loaded || !loading()) {
      c.setPosition(from);
      c.setPosition(shown(to), QTextCursor::KeepAnchor);
      c.insertText(inserted);  // replaces the selection; does not touch the user's cursor
      m_loaded = to <= m_loaded ? m_loaded - (to - from) + inserted.size()
                                : from + static_cast<int>(inserted.size());
    }
    m_mirror.replace(from, to - from, inserted);
    if (!m_hasSurrogates) m_hasSurrogates = hasSurrogates(inserted);
  }
  c.endEditBlock();
}

// Remote patches are shown once per event-loop turn, in one edit block: a burst of 1,000
// keystrokes then costs one layout of the paragraph instead of 1,000 (each one a reshaping of a
// growing line). Local input flushes them first (eventFilter), so it lands on the engine's text.
void TextBinding::applyRemote(const std::vector<engine::Patch>& patches) {
  m_pendingRemote.insert(m_pendingRemote.end(), patches.begin(), patches.end());
  if (m_flushQueued) return;
  m_flushQueued = true;
  QMetaObject::invokeMethod(this, [this] { flushRemote(); }, Qt::QueuedConnection);
}

void TextBinding::flushRemote() { flush(true); }

void TextBinding::flush(bool restore) {
  m_flushQueued = false;
  if (m_pendingRemote.empty()) return;
  std::vector<engine::Patch> patches = std::move(m_pendingRemote);
  m_pendingRemote.clear();
  std::size_t insertedBytes = 0;
  for (const engine::Patch& p : patches) insertedBytes += p.inserted.size();
  if (insertedBytes > static_cast<std::size_t>(kLoadAtOnce)) {
    // A large merge (a catch-up, a big paste): show the engine's text anew, in slices. (The
    // threshold counts UTF-8 bytes here, units elsewhere: the same order of size.)
    reload();
    if (restore) restoreCaret();
    updateSelections();
    return;
  }
  applyPatches(patches);
  if (restore) restoreCaret();
  updateSelections();
}

// The widget was changed by code (a menu's paste, replace-all) while remote patches were still
// waiting to be shown: the change is made against the text the widget showed, so its place is
// carried through the waiting patches to the engine's text; then the widget is reloaded.
void TextBinding::localEditOverPending(int position, int removed, int added) {
  const QString now = plain(m_document->toPlainText());
  const QString was = m_mirror.left(m_loaded);  // what the widget showed
  int prefix = 0;
  while (prefix < was.size() && prefix < now.size() && was[prefix] == now[prefix]) ++prefix;
  int suffix = 0;
  while (suffix < was.size() - prefix && suffix < now.size() - prefix &&
         was[was.size() - 1 - suffix] == now[now.size() - 1 - suffix])
    ++suffix;
  if (prefix > 0 && was[prefix - 1].isHighSurrogate()) --prefix;
  if (suffix > 0 && was[was.size() - suffix].isLowSurrogate()) --suffix;
  (void)position, (void)removed, (void)added;
  const QString removedText = was.mid(prefix, was.size() - prefix - suffix);
  const QString insertedText = now.mid(prefix, now.size() - prefix - suffix);
  auto codePoints = [](const QString& t) {
    return static_cast<std::uint32_t>(t.size() - std::count_if(t.begin(), t.end(), [](QChar c) {
                                        return c.isLowSurrogate();
                                      }));
  };
  std::uint32_t at = toCodePoints(prefix);
  std::uint32_t count = codePoints(removedText);
  for (const engine::Patch& p : m_pendingRemote) {
    const std::uint32_t inserted = codePoints(QString::fromStdString(p.inserted));
    if (p.pos + p.deleted <= at && !(p.deleted == 0 && p.pos == at)) {
      at = at - p.deleted + inserted;  // wholly before the local change
    } else if (p.pos >= at + count) {
      // wholly after: nothing moves
    } else {
      // Remote and local changed the same characters: the remote change stands, the local text
      // goes where the remote one began.
      at = std::min(at, p.pos);
      count = 0;
    }
  }
  m_pendingRemote.clear();
  Result<void> done;
  if (count > 0) done = m_session->remove(at, count);
  if (done && !insertedText.isEmpty()) done = m_session->insert(at, insertedText.toStdString());
  if (!done) emit bindingFailed(QString::fromStdString(done.error().toString()));
  reload();
  {
    Applying guard(m_applying);
    QTextCursor c = m_edit->textCursor();
    c.setPosition(shown(toUtf16(at + codePoints(insertedText))));
    m_edit->setTextCursor(c);
  }
  caretMoved();
}

void TextBinding::applyStep(const engine::UndoStep& step) {
  applyPatches(step.patches);
  Applying guard(m_applying);
  QTextCursor c = m_edit->textCursor();
  c.setPosition(shown(toUtf16(step.caret)));
  m_edit->setTextCursor(c);
  m_edit->ensureCursorVisible();
  const engine::Document& doc = m_session->document();
  m_caret = m_selectionAnchor = doc.anchorAt(std::min(step.caret, doc.length()), engine::Bias::After);
  m_session->setCaret(step.caret, step.caret);
}

void TextBinding::undo() {
  flushRemote();
  if (auto step = m_session->undo()) applyStep(*step);
}

void TextBinding::redo() {
  flushRemote();
  if (auto step = m_session->redo()) applyStep(*step);
}

void TextBinding::beginEditGroup() {
  flushRemote();
  m_session->beginUndoGroup();
}

void TextBinding::endEditGroup() { m_session->endUndoGroup(); }

void TextBinding::caretMoved() {
  if (m_applying > 0) return;
  m_caretDeferred = false;  // the person (or code) put it somewhere: that is where it is
  // Moved by code (a find result, say) while remote patches wait: show them first, keeping the
  // widget's cursor (Qt moves it with the text), so its position means the engine's text.
  if (!m_pendingRemote.empty()) flush(false);
  QTextCursor c = m_edit->textCursor();
  // A caret or selection end between the halves of a surrogate pair (only code puts it there;
  // keys and clicks move by whole characters) would let the next edit cut the pair in the
  // widget but not in the engine: move it out, widening a selection.
  const auto inPair = [this](int p) {
    return p > 0 && p < m_mirror.size() && m_mirror.at(p).isLowSurrogate() &&
           m_mirror.at(p - 1).isHighSurrogate();
  };
  if (m_hasSurrogates && (inPair(c.position()) || inPair(c.anchor()))) {
    const int step = c.position() >= c.anchor() ? 1 : -1;
    const int anchor = c.anchor() - (inPair(c.anchor()) ? (c.hasSelection() ? step : -1) : 0);
    const int position = c.position() + (inPair(c.position()) ? (c.hasSelection() ? step : -1) : 0);
    Applying guard(m_applying);
    c.setPosition(anchor);
    c.setPosition(position, QTextCursor::KeepAnchor);
    m_edit->setTextCursor(c);
  }
  const engine::Document& doc = m_session->document();
  const std::uint32_t length = doc.length();
  const std::uint32_t cursor = std::min(toCodePoints(c.position()), length);
  const std::uint32_t anchor = std::min(toCodePoints(c.anchor()), length);
  // A selection's ends stick to the selected characters, so remote text typed right before or
  // after it stays outside; a caret sticks to the character before it.
  m_caret = doc.anchorAt(cursor, cursor < anchor ? engine::Bias::Before : engine::Bias::After);
  m_selectionAnchor =
      doc.anchorAt(anchor, anchor < cursor ? engine::Bias::Before : engine::Bias::After);
  m_session->setCaret(cursor, anchor);
}

// After remote edits: put the caret and selection back by the characters they were next to.
void TextBinding::restoreCaret() {
  const engine::Document& doc = m_session->document();
  const auto cursor = doc.resolveAnchor(m_caret);
  const auto anchor = doc.resolveAnchor(m_selectionAnchor);
  if (!cursor || !anchor) return;
  Applying guard(m_applying);
  QTextCursor c = m_edit->textCursor();
  int wantAnchor = toUtf16(*anchor), wantCursor = toUtf16(*cursor);
  // Beyond the text shown so far: as near as it can be now, exactly once the rest is shown.
  m_caretDeferred = wantAnchor > m_loaded || wantCursor > m_loaded;
  wantAnchor = shown(wantAnchor);
  wantCursor = shown(wantCursor);
  if (c.anchor() == wantAnchor && c.position() == wantCursor) return;
  c.setPosition(wantAnchor);
  c.setPosition(wantCursor, QTextCursor::KeepAnchor);
  m_edit->setTextCursor(c);
}

// Remote selections as extra selections (shaded in the person's colour); carets are painted.
void TextBinding::updateSelections() {
  QList<QTextEdit::ExtraSelection> selections;
  const engine::Document& doc = m_session->document();
  for (const auto& [replica, p] : m_presences) {
    const auto cursor = doc.resolveAnchor(p.cursor);
    const auto anchor = doc.resolveAnchor(p.selection);
    if (!cursor || !anchor || *cursor == *anchor) continue;
    QTextEdit::ExtraSelection s;
    QColor colour = QColor::fromRgb(p.colour);
    colour.setAlpha(70);
    s.format.setBackground(colour);
    s.cursor = QTextCursor(m_document);
    s.cursor.setPosition(shown(toUtf16(*anchor)));
    s.cursor.setPosition(shown(toUtf16(*cursor)), QTextCursor::KeepAnchor);
    selections.append(s);
  }
  m_edit->setExtraSelections(selections);
  m_edit->viewport()->update();
}

void TextBinding::paintPresence(QPainter& painter) {
  painter.setRenderHint(QPainter::Antialiasing);
  const engine::Document& doc = m_session->document();
  QFont label = m_edit->font();
  label.setPointSizeF(std::max(6.0, label.pointSizeF() * 0.75));
  painter.setFont(label);
  const QFontMetrics metrics(label);
  for (const auto& [replica, p] : m_presences) {
    const auto cursor = doc.resolveAnchor(p.cursor);
    if (!cursor || toUtf16(*cursor) > m_loaded) continue;  // not shown yet
    QTextCursor c(m_document);
    c.setPosition(toUtf16(*cursor));
    const QRect r = m_edit->cursorRect(c);
    if (!m_edit->viewport()->rect().intersects(r)) continue;
    const QColor colour = QColor::fromRgb(p.colour);
    painter.fillRect(QRect(r.left(), r.top(), 2, r.height()), colour);
    const QString name = QString::fromStdString(p.name);
    if (name.isEmpty()) continue;
    QRect box(r.left(), r.top() - metrics.height(), metrics.horizontalAdvance(name) + 6,
              metrics.height());
    // On the first line there is no room above the caret: hang the tag below it. Near the
    // right edge, pull it left so the name stays readable.
    const QRect area = m_edit->viewport()->rect();
    if (box.top() < area.top()) box.moveTop(r.bottom() + 1);
    if (box.right() > area.right()) box.moveRight(std::max(area.right(), box.width()));
    painter.fillRect(box, colour);
    painter.setPen(colour.lightness() > 140 ? Qt::black : Qt::white);
    painter.drawText(box.adjusted(3, 0, -3, 0), Qt::AlignVCenter | Qt::AlignLeft, name);
  }
}

bool TextBinding::eventFilter(QObject* watched, QEvent* event) {
  switch (event->type()) {
    case QEvent::KeyPress:
    case QEvent::ShortcutOverride:
    case QEvent::InputMethod:
    case QEvent::MouseButtonPress:
    case QEvent::MouseButtonDblClick:
    case QEvent::Drop:
      flushRemote();  // local input applies to the text the engine has
      break;
    default:
      break;
  }
  if (watched == m_edit && event->type() == QEvent::ShortcutOverride) {
    // Claim undo/redo before QPlainTextEdit does: they are the engine's.
    auto* key = static_cast<QKeyEvent*>(event);
    if (key->matches(QKeySequence::Undo) || key->matches(QKeySequence::Redo)) {
      event->accept();
      return true;
    }
  }
  if (watched == m_edit && event->type() == QEvent::KeyPress) {
    auto* key = static_cast<QKeyEvent*>(event);
    if (key->matches(QKeySequence::Undo)) {
      undo();
      return true;
    }
    if (key->matches(QKeySequence::Redo)) {
      redo();
      return true;
    }
  }
  return QObject::eventFilter(watched, event);
}

}  // namespace quire::app
