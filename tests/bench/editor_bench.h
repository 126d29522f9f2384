// quire-bench editor: the real editor widget (CollabTextEdit + TextBinding + DocumentSession)
// driven offscreen over the automerge-paper document: keypress -> paint, a burst of 1,000 remote
// keystrokes, open -> text shown, idle RSS. Creates the QApplication itself (offscreen unless
// QT_QPA_PLATFORM says otherwise), so the other subcommands never need a display.
#pragma once

#include "tests/bench/bench_command.h"

namespace quire::bench {

int runEditorBench(const BenchOptions& options);

}  // namespace quire::bench
