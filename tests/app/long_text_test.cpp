// A long text (over TextBinding's 256 Ki-unit threshold) is shown in slices, one per event-loop
// turn, with progress; meanwhile typing, remote edits and a join work on the part shown, and
// everything ends identical to the engine's text.
#include <catch2/catch.hpp>

#include <vector>

#include <QTextCursor>

#include "tests/app/editor_harness.h"
#include "tests/support/temp_dir.h"

namespace {

using quire::test::Editor;
using quire::test::TwoEditors;

// ~1.2 M UTF-16 units in lines of words, with an emoji now and then so slice ends meet
// surrogate pairs.
QString longText() {
  QString out;
  const QString line = QStringLiteral("The slow brown fox reads every line of a long book ");
  const QString emoji = QString::fromUtf8("\xF0\x9F\x93\x96\n");  // U+1F4D6 and a newline
  while (out.size() < 1'200'000) {
    out += line;
    out += emoji;
  }
  return out;
}

struct Progress {
  std::vector<qint64> shown;
  qint64 total = 0;
  void connectTo(quire::app::TextBinding* binding) {
    QObject::connect(binding, &quire::app::TextBinding::loadProgress, binding,
                     [this](qint64 s, qint64 t) {
                       shown.push_back(s);
                       total = t;
                     });
  }
  bool rising() const {
    for (std::size_t i = 1; i < shown.size(); ++i)
      if (shown[i] < shown[i - 1]) return false;
    return true;
  }
};

}  // namespace

TEST_CASE("A long text opens in slices with progress, and typing works while it loads",
          "[binding][long]") {
  quire::test::GuiApp app;
  quire::test::TempDir dir("quire-long-open");
  const std::string db = dir.file("ada.db");
  std::string error;
  const auto id = quire::test::createDocument(db, "Long", error);
  REQUIRE(id);
  const QString text = longText();
  {
    Editor writer;
    REQUIRE(writer.open(db, *id, error));
    writer.edit->insertPlainText(text);  // one paste
    REQUIRE(writer.engineText() == text);
  }

  Editor e;
  REQUIRE(e.open(db, *id, error));
  REQUIRE(e.engineText() == text);
  // The binding showed the first slice during open and is still going.
  REQUIRE(e.binding->loading());
  const QString first = e.widgetText();
  CHECK(first.size() > 0);
  CHECK(first.size() < text.size());
  CHECK(text.startsWith(first));
  CHECK_FALSE(quire::test::hasBrokenCodeUnits(first));  // no slice ends inside a pair

  Progress progress;
  progress.connectTo(e.binding.get());
  // Type at the start while the rest is still coming: it lands in the engine at once.
  e.setCaret(0);
  quire::test::typeText(e.edit.get(), QStringLiteral("Preface. "));
  CHECK(e.engineText() == QStringLiteral("Preface. ") + text);
  CHECK(e.caret() == 9);

  REQUIRE(quire::test::spinUntil([&] { return !e.binding->loading(); }, 20000));
  CHECK(e.widgetText() == e.engineText());
  CHECK(e.caret() == 9);  // loading the rest did not move it
  INFO("progress signals: " << progress.shown.size());
  CHECK(progress.shown.size() >= 2);  // more than one more slice
  CHECK(progress.rising());
  CHECK(progress.shown.back() == progress.total);
  CHECK(progress.total == e.engineText().size());
  CHECK(e.bindingError.isEmpty());
}

TEST_CASE("Joining a long document shows it in slices while the other person types",
          "[binding][long][relay]") {
  TwoEditors f(false);
  REQUIRE(f.ok);
  const QString text = longText();
  f.a.edit->insertPlainText(text);
  REQUIRE(f.a.engineText() == text);
  REQUIRE(quire::test::spinUntil([&] { return f.a.session->uncommittedEdits() == 0; }, 10000));

  REQUIRE(f.openSecond());
  Progress progress;
  progress.connectTo(f.b.binding.get());
  // Ada types at both ends as soon as Grace starts showing the joined text: the start is in
  // the part Grace shows, the end beyond it.
  bool typed = false;
  QObject::connect(f.b.binding.get(), &quire::app::TextBinding::loadProgress, f.b.binding.get(),
                   [&](qint64 shown, qint64 total) {
                     if (typed || shown >= total) return;
                     typed = true;
                     f.a.setCaret(0);
                     quire::test::typeText(f.a.edit.get(), QStringLiteral("Title\n"));
                     f.a.setCaret(f.a.widgetText().size());
                     quire::test::typeText(f.a.edit.get(), QStringLiteral("The end."));
                   });
  REQUIRE(quire::test::spinUntil([&] { return f.b.engineText().size() >= text.size(); }, 20000));
  const bool settled = f.settle(20000);
  INFO("B widget " << f.b.widgetText().size() << " units, B engine " << f.b.engineText().size()
                   << ", A engine " << f.a.engineText().size());
  REQUIRE(settled);
  CHECK(typed);
  CHECK(f.b.widgetText() == QStringLiteral("Title\n") + text + QStringLiteral("The end."));
  std::string seq;
  for (qint64 s : progress.shown) seq += std::to_string(s) + " ";
  INFO("progress: " << seq);
  CHECK(progress.shown.size() >= 2);
  CHECK(progress.rising());
  CHECK_FALSE(f.b.binding->loading());
  CHECK(f.b.bindingError.isEmpty());
}

// A paste too big for one room frame reaches the room as a snapshot, and a newcomer with an
// empty copy takes the snapshot whole (documentReplaced). The session must not also pass on the
// replacement as a remote edit (the whole text inserted at 0), or the widget would show it
// twice (the binding's reload for a large merge happens to hide that, so it is checked at the
// session).
TEST_CASE("A join through a room snapshot shows the text once", "[binding][relay]") {
  TwoEditors f(false);
  REQUIRE(f.ok);
  QString text;
  const QString cjk = QString::fromUtf8("\xE4\xB8\xAD\xE6\x96\x87\xE6\x9B\xB8");  // 中文書
  while (text.size() < 200'000) text += cjk;  // 600 kB of UTF-8: more than one frame holds
  f.a.edit->insertPlainText(text);
  REQUIRE(quire::test::spinUntil([&] { return f.a.session->uncommittedEdits() == 0; }, 10000));
  REQUIRE(f.openSecond());
  bool replaced = false;
  int wholeTextPatches = 0;
  QObject::connect(f.b.session.get(), &quire::app::DocumentSession::documentReplaced,
                   f.b.session.get(), [&] { replaced = true; });
  QObject::connect(f.b.session.get(), &quire::app::DocumentSession::remoteEdited,
                   f.b.session.get(), [&](const std::vector<quire::engine::Patch>& patches) {
                     for (const auto& p : patches)
                       if (p.inserted.size() >= text.toStdString().size()) ++wholeTextPatches;
                   });
  const bool settled = f.settle(20000);
  INFO("B widget " << f.b.widgetText().size() << " units, B engine " << f.b.engineText().size());
  REQUIRE(settled);
  CHECK(replaced);
  CHECK(wholeTextPatches == 0);
  CHECK(f.b.widgetText() == text);
}
