// The person's settings, kept with QSettings: who they are to others (name, colour), where new
// shares go (the default relay URL) and whether this machine accepts peers (listening address).
// PreferencesDialog edits them.
#pragma once

#include <optional>

#include <QColor>
#include <QDialog>
#include <QHostAddress>
#include <QString>

class QLineEdit;
class QPushButton;

namespace quire::app {

// A value; load() and save() go through QSettings (the application's default scope).
struct Preferences {
  QString name;
  QColor colour;
  QString relayUrl;       // ws:// or wss://; empty: none
  QString listenAddress;  // "ADDR:PORT"; empty: do not listen

  static Preferences load();
  void save() const;

  // The login name, or "Me" when there is none.
  static QString defaultName();
  // A pleasant colour derived from `name` (the same name always gives the same colour).
  static QColor colourForName(const QString& name);
};

// "ADDR:PORT" (IPv4, hostname-free, or "[v6]:PORT"), split. Empty when malformed.
struct ListenAddress {
  QHostAddress address;
  quint16 port = 0;
};
std::optional<ListenAddress> parseListenAddress(const QString& text);

// A modal dialog over a copy of the preferences; preferences() holds the edited copy once it
// was accepted (fields are validated before it closes).
class PreferencesDialog : public QDialog {
  Q_OBJECT
 public:
  explicit PreferencesDialog(const Preferences& prefs, QWidget* parent = nullptr);
  const Preferences& preferences() const { return m_prefs; }

  void accept() override;

 private:
  void chooseColour();
  void showColour();

  Preferences m_prefs;
  QLineEdit* m_name;
  QPushButton* m_colour;
  QLineEdit* m_relay;
  QLineEdit* m_listen;
};

}  // namespace quire::app
