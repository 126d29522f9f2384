// `quire-bench editor`, the remote burst: a second replica of the open document (same history,
// another replica id) on its own thread dials the measured session's WsDocument through a
// WsListener on 127.0.0.1 and types 1,000 keystrokes, one sendLocalEdits() (one frame) each,
// while the measured (GUI) thread is blocked; then the GUI thread's event loop runs and the time
// until the last patch is painted in the widget is taken.
#pragma once

#include <cstddef>
#include <cstdint>

#include "app/quire/document_session.h"
#include "engine/result.h"
#include "tests/bench/editor_probe.h"

namespace quire::bench {

struct RemoteBurstResult {
  double burstMs = 0;       // GUI loop resumes (every frame already sent) -> last patch painted
  double appliedMs = 0;     // ... -> the remoteEdited that gave the engine the last keystroke
  double firstPatchMs = 0;  // ... -> first remoteEdited (the first frame handled)
  std::size_t patchSignals = 0;  // remoteEdited emissions over the burst
  double cpuMs = 0;   // CPU time of the GUI thread over burstMs
  double waitMs = 0;  // time the GUI thread was runnable but waited for a CPU (a loaded machine)
  double startS = 0, endS = 0;  // CLOCK_MONOTONIC seconds of the window (for perf report --time)
};

// `pos`: where the other replica types (code points), e.g. near the local caret, so that the
// change is in view. The widget's text is checked against the engine's and the typist's after.
[[nodiscard]] Result<RemoteBurstResult> measureRemoteBurst(app::DocumentSession& session,
                                                           ProbedTextEdit& edit, std::uint32_t pos,
                                                           int keystrokes);

}  // namespace quire::bench
