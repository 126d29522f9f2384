// A long text (over TextBinding's 256 Ki-unit threshold) is shown in slices, one per event-loop
// turn, with progress; meanwhile typing, remote edits and a join work on the part shown, and
// everything ends identical to the engine's text. A join through a relay reports its progress
// in bytes, and the status bar shows both.
#include <catch2/catch.hpp>

#include <algorithm>
#include <utility>
#include <vector>

#include <QStatusBar>
#include <QTextCursor>

#include "app/quire/ui/status_panel.h"
#include "tests/app/editor_harness.h"
#include "tests/support/temp_dir.h"

namespace {

using quire::test::Editor;
using quire::test::TwoEditors;

// ~1.2 M UTF-16 units of pseudo-random words in lines, with an emoji now and then so slice
// ends meet surrogate pairs. Random, so it does not compress to nothing: the relay's snapshot
// of it is large enough to arrive in several WebSocket frames.
QString longText() {
  QString out;
  out.reserve(1'250'000);
  const QString emoji = QString::fromUtf8("\xF0\x9F\x93\x96\n");  // U+1F4D6 and a newline
  std::uint32_t seed = 12345;
  const auto next = [&seed] { return (seed = seed * 1664525u + 1013904223u) >> 8; };
  while (out.size() < 1'200'000) {
    for (int word = 0; word < 10; ++word) {
      const int length = 2 + static_cast<int>(next() % 8);
      for (int i = 0; i < length; ++i) out += QChar('a' + static_cast<int>(next() % 26));
      out += QLatin1Char(' ');
    }
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
  // The paste is too big for a room frame: it reaches the relay as a snapshot (compressed: ~60%
  // of the text's bytes). Grace joins once it is stored, so her join replays it.
  REQUIRE(quire::test::spinUntil([&] { return f.relay.storedBytes() > 600'000; }, 10000));

  REQUIRE(f.openSecond());
  Progress progress;
  progress.connectTo(f.b.binding.get());
  // The relay announces how many bytes the join replays; their arrival is reported as they come
  // (the ~1.2 MB snapshot arrives in WebSocket frames of at most 512 KiB).
  std::vector<std::pair<qint64, qint64>> joined;
  QObject::connect(f.b.session.get(), &quire::app::DocumentSession::joinProgress,
                   f.b.session.get(),
                   [&](qint64 received, qint64 total) { joined.emplace_back(received, total); });
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
  REQUIRE(joined.size() >= 3);  // announced (0), part-way, complete
  CHECK(joined.front().first == 0);
  CHECK(joined.front().second > 600'000);
  CHECK(std::any_of(joined.begin(), joined.end(), [](const auto& p) {
    return p.first > 0 && p.first < p.second;
  }));
  CHECK(joined.back().first == joined.back().second);
  for (std::size_t i = 1; i < joined.size(); ++i) {
    CHECK(joined[i].first >= joined[i - 1].first);
    CHECK(joined[i].second == joined.front().second);
  }
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

// The status bar says how far a join and the showing of a long text have come.
TEST_CASE("The status bar shows join and loading progress as percentages", "[binding][status]") {
  quire::test::OneEditor one("Status");
  INFO(one.error);
  REQUIRE(one.ok);
  Editor& e = one.editor;
  QStatusBar bar;
  quire::app::StatusPanel status(&bar, e.edit.get());
  status.setSession(e.session.get());
  CHECK(status.connectionText() == QStringLiteral("Offline"));
  status.setJoining(true);
  CHECK(status.connectionText() == QStringLiteral("Joining…"));  // nothing announced yet
  status.setJoinProgress(0, 2000);
  CHECK(status.connectionText() == QStringLiteral("Joining… 0%"));
  status.setJoinProgress(700, 2000);
  CHECK(status.connectionText() == QStringLiteral("Joining… 35%"));
  // Showing a long text comes after its bytes arrived, and says so while it lasts.
  status.setLoadProgress(50, 200);
  CHECK(status.connectionText() == QStringLiteral("Loading… 25%"));
  status.setLoadProgress(200, 200);
  CHECK(status.connectionText() == QStringLiteral("Joining… 35%"));
  status.setJoining(false);
  CHECK(status.connectionText() == QStringLiteral("Offline"));
}
