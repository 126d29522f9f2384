// `quire-bench sync`, joining: a fresh, empty WsDocument joins a document that holds a whole
// trace's history, either from a peer serving it with a WsListener or from a quire-relay room
// that already holds a snapshot of it. Timed from the dial to the joiner's text being complete.
#pragma once

#include <string>
#include <vector>

#include <QString>

#include "engine/document.h"
#include "engine/result.h"

namespace quire::bench {

// `runs` joins from a WsListener on 127.0.0.1 serving a copy of `full`; ms per join. Fails if a
// joiner cannot connect, or ends with a text other than `text` within 30 s.
[[nodiscard]] Result<std::vector<double>> measureDirectJoins(const engine::Document& full,
                                                             const std::string& text, int runs);

// The same from a relay room: a holder with a copy of `full` joins the room first and makes it
// store a snapshot (RoomOptions.snapshotAfterItems = 1), confirmed by a raw client that opens the
// room's first stored item. Each joiner must then start from that snapshot (documentReplaced).
[[nodiscard]] Result<std::vector<double>> measureRelayJoins(const engine::Document& full,
                                                            const std::string& text,
                                                            const QString& relayUrl, int runs);

}  // namespace quire::bench
