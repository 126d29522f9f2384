#include "tests/app/dialog_driver.h"

#include <QAbstractButton>
#include <QAction>
#include <QApplication>
#include <QDialog>
#include <QElapsedTimer>
#include <QMainWindow>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QTimer>

#include "tests/app/editor_harness.h"

namespace quire::test {

namespace {

QString describe(QWidget* w) {
  QString out = QStringLiteral("%1 “%2”").arg(QString::fromLatin1(w->metaObject()->className()),
                                             w->windowTitle());
  if (auto* box = qobject_cast<QMessageBox*>(w)) out += QStringLiteral(" saying “%1”").arg(box->text());
  return out;
}

// Closes a dialog the test did not (or could not) answer, so its event loop ends.
void dismiss(QWidget* w) {
  if (auto* dialog = qobject_cast<QDialog*>(w))
    dialog->reject();
  else
    w->close();
}

}  // namespace

bool DialogAnswer::wait() {
  // The poller gives up by itself (appear + close timeouts); this bound only guards the driver.
  spinUntil([this] { return m_finished; }, 2 * m_timeoutMs + 5000);
  if (!m_finished && m_failure.isEmpty()) m_failure = QStringLiteral("the driver never finished");
  return m_finished && m_answered && m_failure.isEmpty();
}

std::shared_ptr<DialogAnswer> DialogPoller::start(const QString& expected, Matcher match,
                                                  Answer answer, int timeoutMs) {
  auto result = std::make_shared<DialogAnswer>();
  result->m_expected = expected;
  result->m_timeoutMs = timeoutMs;
  // Parented to the application: it outlives the test's frame if the test stops early, and
  // finishes (and deletes itself) on its own timeouts.
  auto* timer = new QTimer(QCoreApplication::instance());
  timer->setInterval(10);
  struct State {
    QElapsedTimer sinceStart;
    QElapsedTimer sinceAnswer;
    QPointer<QWidget> dialog;
  };
  auto state = std::make_shared<State>();
  state->sinceStart.start();
  std::weak_ptr<DialogAnswer> weak = result;
  QObject::connect(timer, &QTimer::timeout, timer, [=] {
    auto finish = [&](DialogAnswer* r, const QString& failure) {
      if (r) {
        if (r->m_failure.isEmpty()) r->m_failure = failure;
        r->m_finished = true;
      }
      timer->stop();
      timer->deleteLater();
    };
    const std::shared_ptr<DialogAnswer> r = weak.lock();
    if (!r) return finish(nullptr, {});  // the test is gone: nobody waits for this answer
    QWidget* modal = QApplication::activeModalWidget();
    if (!r->m_answered) {
      if (modal && modal->isVisible()) {
        if (QWidget* dialog = match(modal)) {
          r->m_answered = true;
          state->dialog = dialog;
          state->sinceAnswer.start();
          // Answered from its own timer turn, not this one: if the answer opens another modal
          // dialog nobody expected, this timer keeps running and can close it.
          QTimer::singleShot(0, dialog, [answer, dialog] { answer(dialog); });
          return;
        }
      }
      if (state->sinceStart.elapsed() < timeoutMs) return;
      if (modal) {
        const QString seen = describe(modal);
        dismiss(modal);
        return finish(r.get(), QStringLiteral("%1 appeared instead (closed after %2 ms)")
                                   .arg(seen)
                                   .arg(timeoutMs));
      }
      return finish(r.get(),
                    QStringLiteral("no %1 appeared within %2 ms").arg(expected).arg(timeoutMs));
    }
    if (!state->dialog || !state->dialog->isVisible()) return finish(r.get(), {});
    if (state->sinceAnswer.elapsed() < timeoutMs) return;
    if (modal && modal != state->dialog.data()) {
      // Something the answer opened is in the way: close it first, then (next turn) the dialog.
      if (r->m_failure.isEmpty())
        r->m_failure = QStringLiteral("%1 opened over it and was not answered (closed)")
                           .arg(describe(modal));
      dismiss(modal);
      return;
    }
    const QString seen = describe(state->dialog);
    dismiss(state->dialog);
    finish(r.get(), QStringLiteral("%1 was still open %2 ms after its answer (closed)")
                        .arg(seen)
                        .arg(timeoutMs));
  });
  timer->start();
  return result;
}

QString plainText(const QString& text) {
  QString t = text;
  t.remove(QLatin1Char('&'));
  if (t.endsWith(QChar(0x2026))) t.chop(1);
  if (t.endsWith(QLatin1String("..."))) t.chop(3);
  return t.trimmed();
}

QAction* menuAction(QMainWindow* window, const QString& menu, const QString& item) {
  for (QAction* top : window->menuBar()->actions()) {
    QMenu* m = top->menu();
    if (!m || plainText(top->text()) != menu) continue;
    for (QAction* a : m->actions())
      if (!a->isSeparator() && plainText(a->text()) == item) return a;
  }
  return nullptr;
}

QAbstractButton* buttonNamed(QWidget* parent, const QString& text) {
  for (QAbstractButton* b : parent->findChildren<QAbstractButton*>())
    if (plainText(b->text()) == text) return b;
  return nullptr;
}

}  // namespace quire::test
