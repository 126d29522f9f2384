// Answers the modal dialogs a window opens (QFileDialog, QMessageBox, QInputDialog, QFontDialog,
// QColorDialog, the app's own) the way a person would: a timer polls for the dialog while its
// own event loop runs, then fills it in and closes it. Every wait is bounded: a dialog that never
// appears, a different dialog, or one still open after its answer is reported (and a stuck one is
// closed), so a test fails with a message instead of hanging. Test-only; GUI thread only.
#pragma once

#include <functional>
#include <memory>

#include <QPointer>
#include <QString>
#include <QWidget>

class QAbstractButton;
class QMainWindow;
class QAction;

namespace quire::test {

// What became of one expected dialog. Shared between the test and the polling timer.
class DialogAnswer {
 public:
  // Runs the event loop until the dialog was answered and has closed, or the driver gave up.
  // True when it was answered and closed; otherwise failure() says why.
  bool wait();
  bool answered() const { return m_answered; }
  const QString& failure() const { return m_failure; }
  // The class the answer expected, for messages ("QFileDialog").
  const QString& expected() const { return m_expected; }

 private:
  friend class DialogPoller;
  QString m_expected;
  QString m_failure;
  int m_timeoutMs = 0;
  bool m_answered = false;
  bool m_finished = false;
};

// The polling half; use answerNext<T>() below.
class DialogPoller {
 public:
  using Matcher = std::function<QWidget*(QWidget*)>;  // the dialog if it is the expected kind
  using Answer = std::function<void(QWidget*)>;
  static std::shared_ptr<DialogAnswer> start(const QString& expected, Matcher match, Answer answer,
                                             int timeoutMs);
};

// How long a driver waits for a dialog to appear, and again for it to close once answered.
inline constexpr int kDialogTimeoutMs = 5000;

// Expects the next modal dialog to be a T: once it is shown (polled every 10 ms for up to
// `timeoutMs`), calls `answer(dialog)`, which should accept or reject it. Returns at once, so call
// it before triggering the action that opens the dialog, then wait() on the result. `answer` runs
// inside the dialog's event loop: use CHECK there, never REQUIRE (an exception would unwind
// through Qt).
template <class T>
std::shared_ptr<DialogAnswer> answerNext(std::function<void(T*)> answer,
                                         int timeoutMs = kDialogTimeoutMs) {
  return DialogPoller::start(
      QString::fromLatin1(T::staticMetaObject.className()),
      [](QWidget* w) -> QWidget* { return qobject_cast<T*>(w); },
      [answer = std::move(answer)](QWidget* w) { answer(static_cast<T*>(w)); }, timeoutMs);
}

// ---- Small helpers for answers and windows.

// `text` without '&' mnemonics and a trailing '…' ("&Import File…" -> "Import File").
QString plainText(const QString& text);
// The action `item` of the menu `menu` in `window`'s menu bar, matched by plainText(); nullptr
// if there is none.
QAction* menuAction(QMainWindow* window, const QString& menu, const QString& item);
// The button under `parent` whose plainText() is `text`, or nullptr.
QAbstractButton* buttonNamed(QWidget* parent, const QString& text);

}  // namespace quire::test

// Waits for `answer` (a std::shared_ptr<DialogAnswer>) and fails the test with why, if the
// dialog never appeared, was of another kind, or stayed open.
#define REQUIRE_ANSWERED(answer)                                                     \
  do {                                                                               \
    const bool answered_ok_ = (answer)->wait();                                      \
    INFO("expected a " << (answer)->expected().toStdString() << ": "                 \
                       << (answer)->failure().toStdString());                        \
    REQUIRE(answered_ok_);                                                           \
  } while (false)
