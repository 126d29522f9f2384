// `quire-bench sync`, relay throughput: 100 rooms x 5 raw QWebSocket clients in this process,
// each sending pre-sealed keystroke-sized frames into its room through a fresh quire-relay, with
// a bounded window of frames in flight per client; frames received by all clients per second
// over a steady window, and the relay's memory at the end.
#pragma once

#include <cstddef>
#include <string>

#include "engine/result.h"

namespace quire::bench {

inline constexpr int kLoadRooms = 100;
inline constexpr int kLoadPeersPerRoom = 5;
// Frames a client may have sent that its designated room mate has not yet received.
inline constexpr int kLoadWindow = 4;

struct LoadResult {
  double framesPerSecond = 0;  // frames received by all clients per second
  double relayRssMb = 0;       // VmRSS of quire-relay at the end of the run
  double relayCpuPercent = 0;  // of one core, over the window
  double benchCpuPercent = 0;  // this process (the 500 clients), over the window
  // Share of the window the relay's / this process's main thread was runnable but waited for a
  // CPU (other programs on the machine, or the two of them sharing cores).
  double relayWaitPercent = 0;
  double benchWaitPercent = 0;
  std::size_t frameBytes = 0;  // the size of each sealed frame sent
};

// One run against a fresh relay whose database and log go to `dir` (`name` tells runs apart):
// `warmupMs` of sending, then `windowMs` counted. Fails if the relay cannot start, a client
// cannot join or is closed, or a frame arrives that no room mate sent.
[[nodiscard]] Result<LoadResult> runRelayLoad(const std::string& dir, const std::string& name,
                                              int warmupMs, int windowMs);

}  // namespace quire::bench
