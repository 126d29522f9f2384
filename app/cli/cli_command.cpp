#include "app/cli/cli_command.h"

#include <cstdio>

#include <QFile>

namespace quire::app {

int reportFailure(const std::string& what) {
  std::fprintf(stderr, "quire-cli: %s\n", what.c_str());
  return kExitFailure;
}

int reportUsageError(const std::string& command, const std::string& what) {
  // QCommandLineParser's messages end in a full stop; the hint follows on the same line.
  const std::string message =
      !what.empty() && what.back() == '.' ? what.substr(0, what.size() - 1) : what;
  const std::string prefix = command.empty() ? "quire-cli" : "quire-cli " + command;
  std::fprintf(stderr, "quire-cli: %s (see '%s --help')\n", message.c_str(), prefix.c_str());
  return kExitUsage;
}

std::string localPath(const QString& path) { return QFile::encodeName(path).toStdString(); }

}  // namespace quire::app
