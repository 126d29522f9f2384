// `quire-cli type DOC TEXT [--delay-ms N]`: types TEXT at the end of a document as single
// keystrokes, each stored durably before it is reported. The kill test
// (tests/storage/kill_test.cpp) drives it and SIGKILLs it at random moments.
#pragma once

#include <QStringList>

namespace quire::app {

// Returns the exit code: 0 once every keystroke is committed, 1 on a database or engine error,
// 2 on a usage error.
int runTypeCommand(const QStringList& args);

}  // namespace quire::app
