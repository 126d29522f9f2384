// What the editor bench puts around the real widget: CollabTextEdit with a timestamp taken when
// its paintEvent (the viewport's: QAbstractScrollArea routes it here) has finished, overlay
// included. Nothing else of the widget changes.
#pragma once

#include <chrono>
#include <cstdint>

#include <QTextDocument>

#include "app/quire/collab_text_edit.h"

namespace quire::bench {

using EditorClock = std::chrono::steady_clock;

class ProbedTextEdit : public app::CollabTextEdit {
 public:
  using app::CollabTextEdit::CollabTextEdit;
  // Paints finished so far, and when the last one finished.
  std::uint64_t paints() const { return m_paints; }
  EditorClock::time_point lastPaint() const { return m_lastPaint; }
  // The length of the text (UTF-16 code units) the last paint showed.
  int paintedLength() const { return m_paintedLength; }

 protected:
  void paintEvent(QPaintEvent* event) override {
    app::CollabTextEdit::paintEvent(event);
    ++m_paints;
    m_lastPaint = EditorClock::now();
    m_paintedLength = document()->characterCount() - 1;  // without the final separator
  }

 private:
  std::uint64_t m_paints = 0;
  EditorClock::time_point m_lastPaint{};
  int m_paintedLength = 0;
};

}  // namespace quire::bench
