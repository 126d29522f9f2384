// The shape of a quire-cli subcommand and the one place its errors become a line on stderr and
// an exit code (../shared/style.md, "Errors": exceptions and Error values stop here).
#pragma once

#include <string>

#include <QStringList>

namespace quire::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the command ran and failed
inline constexpr int kExitUsage = 2;    // the command line was wrong

// One row of quire-cli's dispatch table. `run` gets the arguments after the command name and
// returns the process exit code.
struct CliCommand {
  const char* name;
  const char* summary;  // one line for `quire-cli --help`
  int (*run)(const QStringList& args);
};

// Prints "quire-cli: <what>" on stderr. Returns kExitFailure.
int reportFailure(const std::string& what);

// Prints "quire-cli: <what> (see 'quire-cli[ <command>] --help')" on stderr. Returns kExitUsage.
int reportUsageError(const std::string& command, const std::string& what);

// A command-line path as the file system spells it (local 8-bit encoding).
std::string localPath(const QString& path);

}  // namespace quire::app
