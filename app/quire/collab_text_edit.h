// The editor's text widget: a QPlainTextEdit that lets its binding paint over the text (remote
// carets and name tags) after the text itself is painted.
#pragma once

#include <functional>

#include <QPlainTextEdit>

class QPainter;

namespace quire::app {

class CollabTextEdit : public QPlainTextEdit {
  Q_OBJECT
 public:
  using OverlayPainter = std::function<void(QPainter&)>;
  explicit CollabTextEdit(QWidget* parent = nullptr);
  void setOverlayPainter(OverlayPainter painter) { m_overlay = std::move(painter); }

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  OverlayPainter m_overlay;
};

}  // namespace quire::app
