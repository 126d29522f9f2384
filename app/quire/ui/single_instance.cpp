#include "app/quire/ui/single_instance.h"

#include <QCryptographicHash>
#include <QDir>
#include <QLocalServer>
#include <QLocalSocket>
#include <QStandardPaths>
#include <unistd.h>

namespace quire::app {

QString singleInstanceName(const QString& databasePath) {
  QString dir = qEnvironmentVariable("XDG_RUNTIME_DIR");
  if (dir.isEmpty() || !QDir(dir).exists()) dir = QDir::tempPath();
  const QByteArray hash =
      QCryptographicHash::hash(QDir::cleanPath(databasePath).toUtf8(), QCryptographicHash::Sha256)
          .toHex()
          .left(16);
  return QDir(dir).filePath(QStringLiteral("quire-%1-%2.sock")
                                .arg(static_cast<qulonglong>(getuid()))
                                .arg(QString::fromLatin1(hash)));
}

bool forwardToRunningInstance(const QString& name, const QString& message, int timeoutMs) {
  QLocalSocket socket;
  socket.connectToServer(name);
  if (!socket.waitForConnected(timeoutMs)) return false;
  socket.write(message.toUtf8() + '\n');
  if (!socket.waitForBytesWritten(timeoutMs)) return false;
  // The server answers "ok" once it has the message, so nothing is lost if we exit at once.
  if (!socket.waitForReadyRead(timeoutMs)) return false;
  return socket.readLine().trimmed() == "ok";
}

SingleInstanceServer::SingleInstanceServer(QObject* parent)
    : QObject(parent), m_server(new QLocalServer(this)) {
  m_server->setSocketOptions(QLocalServer::UserAccessOption);
  connect(m_server, &QLocalServer::newConnection, this, &SingleInstanceServer::acceptPending);
}

bool SingleInstanceServer::listen(const QString& name) {
  QLocalServer::removeServer(name);
  if (m_server->listen(name)) return true;
  qWarning("quire: cannot listen on %s: %s", qPrintable(name), qPrintable(m_server->errorString()));
  return false;
}

void SingleInstanceServer::acceptPending() {
  while (QLocalSocket* socket = m_server->nextPendingConnection()) {
    connect(socket, &QLocalSocket::disconnected, socket, &QObject::deleteLater);
    connect(socket, &QLocalSocket::readyRead, this, [this, socket] {
      while (socket->canReadLine()) {
        const QString line = QString::fromUtf8(socket->readLine()).trimmed();
        socket->write("ok\n");
        socket->flush();
        // Queued: a receiver may run a dialog's event loop, in which the client disconnects
        // and this socket (with this slot) is deleted under the loop.
        QMetaObject::invokeMethod(
            this, [this, line] { emit messageReceived(line); }, Qt::QueuedConnection);
      }
    });
  }
}

}  // namespace quire::app
