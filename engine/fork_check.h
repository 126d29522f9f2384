// Forged duplicates: a run that names ops this copy already holds must carry the same ops (kind,
// text, origins, delete targets). Two different ops under one (author, seq) would fork the
// copies that took one and the copies that took the other. FORMAT.md, "Forks".
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/op_log.h"
#include "engine/update_codec.h"

namespace quire::engine {

// Where a run first differs from the held ops under the same ids.
struct ForkAt {
  std::uint32_t seq = 0;  // the first op (of the run's author) that differs
  std::string why;        // e.g. "op 1a2b3c4d:17 is held with a different text"
};

// Compares the ops of `run` that `log` already holds for the run's author, `agent`, with what is
// held. Empty when they are the same ops (or none are held); otherwise the first op that
// differs and which field. Costs O(log n) per stretch of consecutive held ops (and, for deletes,
// per stretch of consecutive targets) plus the text compared, never per op count that the run
// states.
std::optional<ForkAt> findFork(const OpLog& log, AgentIndex agent, const WireRun& run);

// A canonical description of one op: kind, then origin-left and origin-right (by id) and text
// for an insert, or its target (by id) for a delete. Two copies describe the same op with the
// same bytes whichever of them holds it, so comparing the two versions of a forked op picks the
// same winner everywhere (FORMAT.md, "Forks").
std::string heldOpKey(const OpLog& log, AgentIndex agent, std::uint32_t seq);
// The same for op `seq` of `run` (run.seq <= seq < run.seq + run.len), whose author is `agent`
// in `log` and whose ops before `seq`, if it names them, are held.
std::string wireOpKey(const OpLog& log, AgentIndex agent, const WireRun& run, std::uint32_t seq);

}  // namespace quire::engine
