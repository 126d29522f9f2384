// The editor window's File > Import and File > Export, driven as a person drives them
// (tests/app/window_fixture.h).
#include <catch2/catch.hpp>

#include <sys/inotify.h>
#include <unistd.h>

#include "tests/app/window_fixture.h"

using namespace quire::test::window;

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

// ---- The library's own files (storage/SCHEMA.md, "The lock file").

TEST_CASE("the file dialogs never open the library's files, and refuse them as a choice",
          "[window][lock]") {
  Window w;
  INFO(w.error);
  REQUIRE(w.ok);
  w.newDocument(QStringLiteral("typed before"));
  const std::string db = w.workspace->store().path();
  REQUIRE(std::filesystem::exists(db + "-wal"));
  // Every open of the database's files from here on, by anyone.
  const int watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  REQUIRE(watch >= 0);
  for (const char* suffix : {"", "-wal", "-shm", ".lock"})
    REQUIRE(inotify_add_watch(watch, (db + suffix).c_str(), IN_OPEN) >= 0);

  // Someone browses the library's folder in Import, list and details both, and cancels.
  auto browse = answerNext<QFileDialog>([&](QFileDialog* d) {
    d->setDirectory(qs(w.dir.path()));
    for (auto mode : {QFileDialog::List, QFileDialog::Detail}) {
      d->setViewMode(mode);
      QElapsedTimer shown;
      shown.start();
      while (shown.elapsed() < 700) QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    }
    d->reject();
  });
  w.trigger(QStringLiteral("File"), QStringLiteral("Import File"));
  REQUIRE_ANSWERED(browse);
  char events[4096];
  const ssize_t opened = read(watch, events, sizeof events);
  close(watch);
  CHECK(opened <= 0);  // not one open of the database, its WAL, shared memory or lock

  // Choosing the database itself is refused, in Import and in Export, and changes nothing.
  const auto titles = w.storeTitles();
  for (const char* menuItem : {"Import File", "Export"}) {
    INFO(menuItem);
    const bool import = std::string(menuItem) == "Import File";
    QString said;
    auto pick = answerNext<QFileDialog>([&](QFileDialog* d) {
      auto* name = d->findChild<QLineEdit*>(QStringLiteral("fileNameEdit"));
      CHECK(name != nullptr);
      if (!name) return d->reject();
      name->setText(qs(db));
      static_cast<QDialog*>(d)->accept();
    });
    std::shared_ptr<quire::test::DialogAnswer> replace, refusal;
    auto expectRefusal = [&] {
      refusal = answerNext<QMessageBox>([&](QMessageBox* box) {
        said = box->text();
        click(box->button(QMessageBox::Ok));
      });
    };
    if (import) {
      expectRefusal();
    } else {
      // Export asks before replacing an existing file: yes, as a person might.
      replace = answerNext<QMessageBox>([&](QMessageBox* box) {
        expectRefusal();
        click(buttonWithRole(box, QMessageBox::YesRole));
      });
    }
    w.trigger(QStringLiteral("File"), QString::fromLatin1(menuItem));
    REQUIRE_ANSWERED(pick);
    if (replace) REQUIRE_ANSWERED(replace);
    REQUIRE(refusal);
    REQUIRE_ANSWERED(refusal);
    CHECK(said.contains(QStringLiteral("own library files")));
  }
  CHECK(w.storeTitles() == titles);
  CHECK(w.workspace->store().testIntegrityCheck() == "ok");
}
