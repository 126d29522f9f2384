// The quire-cli commands over the document library (issue 3): new, list, import, export, cat
// and compact. Each takes --db PATH and --help; `type` is type_command.h.
#pragma once

#include <QStringList>

namespace quire::app {

// Each returns the process exit code: 0 on success, 1 if the database or the document could not
// be used (one line on stderr), 2 on a usage error.
int runNewCommand(const QStringList& args);
int runListCommand(const QStringList& args);
int runImportCommand(const QStringList& args);
int runExportCommand(const QStringList& args);
int runCatCommand(const QStringList& args);
int runCompactCommand(const QStringList& args);

}  // namespace quire::app
