// What the quire-cli peer commands (serve, share, join) share: moving ids and keys between the
// storage and net forms, adding a document that arrived by link, and quitting on SIGTERM/SIGINT.
// app/ is where storage/ and net/ meet (../shared/style.md, "Layers").
#pragma once

#include <string>

#include "engine/result.h"
#include "net/crypto.h"
#include "net/share_link.h"
#include "storage/document_store.h"

namespace quire::app {

net::DocKey toNetKey(const storage::DocumentKey& key);
storage::DocumentKey toStorageKey(const net::DocKey& key);
net::DocumentId toNetId(const storage::DocumentId& id);
storage::DocumentId toStorageId(const net::DocumentId& id);

// Makes SIGTERM and SIGINT end the running QCoreApplication event loop with exit code 0 (the
// handler only sets a flag; a timer polls it). Call before exec().
void quitOnTerminationSignals();

}  // namespace quire::app
