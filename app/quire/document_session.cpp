#include "app/quire/document_session.h"

#include <algorithm>
#include <utility>

#include <QCoreApplication>
#include <QPointer>
#include <QRandomGenerator>
#include <QUrl>

namespace quire::app {

namespace {

engine::ReplicaId freshReplica() {
  engine::ReplicaId id;
  QRandomGenerator::system()->generate(reinterpret_cast<quint32*>(id.bytes.data()),
                                       reinterpret_cast<quint32*>(id.bytes.data() + id.bytes.size()));
  return id;
}

net::DocKey toNetKey(const storage::DocumentKey& key) {
  net::DocKey out;
  std::copy(key.begin(), key.end(), out.bytes.begin());
  return out;
}

}  // namespace

Result<std::unique_ptr<DocumentSession>> DocumentSession::open(storage::DocumentStore& store,
                                                               storage::AppendQueue& queue,
                                                               const storage::DocumentId& id,
                                                               QObject* parent) {
  auto info = store.info(id);
  if (!info) return fail(info.error());
  auto key = store.key(id);
  if (!key) return fail(key.error());
  // A row that does not decode (written by an older version, or damaged) is skipped, never a
  // reason to lose the rest: the status says so, and the row stays in the database.
  std::vector<Error> skipped;
  auto doc = store.loadSkippingDamaged(id, freshReplica(), skipped);
  if (!doc) return fail(doc.error());
  std::unique_ptr<DocumentSession> session(new DocumentSession(
      store, queue, id, std::move(*doc), toNetKey(*key), QString::fromStdString(info->title),
      parent));
  for (const Error& e : skipped) {
    qWarning().noquote() << "opened with a damaged row skipped:" << QString::fromStdString(e.toString());
    session->m_damagedRows << QString::fromStdString(e.toString());
  }
  auto routes = store.routes(id);
  if (routes && !routes->empty()) session->setRoutes(*routes);
  return session;
}

DocumentSession::DocumentSession(storage::DocumentStore& store, storage::AppendQueue& queue,
                                 const storage::DocumentId& id, engine::Document doc,
                                 const net::DocKey& key, QString title, QObject* parent)
    : QObject(parent),
      m_store(store),
      m_queue(queue),
      m_id(id),
      m_doc(std::move(doc)),
      m_undo(m_doc),
      m_title(std::move(title)),
      m_net(std::make_unique<net::WsDocument>(m_doc, key)),
      m_alive(std::make_shared<bool>(true)) {
  m_clock.start();
  // Remote ops are queued for commit without waiting: their author committed them before
  // sending (durable before sent), so a crash here loses nothing that exists nowhere else, and
  // a burst of remote keystrokes never waits for the disk on the GUI thread.
  m_net->setPersistOps([this](engine::LV from, engine::LV to) -> Result<void> {
    m_queue.append(m_id, m_doc.encodeOpsBetween(from, to), reportStorageFailure());
    return {};
  });
  connect(m_net.get(), &net::WsDocument::patchesApplied, this,
          [this](const std::vector<engine::Patch>& patches) {
            // Remote text moved the caret's characters: keep the positions setCaret() compares
            // against where the caret is now, or a click at the old numbers would be ignored.
            if (auto c = m_doc.resolveAnchor(m_cursorAnchor)) m_cursor = *c;
            if (auto a = m_doc.resolveAnchor(m_selectionAnchor)) m_anchor = *a;
            // After a replacement the patch is the whole new text over the empty one, which
            // documentReplaced already told the widget to show: passing it on would show the
            // text twice.
            if (std::exchange(m_replaced, false)) return;
            emit remoteEdited(patches);
          });
  // A fork's repair rebuilt the document (engine FORMAT.md, "Forks"): its history replaces the
  // stored one, in queue order with the appends.
  m_net->setReplaceHistory([this]() -> Result<void> {
    m_queue.replace(m_id, m_doc.encodeHistory(), reportStorageFailure());
    return {};
  });
  connect(m_net.get(), &net::WsDocument::documentReplaced, this, [this] {
    // The LVs the undo stack and the unreceived list name are gone (a rebuilt document
    // numbers its ops anew; a snapshot filled an empty one).
    m_undo.clear();
    if (m_unreceivedCount != 0) {
      m_unreceived.clear();
      m_unreceivedCount = 0;
      emit unreceivedChanged();
    }
    m_replaced = true;
    emit documentReplaced();
  });
  connect(m_net.get(), &net::WsDocument::presenceChanged, this, [this](const net::Presence& p) {
    // Someone new: a relay room does not tell them where the others are (presence is re-sent
    // only every 10 s), so say where this person is now.
    if (m_seen.insert(p.replica).second && !m_identity.name.isEmpty()) updatePresence();
    emit presenceChanged(p);
  });
  connect(m_net.get(), &net::WsDocument::presenceLeft, this,
          [this](const engine::ReplicaId& replica) {
            m_seen.erase(replica);
            emit presenceLeft(replica);
          });
  connect(m_net.get(), &net::WsDocument::routeStateChanged, this,
          [this](const QUrl& url, net::RouteState state, const QString&) {
            routeChanged(url, state);
          });
  connect(m_net.get(), &net::WsDocument::localEditsReceived, this, [this](engine::LV lv) {
    const std::size_t before = m_unreceivedCount;
    while (!m_unreceived.empty() && m_unreceived.front().to <= lv) {
      m_unreceivedCount -= m_unreceived.front().count;
      m_unreceived.pop_front();
    }
    if (m_unreceivedCount != before) emit unreceivedChanged();
  });
  connect(m_net.get(), &net::WsDocument::joinProgress, this, &DocumentSession::joinProgress);
  connect(m_net.get(), &net::WsDocument::persistFailed, this, &DocumentSession::storageFailed);
}

storage::AppendQueue::Committed DocumentSession::reportStorageFailure() {
  // Runs on the queue's writer thread, possibly after this session is gone.
  return [alive = std::weak_ptr<bool>(m_alive), self = QPointer<DocumentSession>(this)](Result<void> result) {
    if (result || alive.expired()) return;
    QMetaObject::invokeMethod(
        QCoreApplication::instance(),
        [self, error = QString::fromStdString(result.error().toString())] {
          if (self) emit self->storageFailed(error);
        },
        Qt::QueuedConnection);
  };
}

DocumentSession::~DocumentSession() {
  *m_alive = false;
  m_net->closeAll(QStringLiteral("closed"));
}

Result<void> DocumentSession::insert(std::uint32_t pos, std::string_view utf8) {
  const engine::LV before = m_doc.nextLv();
  if (auto r = m_undo.insert(pos, utf8, nowMs()); !r) return r;
  queueLocal(before);
  // The caret follows the typed text; that move is part of typing, not one that ends the undo
  // group (setCaret() with this position changes nothing), but the others see it.
  const auto codePoints = std::count_if(utf8.begin(), utf8.end(),
                                        [](char c) { return (c & 0xC0) != 0x80; });
  m_cursor = m_anchor = pos + static_cast<std::uint32_t>(codePoints);
  updatePresence();
  return {};
}

Result<void> DocumentSession::remove(std::uint32_t pos, std::uint32_t count) {
  const engine::LV before = m_doc.nextLv();
  if (auto r = m_undo.remove(pos, count, nowMs()); !r) return r;
  queueLocal(before);
  m_cursor = m_anchor = pos;  // as insert()
  updatePresence();
  return {};
}

std::optional<engine::UndoStep> DocumentSession::undo() {
  const engine::LV before = m_doc.nextLv();
  auto step = m_undo.undo();
  if (step) {
    queueLocal(before);
    m_cursor = m_anchor = step->caret;
    updatePresence();
  }
  return step;
}

std::optional<engine::UndoStep> DocumentSession::redo() {
  const engine::LV before = m_doc.nextLv();
  auto step = m_undo.redo();
  if (step) {
    queueLocal(before);
    m_cursor = m_anchor = step->caret;
    updatePresence();
  }
  return step;
}

// Durable before sent: the ops [from, now) go to the queue; they leave the machine in the
// commit callback, and only they (later keystrokes wait for their own commit).
void DocumentSession::queueLocal(engine::LV from) {
  const engine::LV to = m_doc.nextLv();
  if (to == from) return;
  ++m_uncommitted;
  std::weak_ptr<bool> alive = m_alive;
  QPointer<DocumentSession> self(this);
  m_queue.append(m_id, m_doc.encodeOpsBetween(from, to),
                 [alive, self, from, to](Result<void> result) {
                   // The writer thread: hop to the session's thread, if it still exists.
                   if (alive.expired()) return;
                   QMetaObject::invokeMethod(
                       QCoreApplication::instance(),
                       [self, from, to, result = std::move(result)]() mutable {
                         if (self) self->committed(from, to, std::move(result));
                       },
                       Qt::QueuedConnection);
                 });
}

void DocumentSession::committed(engine::LV from, engine::LV to, Result<void> result) {
  if (m_uncommitted > 0) --m_uncommitted;
  if (!result) {
    // Kept in memory; the next successful commit is followed by a re-append of everything
    // the store lacks (AppendQueue's contract, storage/SCHEMA.md).
    emit storageFailed(QString::fromStdString(result.error().toString()));
    return;
  }
  // Waits to be received: a relay's "stored" answer or a direct peer's session clears it
  // (possibly at once, from inside sendLocalEdits).
  const bool offline = m_net->peerCount() == 0;
  if (offline && !m_unreceived.empty() && m_unreceived.back().offline) {
    m_unreceived.back().to = to;
    ++m_unreceived.back().count;
  } else {
    m_unreceived.push_back({to, nowMs(), 1, offline});
  }
  ++m_unreceivedCount;
  emit unreceivedChanged();
  // To every connection, dialled or accepted; one that has not finished its hello or join yet
  // gets these in its catch-up instead.
  m_net->sendLocalEdits(from, to);
  if (m_uncommitted == 0) emit saved();
}

void DocumentSession::setCaret(std::uint32_t cursor, std::uint32_t anchor) {
  if (cursor == m_cursor && anchor == m_anchor) return;
  m_undo.breakGroup();
  m_cursor = cursor;
  m_anchor = anchor;
  updatePresence();
}

void DocumentSession::setIdentity(const Identity& identity) {
  m_identity = identity;
  updatePresence();
}

void DocumentSession::updatePresence() {
  const std::uint32_t length = m_doc.length();
  net::Presence p;
  p.name = m_identity.name.toStdString();
  if (p.name.size() > net::kMaxDisplayNameBytes) p.name.resize(net::kMaxDisplayNameBytes);
  p.colour = static_cast<std::uint32_t>(m_identity.colour.rgb()) & 0xFFFFFF;
  // A selection's ends stick to the selected characters (its start to the first one), so text
  // typed by someone else just before or after it stays outside; a caret sticks to the
  // character before it.
  const std::uint32_t cursor = std::min(m_cursor, length), anchor = std::min(m_anchor, length);
  p.cursor = m_doc.anchorAt(cursor, cursor < anchor ? engine::Bias::Before : engine::Bias::After);
  p.selection = m_doc.anchorAt(anchor, anchor < cursor ? engine::Bias::Before : engine::Bias::After);
  m_cursorAnchor = p.cursor;
  m_selectionAnchor = p.selection;
  m_net->setLocalPresence(p);
}

void DocumentSession::setRoutes(const std::vector<std::string>& routes) {
  // removeRoute() reports "stopped" at once, which erases from m_routes: loop over a copy.
  const auto old = std::exchange(m_routes, {});
  for (const auto& [url, state] : old) m_net->removeRoute(QUrl(url));
  for (const std::string& r : routes) m_net->addRoute(QUrl(QString::fromStdString(r)));
}

void DocumentSession::routeChanged(const QUrl& url, net::RouteState state) {
  if (state == net::RouteState::Stopped) {
    m_routes.erase(url.toString());
  } else {
    m_routes[url.toString()] = state;
  }
  emit connectionChanged(connectionState(), livePeers());
}

ConnectionState DocumentSession::connectionState() const {
  bool connecting = false;
  for (const auto& [url, state] : m_routes) {
    if (state == net::RouteState::Live) return ConnectionState::Live;
    if (state == net::RouteState::Connecting) connecting = true;
  }
  return connecting ? ConnectionState::Connecting : ConnectionState::Offline;
}

int DocumentSession::livePeers() const {
  int live = 0;
  for (const auto& [url, state] : m_routes)
    if (state == net::RouteState::Live) ++live;
  return live;
}

}  // namespace quire::app
