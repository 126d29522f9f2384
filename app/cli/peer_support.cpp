#include "app/cli/peer_support.h"

#include <algorithm>
#include <csignal>

#include <signal.h>

#include <QCoreApplication>
#include <QTimer>


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
