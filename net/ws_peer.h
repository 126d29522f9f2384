// Peers over WebSockets: the thin Qt adapter around the sans-I/O SyncHub. A WsDocument moves one
// document's messages between its sockets (direct peers and relay rooms) and its hub, and keeps
// the routes of its link connected; a WsListener accepts incoming peers and hands each to the
// document whose room it asks for. PROTOCOL.md, "Direct peers", "Rooms", "Routes".
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <QElapsedTimer>
#include <QHostAddress>
#include <QObject>
#include <QSslConfiguration>
#include <QString>
#include <QUrl>

#include "engine/document.h"
#include "engine/result.h"
#include "engine/version_vector.h"
#include "net/crypto.h"
#include "net/frame_check_runner.h"
#include "net/sync_hub.h"

class QTcpServer;
class QTimer;
class QWebSocket;
class QWebSocketServer;

namespace quire::net {

// The close reason a listener gives a peer whose first frame opens in none of its rooms.
inline constexpr const char* kNoRoomReason =
    "no document here opens this frame (wrong key, or the document is not served here)";
// What a direct peer answers to a "join ROOM" line for a room it serves (a relay answers with
// the room's stored items and "joined N" instead).
inline constexpr const char* kDirectPeerReply = "peer";

// Reconnection: the delay before dial number `attempt` (0 = the first retry) grows from
// `initialMs` by doubling up to `maxMs`, and a random fraction of up to `jitter` of it is taken
// off so that peers that lost one relay at once do not come back at once.
struct BackoffPolicy {
  std::int64_t initialMs = 500;
  std::int64_t maxMs = 30'000;
  double jitter = 0.5;
};
// `random01` is a uniform random number in [0, 1). Pure, for tests.
std::int64_t backoffDelayMs(int attempt, double random01, const BackoffPolicy& policy = {});

// Where one route of a document stands, for the UI.
enum class RouteState {
  Connecting,  // dialling, or connected and joining
  Live,        // joined: a relay room's stored items are in, or a direct peer's hello came
  Waiting,     // closed or unreachable; the next dial is scheduled
  Stopped,     // not dialled again (removed, or a one-shot dial that ended)
};

// One document shared with any number of WebSocket peers: accepted by a WsListener, or dialled
// on the routes of its link (relay rooms or direct peers; a route says which when it answers).
// Owns its sockets (as QObject children), its timers and a SyncHub; the engine::Document is the
// caller's and must outlive this object. Lives on one thread (the one with its event loop); not
// thread-safe.
class WsDocument : public QObject {
  Q_OBJECT
 public:
  using PeerId = SyncHub::PeerId;
  // A relay room's live update at least this large is decoded on a thread of its own while the
  // room's other streams go on (RoomOptions::checkAsideBytes; PROTOCOL.md, "Large frames").
  static constexpr std::size_t kCheckAsideBytes = 64u << 10;
  // Makes ops [from, to) of the document durable. Called after a received frame added ops and
  // before anything is forwarded or the peer is counted as synced; a failure closes that peer.
  using PersistOps = std::function<Result<void>(engine::LV from, engine::LV to)>;

  WsDocument(engine::Document& doc, const DocKey& key, QObject* parent = nullptr);
  ~WsDocument() override;
  WsDocument(const WsDocument&) = delete;
  WsDocument& operator=(const WsDocument&) = delete;

  void setPersistOps(PersistOps persist) { m_persist = std::move(persist); }
  // Makes the whole document durable in place of its stored history: called instead of
  // PersistOps after a fork's repair rebuilt the document (its LVs renumbered, ops the store
  // holds dropped; engine FORMAT.md, "Forks"). Without it, PersistOps is given all of it.
  using ReplaceHistory = std::function<Result<void>()>;
  void setReplaceHistory(ReplaceHistory replace) { m_replace = std::move(replace); }
  const DocKey& key() const { return m_key; }
  const RoomId& room() const { return m_room; }
  std::size_t peerCount() const { return m_sockets.size(); }

  // True if `frame` authenticates under this document's key and room (a listener's room check).
  bool opens(const QByteArray& frame) const;

  // Keeps `url` (ws:// or wss://) connected until removeRoute(): dials it, joins the document
  // there, and after a failed dial or a close dials again after backoffDelayMs(). Progress is
  // reported by routeStateChanged(); a joined route by peerJoined() and peerSynced().
  void addRoute(const QUrl& url, BackoffPolicy policy = {});
  void removeRoute(const QUrl& url);
  // Dials `url` once, without retrying: failure is reported by connectFailed(), success by
  // peerJoined() and then peerSynced().
  void connectTo(const QUrl& url);
  // Options for relay rooms joined from now on (tests and benchmarks tune snapshots).
  void setRoomOptions(const RoomOptions& options) { m_roomOptions = options; }
  // Takes over an open socket whose first frame, `first`, already passed opens(). Used by
  // WsListener. Takes ownership of `socket`.
  void adopt(QWebSocket* socket, const QByteArray& first);

  // The document gained local ops with LVs in [from, to): sends them to every peer.
  void sendLocalEdits(engine::LV from, engine::LV to = ~engine::LV{0});
  // This replica's presence (name, colour, anchors); sent coalesced within 50 ms, re-sent
  // every 10 s while connected.
  void setLocalPresence(const Presence& presence);
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
  // A remote replica's presence (its anchors resolve in the document).
  void presenceChanged(const Presence& presence);
  // A remote replica left, or its presence expired.
  void presenceLeft(const engine::ReplicaId& replica);
  // The document was replaced wholesale (patchesApplied follows with the whole text): a
  // relay's snapshot filled it (it was empty), or a fork's repair rebuilt it, renumbering its
  // LVs (anything kept by LV, e.g. an undo stack, no longer applies).
  void documentReplaced();
  // Local ops below `lv` reached someone who keeps them: a relay stored them (its "synced"
  // answer), or they went to a direct peer over a session that had exchanged hellos.
  void localEditsReceived(engine::LV lv);
  // Joining a relay room: `received` of the `total` bytes of stored items the relay announced
  // (its "replay" line) have arrived; the last report has received == total.
  void joinProgress(qint64 received, qint64 total);
  void routeStateChanged(const QUrl& url, RouteState state, const QString& detail);

 private:
  struct Route {
    QUrl url;
    bool keep = true;  // dial again after a close
    BackoffPolicy policy;
    int attempt = 0;   // dials since the route was last live
    bool wasLive = false;
    QWebSocket* socket = nullptr;
    PeerId peer = 0;   // while connected
    QTimer* retry = nullptr;
  };

  PeerId attach(QWebSocket* socket);
  PeerId attachRoom(QWebSocket* socket);
  void wire(PeerId peer, QWebSocket* socket);
  void dial(Route& route);
  void routeEnded(const QUrl& url, const QString& why);
  Route* routeOf(PeerId peer);
  void receive(PeerId peer, const QByteArray& frame);
  void receiveText(PeerId peer, const QString& text);
  bool persist(PeerId peer, const SyncHub::Output& out);
  // Persists `out`, says if the document was replaced, then handles it; false if it could not
  // be stored (the connection is then closed).
  bool settle(PeerId peer, SyncHub::Output out);
  // A held frame's check came back (FrameCheckRunner).
  void checked(PeerId peer, FrameCheck check, const std::string& exception);
  void handle(SyncHub::Output out);
  void send(PeerId peer, const SyncHub::Outgoing& message);
  void closePeer(PeerId peer, const QString& reason);
  // How the log names a connection: its route's URL, else the remote address.
  QString peerName(PeerId peer) const;
  void dropAfterException(PeerId peer, const char* what);
  void checkSynced(PeerId peer);
  void detach(PeerId peer);
  void tick();

  engine::Document& m_doc;
  DocKey m_key;
  RoomId m_room;
  SyncHub m_hub;
  PersistOps m_persist;
  ReplaceHistory m_replace;
  RoomOptions m_roomOptions;
  RejectedFrames m_rejectedFrames;
  std::map<PeerId, QWebSocket*> m_sockets;
  std::map<QString, Route> m_routes;  // by URL
  QTimer* m_tickTimer = nullptr;
  QTimer* m_presenceTimer = nullptr;
  QTimer* m_storedAskTimer = nullptr;  // asks rooms about ops typed in the last moment
  std::unique_ptr<FrameCheckRunner> m_checks;
  QElapsedTimer m_clock;
  // Version a peer announced in its hello, until this side includes it (then peerSynced).
  std::map<PeerId, engine::VersionVector> m_awaiting;
  std::map<PeerId, bool> m_helloSeen;
  // Relay rooms replaying their stored items: bytes announced, bytes received so far.
  struct Replay {
    qint64 total = 0;
    qint64 received = 0;
  };
  std::map<PeerId, Replay> m_replays;
  // Relay rooms asked whether they stored this copy's ops: up to `asked` (answer pending),
  // and up to `wanted` (ask again once it comes). Only relays that announced their replay
  // have an entry: an older relay knows no "sync" and would close the connection over it.
  struct StoredAsk {
    engine::LV asked = 0;
    engine::LV wanted = 0;
    bool outstanding = false;
  };
  std::map<PeerId, StoredAsk> m_storedAsks;
  // Notes that `peer` should confirm storing ops below `upTo`; asks now if `now`, else within
  // kStoredAskDelayMs (one question for a burst of keystrokes).
  void askStored(PeerId peer, engine::LV upTo, bool now);
  void sendStoredAsk(PeerId peer);
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
  // With `tls` (net/tls.h, loadServerTls) it listens for wss:// instead of ws://.
  [[nodiscard]] Result<void> listen(const QHostAddress& address, std::uint16_t port,
                                    const std::optional<QSslConfiguration>& tls = std::nullopt);
  // A connection that has not asked for a room within this long is closed.
  void setHandshakeTimeoutMs(int ms) { m_handshakeTimeoutMs = ms; }
  std::uint16_t port() const;
  void close();

 signals:
  // A connection was refused (its first frame opened in no room, or it sent text).
  void peerRefused(const QString& reason);

 private:
  void acceptPending();
  void route(QWebSocket* socket, const QByteArray& first);
  void answerJoin(QWebSocket* socket, const QString& text);
  void refuse(QWebSocket* socket, const QString& reason);

  QWebSocketServer* m_server = nullptr;  // handshakes only, made by listen()
  QTcpServer* m_tcp = nullptr;           // accepts (a QSslServer for wss://)
  std::vector<WsDocument*> m_docs;
  int m_handshakeTimeoutMs = 10'000;
};

}  // namespace quire::net
