// Forged duplicates: a run that names ops this copy already holds must carry the same ops (kind,
// text, origins, delete targets). Two different ops under one (author, seq) would fork the
// copies that took one and the copies that took the other. FORMAT.md, "Forks".
#pragma once

#include <optional>
#include <string>

#include "engine/op_log.h"
#include "engine/update_codec.h"

namespace quire::engine {

// Compares the ops of `run` that `log` already holds for the run's author, `agent`, with what is
// held. Empty when they are the same ops (or none are held); otherwise which field differs and
// where, e.g. "op 1a2b3c4d:17 is held with different text". Costs O(log n) per stretch of
// consecutive held ops (and, for deletes, per stretch of consecutive targets), never per op
// count that the run states.
std::optional<std::string> findFork(const OpLog& log, AgentIndex agent, const WireRun& run);

}  // namespace quire::engine
