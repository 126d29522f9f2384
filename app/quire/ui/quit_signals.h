// SIGTERM, SIGINT and SIGHUP close the editor the way its Quit action does (the open document
// is compacted, the settings saved), instead of killing it mid-write.
#pragma once

#include <functional>

namespace quire::app {

// Calls `quit` on the GUI thread when one of the signals arrives. Call once, after the
// QApplication exists.
void quitOnTerminationSignals(std::function<void()> quit);

}  // namespace quire::app
