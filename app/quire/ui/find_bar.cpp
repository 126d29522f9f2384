#include "app/quire/ui/find_bar.h"

#include <QCheckBox>
#include <QGridLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QStyle>
#include <QTextCursor>
#include <QToolButton>

namespace quire::app {

FindBar::FindBar(QPlainTextEdit* edit, QWidget* parent)
    : QWidget(parent),
      m_edit(edit),
      m_find(new QLineEdit(this)),
      m_replace(new QLineEdit(this)),
      m_case(new QCheckBox(tr("Match &case"), this)),
      m_words(new QCheckBox(tr("&Whole words"), this)),
      m_status(new QLabel(this)),
      m_replaceRow(new QWidget(this)) {
  m_find->setPlaceholderText(tr("Find"));
  m_find->setMinimumWidth(200);
  m_replace->setMinimumWidth(200);
  m_find->setClearButtonEnabled(true);
  m_replace->setPlaceholderText(tr("Replace with"));
  auto* previous = new QPushButton(tr("&Previous"), this);
  auto* next = new QPushButton(tr("&Next"), this);
  auto* close = new QToolButton(this);
  close->setIcon(style()->standardIcon(QStyle::SP_TitleBarCloseButton));
  close->setAutoRaise(true);
  close->setToolTip(tr("Close (Esc)"));
  auto* replaceOne = new QPushButton(tr("&Replace"), m_replaceRow);
  auto* replaceEvery = new QPushButton(tr("Replace &All"), m_replaceRow);
  // Names for tests and accessibility tools.
  m_find->setObjectName(QStringLiteral("findText"));
  m_replace->setObjectName(QStringLiteral("replaceText"));
  m_status->setObjectName(QStringLiteral("findStatus"));
  replaceOne->setObjectName(QStringLiteral("replace"));
  replaceEvery->setObjectName(QStringLiteral("replaceAll"));

  auto* top = new QHBoxLayout;
  top->addWidget(m_find, 1);
  top->addWidget(previous);
  top->addWidget(next);
  top->addWidget(m_case);
  top->addWidget(m_words);
  top->addWidget(m_status);
  top->addWidget(close);
  auto* bottom = new QHBoxLayout(m_replaceRow);
  bottom->setContentsMargins(0, 0, 0, 0);
  bottom->addWidget(m_replace, 1);
  bottom->addWidget(replaceOne);
  bottom->addWidget(replaceEvery);
  bottom->addStretch(1);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(6, 4, 6, 4);
  layout->addLayout(top);
  layout->addWidget(m_replaceRow);

  connect(m_find, &QLineEdit::returnPressed, this, &FindBar::findNext);
  connect(m_find, &QLineEdit::textEdited, this, [this] {
    // Search as you type, from where the current match starts.
    QTextCursor c = m_edit->textCursor();
    c.setPosition(c.selectionStart());
    m_edit->setTextCursor(c);
    if (m_find->text().isEmpty())
      setFound(true);
    else
      findNext();
  });
  connect(m_replace, &QLineEdit::returnPressed, this, &FindBar::replaceCurrent);
  connect(next, &QPushButton::clicked, this, &FindBar::findNext);
  connect(previous, &QPushButton::clicked, this, &FindBar::findPrevious);
  connect(replaceOne, &QPushButton::clicked, this, &FindBar::replaceCurrent);
  connect(replaceEvery, &QPushButton::clicked, this, &FindBar::replaceAll);
  connect(close, &QToolButton::clicked, this, [this] {
    hide();
    m_edit->setFocus();
  });
  hide();
}

void FindBar::showFind(bool replace) {
  const QString selected = m_edit->textCursor().selectedText();
  if (!selected.isEmpty() && !selected.contains(QChar::ParagraphSeparator)) {
    m_find->setText(selected);
  }
  m_replaceRow->setVisible(replace);
  show();
  if (replace && !m_find->text().isEmpty()) {
    m_replace->setFocus();
    m_replace->selectAll();
  } else {
    m_find->setFocus();
    m_find->selectAll();
  }
}

void FindBar::setFindText(const QString& text) { m_find->setText(text); }

QTextDocument::FindFlags FindBar::baseFlags() const {
  QTextDocument::FindFlags flags;
  if (m_case->isChecked()) flags |= QTextDocument::FindCaseSensitively;
  if (m_words->isChecked()) flags |= QTextDocument::FindWholeWords;
  return flags;
}

bool FindBar::find(QTextDocument::FindFlags flags) {
  const QString needle = m_find->text();
  if (needle.isEmpty()) return false;
  if (m_edit->find(needle, flags)) {
    setFound(true);
    return true;
  }
  // Wrap around once.
  QTextCursor saved = m_edit->textCursor();
  QTextCursor start(m_edit->document());
  start.movePosition(flags & QTextDocument::FindBackward ? QTextCursor::End : QTextCursor::Start);
  m_edit->setTextCursor(start);
  if (m_edit->find(needle, flags)) {
    setFound(true);
    m_status->setText(tr("Wrapped around"));
    return true;
  }
  m_edit->setTextCursor(saved);
  setFound(false);
  return false;
}

bool FindBar::findNext() {
  if (isHidden()) showFind(false);
  return find(baseFlags());
}

bool FindBar::findPrevious() {
  if (isHidden()) showFind(false);
  return find(baseFlags() | QTextDocument::FindBackward);
}

void FindBar::replaceCurrent() {
  QTextCursor c = m_edit->textCursor();
  const Qt::CaseSensitivity cs = m_case->isChecked() ? Qt::CaseSensitive : Qt::CaseInsensitive;
  if (c.hasSelection() && c.selectedText().compare(m_find->text(), cs) == 0) {
    emit editGroupBegins();
    c.insertText(m_replace->text());
    m_edit->setTextCursor(c);
    emit editGroupEnds();
  }
  findNext();
}

int FindBar::replaceAll() {
  const QString needle = m_find->text();
  if (needle.isEmpty()) return 0;
  int count = 0;
  // One edit per match (no edit block), so the binding sees each as an ordinary edit, and
  // other people's text between the matches is left alone; one undo step for all of them.
  emit editGroupBegins();
  QTextCursor c(m_edit->document());
  for (;;) {
    c = m_edit->document()->find(needle, c, baseFlags());
    if (c.isNull()) break;
    c.insertText(m_replace->text());
    ++count;
  }
  emit editGroupEnds();
  m_status->setText(count == 1 ? tr("1 replaced") : tr("%1 replaced").arg(count));
  return count;
}

void FindBar::setFound(bool found) {
  m_status->setText(found ? QString() : tr("Not found"));
  QPalette p = m_find->palette();
  p.setColor(QPalette::Base, found ? palette().color(QPalette::Base) : QColor(255, 205, 205));
  p.setColor(QPalette::Text, found ? palette().color(QPalette::Text) : QColor(Qt::black));
  m_find->setPalette(p);
}

void FindBar::keyPressEvent(QKeyEvent* event) {
  if (event->key() == Qt::Key_Escape) {
    hide();
    m_edit->setFocus();
    return;
  }
  QWidget::keyPressEvent(event);
}

}  // namespace quire::app
