// The find (and replace) bar under the text: Ctrl+F opens it for finding, Ctrl+H for replacing,
// F3 / Shift+F3 go to the next / previous match, Escape closes it. Replacing edits through the
// widget's cursor, so the binding sees ordinary local edits.
#pragma once

#include <QTextDocument>
#include <QWidget>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;

namespace quire::app {

// A child of the window; searches `edit`, which must outlive it. GUI thread only.
class FindBar : public QWidget {
  Q_OBJECT
 public:
  explicit FindBar(QPlainTextEdit* edit, QWidget* parent = nullptr);

  // Shows the bar (with the replace row if `replace`), seeded with the selection, focused.
  void showFind(bool replace);
  void setFindText(const QString& text);
  // Next / previous match from the caret, wrapping around. False when there is none.
  bool findNext();
  bool findPrevious();
  void replaceCurrent();
  // Replaces every match; returns how many.
  int replaceAll();

 signals:
  // Around a replacement (one match or all): the edits between them are one undo step.
  void editGroupBegins();
  void editGroupEnds();

 protected:
  void keyPressEvent(QKeyEvent* event) override;

 private:
  bool find(QTextDocument::FindFlags flags);
  QTextDocument::FindFlags baseFlags() const;
  void setFound(bool found);

  QPlainTextEdit* m_edit;
  QLineEdit* m_find;
  QLineEdit* m_replace;
  QCheckBox* m_case;
  QCheckBox* m_words;
  QLabel* m_status;
  QWidget* m_replaceRow;
};

}  // namespace quire::app
