#include "app/quire/ui/workspace.h"

#include <algorithm>
#include <cstdio>

#include <QNetworkInterface>
#include <QUrl>

#include "app/quire/ui/preferences.h"
#include "net/share_link.h"
#include "net/ws_peer.h"

namespace quire::app {

Result<std::unique_ptr<Workspace>> Workspace::open(const std::string& path) {
  // Before SQLite opens anything: no other Quire process may have the database open while this
  // editor does (storage/SCHEMA.md, "The lock file").
  using storage::DatabaseLock;
  auto lock = DatabaseLock::tryAcquire(path, DatabaseLock::Mode::Exclusive);
  if (!lock) return fail(Error(lock.error()));
  if (!*lock)
    return fail(Error::io("the library is in use by " + DatabaseLock::holder(path) +
                          "; close that first, or start Quire with another --db"));
  auto store = storage::DocumentStore::open(path);
  if (!store) return fail(Error(store.error()));
  auto queue = storage::AppendQueue::open(path);
  if (!queue) return fail(Error(queue.error()));
  return std::unique_ptr<Workspace>(
      new Workspace(std::move(**lock), std::move(*store), std::move(*queue)));
}

Workspace::Workspace(storage::DatabaseLock lock, std::unique_ptr<storage::DocumentStore> store,
                     std::unique_ptr<storage::AppendQueue> queue)
    : m_lock(std::move(lock)), m_store(std::move(store)), m_queue(std::move(queue)) {}

Workspace::~Workspace() {
  closeDocument();
  m_listener.reset();
}

Result<void> Workspace::openDocument(const storage::DocumentId& id) {
  if (m_session && m_session->id() == id) return {};
  closeDocument();
  auto session = DocumentSession::open(*m_store, *m_queue, id);
  if (!session) return fail(session.error());
  m_session = std::move(*session);
  m_session->setIdentity(m_identity);
  connect(m_session.get(), &DocumentSession::saved, this, &Workspace::libraryChanged);
  connect(m_session.get(), &DocumentSession::connectionChanged, this,
          [this](ConnectionState state, int) {
            if (state == ConnectionState::Live && m_joining) {
              m_joining = false;
              emit joiningChanged(false);
            }
            emit libraryChanged();
          });
  connect(m_session.get(), &DocumentSession::remoteEdited, this, &Workspace::adoptTitleFromText);
  connect(m_session.get(), &DocumentSession::documentReplaced, this,
          &Workspace::adoptTitleFromText);
  restartListener();
  dropRoutesToSelf();
  std::printf("opened %s\n", id.toHex().c_str());
  std::fflush(stdout);
  emit documentOpened(m_session.get());
  return {};
}

void Workspace::closeDocument() {
  if (!m_session) return;
  emit documentClosing(m_session.get());
  if (m_joining) {
    m_joining = false;
    emit joiningChanged(false);
  }
  m_listener.reset();  // it points at the session's WsDocument
  m_queue->flush();    // everything typed is in the tail before the snapshot is rebuilt
  if (auto r = m_store->compact(m_session->id(), m_session->document()); !r) {
    std::fprintf(stderr, "quire: compacting %s: %s\n", m_session->id().toHex().c_str(),
                 r.error().toString().c_str());
  }
  m_session.reset();
}

Result<storage::DocumentId> Workspace::openLink(const QString& text) {
  auto link = net::parseShareLink(text.trimmed().toStdString());
  if (!link) return fail(link.error());
  storage::DocumentId id;
  std::copy(link->doc.bytes.begin(), link->doc.bytes.end(), id.bytes.begin());
  storage::DocumentKey key;
  std::copy(link->key.bytes.begin(), link->key.bytes.end(), key.begin());

  if (m_store->info(id)) {
    auto stored = m_store->key(id);
    if (!stored) return fail(stored.error());
    if (*stored != key) {
      return fail(Error::invalidArgument(
          "this link names a document in your library, but with a different key; "
          "it was not opened"));
    }
    if (auto r = openDocument(id); !r) return fail(r.error());
    return id;
  }
  if (auto r = m_store->adopt(id, key, kSharedTitle); !r) return fail(r.error());
  if (auto r = m_store->setRoutes(id, link->routes); !r) {
    (void)m_store->remove(id);
    return fail(r.error());
  }
  emit libraryChanged();
  // Joining starts as the session opens (DocumentSession::open dials the stored routes).
  m_joining = true;
  if (auto r = openDocument(id); !r) {
    m_joining = false;
    return fail(r.error());
  }
  if (m_session && m_session->connectionState() == ConnectionState::Live) m_joining = false;
  emit joiningChanged(m_joining);
  return id;
}

void Workspace::setIdentity(const Identity& identity) {
  m_identity = identity;
  if (m_session) m_session->setIdentity(identity);
}

Result<void> Workspace::setListenAddress(const QString& address) {
  m_listenAddress = address.trimmed();
  if (!m_listenAddress.isEmpty() && !parseListenAddress(m_listenAddress)) {
    const std::string bad = m_listenAddress.toStdString();
    m_listenAddress.clear();
    restartListener();
    return fail(Error::invalidArgument("listening address '" + bad + "' is not ADDR:PORT"));
  }
  restartListener();
  dropRoutesToSelf();
  if (!m_listenAddress.isEmpty() && !m_listener) {
    return fail(Error::io("cannot listen on " + m_listenAddress.toStdString()));
  }
  return {};
}

quint16 Workspace::listeningPort() const { return m_listener ? m_listener->port() : 0; }

void Workspace::restartListener() {
  m_listener.reset();
  const auto address = parseListenAddress(m_listenAddress);
  if (!address) return;
  auto listener = std::make_unique<net::WsListener>();
  if (auto r = listener->listen(address->address, address->port); !r) {
    std::fprintf(stderr, "quire: %s\n", r.error().toString().c_str());
    return;
  }
  if (m_session) listener->serve(&m_session->net());
  m_listener = std::move(listener);
}

// A route to this editor's own listener (a link made here names it for others) would connect
// the document to itself; the session keeps every other route.
void Workspace::dropRoutesToSelf() {
  const auto own = parseListenAddress(m_listenAddress);
  if (!m_session || !own || !m_listener) return;
  auto routes = m_store->routes(m_session->id());
  if (!routes) return;
  std::vector<std::string> kept;
  for (const std::string& r : *routes) {
    const QUrl url(QString::fromStdString(r));
    QHostAddress host(url.host() == QLatin1String("localhost") ? QStringLiteral("127.0.0.1")
                                                               : url.host());
    const bool anyAddress = own->address == QHostAddress::AnyIPv4 ||
                            own->address == QHostAddress::AnyIPv6 ||
                            own->address == QHostAddress::Any;
    const bool mine =
        url.port() == m_listener->port() &&
        (host == own->address ||
         (anyAddress && (host.isLoopback() || QNetworkInterface::allAddresses().contains(host))));
    if (!mine) kept.push_back(r);
  }
  if (kept.size() != routes->size()) m_session->setRoutes(kept);
}


Result<void> Workspace::addRoute(const std::string& route) {
  if (!m_session) return fail(Error::invalidArgument("no document is open"));
  auto routes = m_store->routes(m_session->id());
  if (!routes) return fail(routes.error());
  if (std::find(routes->begin(), routes->end(), route) != routes->end()) return {};
  routes->push_back(route);
  if (auto r = m_store->setRoutes(m_session->id(), *routes); !r) return r;
  m_session->setRoutes(*routes);
  dropRoutesToSelf();
  emit libraryChanged();
  return {};
}

// A document adopted from a link is named after its first line once text arrives.
void Workspace::adoptTitleFromText() {
  if (!m_session) return;
  auto info = m_store->info(m_session->id());
  if (!info || info->title != kSharedTitle) return;
  const QString text = QString::fromStdString(m_session->document().text());
  QString first = text.section(QLatin1Char('\n'), 0, 0).trimmed();
  while (first.startsWith(QLatin1Char('#'))) first = first.mid(1).trimmed();
  if (first.isEmpty()) return;
  if (first.size() > 80) first = first.left(80).trimmed() + QStringLiteral("…");
  if (m_store->rename(m_session->id(), first.toStdString())) emit libraryChanged();
}

}  // namespace quire::app
