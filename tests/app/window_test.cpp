// The editor window (app/quire/ui/main_window*.cpp) driven as a person drives it: a real
// Workspace on a temp database, a real MainWindow shown offscreen, menu actions triggered, and
// the modal dialogs they open (file, confirmation, input, font, colour, Preferences) answered by
// tests/app/dialog_driver.h. Settings go to the test's temp folder.
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

namespace {

using quire::app::CollabTextEdit;
using quire::app::MainWindow;
using quire::app::Preferences;
using quire::app::Workspace;
using quire::storage::DocumentId;
using quire::test::answerNext;
using quire::test::buttonNamed;
using quire::test::menuAction;
using quire::test::TempDir;

QString qs(const std::string& s) { return QString::fromStdString(s); }

bool writeFile(const std::string& path, const QString& text) {
  std::ofstream out(path, std::ios::binary);
  const QByteArray bytes = text.toUtf8();
  out.write(bytes.constData(), bytes.size());
  return bool(out);
}

std::string readFile(const std::string& path) {
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
QAbstractButton* buttonWithRole(QMessageBox* box, QMessageBox::ButtonRole role) {
  for (QAbstractButton* b : box->buttons())
    if (box->buttonRole(b) == role) return b;
  return nullptr;
}

// Clicks `button` (CHECKs it exists): for use inside an answer.
void click(QAbstractButton* button) {
  CHECK(button != nullptr);
  if (button) button->click();
}

// An answer for a file dialog: checks where it opened (an existing folder, `prefilled` in the
// file name box), then types `path` into the file name box and accepts, as Enter would.
std::function<void(QFileDialog*)> pickFile(const std::string& path, QFileDialog::AcceptMode mode,
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

}  // namespace

// ---- The driver itself.

TEST_CASE("the dialog driver reports a dialog that never appears instead of hanging",
          "[window]") {
  quire::test::ensureGuiApp();
  QElapsedTimer clock;
  clock.start();
  auto answer = answerNext<QFileDialog>([](QFileDialog* d) { d->reject(); }, 300);
  CHECK_FALSE(answer->wait());
  CHECK_FALSE(answer->answered());
  CHECK(answer->failure().contains(QStringLiteral("no QFileDialog appeared")));
  CHECK(clock.elapsed() < 3000);
}

TEST_CASE("the dialog driver closes a dialog of the wrong kind and says which", "[window]") {
  Window w;
  INFO(w.error);
  REQUIRE(w.ok);
  auto answer = answerNext<QFileDialog>([](QFileDialog* d) { d->reject(); }, 300);
  w.trigger(QStringLiteral("Help"), QStringLiteral("About Quire"));  // returns once closed
  CHECK_FALSE(answer->wait());
  CHECK(answer->failure().contains(QStringLiteral("QMessageBox")));
  CHECK(QApplication::activeModalWidget() == nullptr);
}

TEST_CASE("the dialog driver closes a dialog its answer left open and says so", "[window]") {
  Window w;
  INFO(w.error);
  REQUIRE(w.ok);
  auto answer = answerNext<QMessageBox>([](QMessageBox*) {}, 300);
  w.trigger(QStringLiteral("Help"), QStringLiteral("About Quire"));  // returns once closed
  CHECK_FALSE(answer->wait());
  CHECK(answer->answered());
  CHECK(answer->failure().contains(QStringLiteral("still open")));
  CHECK(QApplication::activeModalWidget() == nullptr);
}

// ---- Import and export.

TEST_CASE("File > Import opens a .txt and a .md file with exactly their text", "[window]") {
  Window w;
  INFO(w.error);
  REQUIRE(w.ok);
  const QString txt = QString::fromUtf8("Grüße\n日本語\n");
  const QString md = QString::fromUtf8("# Plan\n\nČeština ✓ \xF0\x9F\x98\x80 tabs\there\n");
  std::filesystem::create_directories(w.dir.file("in"));
  const std::string txtPath = w.dir.file("in/Grüße.txt");
  const std::string mdPath = w.dir.file("in/plan.v2.md");
  REQUIRE(writeFile(txtPath, txt));
  REQUIRE(writeFile(mdPath, md));

  struct Case {
    std::string path;
    QString text;
    QString title;  // the file's complete base name
  };
  const std::vector<Case> cases = {{txtPath, txt, QString::fromUtf8("Grüße")},
                                   {mdPath, md, QStringLiteral("plan.v2")}};
  for (const Case& c : cases) {
    INFO("importing " << c.path);
    const std::size_t before = w.storeTitles().size();
    auto answer = answerNext<QFileDialog>([&](QFileDialog* d) {
      CHECK(d->fileMode() == QFileDialog::ExistingFile);
      pickFile(c.path, QFileDialog::AcceptOpen)(d);
    });
    w.trigger(QStringLiteral("File"), QStringLiteral("Import File"));
    REQUIRE_ANSWERED(answer);

    CHECK(w.storeTitles().size() == before + 1);
    CHECK(w.libraryTitles().contains(c.title));
    REQUIRE(w.workspace->session() != nullptr);
    auto info = w.workspace->store().info(w.workspace->session()->id());
    REQUIRE(info);
    CHECK(qs(info->title) == c.title);
    CHECK(w.widgetText() == c.text);
    CHECK(w.engineText() == c.text);
    CHECK_FALSE(w.edit()->isReadOnly());
    CHECK(w.window->windowTitle() == c.title + QString::fromUtf8(" — Quire"));
  }

  // Cancelling the file dialog imports nothing and keeps the open document.
  const auto titles = w.storeTitles();
  const DocumentId open = w.workspace->session()->id();
  auto cancel = answerNext<QFileDialog>([](QFileDialog* d) { d->reject(); });
  w.trigger(QStringLiteral("File"), QStringLiteral("Import File"));
  REQUIRE_ANSWERED(cancel);
  CHECK(w.storeTitles() == titles);
  REQUIRE(w.workspace->session() != nullptr);
  CHECK(w.workspace->session()->id() == open);
}

TEST_CASE("File > Export writes the document's text, including what was just typed",
          "[window]") {
  Window w;
  INFO(w.error);
  REQUIRE(w.ok);
  w.newDocument(QString::fromUtf8("Notes for the export\nÜberschrift \xF0\x9F\x98\x80 end"));
  const std::string out = w.dir.file("notes.md");

  // Exported straight after typing, with no event-loop turn between: nothing may be lost.
  auto answer = answerNext<QFileDialog>(
      pickFile(out, QFileDialog::AcceptSave, QStringLiteral("Untitled.md")));
  w.trigger(QStringLiteral("File"), QStringLiteral("Export"));
  REQUIRE_ANSWERED(answer);
  CHECK(readFile(out) == w.engineText().toStdString());
  CHECK(w.engineText() == w.widgetText());
  CHECK(w.window->statusBar()->currentMessage().startsWith(QStringLiteral("Exported to")));

  // More text, then export over the same file: the dialog asks to replace it, Yes replaces.
  quire::test::typeText(w.edit(), QString::fromUtf8("\nmore: 日本語"));
  const QString expected =
      QString::fromUtf8("Notes for the export\nÜberschrift \xF0\x9F\x98\x80 end\nmore: 日本語");
  REQUIRE(w.widgetText() == expected);
  std::shared_ptr<quire::test::DialogAnswer> overwrite;
  auto again = answerNext<QFileDialog>([&](QFileDialog* d) {
    overwrite = answerNext<QMessageBox>([](QMessageBox* box) {
      CHECK(box->text().contains(QStringLiteral("already exists")));
      click(box->button(QMessageBox::Yes));
    });
    pickFile(out, QFileDialog::AcceptSave, QStringLiteral("Untitled.md"))(d);
  });
  w.trigger(QStringLiteral("File"), QStringLiteral("Export"));
  REQUIRE_ANSWERED(again);
  REQUIRE(overwrite);
  REQUIRE_ANSWERED(overwrite);
  CHECK(readFile(out) == expected.toStdString());
  CHECK(w.engineText() == expected);
}

// ---- Delete and rename.

TEST_CASE("File > Delete asks first: Cancel keeps the document, Delete removes it", "[window]") {
  Window w({"Other"});
  INFO(w.error);
  REQUIRE(w.ok);
  w.newDocument(QStringLiteral("still here"));
  const DocumentId open = w.workspace->session()->id();
  REQUIRE(w.libraryTitles().contains(QStringLiteral("Other")));

  // Cancel: nothing changes.
  REQUIRE(w.selectInLibrary(QStringLiteral("Other")));
  auto cancel = answerNext<QMessageBox>([](QMessageBox* box) {
    CHECK(box->text().contains(QStringLiteral("“Other”")));
    click(box->button(QMessageBox::Cancel));
  });
  w.trigger(QStringLiteral("File"), QStringLiteral("Delete"));
  REQUIRE_ANSWERED(cancel);
  CHECK(w.libraryTitles().contains(QStringLiteral("Other")));
  CHECK(w.storeTitles().size() == 2);

  // Escape (the dialog's reject) cancels as well.
  REQUIRE(w.selectInLibrary(QStringLiteral("Other")));
  auto escape = answerNext<QMessageBox>([](QMessageBox* box) {
    QTest::keyClick(box, Qt::Key_Escape);
  });
  w.trigger(QStringLiteral("File"), QStringLiteral("Delete"));
  REQUIRE_ANSWERED(escape);
  CHECK(w.storeTitles().size() == 2);

  // Delete: gone from the library and the store; the open document is untouched.
  REQUIRE(w.selectInLibrary(QStringLiteral("Other")));
  auto remove = answerNext<QMessageBox>([](QMessageBox* box) {
    click(buttonWithRole(box, QMessageBox::DestructiveRole));
  });
  w.trigger(QStringLiteral("File"), QStringLiteral("Delete"));
  REQUIRE_ANSWERED(remove);
  CHECK_FALSE(w.libraryTitles().contains(QStringLiteral("Other")));
  CHECK(w.storeTitles() == std::vector<std::string>{"Untitled"});
  REQUIRE(w.workspace->session() != nullptr);
  CHECK(w.workspace->session()->id() == open);
  CHECK(w.widgetText() == QStringLiteral("still here"));
}

TEST_CASE("deleting the open document closes it and leaves the empty editor", "[window]") {
  Window w;
  INFO(w.error);
  REQUIRE(w.ok);
  w.newDocument(QStringLiteral("short-lived text"));
  const DocumentId id = w.workspace->session()->id();
  const QString hex = qs(id.toHex());
  w.window->close();  // saves the caret, as quitting does; then reopen it
  w.window->show();
  REQUIRE(QTest::qWaitForWindowExposed(w.window.get()));
  w.window->restoreLastDocument();
  REQUIRE(w.workspace->session() != nullptr);
  CHECK(quire::app::Settings().contains(QStringLiteral("documents/%1/caret").arg(hex)));

  auto remove = answerNext<QMessageBox>([](QMessageBox* box) {
    CHECK(box->text().contains(QStringLiteral("“Untitled”")));
    click(buttonNamed(box, QStringLiteral("Delete")));
  });
  w.trigger(QStringLiteral("File"), QStringLiteral("Delete"));
  REQUIRE_ANSWERED(remove);

  CHECK(w.workspace->session() == nullptr);
  CHECK(w.libraryTitles().isEmpty());
  CHECK(w.storeTitles().empty());
  CHECK_FALSE(w.workspace->store().info(id));
  CHECK(w.widgetText().isEmpty());
  CHECK(w.edit()->isReadOnly());
  CHECK_FALSE(w.edit()->placeholderText().isEmpty());
  CHECK(w.window->windowTitle() == QStringLiteral("Quire"));
  CHECK_FALSE(quire::app::Settings().contains(QStringLiteral("documents/%1/caret").arg(hex)));
  for (const char* item : {"Export", "Share", "Undo", "Redo", "Delete", "Rename"}) {
    INFO(item);
    const QAction* a = w.action(item == std::string("Undo") || item == std::string("Redo")
                                    ? QStringLiteral("Edit")
                                    : QStringLiteral("File"),
                                QString::fromLatin1(item));
    REQUIRE(a != nullptr);
    CHECK_FALSE(a->isEnabled());
  }
  // Typing goes nowhere, and the event loop has nothing left that touches the old document.
  quire::test::typeText(w.edit(), QStringLiteral("x"));
  CHECK(w.widgetText().isEmpty());
  quire::test::spinFor(400);
  CHECK(w.workspace->session() == nullptr);
  CHECK(w.window->windowTitle() == QStringLiteral("Quire"));
}

TEST_CASE("File > Rename shows the new title in the library and the window title", "[window]") {
  Window w({"Other"});
  INFO(w.error);
  REQUIRE(w.ok);
  w.newDocument(QStringLiteral("body"));
  REQUIRE(w.window->windowTitle() == QString::fromUtf8("Untitled — Quire"));
  const QString title = QString::fromUtf8("Réunion 2026 — 会議");

  // Cancel keeps the title.
  auto cancel = answerNext<QInputDialog>([](QInputDialog* d) {
    d->setTextValue(QStringLiteral("never"));
    d->reject();
  });
  w.trigger(QStringLiteral("File"), QStringLiteral("Rename"));
  REQUIRE_ANSWERED(cancel);
  CHECK(w.libraryTitles().contains(QStringLiteral("Untitled")));

  // The dialog offers the current title; surrounding spaces are dropped.
  auto rename = answerNext<QInputDialog>([&](QInputDialog* d) {
    CHECK(d->textValue() == QStringLiteral("Untitled"));
    d->setTextValue(QStringLiteral("  ") + title + QStringLiteral("  "));
    d->accept();
  });
  w.trigger(QStringLiteral("File"), QStringLiteral("Rename"));
  REQUIRE_ANSWERED(rename);
  CHECK(w.libraryTitles().contains(title));
  CHECK_FALSE(w.libraryTitles().contains(QStringLiteral("Untitled")));
  auto info = w.workspace->store().info(w.workspace->session()->id());
  REQUIRE(info);
  CHECK(qs(info->title) == title);
  CHECK(w.window->windowTitle() == title + QString::fromUtf8(" — Quire"));

  // Renaming another row (selected in the library) leaves the window title alone.
  REQUIRE(w.selectInLibrary(QStringLiteral("Other")));
  auto other = answerNext<QInputDialog>([](QInputDialog* d) {
    d->setTextValue(QStringLiteral("Archive"));
    d->accept();
  });
  w.trigger(QStringLiteral("File"), QStringLiteral("Rename"));
  REQUIRE_ANSWERED(other);
  CHECK(w.libraryTitles().contains(QStringLiteral("Archive")));
  CHECK(w.window->windowTitle() == title + QString::fromUtf8(" — Quire"));
  // Still after the library's delayed refresh.
  quire::test::spinFor(400);
  CHECK(w.window->windowTitle() == title + QString::fromUtf8(" — Quire"));
  CHECK(w.libraryTitles().contains(title));
}

// ---- Font.

TEST_CASE("View > Font sets the editor font and the next window starts with it", "[window]") {
  Window w;
  INFO(w.error);
  REQUIRE(w.ok);
  const QFont before = w.edit()->font();
  // Another family if the machine has one, and a size nobody has by default.
  // A monospaced one, as a writer might pick, else any other family the machine has.
  QFont wanted = before;
  QStringList families = QFontDatabase::families();
  std::stable_partition(families.begin(), families.end(),
                        [](const QString& f) { return QFontDatabase::isFixedPitch(f); });
  for (const QString& family : families) {
    if (family != before.family() && QFontDatabase::isSmoothlyScalable(family)) {
      wanted.setFamily(family);
      break;
    }
  }
  wanted.setPointSize(19);
  INFO("from " << before.family().toStdString() << " " << before.pointSizeF() << " to "
               << wanted.family().toStdString() << " 19");

  // Cancel changes nothing.
  auto cancel = answerNext<QFontDialog>([&](QFontDialog* d) {
    d->setCurrentFont(wanted);
    d->reject();
  });
  w.trigger(QStringLiteral("View"), QStringLiteral("Font"));
  REQUIRE_ANSWERED(cancel);
  CHECK(w.edit()->font() == before);
  CHECK_FALSE(quire::app::Settings().contains(QStringLiteral("editor/font")));

  QFont chosen;
  auto answer = answerNext<QFontDialog>([&](QFontDialog* d) {
    d->setCurrentFont(wanted);
    chosen = d->currentFont();
    d->accept();
  });
  w.trigger(QStringLiteral("View"), QStringLiteral("Font"));
  REQUIRE_ANSWERED(answer);
  CHECK(chosen.family() == wanted.family());
  CHECK(chosen.pointSize() == 19);
  CHECK(w.edit()->font().family() == chosen.family());
  CHECK(w.edit()->font().pointSize() == 19);
  QFont saved;
  REQUIRE(saved.fromString(quire::app::Settings().value("editor/font").toString()));
  CHECK(saved.family() == chosen.family());
  CHECK(saved.pointSize() == 19);

  // A second window on the same workspace and settings starts with that font.
  MainWindow second(w.workspace.get(), Window::startPreferences());
  auto* edit = second.findChild<CollabTextEdit*>();
  REQUIRE(edit != nullptr);
  CHECK(edit->font().family() == chosen.family());
  CHECK(edit->font().pointSize() == 19);
}

// ---- Preferences.

namespace {

QLineEdit* field(QWidget* dialog, const char* name) {
  auto* e = dialog->findChild<QLineEdit*>(QString::fromLatin1(name));
  CHECK(e != nullptr);
  return e;
}

void setField(QWidget* dialog, const char* name, const QString& text) {
  if (QLineEdit* e = field(dialog, name)) {
    e->selectAll();
    QTest::keyClicks(e, text);
    if (text.isEmpty()) QTest::keyClick(e, Qt::Key_Delete);
  }
}

QAbstractButton* okButton(QWidget* dialog) {
  auto* box = dialog->findChild<QDialogButtonBox*>();
  return box ? box->button(QDialogButtonBox::Ok) : nullptr;
}

// The first row of the "People here" list: this person.
QString selfInPeople(MainWindow* window) {
  auto* dock = window->findChild<QDockWidget*>(QStringLiteral("people"));
  auto* list = dock ? dock->widget()->findChild<QListWidget*>() : nullptr;
  return list && list->count() > 0 ? list->item(0)->text() : QString();
}

}  // namespace

TEST_CASE("Preferences saves and applies name, colour, relay and listening address",
          "[window]") {
  Window w;
  INFO(w.error);
  REQUIRE(w.ok);
  w.newDocument(QStringLiteral("served"));
  CHECK(selfInPeople(w.window.get()) == QStringLiteral("Ada (you)"));
  CHECK(w.workspace->listeningPort() == 0);
  const QColor colour(0x1E, 0x88, 0xE5);

  std::shared_ptr<quire::test::DialogAnswer> colourAnswer;
  auto answer = answerNext<quire::app::PreferencesDialog>([&](quire::app::PreferencesDialog* d) {
    CHECK(field(d, "name")->text() == QStringLiteral("Ada"));
    setField(d, "name", QString::fromUtf8("Grace Hopper-Ünal"));
    // The colour button opens a colour dialog; the swatch shows what was picked.
    colourAnswer = answerNext<QColorDialog>([&](QColorDialog* c) {
      CHECK(c->currentColor() == QColor(0xD8, 0x1B, 0x60));
      c->setCurrentColor(colour);
      c->accept();
    });
    auto* button = d->findChild<QPushButton*>(QStringLiteral("colour"));
    click(button);
    if (button) CHECK(button->text() == colour.name());
    // Cancelling the colour dialog keeps the colour just picked.
    auto cancelColour = answerNext<QColorDialog>([](QColorDialog* c) {
      c->setCurrentColor(Qt::green);
      c->reject();
    });
    click(button);
    CHECK(cancelColour->wait());
    if (button) CHECK(button->text() == colour.name());
    setField(d, "relayUrl", QStringLiteral("wss://relay.example.org/quire"));
    setField(d, "listenAddress", QStringLiteral("127.0.0.1:0"));
    click(okButton(d));
  });
  w.trigger(QStringLiteral("File"), QStringLiteral("Preferences"));
  REQUIRE_ANSWERED(answer);
  REQUIRE(colourAnswer);
  REQUIRE_ANSWERED(colourAnswer);

  // Saved...
  const Preferences saved = Preferences::load();
  CHECK(saved.name == QString::fromUtf8("Grace Hopper-Ünal"));
  CHECK(saved.colour == colour);
  CHECK(saved.relayUrl == QStringLiteral("wss://relay.example.org/quire"));
  CHECK(saved.listenAddress == QStringLiteral("127.0.0.1:0"));
  // ...and applied: the identity others see, and a listener that accepts connections.
  CHECK(selfInPeople(w.window.get()) == QString::fromUtf8("Grace Hopper-Ünal (you)"));
  CHECK(w.workspace->listenAddress() == QStringLiteral("127.0.0.1:0"));
  const quint16 port = w.workspace->listeningPort();
  REQUIRE(port > 0);
  QTcpSocket socket;
  socket.connectToHost(QHostAddress::LocalHost, port);
  bool connected = false;
  quire::test::spinUntil([&] {
    connected = socket.state() == QAbstractSocket::ConnectedState;
    return connected;
  });
  CHECK(connected);
  socket.abort();

  // The dialog opens on what was saved; clearing the address stops listening.
  auto clear = answerNext<quire::app::PreferencesDialog>([&](quire::app::PreferencesDialog* d) {
    CHECK(field(d, "name")->text() == QString::fromUtf8("Grace Hopper-Ünal"));
    CHECK(field(d, "relayUrl")->text() == QStringLiteral("wss://relay.example.org/quire"));
    CHECK(field(d, "listenAddress")->text() == QStringLiteral("127.0.0.1:0"));
    setField(d, "listenAddress", QString());
    click(okButton(d));
  });
  w.trigger(QStringLiteral("File"), QStringLiteral("Preferences"));
  REQUIRE_ANSWERED(clear);
  CHECK(w.workspace->listeningPort() == 0);
  CHECK(Preferences::load().listenAddress.isEmpty());
}

TEST_CASE("Preferences warns about a bad relay or address, stays open, and applies nothing",
          "[window]") {
  Window w;
  INFO(w.error);
  REQUIRE(w.ok);
  w.newDocument();
  QStringList warnings;
  std::vector<std::shared_ptr<quire::test::DialogAnswer>> warningAnswers;
  bool stayedOpen = true;
  // Fills the dialog with `relay` and `listen`, presses OK and answers the warning it shows.
  auto tryBad = [&](QWidget* d, const QString& relay, const QString& listen) {
    setField(d, "relayUrl", relay);
    setField(d, "listenAddress", listen);
    warningAnswers.push_back(answerNext<QMessageBox>([&](QMessageBox* box) {
      warnings << box->text();
      click(box->button(QMessageBox::Ok));
    }));
    click(okButton(d));
    stayedOpen = stayedOpen && d->isVisible();
  };
  auto answer = answerNext<quire::app::PreferencesDialog>([&](quire::app::PreferencesDialog* d) {
    setField(d, "name", QStringLiteral("Mallory"));
    tryBad(d, QStringLiteral("http://relay.example.org"), QString());  // not ws://
    tryBad(d, QStringLiteral("ws://"), QString());                     // no host
    tryBad(d, QString(), QStringLiteral("127.0.0.1"));                 // no port
    tryBad(d, QString(), QStringLiteral("127.0.0.1:70000"));           // port out of range
    tryBad(d, QString(), QStringLiteral("relay.example.org:7400"));    // a host name
    CHECK(d->isVisible());
    click(d->findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Cancel));
  });
  w.trigger(QStringLiteral("File"), QStringLiteral("Preferences"));
  REQUIRE_ANSWERED(answer);
  for (const auto& a : warningAnswers) REQUIRE_ANSWERED(a);
  CHECK(stayedOpen);
  REQUIRE(warnings.size() == 5);
  CHECK(warnings[0].contains(QStringLiteral("ws://")));
  CHECK(warnings[1].contains(QStringLiteral("ws://")));
  for (int i = 2; i < 5; ++i) CHECK(warnings[i].contains(QStringLiteral("address:port")));
  // Nothing saved, nothing applied.
  CHECK_FALSE(quire::app::Settings().contains(QStringLiteral("identity/name")));
  CHECK(selfInPeople(w.window.get()) == QStringLiteral("Ada (you)"));
  CHECK(w.workspace->listenAddress().isEmpty());
  CHECK(w.workspace->listeningPort() == 0);
}

TEST_CASE("Preferences reports an address it cannot listen on", "[window]") {
  Window w;
  INFO(w.error);
  REQUIRE(w.ok);
  w.newDocument();
  QTcpServer taken;
  REQUIRE(taken.listen(QHostAddress::LocalHost, 0));
  const QString address = QStringLiteral("127.0.0.1:%1").arg(taken.serverPort());
  auto answer = answerNext<quire::app::PreferencesDialog>([&](quire::app::PreferencesDialog* d) {
    setField(d, "listenAddress", address);
    click(okButton(d));
  });
  // The error comes once the dialog has closed.
  QString error;
  auto report = answerNext<QMessageBox>([&](QMessageBox* box) {
    error = box->windowTitle();
    click(box->button(QMessageBox::Ok));
  });
  w.trigger(QStringLiteral("File"), QStringLiteral("Preferences"));
  REQUIRE_ANSWERED(answer);
  REQUIRE_ANSWERED(report);
  CHECK(error == QStringLiteral("Not listening for peers"));
  CHECK(w.workspace->listeningPort() == 0);
  // Not saved: the next start does not try it again.
  CHECK(quire::app::Preferences::load().listenAddress.isEmpty());
  CHECK(w.workspace->listenAddress().isEmpty());
}

// ---- Find and replace.

TEST_CASE("the find bar's Replace replaces one match and Replace All every match", "[window]") {
  Window w;
  INFO(w.error);
  REQUIRE(w.ok);
  w.newDocument(QStringLiteral("cat and cat, Cat\nconcatenate"));
  auto* bar = w.window->findChild<quire::app::FindBar*>();
  REQUIRE(bar != nullptr);
  auto* find = bar->findChild<QLineEdit*>(QStringLiteral("findText"));
  auto* with = bar->findChild<QLineEdit*>(QStringLiteral("replaceText"));
  auto* replace = bar->findChild<QPushButton*>(QStringLiteral("replace"));
  auto* replaceAll = bar->findChild<QPushButton*>(QStringLiteral("replaceAll"));
  REQUIRE((find && with && replace && replaceAll));

  // Edit ▸ Replace… opens the bar with the replace row; the caret goes back to the start so
  // the first match is the first "cat".
  QTextCursor start = w.edit()->textCursor();
  start.setPosition(0);
  w.edit()->setTextCursor(start);
  w.trigger(QStringLiteral("Edit"), QStringLiteral("Replace"));
  REQUIRE(bar->isVisible());
  REQUIRE(replace->isVisible());
  QTest::keyClicks(find, QStringLiteral("cat"));
  CHECK(w.edit()->textCursor().selectedText() == QStringLiteral("cat"));
  CHECK(w.edit()->textCursor().selectionStart() == 0);
  QTest::keyClicks(with, QStringLiteral("dog"));

  // Replace: the current match only, then on to the next.
  QTest::mouseClick(replace, Qt::LeftButton);
  CHECK(w.widgetText() == QStringLiteral("dog and cat, Cat\nconcatenate"));
  CHECK(w.engineText() == w.widgetText());
  CHECK(w.edit()->textCursor().selectionStart() == 8);

  // Replace All: every remaining match, in any case (Match case is off), inside words too.
  QTest::mouseClick(replaceAll, Qt::LeftButton);
  const QString all = QStringLiteral("dog and dog, dog\ncondogenate");
  CHECK(w.widgetText() == all);
  CHECK(w.engineText() == all);
  CHECK(bar->findChild<QLabel*>(QStringLiteral("findStatus"))->text() ==
        QStringLiteral("3 replaced"));
  // Stored as shown.
  w.workspace->flush();
  auto stored = w.workspace->store().load(w.workspace->session()->id());
  REQUIRE(stored);
  CHECK(qs(stored->text()) == all);

  // One Undo takes back the whole Replace All, with other text untouched, and one more the
  // single Replace (each is one undo group: engine::UndoManager::beginGroup); Redo in reverse.
  const QString afterOne = QStringLiteral("dog and cat, Cat\nconcatenate");
  const QString original = QStringLiteral("cat and cat, Cat\nconcatenate");
  w.trigger(QStringLiteral("Edit"), QStringLiteral("Undo"));
  CHECK(w.widgetText() == afterOne);
  CHECK(w.engineText() == afterOne);
  w.trigger(QStringLiteral("Edit"), QStringLiteral("Undo"));
  CHECK(w.widgetText() == original);
  CHECK(w.engineText() == original);
  w.trigger(QStringLiteral("Edit"), QStringLiteral("Redo"));
  CHECK(w.widgetText() == afterOne);
  w.trigger(QStringLiteral("Edit"), QStringLiteral("Redo"));
  CHECK(w.widgetText() == all);
  CHECK(w.engineText() == all);
  CHECK_FALSE(w.action(QStringLiteral("Edit"), QStringLiteral("Redo"))->isEnabled());
}

// ---- Reopening at start.

TEST_CASE("the last document reopens at start with the caret where it was (a long one too)",
          "[window]") {
  Window w;
  INFO(w.error);
  REQUIRE(w.ok);
  // A long document (shown in slices: the caret's place arrives after the first one) and,
  // edited last, a short one.
  w.newDocument();
  QString longText;
  while (longText.size() < 600'000) longText += QStringLiteral("a line of a long document\n");
  w.edit()->insertPlainText(longText);
  const DocumentId longId = w.workspace->session()->id();
  const int longCaret = longText.size() - 30;
  QTextCursor c = w.edit()->textCursor();
  c.setPosition(longCaret);
  w.edit()->setTextCursor(c);
  w.window->close();  // saves the caret, as quitting does

  // Restart: a new window on the same library reopens the long one (the last open).
  w.window = std::make_unique<MainWindow>(w.workspace.get(), Window::startPreferences());
  w.window->show();
  REQUIRE(QTest::qWaitForWindowExposed(w.window.get()));
  w.window->restoreLastDocument();
  REQUIRE(w.workspace->session() != nullptr);
  CHECK(w.workspace->session()->id() == longId);
  REQUIRE(quire::test::spinUntil([&] { return w.widgetText().size() == longText.size(); }));
  CHECK(w.edit()->textCursor().position() == longCaret);

  // The short one, caret in the middle; restart again.
  w.newDocument(QStringLiteral("alpha beta gamma"));
  const DocumentId shortId = w.workspace->session()->id();
  c = w.edit()->textCursor();
  c.setPosition(6);
  w.edit()->setTextCursor(c);
  w.window->close();
  w.window = std::make_unique<MainWindow>(w.workspace.get(), Window::startPreferences());
  w.window->show();
  REQUIRE(QTest::qWaitForWindowExposed(w.window.get()));
  w.window->restoreLastDocument();
  REQUIRE(w.workspace->session() != nullptr);
  CHECK(w.workspace->session()->id() == shortId);
  CHECK(w.widgetText() == QStringLiteral("alpha beta gamma"));
  CHECK(w.edit()->textCursor().position() == 6);
}

// ---- Undo and Redo from the Edit menu.

TEST_CASE("Edit > Undo and Edit > Redo undo and redo typed text and follow what can be done",
          "[window]") {
  Window w;
  INFO(w.error);
  REQUIRE(w.ok);
  QAction* undo = w.action(QStringLiteral("Edit"), QStringLiteral("Undo"));
  QAction* redo = w.action(QStringLiteral("Edit"), QStringLiteral("Redo"));
  REQUIRE((undo && redo));
  CHECK_FALSE(undo->isEnabled());  // no document
  CHECK_FALSE(redo->isEnabled());
  w.newDocument();
  CHECK_FALSE(undo->isEnabled());  // nothing typed yet
  CHECK_FALSE(redo->isEnabled());

  quire::test::typeText(w.edit(), QStringLiteral("hello"));
  CHECK(undo->isEnabled());
  CHECK_FALSE(redo->isEnabled());

  undo->trigger();
  CHECK(w.widgetText().isEmpty());
  CHECK(w.engineText().isEmpty());
  CHECK_FALSE(undo->isEnabled());
  CHECK(redo->isEnabled());

  redo->trigger();
  CHECK(w.widgetText() == QStringLiteral("hello"));
  CHECK(w.engineText() == QStringLiteral("hello"));
  CHECK(undo->isEnabled());
  CHECK_FALSE(redo->isEnabled());

  // A new word is a group of its own (FORMAT.md, "Undo"): one Undo takes back only that.
  quire::test::typeText(w.edit(), QStringLiteral(" world"));
  undo->trigger();
  CHECK(w.widgetText() == QStringLiteral("hello "));
  CHECK(w.engineText() == QStringLiteral("hello "));
  CHECK(redo->isEnabled());
  // Typing after an Undo drops the redo step.
  quire::test::typeText(w.edit(), QStringLiteral("there"));
  CHECK(w.widgetText() == QStringLiteral("hello there"));
  CHECK(w.engineText() == QStringLiteral("hello there"));
  CHECK_FALSE(redo->isEnabled());
}

// ---- About.

TEST_CASE("Help > About names the program and closes with OK", "[window]") {
  Window w;
  INFO(w.error);
  REQUIRE(w.ok);
  QString text;
  auto answer = answerNext<QMessageBox>([&](QMessageBox* box) {
    text = box->text();
    click(buttonWithRole(box, QMessageBox::AcceptRole));
  });
  w.trigger(QStringLiteral("Help"), QStringLiteral("About Quire"));
  REQUIRE_ANSWERED(answer);
  CHECK(text.contains(QStringLiteral("Quire")));
}
