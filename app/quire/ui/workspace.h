// The editor's state below the windows: the one DocumentStore and AppendQueue of the process,
// the open document's DocumentSession, and the WsListener that serves it to peers when a
// listening address is set. The window drives it and shows what it reports.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <QObject>
#include <QString>

#include "app/quire/document_session.h"
#include "engine/result.h"
#include "storage/append_queue.h"
#include "storage/database_lock.h"
#include "storage/document_store.h"

namespace quire::net {
class WsListener;
}

namespace quire::app {

// The title a document adopted from a link has until its first line arrives.
inline constexpr char kSharedTitle[] = "Shared document";

// Owns the store, the queue, the session and the listener. GUI thread only.
class Workspace : public QObject {
  Q_OBJECT
 public:
  // Opens (or creates) the database at `path` and its append queue.
  [[nodiscard]] static Result<std::unique_ptr<Workspace>> open(const std::string& path);
  ~Workspace() override;

  storage::DocumentStore& store() { return *m_store; }
  // The open document, or nullptr.
  DocumentSession* session() const { return m_session.get(); }
  // Whether the open document came from a link and has not been live yet.
  bool joining() const { return m_joining; }

  // Closes the open document (compacting it) and opens `id`.
  [[nodiscard]] Result<void> openDocument(const storage::DocumentId& id);
  // Returns once every edit typed so far is committed to the database.
  void flush() { m_queue->flush(); }
  // Commits what is queued, compacts the open document and closes it.
  void closeDocument();

  // Opens the document a share link names: the library's copy when the id is known (same key),
  // else a new empty one adopted with the link's key and routes, which then joins them.
  // Fails with the parser's message for a malformed link, or when the library holds that
  // document under a different key; then nothing changed.
  [[nodiscard]] Result<storage::DocumentId> openLink(const QString& link);

  // Who this person is; applied to the open document and every later one.
  void setIdentity(const Identity& identity);
  // Listens for peers at "ADDR:PORT" (empty: stops listening). Fails with why it cannot.
  [[nodiscard]] Result<void> setListenAddress(const QString& address);
  // The port actually listened on (0: not listening).
  quint16 listeningPort() const;
  QString listenAddress() const { return m_listenAddress; }

  // Adds `route` to the open document's stored routes (and its session). No-op if present.
  [[nodiscard]] Result<void> addRoute(const std::string& route);

 signals:
  // A document was opened (the window binds it) or is about to close (the window unbinds).
  void documentOpened(DocumentSession* session);
  void documentClosing(DocumentSession* session);
  // The library's rows changed (title, edited time, a document added or removed).
  void libraryChanged();
  void joiningChanged(bool joining);

 private:
  Workspace(storage::DatabaseLock lock, std::unique_ptr<storage::DocumentStore> store,
            std::unique_ptr<storage::AppendQueue> queue);
  void restartListener();
  void dropRoutesToSelf();
  void adoptTitleFromText();

  storage::DatabaseLock m_lock;  // declared first: released after the store and queue close
  std::unique_ptr<storage::DocumentStore> m_store;
  std::unique_ptr<storage::AppendQueue> m_queue;
  std::unique_ptr<DocumentSession> m_session;
  // Recreated for each open document: WsListener has no way to stop serving one.
  std::unique_ptr<net::WsListener> m_listener;
  QString m_listenAddress;
  Identity m_identity;
  bool m_joining = false;
};

}  // namespace quire::app
