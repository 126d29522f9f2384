#include "app/quire/ui/share_dialog.h"

#include <algorithm>

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QNetworkInterface>
#include <QPushButton>
#include <QUrl>
#include <QVBoxLayout>

#include "app/quire/ui/preferences.h"
#include "app/quire/ui/workspace.h"
#include "net/share_link.h"

namespace quire::app {

ShareDialog::ShareDialog(Workspace* workspace, const QString& defaultRelay, QWidget* parent)
    : QDialog(parent),
      m_workspace(workspace),
      m_defaultRelay(defaultRelay),
      m_link(new QLineEdit(this)),
      m_copy(new QPushButton(tr("&Copy link"), this)),
      m_hint(new QLabel(this)),
      m_routes(new QListWidget(this)),
      m_includeThisComputer(new QCheckBox(this)),
      m_addDefault(new QPushButton(this)),
      m_newRoute(new QLineEdit(this)) {
  setWindowTitle(tr("Share “%1”").arg(workspace->session()->title()));
  setMinimumWidth(560);
  auto* warning = new QLabel(tr("<b>Anyone who has this link can read and edit this document.</b> "
                                "Send it only to people you want to write with."),
                             this);
  warning->setWordWrap(true);
  m_link->setReadOnly(true);
  m_hint->setWordWrap(true);
  m_routes->setMaximumHeight(90);
  m_newRoute->setPlaceholderText(QStringLiteral("wss://relay.example.org"));
  auto* addNew = new QPushButton(tr("&Add"), this);

  auto* linkRow = new QHBoxLayout;
  linkRow->addWidget(m_link, 1);
  linkRow->addWidget(m_copy);
  auto* addRow = new QHBoxLayout;
  addRow->addWidget(m_newRoute, 1);
  addRow->addWidget(addNew);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(warning);
  layout->addLayout(linkRow);
  layout->addWidget(m_hint);
  layout->addSpacing(8);
  layout->addWidget(new QLabel(tr("Where copies of this document meet (its routes):"), this));
  layout->addWidget(m_routes);
  layout->addWidget(m_includeThisComputer);
  layout->addWidget(m_addDefault);
  layout->addLayout(addRow);
  layout->addWidget(buttons);

  connect(m_copy, &QPushButton::clicked, this, [this] {
    QApplication::clipboard()->setText(m_link->text());
    m_copy->setText(tr("Copied"));
  });
  connect(m_includeThisComputer, &QCheckBox::toggled, this, &ShareDialog::refresh);
  connect(m_addDefault, &QPushButton::clicked, this, [this] { addRoute(m_defaultRelay); });
  connect(addNew, &QPushButton::clicked, this, [this] { addRoute(m_newRoute->text().trimmed()); });
  connect(m_newRoute, &QLineEdit::returnPressed, this,
          [this] { addRoute(m_newRoute->text().trimmed()); });
  connect(buttons, &QDialogButtonBox::rejected, this, &ShareDialog::reject);

  const QString self = thisComputerRoute();
  m_includeThisComputer->setVisible(!self.isEmpty());
  m_includeThisComputer->setText(tr("Include this computer (%1)").arg(self));
  m_includeThisComputer->setChecked(!self.isEmpty());
  refresh();
}

QString ShareDialog::link() const { return m_link->text(); }

QString ShareDialog::thisComputerRoute() const {
  const quint16 port = m_workspace->listeningPort();
  const auto address = parseListenAddress(m_workspace->listenAddress());
  if (port == 0 || !address) return {};
  QHostAddress host = address->address;
  if (host == QHostAddress::AnyIPv4 || host == QHostAddress::AnyIPv6 || host == QHostAddress::Any) {
    // Others cannot dial "any": offer the first address of an interface that is up.
    host = QHostAddress::LocalHost;
    for (const QHostAddress& a : QNetworkInterface::allAddresses()) {
      if (a.protocol() == QAbstractSocket::IPv4Protocol && !a.isLoopback()) {
        host = a;
        break;
      }
    }
  }
  const QString hostText = host.protocol() == QAbstractSocket::IPv6Protocol
                               ? QStringLiteral("[%1]").arg(host.toString())
                               : host.toString();
  return QStringLiteral("ws://%1:%2").arg(hostText).arg(port);
}

void ShareDialog::refresh() {
  DocumentSession* session = m_workspace->session();
  auto stored = m_workspace->store().routes(session->id());
  std::vector<std::string> routes = stored ? *stored : std::vector<std::string>{};
  m_routes->clear();
  for (const auto& r : routes) m_routes->addItem(QString::fromStdString(r));
  if (routes.empty()) m_routes->addItem(tr("(none yet)"));
  if (m_includeThisComputer->isVisible() && m_includeThisComputer->isChecked()) {
    const std::string self = thisComputerRoute().toStdString();
    if (std::find(routes.begin(), routes.end(), self) == routes.end()) routes.push_back(self);
  }
  const bool hasDefault =
      std::find(routes.begin(), routes.end(), m_defaultRelay.toStdString()) != routes.end();
  m_addDefault->setVisible(!m_defaultRelay.isEmpty() && !hasDefault);
  m_addDefault->setText(tr("Use my relay, %1").arg(m_defaultRelay));

  if (routes.empty()) {
    m_link->clear();
    m_copy->setEnabled(false);
    m_hint->setText(
        tr("This document has no route yet, so a link could not reach it. Add a "
           "relay below, or set a listening address in Preferences."));
    return;
  }
  net::ShareLink link;
  std::copy(session->id().bytes.begin(), session->id().bytes.end(), link.doc.bytes.begin());
  link.key = session->net().key();
  link.routes = routes;
  m_link->setText(QString::fromStdString(net::encodeShareLink(link)));
  m_link->setCursorPosition(0);
  m_copy->setEnabled(true);
  m_hint->setText(tr("Open it in Quire with File ▸ Open Link…, or run: quire 'LINK'"));
}

void ShareDialog::addRoute(const QString& route) {
  const QUrl url(route);
  if (!url.isValid() || url.host().isEmpty() ||
      (url.scheme() != QLatin1String("ws") && url.scheme() != QLatin1String("wss"))) {
    QMessageBox::warning(this, windowTitle(),
                         tr("“%1” is not a ws:// or wss:// address with a host.").arg(route));
    return;
  }
  if (auto r = m_workspace->addRoute(route.toStdString()); !r) {
    QMessageBox::warning(this, windowTitle(), QString::fromStdString(r.error().toString()));
    return;
  }
  m_newRoute->clear();
  refresh();
}

}  // namespace quire::app
