// The editor-window test fixture: a real Workspace on a temp database and a real MainWindow
// shown offscreen, with helpers to trigger menu items and answer the dialogs they open
// (tests/app/dialog_driver.h). For tests/app/window*_test.cpp. Test-only; GUI thread only.
#pragma once
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <QAbstractButton>
#include <QAction>
#include <QApplication>
#include <QColorDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFontDialog>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTableView>
#include <QTcpServer>
#include <QTcpSocket>
#include <QtTest/QTest>

#include "app/quire/collab_text_edit.h"
#include "app/quire/ui/find_bar.h"
#include "app/quire/ui/main_window.h"
#include "app/quire/ui/preferences.h"
#include "app/quire/ui/settings.h"
#include "app/quire/ui/workspace.h"
#include "tests/app/dialog_driver.h"
#include "tests/app/editor_harness.h"
#include "tests/support/temp_dir.h"

namespace quire::test::window {

using quire::app::CollabTextEdit;
using quire::app::MainWindow;
using quire::app::Preferences;
using quire::app::Workspace;
using quire::storage::DocumentId;
using quire::test::answerNext;
using quire::test::buttonNamed;
using quire::test::menuAction;
using quire::test::TempDir;
inline QString qs(const std::string& s) { return QString::fromStdString(s); }

inline bool writeFile(const std::string& path, const QString& text) {
  std::ofstream out(path, std::ios::binary);
  const QByteArray bytes = text.toUtf8();
  out.write(bytes.constData(), bytes.size());
  return bool(out);
}

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// One person's window over a fresh library, with settings of its own.
struct Window {
  quire::test::GuiApp app;
  TempDir dir{"quire-window"};
  std::unique_ptr<Workspace> workspace;
  std::unique_ptr<MainWindow> window;
  std::string error;
  bool ok = false;

  // `titles`: documents in the library before the window opens (oldest first).
  explicit Window(const std::vector<std::string>& titles = {}) {
    if (dir.path().empty()) {
      error = "no temp dir";
      return;
    }
    // The static QFileDialog/QFontDialog/QColorDialog calls then always make Qt's widget dialogs,
    // which the driver can fill in (a platform theme could offer native ones).
    QCoreApplication::setAttribute(Qt::AA_DontUseNativeDialogs);
    // Settings (QSettings "quire"/"editor") read and write the test's own folder.
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, qs(dir.file("config")));
    auto ws = Workspace::open(dir.file("library.db"));
    if (!ws) {
      error = "Workspace::open: " + ws.error().toString();
      return;
    }
    workspace = std::move(*ws);
    for (const std::string& title : titles) {
      if (auto id = workspace->store().create(title); !id) {
        error = "create: " + id.error().toString();
        return;
      }
    }
    window = std::make_unique<MainWindow>(workspace.get(), startPreferences());
    window->show();
    if (!QTest::qWaitForWindowExposed(window.get())) {
      error = "the window was never exposed";
      return;
    }
    ok = true;
  }

  ~Window() {
    if (window) window->close();  // saves the caret and closes the document, as on quit
    window.reset();
    workspace.reset();
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope,
                       QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation));
  }

  static Preferences startPreferences() {
    Preferences p;
    p.name = QStringLiteral("Ada");
    p.colour = QColor(0xD8, 0x1B, 0x60);
    return p;
  }

  CollabTextEdit* edit() const { return window->findChild<CollabTextEdit*>(); }
  QTableView* libraryView() const {
    auto* dock = window->findChild<QDockWidget*>(QStringLiteral("library"));
    return dock ? qobject_cast<QTableView*>(dock->widget()) : nullptr;
  }
  // The library's Title column, top to bottom, as the view shows it.
  QStringList libraryTitles() const {
    QStringList out;
    const QAbstractItemModel* m = libraryView()->model();
    for (int r = 0; r < m->rowCount(); ++r) out << m->index(r, 0).data().toString();
    return out;
  }
  // Selects the library row titled `title`, as a click would. False if there is none.
  bool selectInLibrary(const QString& title) {
    QTableView* view = libraryView();
    const QAbstractItemModel* m = view->model();
    for (int r = 0; r < m->rowCount(); ++r) {
      if (m->index(r, 0).data().toString() != title) continue;
      view->selectRow(r);
      return true;
    }
    return false;
  }
  std::vector<std::string> storeTitles() const {
    std::vector<std::string> out;
    if (auto list = workspace->store().list())
      for (const auto& info : *list) out.push_back(info.title);
    return out;
  }
  QString engineText() const {
    auto* s = workspace->session();
    return s ? qs(s->document().text()) : QString();
  }
  QString widgetText() const { return edit()->toPlainText(); }
  QAction* action(const QString& menu, const QString& item) const {
    return menuAction(window.get(), menu, item);
  }
  // Triggers a menu item as a click on it would (only when enabled).
  void trigger(const QString& menu, const QString& item) {
    QAction* a = action(menu, item);
    INFO(menu.toStdString() << " > " << item.toStdString());
    REQUIRE(a != nullptr);
    REQUIRE(a->isEnabled());
    a->trigger();
  }
  // File ▸ New Document, then types `text` into it.
  void newDocument(const QString& text = {}) {
    trigger(QStringLiteral("File"), QStringLiteral("New Document"));
    REQUIRE(workspace->session() != nullptr);
    if (!text.isEmpty()) quire::test::typeText(edit(), text);
  }
};

// The QMessageBox button with `role`, or nullptr.
inline QAbstractButton* buttonWithRole(QMessageBox* box, QMessageBox::ButtonRole role) {
  for (QAbstractButton* b : box->buttons())
    if (box->buttonRole(b) == role) return b;
  return nullptr;
}

// Clicks `button` (CHECKs it exists): for use inside an answer.
inline void click(QAbstractButton* button) {
  CHECK(button != nullptr);
  if (button) button->click();
}

// An answer for a file dialog: checks where it opened (an existing folder, `prefilled` in the
// file name box), then types `path` into the file name box and accepts, as Enter would.
inline std::function<void(QFileDialog*)> pickFile(const std::string& path, QFileDialog::AcceptMode mode,
                                           const QString& prefilled = {}) {
  return [path, mode, prefilled](QFileDialog* d) {
    CHECK(d->acceptMode() == mode);
    // The Documents folder, or home when there is none.
    const QString documents = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    const QString start = QFileInfo(documents).isDir() ? documents : QDir::homePath();
    CHECK(d->directory().canonicalPath() == QDir(start).canonicalPath());
    auto* name = d->findChild<QLineEdit*>(QStringLiteral("fileNameEdit"));
    CHECK(name != nullptr);
    if (!name) return d->reject();
    CHECK(name->text() == prefilled);
    name->setText(qs(path));
    static_cast<QDialog*>(d)->accept();  // protected in QFileDialog, public in QDialog
  };
}

}  // namespace quire::test::window
