// Direct peers over WebSockets: the thin Qt adapter around the sans-I/O SyncHub. A WsDocument
// moves one document's frames between its sockets and its hub; a WsListener accepts incoming
// peers and hands each to the document whose room its first frame opens in.
// PROTOCOL.md, "Direct peers".
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include <QHostAddress>
#include <QObject>
#include <QString>
#include <QUrl>

#include "engine/document.h"
#include "engine/result.h"
#include "engine/version_vector.h"
#include "net/crypto.h"
#include "net/sync_hub.h"

class QWebSocket;
class QWebSocketServer;

namespace quire::net {

// The close reason a listener gives a peer whose first frame opens in none of its rooms.
inline constexpr const char* kNoRoomReason =
    "no document here opens this frame (wrong key, or the document is not served here)";

// One document shared with any number of WebSocket peers (accepted by a WsListener or dialled
// with connectTo()). Owns its sockets (as QObject children) and a SyncHub; the engine::Document
// is the caller's and must outlive this object. Lives on one thread (the one with its event
// loop); not thread-safe.
class WsDocument : public QObject {
  Q_OBJECT
 public:
  using PeerId = SyncHub::PeerId;
  // Makes ops [from, to) of the document durable. Called after a received frame added ops and
  // before anything is forwarded or the peer is counted as synced; a failure closes that peer.
  using PersistOps = std::function<Result<void>(engine::LV from, engine::LV to)>;

  WsDocument(engine::Document& doc, const DocKey& key, QObject* parent = nullptr);
  ~WsDocument() override;
  WsDocument(const WsDocument&) = delete;
  WsDocument& operator=(const WsDocument&) = delete;

  void setPersistOps(PersistOps persist) { m_persist = std::move(persist); }
  const DocKey& key() const { return m_key; }
  std::size_t peerCount() const { return m_sockets.size(); }

  // True if `frame` authenticates under this document's key and room (a listener's room check).
  bool opens(const QByteArray& frame) const;

  // Dials `url` (ws:// only for now) and syncs once connected. Failure is reported by
  // connectFailed(); success by peerJoined() and then peerSynced().
  void connectTo(const QUrl& url);
  // Takes over an open socket whose first frame, `first`, already passed opens(). Used by
  // WsListener. Takes ownership of `socket`.
  void adopt(QWebSocket* socket, const QByteArray& first);

  // The document gained local ops with LVs >= `from`: sends them to every peer.
  void sendLocalEdits(engine::LV from);
  // Closes every connection (a bye frame first), e.g. before quitting.
  void closeAll(const QString& reason);

 signals:
  void peerJoined(PeerId peer);
  // The document now holds everything the peer had when it said hello (and the peer has been
  // sent everything this side had).
  void peerSynced(PeerId peer);
  // Remote edits were applied to the document (already made durable by PersistOps).
  void patchesApplied(const std::vector<engine::Patch>& patches);
  // The connection ended; `reason` is what the remote side or this side said, if anything.
  void peerLeft(PeerId peer, const QString& reason);
  // connectTo() could not open the connection.
  void connectFailed(const QUrl& url, const QString& error);
  // A received update could not be stored; the peer was closed.
  void persistFailed(const QString& error);

 private:
  PeerId attach(QWebSocket* socket);
  void receive(PeerId peer, const QByteArray& frame);
  void handle(PeerId exceptSender, SyncHub::Output out);
  void send(PeerId peer, const Frame& frame);
  void closePeer(PeerId peer, const QString& reason);
  void checkSynced(PeerId peer);
  void detach(PeerId peer);

  engine::Document& m_doc;
  DocKey m_key;
  RoomId m_room;
  SyncHub m_hub;
  PersistOps m_persist;
  std::map<PeerId, QWebSocket*> m_sockets;
  // Version a peer announced in its hello, until this side includes it (then peerSynced).
  std::map<PeerId, engine::VersionVector> m_awaiting;
  std::map<PeerId, bool> m_helloSeen;
  std::map<PeerId, QString> m_closeReason;  // reason this side gave when closing
};

// Accepts WebSocket peers on one address and port for a set of documents. A peer's first
// binary frame must open under one of the documents' keys (its room); the socket then belongs
// to that document. Otherwise it is closed with kNoRoomReason. The documents are the caller's
// and must outlive the listener (or be removed first). One thread; not thread-safe.
class WsListener : public QObject {
  Q_OBJECT
 public:
  explicit WsListener(QObject* parent = nullptr);
  ~WsListener() override;
  WsListener(const WsListener&) = delete;
  WsListener& operator=(const WsListener&) = delete;

  void serve(WsDocument* doc);
  // Starts listening. Port 0 picks a free port; port() then says which. Fails with Error::io
  // (address in use, not a local address, ...).
  [[nodiscard]] Result<void> listen(const QHostAddress& address, std::uint16_t port);
  std::uint16_t port() const;
  void close();

 signals:
  // A connection was refused (its first frame opened in no room, or it sent text).
  void peerRefused(const QString& reason);

 private:
  void acceptPending();
  void route(QWebSocket* socket, const QByteArray& first);

  QWebSocketServer* m_server;
  std::vector<WsDocument*> m_docs;
};

}  // namespace quire::net
