// MainWindow's test hooks, reached through hidden command-line options (main.cpp): typing as
// key presses, the find bar, and grabbing the window and the Share dialog into PNGs.
#include <QApplication>
#include <QKeyEvent>

#include "app/quire/collab_text_edit.h"
#include "app/quire/ui/find_bar.h"
#include "app/quire/ui/main_window.h"
#include "app/quire/ui/share_dialog.h"
#include "app/quire/ui/workspace.h"

namespace quire::app {

void MainWindow::testTypeText(const QString& text) {
  m_edit->setFocus();
  for (const QChar ch : text) {
    const int key = ch == QLatin1Char('\n') ? int(Qt::Key_Return) : int(ch.unicode());
    const QString t = ch == QLatin1Char('\n') ? QStringLiteral("\r") : QString(ch);
    QKeyEvent press(QEvent::KeyPress, key, Qt::NoModifier, t);
    QApplication::sendEvent(m_edit, &press);
    QKeyEvent release(QEvent::KeyRelease, key, Qt::NoModifier, t);
    QApplication::sendEvent(m_edit, &release);
  }
}

bool MainWindow::testGrab(const QString& path) { return grab().save(path); }

void MainWindow::testFind(const QString& text) {
  m_findBar->showFind(true);
  m_findBar->setFindText(text);
  m_findBar->findNext();
}

bool MainWindow::testGrabShareDialog(const QString& path) {
  if (!m_workspace->session()) return false;
  ShareDialog dialog(m_workspace, m_prefs.relayUrl, this);
  dialog.show();
  QApplication::processEvents();
  return dialog.grab().save(path);
}

}  // namespace quire::app
