// One open document in the editor, without any widget: the engine copy, per-user undo, storage
// (every local edit committed through the AppendQueue, then sent: durable before sent), and the
// network (its routes, presence). The text widget talks to it through TextBinding, in code
// points. ../shared/style.md: "the text model is not a widget".
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <QColor>
#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <QStringList>

#include "engine/document.h"
#include "engine/result.h"
#include "engine/undo_manager.h"
#include "net/frame.h"
#include "net/ws_peer.h"
#include "storage/append_queue.h"
#include "storage/document_store.h"

namespace quire::app {

// Who this person is to the others.
struct Identity {
  QString name;
  QColor colour;
};

// What the window shows about the network, always.
enum class ConnectionState {
  Offline,     // no route, or every route down and waiting
  Connecting,  // some route dialling or joining, none live
  Live,        // at least one route live
};

// Lives on the GUI thread. The store and the queue are the caller's and must outlive it.
class DocumentSession : public QObject {
  Q_OBJECT
 public:
  // Loads `id`. The copy edits as a replica of its own (a fresh id per session), so quire-cli
  // or another process on the same database never mints the same op ids.
  [[nodiscard]] static Result<std::unique_ptr<DocumentSession>> open(
      storage::DocumentStore& store, storage::AppendQueue& queue, const storage::DocumentId& id,
      QObject* parent = nullptr);
  ~DocumentSession() override;

  const storage::DocumentId& id() const { return m_id; }
  engine::Document& document() { return m_doc; }
  const engine::Document& document() const { return m_doc; }
  QString title() const { return m_title; }

  // ---- Local edits, in code points (TextBinding converts from UTF-16). Each is applied to
  // the document, recorded for undo, queued for commit, and sent once committed.
  [[nodiscard]] Result<void> insert(std::uint32_t pos, std::string_view utf8);
  [[nodiscard]] Result<void> remove(std::uint32_t pos, std::uint32_t count);
  // Per-user undo/redo: the patches to show and where the caret goes. Empty: nothing to do.
  std::optional<engine::UndoStep> undo();
  std::optional<engine::UndoStep> redo();
  // The local edits between these are one undo step (engine::UndoManager::beginGroup).
  void beginUndoGroup() { m_undo.beginGroup(); }
  void endUndoGroup() { m_undo.endGroup(); }
  bool canUndo() const { return m_undo.canUndo(); }
  bool canRedo() const { return m_undo.canRedo(); }
  // The caret moved (or the selection changed) without an edit: ends the undo group and
  // updates this person's presence. Positions in code points.
  void setCaret(std::uint32_t cursor, std::uint32_t anchor);

  // ---- Network.
  void setIdentity(const Identity& identity);
  // Keeps these routes (ws:// or wss:// relays or peers) connected; replaces any before.
  void setRoutes(const std::vector<std::string>& routes);
  net::WsDocument& net() { return *m_net; }
  ConnectionState connectionState() const;
  int livePeers() const;
  // Local edits not yet committed to the database (0 when everything typed is stored).
  std::size_t uncommittedEdits() const { return m_uncommitted; }
  // Stored rows that did not decode when the document was opened (skipped; still stored).
  const QStringList& damagedRows() const { return m_damagedRows; }
  // Local edits committed but not yet received by anyone who keeps them: no relay has said it
  // stored them and no direct peer was sent them (typed offline, or still on the way).
  std::size_t unreceivedEdits() const { return m_unreceivedCount; }
  // How long the oldest of those has waited, in ms (0 when there is none).
  std::uint64_t oldestUnreceivedMs() const {
    return m_unreceived.empty() ? 0 : nowMs() - m_unreceived.front().committedMs;
  }

 signals:
  // Remote edits, already applied to the document: show them (TextBinding does).
  void remoteEdited(const std::vector<engine::Patch>& patches);
  // A relay snapshot replaced the (empty) document; the text is document().text(). (No
  // remoteEdited follows for the replacement itself.)
  void documentReplaced();
  void presenceChanged(const net::Presence& presence);
  void presenceLeft(const engine::ReplicaId& replica);
  void connectionChanged(ConnectionState state, int livePeers);
  // unreceivedEdits() changed.
  void unreceivedChanged();
  // Joining through a relay: bytes of the room's stored items received so far, of `total`.
  void joinProgress(qint64 received, qint64 total);
  // Every local edit so far is committed (the window can say "saved").
  void saved();
  // An edit could not be stored; it stays in memory and is retried (storage/SCHEMA.md).
  void storageFailed(const QString& error);

 private:
  DocumentSession(storage::DocumentStore& store, storage::AppendQueue& queue,
                  const storage::DocumentId& id, engine::Document doc, const net::DocKey& key,
                  QString title, QObject* parent);
  void queueLocal(engine::LV from);
  void committed(engine::LV from, engine::LV to, Result<void> result);
  // A queue callback that reports a failed write as storageFailed (on this session's thread).
  storage::AppendQueue::Committed reportStorageFailure();
  void updatePresence();
  void routeChanged(const QUrl& url, net::RouteState state);
  std::uint64_t nowMs() const { return static_cast<std::uint64_t>(m_clock.elapsed()); }

  storage::DocumentStore& m_store;
  storage::AppendQueue& m_queue;
  storage::DocumentId m_id;
  engine::Document m_doc;
  engine::UndoManager m_undo;
  QString m_title;
  QStringList m_damagedRows;
  std::unique_ptr<net::WsDocument> m_net;
  std::map<QString, net::RouteState> m_routes;
  Identity m_identity;
  std::uint32_t m_cursor = 0, m_anchor = 0;
  // The same two positions as anchors (as last sent), to follow them through remote edits.
  engine::Anchor m_cursorAnchor, m_selectionAnchor;
  std::set<engine::ReplicaId> m_seen;  // remote replicas whose presence arrived
  QElapsedTimer m_clock;
  std::size_t m_uncommitted = 0;
  // Committed local edits not yet received, oldest first: the LV they end at, when the first
  // was committed, how many. Edits committed while no connection is up are one entry (the next
  // join's answer covers them all), so a month offline does not grow this per keystroke.
  struct Unreceived {
    engine::LV to = 0;
    std::uint64_t committedMs = 0;
    std::size_t count = 1;
    bool offline = false;
  };
  std::deque<Unreceived> m_unreceived;
  std::size_t m_unreceivedCount = 0;
  bool m_replaced = false;  // documentReplaced was just emitted; its patch is not passed on
  std::shared_ptr<bool> m_alive;  // the queue's callbacks check it (they run on its thread)
};

}  // namespace quire::app
