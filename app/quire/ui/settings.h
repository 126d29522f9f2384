// Where the editor keeps its settings: ~/.config/quire/editor.conf. Named explicitly because
// the application has no organization name (toolchain.md: one would move the database folder),
// and QSettings() would otherwise write to "Unknown Organization".
#pragma once

#include <QSettings>

namespace quire::app {

class Settings : public QSettings {
 public:
  Settings() : QSettings(QStringLiteral("quire"), QStringLiteral("editor")) {}
};

}  // namespace quire::app
