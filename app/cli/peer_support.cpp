#include "app/cli/peer_support.h"

#include <algorithm>
#include <csignal>

#include <signal.h>

#include <QCoreApplication>
#include <QTimer>
#include <QUrl>
#include <cstdio>
#include <map>


namespace quire::app {

namespace {

volatile std::sig_atomic_t g_terminate = 0;

extern "C" void onTerminationSignal(int) { g_terminate = 1; }

}  // namespace

net::DocKey toNetKey(const storage::DocumentKey& key) {
  net::DocKey out;
  std::copy(key.begin(), key.end(), out.bytes.begin());
  return out;
}

storage::DocumentKey toStorageKey(const net::DocKey& key) {
  storage::DocumentKey out{};
  std::copy(key.bytes.begin(), key.bytes.end(), out.begin());
  return out;
}

net::DocumentId toNetId(const storage::DocumentId& id) {
  net::DocumentId out;
  out.bytes = id.bytes;
  return out;
}

storage::DocumentId toStorageId(const net::DocumentId& id) {
  storage::DocumentId out;
  out.bytes = id.bytes;
  return out;
}

void quitOnTerminationSignals() {
  struct sigaction action {};
  action.sa_handler = onTerminationSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  // Polling keeps the handler async-signal-safe; 50 ms is quick enough for a shutdown.
  auto* timer = new QTimer(QCoreApplication::instance());
  QObject::connect(timer, &QTimer::timeout, timer, [] {
    if (g_terminate) QCoreApplication::exit(0);
  });
  timer->start(50);
}

}  // namespace quire::app

namespace quire::app {

void printLine(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

LivePeer::LivePeer(storage::DocumentStore& store, const storage::DocumentId& id,
                   engine::Document doc, const net::DocKey& key, bool inStore)
    : m_store(store),
      m_id(id),
      m_doc(std::move(doc)),
      m_key(key),
      m_inStore(inStore),
      m_net(std::make_unique<net::WsDocument>(m_doc, key)) {
  m_net->setPersistOps([this](engine::LV from, engine::LV) -> Result<void> {
    if (auto r = ensureStored(); !r) return r;
    return m_store.append(m_id, m_doc.encodeOpsSince(from), &m_doc);
  });
  m_net->setReplaceHistory([this]() -> Result<void> {
    if (auto r = ensureStored(); !r) return r;
    return m_store.replaceHistory(m_id, m_doc);
  });
  QObject::connect(m_net.get(), &net::WsDocument::routeStateChanged, m_net.get(),
                   [this](const QUrl& url, net::RouteState state, const QString&) {
                     m_routeStates[url.toString().toStdString()] = state;
                   });
}

bool LivePeer::online() const {
  for (const auto& [url, state] : m_routeStates)
    if (state == net::RouteState::Live) return true;
  return false;
}

Result<void> LivePeer::ensureStored() {
  if (m_inStore) return {};
  if (auto r = m_store.adopt(m_id, toStorageKey(m_key), m_id.toHex()); !r) return r;
  m_inStore = true;
  return {};
}

void LivePeer::addRoutes(const std::vector<std::string>& routes, const std::string& self,
                         bool verbose) {
  if (verbose) {
    QObject::connect(m_net.get(), &net::WsDocument::routeStateChanged, m_net.get(),
                     [](const QUrl& url, net::RouteState state, const QString& detail) {
                       static const char* kNames[] = {"connecting", "live", "waiting", "stopped"};
                       printLine("route " + url.toString().toStdString() + " " +
                                 kNames[static_cast<int>(state)] +
                                 (detail.isEmpty() ? "" : ": " + detail.toStdString()));
                     });
  }
  for (const std::string& route : routes) {
    if (route == self) continue;
    m_net->addRoute(QUrl(QString::fromStdString(route)));
  }
}

Result<void> LivePeer::commitLocal(engine::LV from) {
  if (auto r = ensureStored(); !r) return r;
  if (auto r = m_store.append(m_id, m_doc.encodeOpsSince(from), &m_doc); !r) return r;
  m_net->sendLocalEdits(from);
  return {};
}

void LivePeer::closeThen(int timeoutMs, std::function<void()> done) {
  auto finished = std::make_shared<bool>(false);
  auto finish = [finished, done] {
    if (*finished) return;
    *finished = true;
    done();
  };
  m_net->closeAll(QStringLiteral("done"));
  if (m_net->peerCount() == 0) return finish();
  QObject::connect(m_net.get(), &net::WsDocument::peerLeft, m_net.get(), [this, finish] {
    if (m_net->peerCount() == 0) finish();
  });
  QTimer::singleShot(timeoutMs, m_net.get(), finish);
}

}  // namespace quire::app
