// The editor window (app/quire/ui/main_window*.cpp) driven as a person drives it: a real
// Workspace on a temp database, a real MainWindow shown offscreen, menu actions triggered, and
// the modal dialogs they open (confirmation, input, font, colour) answered by
// tests/app/dialog_driver.h (tests/app/window_fixture.h). Import and export are in
// window_files_test.cpp, Preferences in window_preferences_test.cpp.
#include <catch2/catch.hpp>

#include "tests/app/window_fixture.h"

using namespace quire::test::window;

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
