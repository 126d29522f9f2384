// One editor per person and database: the first `quire` listens on a per-user local socket; a
// later `quire LINK` hands its link over that socket and exits (toolchain.md, "Single instance").
#pragma once

#include <QObject>
#include <QString>

class QLocalServer;

namespace quire::app {

// The local socket's full path for the database at `databasePath`: in $XDG_RUNTIME_DIR (or the
// temp folder), named after the user id and a hash of the database path, so two people, or one
// person with two databases, never meet.
QString singleInstanceName(const QString& databasePath);

// Sends `message` (one line, e.g. a link or "raise") to a running instance. True if one was
// listening and took it. Works before any QCoreApplication exists. Blocks up to `timeoutMs`.
bool forwardToRunningInstance(const QString& name, const QString& message, int timeoutMs = 2000);

// The running instance's side. Owned by its parent; GUI thread only.
class SingleInstanceServer : public QObject {
  Q_OBJECT
 public:
  explicit SingleInstanceServer(QObject* parent = nullptr);
  // Clears a socket a crashed instance left behind, then listens (this user only). False with
  // a warning on stderr if it cannot (the app still runs, just without hand-over).
  bool listen(const QString& name);

 signals:
  void messageReceived(const QString& message);

 private:
  void acceptPending();
  QLocalServer* m_server;
};

}  // namespace quire::app
