// File ▸ Open Link…: a field to paste a share link into, checked as it is typed (the parser's
// own words say what is wrong), seeded from the clipboard when it holds a link.
#pragma once

#include <QDialog>

class QDialogButtonBox;
class QLabel;
class QLineEdit;

namespace quire::app {

class LinkDialog : public QDialog {
  Q_OBJECT
 public:
  explicit LinkDialog(QWidget* parent = nullptr);
  QString link() const;

 private:
  void check();

  QLineEdit* m_link;
  QLabel* m_problem;
  QDialogButtonBox* m_buttons;
};

}  // namespace quire::app
