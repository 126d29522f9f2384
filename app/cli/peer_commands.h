// The quire-cli commands for direct peers (issue 4, "Direct peers"): serve documents over
// WebSockets, print a share link, and join a document by link. net/ws_peer.h does the sync.
#pragma once

#include <QStringList>

namespace quire::app {

// Each returns the process exit code: 0 on success (serve and join: also after SIGTERM/SIGINT),
// 1 when the database, the network or the peer failed (one line on stderr), 2 on a usage error.
int runServeCommand(const QStringList& args);
int runShareCommand(const QStringList& args);
int runOpenCommand(const QStringList& args);

}  // namespace quire::app
