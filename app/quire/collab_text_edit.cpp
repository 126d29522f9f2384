#include "app/quire/collab_text_edit.h"

#include <QPainter>

namespace quire::app {

CollabTextEdit::CollabTextEdit(QWidget* parent) : QPlainTextEdit(parent) {
  // Long lines wrap like a word processor's; tabs are four spaces wide.
  setLineWrapMode(QPlainTextEdit::WidgetWidth);
  setTabStopDistance(fontMetrics().horizontalAdvance(QLatin1Char(' ')) * 4);
}

void CollabTextEdit::paintEvent(QPaintEvent* event) {
  QPlainTextEdit::paintEvent(event);
  if (!m_overlay) return;
  QPainter painter(viewport());
  m_overlay(painter);
}

}  // namespace quire::app
