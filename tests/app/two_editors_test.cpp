// Two editors, Ada (A) and Grace (B), each a DocumentSession + CollabTextEdit + TextBinding on a
// database of its own, syncing one document through an in-process relay with the real sync
// code (net/ws_peer over 127.0.0.1). What one types shows up in the other's widget, with the
// other's caret and name; concurrent words do not interleave; remote text leaves the local
// caret by its own text; undo is per person.
#include <catch2/catch.hpp>

#include <string>

#include <QTextCursor>

#include "tests/app/editor_harness.h"

namespace {

using quire::test::Editor;
using quire::test::TwoEditors;

const QString kEmoji = QString::fromUtf8("\xF0\x9F\x98\x80");        // U+1F600
const QString kCjk = QString::fromUtf8("\xE4\xB8\xAD\xE6\x96\x87");  // 中文
const QString kAcute = QString::fromUtf8("\xCC\x81");                // U+0301

// Where `p`'s caret resolves in `viewer`'s document (code points), or -1.
long resolvedCaret(const Editor& viewer, const quire::net::Presence& p) {
  const auto at = viewer.session->document().resolveAnchor(p.cursor);
  return at ? static_cast<long>(*at) : -1;
}
long resolvedSelection(const Editor& viewer, const quire::net::Presence& p) {
  const auto at = viewer.session->document().resolveAnchor(p.selection);
  return at ? static_cast<long>(*at) : -1;
}

std::string describePresences(const Editor& viewer) {
  std::string out;
  for (const auto& [replica, p] : viewer.binding->presences())
    out += p.name + " at " + std::to_string(resolvedCaret(viewer, p)) + "/" +
           std::to_string(resolvedSelection(viewer, p)) + "; ";
  return out.empty() ? "(none)" : out;
}

// Waits until `viewer` shows the person `name` with a caret at code point `caret` (and the
// other end of the selection at `anchor`, default: no selection).
bool waitForCaret(const Editor& viewer, const std::string& name, long caret, long anchor = -2) {
  if (anchor == -2) anchor = caret;
  const bool shown = quire::test::spinUntil([&] {
    const auto p = TwoEditors::presenceNamed(viewer, name);
    return p && resolvedCaret(viewer, *p) == caret && resolvedSelection(viewer, *p) == anchor;
  });
  if (!shown) {
    UNSCOPED_INFO("wanted " << name << " at " << caret << "/" << anchor << ", shown after 5 s: "
                            << describePresences(viewer));
  }
  return shown;
}

#define REQUIRE_SETTLED(f)                                                          \
  do {                                                                              \
    const bool settled_ = (f).settle();                                             \
    INFO("A engine: " << (f).a.engineText().toStdString());                         \
    INFO("A widget: " << (f).a.widgetText().toStdString());                         \
    INFO("B engine: " << (f).b.engineText().toStdString());                         \
    INFO("B widget: " << (f).b.widgetText().toStdString());                         \
    REQUIRE(settled_);                                                              \
    REQUIRE((f).a.bindingError.isEmpty());                                          \
    REQUIRE((f).b.bindingError.isEmpty());                                          \
  } while (false)

}  // namespace

TEST_CASE("text typed by Ada shows in Grace's editor with Ada's named caret where she typed",
          "[app][sync]") {
  TwoEditors f;
  INFO(f.error);
  REQUIRE(f.ok);
  REQUIRE(f.waitLive());

  quire::test::typeText(f.a.edit.get(), QStringLiteral("Hello from Ada"));
  REQUIRE_SETTLED(f);
  CHECK(f.b.widgetText() == QStringLiteral("Hello from Ada"));

  REQUIRE(waitForCaret(f.b, "Ada", 14));
  const auto ada = TwoEditors::presenceNamed(f.b, "Ada");
  REQUIRE(ada.has_value());
  CHECK(ada->colour == 0xD81B60u);
  CHECK(ada->replica == f.a.session->document().localReplica());
  // And Ada sees Grace, whose caret was never moved (the start).
  CHECK(waitForCaret(f.a, "Grace", 0));

  SECTION("Ada's caret follows her clicks and her selection is shaded in Grace's editor") {
    f.a.setCaret(5);
    CHECK(waitForCaret(f.b, "Ada", 5));
    f.a.select(6, 10);  // "from"
    REQUIRE(waitForCaret(f.b, "Ada", 10, 6));
    const auto shaded = f.b.edit->extraSelections();
    REQUIRE(shaded.size() == 1);
    CHECK(shaded.front().cursor.selectedText() == QStringLiteral("from"));
    CHECK(shaded.front().format.background().color().rgb() == QColor(0xD8, 0x1B, 0x60).rgb());
    // Grace's own caret and selection are untouched by that.
    CHECK(f.b.edit->textCursor().selectedText().isEmpty());
  }
  SECTION("Grace's typing moves her caret in Ada's view, by code points") {
    f.b.setCaret(f.b.widgetText().size());
    quire::test::typeText(f.b.edit.get(), QStringLiteral(" ") + kEmoji + QStringLiteral("!"));
    REQUIRE_SETTLED(f);
    CHECK(f.a.widgetText() == QStringLiteral("Hello from Ada ") + kEmoji + QStringLiteral("!"));
    CHECK(waitForCaret(f.a, "Grace", 17));  // 14 + space + emoji (one code point) + "!"
    CHECK(f.a.binding->toUtf16(17) == 18);
  }
}

TEST_CASE("words typed at the same spot at once do not interleave", "[app][sync]") {
  TwoEditors f;
  INFO(f.error);
  REQUIRE(f.ok);
  REQUIRE(f.waitLive());
  quire::test::typeText(f.a.edit.get(), QStringLiteral("[] and {}"));
  REQUIRE_SETTLED(f);

  // Both carets between the brackets; each types a word before the event loop runs, so
  // neither has seen the other's keystrokes.
  f.a.setCaret(1);
  f.b.setCaret(1);
  quire::test::typeText(f.a.edit.get(), QStringLiteral("apple"));
  quire::test::typeText(f.b.edit.get(), QStringLiteral("banana"));
  // And a second spot, in the other order, with non-ASCII words.
  const QString wordA = QStringLiteral("caf") + QString::fromUtf8("\xC3\xA9") + kEmoji;
  const QString wordB = kCjk + QStringLiteral("e") + kAcute + QStringLiteral("x");
  f.b.setCaret(f.b.widgetText().size() - 1);
  f.a.setCaret(f.a.widgetText().size() - 1);
  quire::test::typeText(f.b.edit.get(), wordB);
  quire::test::typeText(f.a.edit.get(), wordA);
  CHECK(f.a.widgetText() == QStringLiteral("[apple] and {") + wordA + QStringLiteral("}"));
  CHECK(f.b.widgetText() == QStringLiteral("[banana] and {") + wordB + QStringLiteral("}"));

  REQUIRE_SETTLED(f);
  const QString text = f.a.widgetText();
  INFO("merged: " << text.toStdString());
  CHECK((text.startsWith(QStringLiteral("[applebanana] and {")) ||
         text.startsWith(QStringLiteral("[bananaapple] and {"))));
  CHECK((text.endsWith(QStringLiteral("{") + wordA + wordB + QStringLiteral("}")) ||
         text.endsWith(QStringLiteral("{") + wordB + wordA + QStringLiteral("}"))));
  CHECK(f.b.widgetText() == text);
  // Each person's caret is still at the end of the word they typed.
  CHECK(f.a.widgetText().mid(f.a.caret() - wordA.size(), wordA.size()) == wordA);
  CHECK(f.b.widgetText().mid(f.b.caret() - wordB.size(), wordB.size()) == wordB);
}

TEST_CASE("Grace's caret stays by her text when Ada's text arrives before it", "[app][sync]") {
  TwoEditors f;
  INFO(f.error);
  REQUIRE(f.ok);
  REQUIRE(f.waitLive());
  quire::test::typeText(f.b.edit.get(), QStringLiteral("xyz"));
  REQUIRE_SETTLED(f);
  REQUIRE(f.b.caret() == 3);

  SECTION("an insert at the start pushes the caret along") {
    f.a.setCaret(0);
    quire::test::typeText(f.a.edit.get(), QStringLiteral("abc "));
    REQUIRE_SETTLED(f);
    CHECK(f.b.widgetText() == QStringLiteral("abc xyz"));
    CHECK(f.b.caret() == 7);
    // Ada sees Grace's caret still after "xyz".
    CHECK(waitForCaret(f.a, "Grace", 7));
    // Grace keeps typing where she was.
    quire::test::typeText(f.b.edit.get(), QStringLiteral("!"));
    REQUIRE_SETTLED(f);
    CHECK(f.a.widgetText() == QStringLiteral("abc xyz!"));
    CHECK(waitForCaret(f.a, "Grace", 8));
  }
  SECTION("a click at the caret's old position afterwards is shown to Ada") {
    f.a.setCaret(0);
    quire::test::typeText(f.a.edit.get(), QStringLiteral("abc "));
    REQUIRE_SETTLED(f);
    REQUIRE(f.b.caret() == 7);
    // Grace clicks at 3 ("abc| xyz"): the number her caret had before Ada typed.
    f.b.setCaret(3);
    CHECK(waitForCaret(f.a, "Grace", 3));
  }
  SECTION("an emoji and a line break before it move the caret by their UTF-16 size") {
    f.a.setCaret(0);
    quire::test::typeText(f.a.edit.get(), kEmoji + QStringLiteral("\n"));
    REQUIRE_SETTLED(f);
    CHECK(f.b.caret() == 6);
    CHECK(f.b.widgetText().mid(f.b.caret() - 3, 3) == QStringLiteral("xyz"));
  }
  SECTION("a selection keeps covering the same characters") {
    f.b.select(0, 3);  // "xyz", caret at its end
    f.a.setCaret(0);
    quire::test::typeText(f.a.edit.get(), QStringLiteral("12"));
    REQUIRE_SETTLED(f);
    CHECK(f.b.edit->textCursor().selectedText() == QStringLiteral("xyz"));
    CHECK(f.b.caret() == 5);
  }
  SECTION("a delete before it pulls the caret back") {
    f.a.setCaret(0);
    quire::test::typeText(f.a.edit.get(), QStringLiteral("1234"));
    REQUIRE_SETTLED(f);
    REQUIRE(f.b.caret() == 7);
    f.a.select(0, 3);
    quire::test::pressKey(f.a.edit.get(), Qt::Key_Delete);
    REQUIRE_SETTLED(f);
    CHECK(f.b.widgetText() == QStringLiteral("4xyz"));
    CHECK(f.b.caret() == 4);
  }
  SECTION("text inserted after the caret leaves it where it is") {
    f.b.setCaret(1);  // x|yz
    f.a.setCaret(3);
    quire::test::typeText(f.a.edit.get(), QStringLiteral(" end"));
    REQUIRE_SETTLED(f);
    CHECK(f.b.caret() == 1);
  }
}

TEST_CASE("an emoji, CJK and combining marks round-trip between the two editors", "[app][sync]") {
  TwoEditors f;
  INFO(f.error);
  REQUIRE(f.ok);
  REQUIRE(f.waitLive());

  quire::test::typeText(f.a.edit.get(), QStringLiteral("smile ") + kEmoji + QStringLiteral(" "));
  quire::test::commitText(f.a.edit.get(), kCjk);
  quire::test::typeText(f.a.edit.get(), QStringLiteral(" cafe") + kAcute);
  const QString typed = QStringLiteral("smile ") + kEmoji + QStringLiteral(" ") + kCjk +
                        QStringLiteral(" cafe") + kAcute;
  REQUIRE(f.a.widgetText() == typed);
  REQUIRE_SETTLED(f);
  CHECK(f.b.widgetText() == typed);
  CHECK(f.b.session->document().length() == static_cast<std::uint32_t>(typed.toUcs4().size()));
  CHECK_FALSE(quire::test::hasBrokenCodeUnits(f.b.engineText()));

  // Ada's caret right after the emoji: code point 7, UTF-16 8 in Grace's widget.
  f.a.setCaret(8);
  REQUIRE(waitForCaret(f.b, "Ada", 7));
  CHECK(f.b.binding->toUtf16(7) == 8);

  // Grace deletes the emoji with Backspace and the acute accent with Backspace, types CJK and
  // an emoji of her own in their places.
  f.b.setCaret(8);
  quire::test::pressKey(f.b.edit.get(), Qt::Key_Backspace);
  quire::test::typeText(f.b.edit.get(), QString::fromUtf8("\xF0\x9F\x8E\x89"));  // U+1F389
  f.b.setCaret(f.b.widgetText().size());
  quire::test::pressKey(f.b.edit.get(), Qt::Key_Backspace);
  quire::test::commitText(f.b.edit.get(), QString::fromUtf8("\xCC\x80\xE3\x81\x82"));  // U+0300 あ
  const QString expected = QStringLiteral("smile ") + QString::fromUtf8("\xF0\x9F\x8E\x89") +
                           QStringLiteral(" ") + kCjk + QStringLiteral(" cafe") +
                           QString::fromUtf8("\xCC\x80\xE3\x81\x82");
  REQUIRE(f.b.widgetText() == expected);
  REQUIRE_SETTLED(f);
  CHECK(f.a.widgetText() == expected);
  CHECK(f.a.engineText() == expected);
  CHECK_FALSE(quire::test::hasBrokenCodeUnits(f.a.engineText()));
  // Ada's caret sat after the emoji Grace deleted: it stays where the emoji was, after "smile ".
  // (Or after the emoji that replaced it; either way at a code-point boundary.)
  const int adaCaret = f.a.caret();
  CHECK((adaCaret == 6 || adaCaret == 8));
  CHECK_FALSE(f.a.widgetText().at(adaCaret).isLowSurrogate());
}

TEST_CASE("undo in Ada's editor removes only Ada's text, after Grace typed next to it",
          "[app][sync]") {
  TwoEditors f;
  INFO(f.error);
  REQUIRE(f.ok);
  REQUIRE(f.waitLive());
  quire::test::typeText(f.a.edit.get(), QStringLiteral("Hello"));
  REQUIRE_SETTLED(f);

  f.b.setCaret(3);  // Hel|lo
  quire::test::typeText(f.b.edit.get(), QStringLiteral("XX"));
  f.b.setCaret(f.b.widgetText().size());
  quire::test::typeText(f.b.edit.get(), QStringLiteral(" world"));
  REQUIRE_SETTLED(f);
  REQUIRE(f.a.widgetText() == QStringLiteral("HelXXlo world"));

  REQUIRE(f.a.session->canUndo());
  f.a.binding->undo();
  CHECK(f.a.widgetText() == QStringLiteral("XX world"));
  CHECK(f.a.engineText() == QStringLiteral("XX world"));
  REQUIRE_SETTLED(f);
  CHECK(f.b.widgetText() == QStringLiteral("XX world"));
  // Grace's caret stays after her " world".
  CHECK(f.b.caret() == 8);
  CHECK_FALSE(f.a.session->canUndo());

  SECTION("and redo brings it back around Grace's text") {
    f.a.binding->redo();
    REQUIRE_SETTLED(f);
    CHECK(f.b.widgetText() == QStringLiteral("HelXXlo world"));
  }
  SECTION("and Grace's undo removes only hers") {
    // " world" and "XX", in however many groups the engine made of them.
    for (int i = 0; i < 20 && f.b.session->canUndo(); ++i) f.b.binding->undo();
    REQUIRE_SETTLED(f);
    CHECK(f.a.widgetText().isEmpty());
    f.a.binding->redo();
    REQUIRE_SETTLED(f);
    CHECK(f.b.widgetText() == QStringLiteral("Hello"));
  }
}

TEST_CASE("Grace joining after Ada typed shows Ada's text and then edits with her",
          "[app][sync]") {
  TwoEditors f(false);
  INFO(f.error);
  REQUIRE(f.ok);
  REQUIRE(f.waitLive());
  quire::test::typeText(f.a.edit.get(),
                        QStringLiteral("Written before Grace came ") + kEmoji + QStringLiteral("\n"));
  REQUIRE(quire::test::spinUntil([&] { return f.a.session->uncommittedEdits() == 0; }));
  quire::test::spinFor(100);  // the relay has stored it

  REQUIRE(f.openSecond());
  REQUIRE(f.waitLive());
  REQUIRE_SETTLED(f);
  CHECK(f.b.widgetText() == f.a.widgetText());
  CHECK(waitForCaret(f.b, "Ada", f.a.session->document().length()));

  f.b.setCaret(f.b.widgetText().size());
  quire::test::typeText(f.b.edit.get(), QStringLiteral("Grace was here"));
  REQUIRE_SETTLED(f);
  CHECK(f.a.widgetText().endsWith(QStringLiteral("\nGrace was here")));
}
