// TextBinding with one session (app/quire/text_binding.h): what a person types, pastes, selects
// and deletes in a CollabTextEdit reaches the engine as code points, the widget and the engine
// keep the same text, and the database holds it after the session is gone.
#include <catch2/catch.hpp>

#include <string>

#include <QApplication>
#include <QClipboard>
#include <QKeyEvent>
#include <QTextCursor>

#include "tests/app/editor_harness.h"
#include "tests/support/temp_dir.h"

namespace {

using quire::test::Editor;

const QString kEmoji = QString::fromUtf8("\xF0\x9F\x98\x80");   // U+1F600, two UTF-16 units
const QString kCjk = QString::fromUtf8("\xE4\xB8\xAD\xE6\x96\x87");  // 中文
const QString kAcute = QString::fromUtf8("\xCC\x81");           // U+0301 COMBINING ACUTE ACCENT

using quire::test::OneEditor;

// The widget and the engine agree, the engine holds whole code points only, and the binding
// reported no failure.
void checkInStep(const Editor& e) {
  INFO("engine: " << e.engineText().toStdString());
  INFO("widget: " << e.widgetText().toStdString());
  CHECK(e.engineText() == e.widgetText());
  CHECK_FALSE(quire::test::hasBrokenCodeUnits(e.engineText()));
  CHECK(e.bindingError.isEmpty());
  CHECK(e.session->document().checkInvariants().empty());
}

// Code points of `s` (what the engine counts).
std::uint32_t codePoints(const QString& s) {
  return static_cast<std::uint32_t>(s.toUcs4().size());
}

}  // namespace

TEST_CASE("typed text reaches the engine and the widget and the engine stay equal", "[app]") {
  OneEditor f;
  INFO(f.error);
  REQUIRE(f.ok);
  Editor& e = f.editor;

  quire::test::typeText(e.edit.get(), QStringLiteral("Hello world"));
  checkInStep(e);
  CHECK(e.engineText() == QStringLiteral("Hello world"));

  // Typing in the middle, then on a new line.
  e.setCaret(5);
  quire::test::typeText(e.edit.get(), QStringLiteral(","));
  e.setCaret(e.widgetText().size());
  quire::test::typeText(e.edit.get(), QStringLiteral("\nsecond line"));
  checkInStep(e);
  CHECK(e.engineText() == QStringLiteral("Hello, world\nsecond line"));

  // Backspace and Delete through real key events.
  quire::test::pressKey(e.edit.get(), Qt::Key_Backspace);
  e.setCaret(0);
  quire::test::pressKey(e.edit.get(), Qt::Key_Delete);
  checkInStep(e);
  CHECK(e.engineText() == QStringLiteral("ello, world\nsecond lin"));

  // The Return at the line break, deleted from the end of line one, joins the lines.
  e.setCaret(QStringLiteral("ello, world").size());
  quire::test::pressKey(e.edit.get(), Qt::Key_Delete);
  checkInStep(e);
  CHECK(e.engineText() == QStringLiteral("ello, worldsecond lin"));
}

TEST_CASE("a multi-line paste reaches the engine whole", "[app]") {
  OneEditor f;
  INFO(f.error);
  REQUIRE(f.ok);
  Editor& e = f.editor;
  quire::test::typeText(e.edit.get(), QStringLiteral("start  end"));
  e.setCaret(6);

  const QString pasted = QStringLiteral("first line\nsecond line\n\n\tindented ") + kEmoji +
                         QStringLiteral("\nlast");
  QApplication::clipboard()->setText(pasted);
  REQUIRE(QApplication::clipboard()->text() == pasted);

  const bool withKeys = GENERATE(true, false);
  INFO((withKeys ? "pasted with Ctrl+V" : "pasted with paste()"));
  if (withKeys) {
    quire::test::pressKey(e.edit.get(), Qt::Key_V, Qt::ControlModifier);
  } else {
    e.edit->paste();
  }
  checkInStep(e);
  CHECK(e.engineText() == QStringLiteral("start ") + pasted + QStringLiteral(" end"));
  CHECK(e.caret() == 6 + pasted.size());

  SECTION("and a paste over a selection that spans lines replaces it") {
    e.select(2, 6 + QStringLiteral("first line\nsec").size());
    QApplication::clipboard()->setText(QStringLiteral("A\nB"));
    e.edit->paste();
    checkInStep(e);
    CHECK(e.engineText().startsWith(QStringLiteral("stA\nBond line\n\n\tindented ")));
  }

  SECTION("and a paste with Windows line ends keeps widget and engine equal") {
    e.setCaret(0);
    QApplication::clipboard()->setText(QStringLiteral("one\r\ntwo\r\n"));
    e.edit->paste();
    checkInStep(e);
    CHECK_FALSE(e.engineText().contains(QLatin1Char('\r')));
  }
}

TEST_CASE("typing over a selection replaces it in the engine", "[app]") {
  OneEditor f;
  INFO(f.error);
  REQUIRE(f.ok);
  Editor& e = f.editor;
  quire::test::typeText(e.edit.get(), QStringLiteral("The quick brown fox"));

  SECTION("selected backwards, replaced by one key") {
    e.select(9, 4);  // "quick", caret at its start
    quire::test::typeText(e.edit.get(), QStringLiteral("s"));
    checkInStep(e);
    CHECK(e.engineText() == QStringLiteral("The s brown fox"));
  }
  SECTION("selected with Shift+arrows, replaced by an input-method commit") {
    e.setCaret(10);
    for (int i = 0; i < 5; ++i) quire::test::pressKey(e.edit.get(), Qt::Key_Right, Qt::ShiftModifier);
    REQUIRE(e.edit->textCursor().selectedText() == QStringLiteral("brown"));
    quire::test::commitText(e.edit.get(), kCjk);
    checkInStep(e);
    CHECK(e.engineText() == QStringLiteral("The quick ") + kCjk + QStringLiteral(" fox"));
  }
  SECTION("select all, then Backspace empties the engine") {
    e.edit->selectAll();
    quire::test::pressKey(e.edit.get(), Qt::Key_Backspace);
    checkInStep(e);
    CHECK(e.engineText().isEmpty());
    CHECK(e.session->document().length() == 0);
  }
  SECTION("a selection that ends inside a surrogate pair never splits it") {
    e.setCaret(4);
    quire::test::typeText(e.edit.get(), kEmoji);
    checkInStep(e);
    // Select "The " plus the first half of the emoji: Qt may widen or not, but the engine must
    // stay in whole code points and in step.
    e.select(0, 5);
    quire::test::typeText(e.edit.get(), QStringLiteral("X"));
    checkInStep(e);
    CHECK(e.engineText() == QStringLiteral("Xquick brown fox"));
    // A caret put between the halves, then Backspace: one whole code point goes.
    e.setCaret(0);
    quire::test::typeText(e.edit.get(), kEmoji);
    e.setCaret(1);
    quire::test::pressKey(e.edit.get(), Qt::Key_Backspace);
    checkInStep(e);
    CHECK(e.engineText() == QStringLiteral("Xquick brown fox"));
  }
}

TEST_CASE("Backspace and Delete across an emoji, CJK and a combining mark keep code points whole",
          "[app]") {
  OneEditor f;
  INFO(f.error);
  REQUIRE(f.ok);
  Editor& e = f.editor;
  const QString text = QStringLiteral("a") + kEmoji + QStringLiteral("b") + kCjk +
                       QStringLiteral("e") + kAcute + QStringLiteral("z");
  quire::test::typeText(e.edit.get(), text);
  checkInStep(e);
  REQUIRE(e.engineText() == text);
  // a, U+1F600, b, 中, 文, e, U+0301, z
  CHECK(e.session->document().length() == 8);
  CHECK(e.binding->toCodePoints(e.caret()) == 8);
  CHECK(e.binding->toUtf16(2) == 3);  // after the emoji

  SECTION("Backspace after the emoji deletes all of it, one code point in the engine") {
    e.setCaret(3);  // after the emoji's low surrogate
    quire::test::pressKey(e.edit.get(), Qt::Key_Backspace);
    checkInStep(e);
    CHECK(e.engineText() == QStringLiteral("ab") + kCjk + QStringLiteral("e") + kAcute +
                                QStringLiteral("z"));
    CHECK(e.session->document().length() == 7);
  }
  SECTION("Delete before the emoji deletes all of it") {
    e.setCaret(1);
    quire::test::pressKey(e.edit.get(), Qt::Key_Delete);
    checkInStep(e);
    CHECK(e.session->document().length() == 7);
    CHECK_FALSE(e.engineText().contains(kEmoji));
  }
  SECTION("Backspace over CJK deletes one character at a time") {
    e.setCaret(6);  // after 文
    quire::test::pressKey(e.edit.get(), Qt::Key_Backspace);
    checkInStep(e);
    CHECK(e.engineText() == QStringLiteral("a") + kEmoji + QStringLiteral("b") +
                                QString::fromUtf8("\xE4\xB8\xAD") + QStringLiteral("e") + kAcute +
                                QStringLiteral("z"));
    quire::test::pressKey(e.edit.get(), Qt::Key_Backspace);
    checkInStep(e);
    CHECK(e.session->document().length() == 6);
  }
  SECTION("Backspace after e + U+0301 and Delete before it stay in step with the widget") {
    e.setCaret(8);  // after the combining mark
    quire::test::pressKey(e.edit.get(), Qt::Key_Backspace);
    checkInStep(e);
    // Qt deletes the mark alone (one code point) on Backspace; whatever it does, the engine
    // has the same text.
    const std::uint32_t afterBackspace = e.session->document().length();
    CHECK((afterBackspace == 7 || afterBackspace == 6));
    e.setCaret(6);  // before the e
    quire::test::pressKey(e.edit.get(), Qt::Key_Delete);
    checkInStep(e);
    CHECK(e.engineText().endsWith(QStringLiteral("z")));
    CHECK_FALSE(e.engineText().contains(kAcute));
  }
  SECTION("deleting every character one by one from the end leaves an empty engine") {
    e.setCaret(e.widgetText().size());
    for (int i = 0; i < 12 && !e.widgetText().isEmpty(); ++i) {
      quire::test::pressKey(e.edit.get(), Qt::Key_Backspace);
      checkInStep(e);
    }
    CHECK(e.engineText().isEmpty());
  }
}

TEST_CASE("an emoji typed one UTF-16 unit per key event still reaches the engine whole", "[app]") {
  // Some keyboards and remote-input tools (QTest::keyClicks among them) deliver a surrogate pair
  // as two key events. The widget then briefly holds a lone high surrogate.
  OneEditor f;
  INFO(f.error);
  REQUIRE(f.ok);
  Editor& e = f.editor;
  quire::test::typeText(e.edit.get(), QStringLiteral("ab"));
  e.setCaret(1);
  for (QChar unit : kEmoji) {
    QKeyEvent press(QEvent::KeyPress, Qt::Key_unknown, Qt::NoModifier, QString(unit));
    QCoreApplication::sendEvent(e.edit.get(), &press);
  }
  INFO("widget: " << e.widgetText().toStdString());
  if (e.widgetText() == QStringLiteral("ab")) {
    // Qt refused both halves: nothing to check beyond staying in step.
    checkInStep(e);
  } else {
    checkInStep(e);
    CHECK(e.engineText() == QStringLiteral("a") + kEmoji + QStringLiteral("b"));
  }
}

TEST_CASE("Ctrl+Z undoes through the engine, not the widget's own history", "[app]") {
  OneEditor f;
  INFO(f.error);
  REQUIRE(f.ok);
  Editor& e = f.editor;
  quire::test::typeText(e.edit.get(), QStringLiteral("word"));
  REQUIRE(e.session->canUndo());
  quire::test::pressKey(e.edit.get(), Qt::Key_Z, Qt::ControlModifier);
  checkInStep(e);
  CHECK(e.engineText().isEmpty());  // one group: the whole word
  CHECK(e.session->canRedo());
  quire::test::pressKey(e.edit.get(), Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
  checkInStep(e);
  CHECK(e.engineText() == QStringLiteral("word"));
  CHECK(e.caret() == 4);
}

TEST_CASE("the database holds the typed text after the session is destroyed", "[app]") {
  OneEditor f;
  INFO(f.error);
  REQUIRE(f.ok);
  Editor& e = f.editor;
  const QString text = QStringLiteral("Saved ") + kEmoji + QStringLiteral(" ") + kCjk +
                       QStringLiteral(" cafe") + kAcute + QStringLiteral("\nline two");
  quire::test::typeText(e.edit.get(), text);
  e.setCaret(0);
  quire::test::pressKey(e.edit.get(), Qt::Key_Delete);  // "aved ..."
  const QString expected = text.mid(1);
  checkInStep(e);
  REQUIRE(e.engineText() == expected);

  SECTION("closed at once, before any commit callback ran") {
    e.close();
  }
  SECTION("closed after the editor said saved") {
    bool saved = false;
    QObject::connect(e.session.get(), &quire::app::DocumentSession::saved, [&] { saved = true; });
    CHECK(quire::test::spinUntil([&] { return saved && e.session->uncommittedEdits() == 0; }));
    e.close();
  }
  std::string error;
  const auto stored = quire::test::storedText(f.dir.file("a.db"), e.id, error);
  INFO(error);
  REQUIRE(stored.has_value());
  CHECK(QString::fromStdString(*stored) == expected);
  CHECK(codePoints(QString::fromStdString(*stored)) == codePoints(expected));

  // And a new editor on it shows it.
  Editor again;
  REQUIRE(again.open(f.dir.file("a.db"), e.id, error));
  CHECK(again.widgetText() == expected);
  quire::test::typeText(again.edit.get(), QStringLiteral("!"));
  checkInStep(again);
}
