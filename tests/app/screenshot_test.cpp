// A picture of two editors mid-collaboration, for a person to look at: Ada's and Grace's
// CollabTextEdits side by side, each showing the other's named caret, Grace's selection shaded
// in Ada's editor. Saved to QUIRE_APP_ARTIFACTS_DIR/two-editors.png. The test checks what it can
// by pixels (the other person's colour is painted where their caret is).
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include <QFont>
#include <QFontDatabase>
#include <QFontInfo>
#include <QFontMetrics>
#include <QHBoxLayout>
#include <QImage>
#include <QLabel>
#include <QPixmap>
#include <QTextCursor>
#include <QVBoxLayout>
#include <QWidget>

#include "tests/app/editor_harness.h"

#ifndef QUIRE_APP_ARTIFACTS_DIR
#error "QUIRE_APP_ARTIFACTS_DIR must name the folder for screenshots (tests/CMakeLists.txt)"
#endif

namespace {

using quire::test::Editor;
using quire::test::TwoEditors;

const QString kEmoji = QString::fromUtf8("\xF0\x9F\x98\x80");

// Pixels of `image` inside `rect` whose colour is close to `colour`.
int pixelsNear(const QImage& image, const QRect& rect, const QColor& colour) {
  int n = 0;
  const QRect r = rect.intersected(image.rect());
  for (int y = r.top(); y <= r.bottom(); ++y) {
    for (int x = r.left(); x <= r.right(); ++x) {
      const QColor c = image.pixelColor(x, y);
      if (std::abs(c.red() - colour.red()) < 40 && std::abs(c.green() - colour.green()) < 40 &&
          std::abs(c.blue() - colour.blue()) < 40)
        ++n;
    }
  }
  return n;
}

QWidget* column(const QString& title, QWidget* edit) {
  auto* box = new QWidget;
  auto* layout = new QVBoxLayout(box);
  layout->setContentsMargins(6, 6, 6, 6);
  auto* label = new QLabel(title);
  QFont bold = label->font();
  bold.setBold(true);
  label->setFont(bold);
  layout->addWidget(label);
  layout->addWidget(edit);
  return box;
}

// The rectangle of `edit`'s remote caret at UTF-16 position `pos`, in `window` coordinates.
QRect caretRectIn(QWidget* window, const Editor& e, int pos) {
  QTextCursor c(e.edit->document());
  c.setPosition(pos);
  const QRect r = e.edit->cursorRect(c);
  return QRect(e.edit->viewport()->mapTo(window, r.topLeft()), r.size());
}

}  // namespace

TEST_CASE("screenshot: two editors side by side show each other's named carets and selection",
          "[app][screenshot]") {
  quire::test::ensureGuiApp();
  // Declared before the editors: they are destroyed first and leave the window on their own.
  QWidget window;
  TwoEditors f;
  INFO(f.error);
  REQUIRE(f.ok);
  REQUIRE(f.waitLive());

  QFont font(QStringLiteral("DejaVu Sans"), 11);
  window.setFont(font);
  REQUIRE(QFontInfo(font).family().contains(QStringLiteral("DejaVu")));
  window.setWindowTitle(QStringLiteral("Quire: two editors"));
  auto* row = new QHBoxLayout(&window);
  row->setContentsMargins(0, 0, 0, 0);
  row->setSpacing(0);
  row->addWidget(column(QStringLiteral("Ada's editor"), f.a.edit.get()));
  row->addWidget(column(QStringLiteral("Grace's editor"), f.b.edit.get()));
  window.resize(960, 300);
  window.show();

  quire::test::typeText(f.a.edit.get(),
                        QStringLiteral("Meeting notes\nAda: the engine keeps code points, ") +
                            kEmoji + QStringLiteral(" and na") + QChar(0x00EF) +
                            QStringLiteral("ve caf") + QChar(0x00E9) + QStringLiteral(" too.\n"));
  REQUIRE(f.settle());
  f.b.setCaret(f.b.widgetText().size());
  quire::test::typeText(f.b.edit.get(),
                        QStringLiteral("Grace: and the relay stores every frame.\nTODO: undo"));
  REQUIRE(f.settle());
  // Ada's caret in the middle of line 2, after "engine"; Grace selects "notes" on line 1 (so
  // her name tag has no line above it to sit on).
  const int adaAt = f.a.widgetText().indexOf(QStringLiteral("engine")) + 6;
  f.a.setCaret(adaAt);
  const int notes = f.b.widgetText().indexOf(QStringLiteral("notes"));
  f.b.select(notes, notes + 5);
  const auto adaCp = f.a.binding->toCodePoints(adaAt);
  const auto notesCp = f.b.binding->toCodePoints(notes);
  REQUIRE(quire::test::spinUntil([&] {
    const auto ada = TwoEditors::presenceNamed(f.b, "Ada");
    const auto grace = TwoEditors::presenceNamed(f.a, "Grace");
    return ada && grace &&
           f.b.session->document().resolveAnchor(ada->cursor) == adaCp &&
           f.a.session->document().resolveAnchor(grace->cursor) == notesCp + 5 &&
           f.a.session->document().resolveAnchor(grace->selection) == notesCp;
  }));
  quire::test::spinFor(50);  // let both repaint

  const QPixmap shot = window.grab();
  const std::string dir = QUIRE_APP_ARTIFACTS_DIR;
  std::filesystem::create_directories(dir);
  const QString file = QString::fromStdString(dir + "/two-editors.png");
  REQUIRE(shot.save(file));
  const QImage image = shot.toImage();

  // Ada's colour is painted at her caret in Grace's editor, Grace's in Ada's (caret bar and the
  // shaded selection), and each name tag sits inside the widget.
  const QRect adaCaret = caretRectIn(&window, f.b, f.b.binding->toUtf16(adaCp));
  CHECK(pixelsNear(image, adaCaret.adjusted(-1, 0, 2, 0), QColor(0xD8, 0x1B, 0x60)) >= adaCaret.height());
  const QRect graceCaret = caretRectIn(&window, f.a, f.a.binding->toUtf16(notesCp + 5));
  CHECK(pixelsNear(image, graceCaret.adjusted(-1, 0, 2, 0), QColor(0x1E, 0x88, 0xE5)) >=
        graceCaret.height());
  const auto shaded = f.a.edit->extraSelections();
  REQUIRE(shaded.size() == 1);
  CHECK(shaded.front().cursor.selectedText() == QStringLiteral("notes"));
  // The name tags: a filled box of the person's colour, wider than the caret, next to it and
  // inside the editor's viewport (not cut off above the first line).
  const QFontMetrics metrics(f.a.edit->font());
  // About half a tag (the tag's font is 3/4 of the editor's), well above a 2-pixel caret bar.
  const auto tagArea = [&](const QString& name) {
    return metrics.horizontalAdvance(name) * metrics.height() / 3;
  };
  const auto around = [&](const QRect& caret, const Editor& e) {
    const QRect viewport(e.edit->viewport()->mapTo(&window, QPoint(0, 0)),
                         e.edit->viewport()->size());
    return caret.adjusted(-2, -2 * caret.height(), 8 * caret.height(), 2 * caret.height())
        .intersected(viewport);
  };
  CHECK(pixelsNear(image, around(adaCaret, f.b), QColor(0xD8, 0x1B, 0x60)) >
        tagArea(QStringLiteral("Ada")));
  CHECK(pixelsNear(image, around(graceCaret, f.a), QColor(0x1E, 0x88, 0xE5)) >
        tagArea(QStringLiteral("Grace")));
}
