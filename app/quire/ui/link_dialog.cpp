#include "app/quire/ui/link_dialog.h"

#include <QApplication>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include "net/share_link.h"

namespace quire::app {

LinkDialog::LinkDialog(QWidget* parent)
    : QDialog(parent),
      m_link(new QLineEdit(this)),
      m_problem(new QLabel(this)),
      m_buttons(new QDialogButtonBox(QDialogButtonBox::Open | QDialogButtonBox::Cancel, this)) {
  setWindowTitle(tr("Open Link"));
  setMinimumWidth(520);
  auto* intro = new QLabel(tr("Paste the link someone shared with you:"), this);
  m_link->setPlaceholderText(QStringLiteral("quire://open?doc=…"));
  m_link->setClearButtonEnabled(true);
  m_problem->setWordWrap(true);
  m_problem->setForegroundRole(QPalette::PlaceholderText);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(intro);
  layout->addWidget(m_link);
  layout->addWidget(m_problem);
  layout->addWidget(m_buttons);
  connect(m_link, &QLineEdit::textChanged, this, &LinkDialog::check);
  connect(m_buttons, &QDialogButtonBox::accepted, this, &LinkDialog::accept);
  connect(m_buttons, &QDialogButtonBox::rejected, this, &LinkDialog::reject);
  const QString clip = QApplication::clipboard()->text().trimmed();
  if (clip.startsWith(QLatin1String("quire://"))) m_link->setText(clip);
  check();
}

QString LinkDialog::link() const { return m_link->text().trimmed(); }

void LinkDialog::check() {
  const QString text = link();
  const auto parsed = net::parseShareLink(text.toStdString());
  m_buttons->button(QDialogButtonBox::Open)->setEnabled(parsed.has_value());
  if (text.isEmpty()) {
    m_problem->clear();
  } else if (!parsed) {
    m_problem->setText(
        tr("This is not a Quire link: %1").arg(QString::fromStdString(parsed.error().message())));
  } else {
    m_problem->setText(tr("Whoever shared it can read and edit the document, and so will you."));
  }
}

}  // namespace quire::app
