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

#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "engine/document.h"
#include "net/ws_peer.h"

namespace quire::app {

// One document a quire-cli command keeps live: its editable copy, the WsDocument that connects
// it, and the rule that every update received is committed before it is passed on. A document
// that came by link is added to the database the first time anything of it is stored.
class LivePeer {
 public:
  LivePeer(storage::DocumentStore& store, const storage::DocumentId& id, engine::Document doc,
           const net::DocKey& key, bool inStore);
  LivePeer(const LivePeer&) = delete;
  LivePeer& operator=(const LivePeer&) = delete;

  engine::Document& doc() { return m_doc; }
  net::WsDocument& net() { return *m_net; }
  const storage::DocumentId& id() const { return m_id; }
  std::string hex() const { return m_id.toHex(); }

  // Keeps every route connected (reconnecting with backoff), skipping `self` (this process's
  // own listening URL). Prints one line per route state change when `verbose`.
  void addRoutes(const std::vector<std::string>& routes, const std::string& self = {},
                 bool verbose = true);
  // Commits the local ops from `from` on, then sends them (durable before sent).
  [[nodiscard]] Result<void> commitLocal(engine::LV from);
  // Adds the document to the database if it is not there yet.
  [[nodiscard]] Result<void> ensureStored();
  // True while some route is joined (a relay room or a direct peer).
  bool online() const;
  // Closes every connection (each side finishes what was sent before the close) and calls
  // `done` once all are closed, or after `timeoutMs`.
  void closeThen(int timeoutMs, std::function<void()> done);

 private:
  storage::DocumentStore& m_store;
  storage::DocumentId m_id;
  engine::Document m_doc;
  net::DocKey m_key;
  bool m_inStore;
  std::map<std::string, net::RouteState> m_routeStates;
  std::unique_ptr<net::WsDocument> m_net;
};

void printLine(const std::string& line);

}  // namespace quire::app
