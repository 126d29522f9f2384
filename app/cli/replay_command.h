// `quire-cli replay TRACE [--quiet]`: replays an editing trace (app/trace/) and prints the final
// text on stdout and a statistics block on stderr.
#pragma once

#include <QStringList>

namespace quire::app {

// Returns the exit code: 0 if the replay reached the trace's endContent, 1 on a load or engine
// error or a wrong result, 2 on a usage error.
int runReplayCommand(const QStringList& args);

}  // namespace quire::app
