#include "app/quire/ui/preferences.h"

#include <QColorDialog>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLineEdit>
#include <QMessageBox>
#include <QPixmap>
#include <QPushButton>
#include <QUrl>

#include "app/quire/ui/settings.h"

namespace quire::app {

QString Preferences::defaultName() {
  QString user = qEnvironmentVariable("USER");
  if (user.isEmpty()) user = qEnvironmentVariable("LOGNAME");
  return user.isEmpty() ? QStringLiteral("Me") : user;
}

QColor Preferences::colourForName(const QString& name) {
  // A stable hue per name, at a saturation and value that read well on light and dark text.
  const int hue = static_cast<int>(qHash(name, 0x51) % 360);
  return QColor::fromHsv(hue, 170, 210);
}

Preferences Preferences::load() {
  Settings s;
  Preferences p;
  p.name = s.value("identity/name").toString();
  if (p.name.isEmpty()) p.name = defaultName();
  p.colour = QColor(s.value("identity/colour").toString());
  if (!p.colour.isValid()) p.colour = colourForName(p.name);
  p.relayUrl = s.value("network/relayUrl").toString();
  p.listenAddress = s.value("network/listenAddress").toString();
  return p;
}

void Preferences::save() const {
  Settings s;
  s.setValue("identity/name", name);
  s.setValue("identity/colour", colour.name());
  s.setValue("network/relayUrl", relayUrl);
  s.setValue("network/listenAddress", listenAddress);
}

std::optional<ListenAddress> parseListenAddress(const QString& text) {
  const QString t = text.trimmed();
  const qsizetype colon = t.lastIndexOf(':');
  if (colon <= 0) return std::nullopt;
  QString host = t.left(colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.mid(1, host.size() - 2);
  bool ok = false;
  const uint port = t.mid(colon + 1).toUInt(&ok);
  if (!ok || port > 65535) return std::nullopt;
  ListenAddress out;
  if (host == QLatin1String("localhost")) host = QStringLiteral("127.0.0.1");
  if (!out.address.setAddress(host)) return std::nullopt;
  out.port = static_cast<quint16>(port);
  return out;
}

PreferencesDialog::PreferencesDialog(const Preferences& prefs, QWidget* parent)
    : QDialog(parent),
      m_prefs(prefs),
      m_name(new QLineEdit(prefs.name, this)),
      m_colour(new QPushButton(this)),
      m_relay(new QLineEdit(prefs.relayUrl, this)),
      m_listen(new QLineEdit(prefs.listenAddress, this)) {
  setWindowTitle(tr("Preferences"));
  // Names for tests and accessibility tools.
  m_name->setObjectName(QStringLiteral("name"));
  m_colour->setObjectName(QStringLiteral("colour"));
  m_relay->setObjectName(QStringLiteral("relayUrl"));
  m_listen->setObjectName(QStringLiteral("listenAddress"));
  m_relay->setPlaceholderText(QStringLiteral("wss://relay.example.org"));
  m_listen->setPlaceholderText(tr("e.g. 0.0.0.0:7400 (empty: do not listen)"));
  connect(m_colour, &QPushButton::clicked, this, &PreferencesDialog::chooseColour);
  showColour();

  auto* form = new QFormLayout;
  form->addRow(tr("Your &name:"), m_name);
  form->addRow(tr("Your &colour:"), m_colour);
  form->addRow(tr("Default &relay:"), m_relay);
  form->addRow(tr("&Listen for peers on:"), m_listen);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  connect(buttons, &QDialogButtonBox::accepted, this, &PreferencesDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &PreferencesDialog::reject);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(buttons);
}

void PreferencesDialog::chooseColour() {
  const QColor c = QColorDialog::getColor(m_prefs.colour, this, tr("Your colour"));
  if (!c.isValid()) return;
  m_prefs.colour = c;
  showColour();
}

void PreferencesDialog::showColour() {
  QPixmap swatch(32, 16);
  swatch.fill(m_prefs.colour);
  m_colour->setIcon(QIcon(swatch));
  m_colour->setText(m_prefs.colour.name());
}

void PreferencesDialog::accept() {
  const QString relay = m_relay->text().trimmed();
  if (!relay.isEmpty()) {
    const QUrl url(relay);
    if (!url.isValid() || url.host().isEmpty() ||
        (url.scheme() != QLatin1String("ws") && url.scheme() != QLatin1String("wss"))) {
      QMessageBox::warning(this, windowTitle(),
                           tr("The relay must be a ws:// or wss:// address with a host."));
      return;
    }
  }
  const QString listen = m_listen->text().trimmed();
  if (!listen.isEmpty() && !parseListenAddress(listen)) {
    QMessageBox::warning(this, windowTitle(),
                         tr("The listening address must look like 0.0.0.0:7400 (address:port)."));
    return;
  }
  m_prefs.name =
      m_name->text().trimmed().isEmpty() ? Preferences::defaultName() : m_name->text().trimmed();
  m_prefs.relayUrl = relay;
  m_prefs.listenAddress = listen;
  QDialog::accept();
}

}  // namespace quire::app
