// The relay's routing logic, sans-I/O: which room each connection joined, what it may send, what
// is stored, and what goes to whom. No sockets, no clock (times are passed in), no Qt; the
// WebSocket adapter is net/relay_server.h. PROTOCOL.md, "Relay".
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"
#include "net/crypto.h"

namespace quire::net {

// Every limit is per relay process; over one, the offending connection is closed with a reason
// and everyone else carries on.
struct RelayLimits {
  std::size_t maxFrameBytes = 1u << 20;         // one binary message (not a snapshot)
  std::uint64_t maxRoomBytes = 64ull << 20;     // stored bytes per room; also caps a snapshot
  std::uint32_t maxMessagesPerSecond = 200;     // per connection, token bucket, burst = rate
  std::int64_t idleTimeoutMs = 300'000;         // no message from the client for this long
  std::uint32_t maxConnectionsPerAddress = 64;  // open connections from one client address
};

// A room's stored items, summarised. `count == 0` means nothing is stored (then firstSeq is 0).
struct RelayRoomState {
  std::uint64_t firstSeq = 0;
  std::uint64_t lastSeq = 0;  // highest seq ever stored in the room (0: none)
  std::uint64_t count = 0;
  std::uint64_t bytes = 0;
};

// One stored item: a frame, or a snapshot that replaced every item up to its seq.
struct RelayItem {
  std::uint64_t seq = 0;
  std::vector<std::uint8_t> bytes;
  bool operator==(const RelayItem&) const = default;
};

using RelayRoomKey = std::array<std::uint8_t, kRoomIdBytes>;

// Where the router keeps rooms' items: the quire-relay program uses SQLite
// (app/relay/sqlite_relay_store.h), tests use MemoryRelayStore. Every call is durable when it
// returns success. Implementations need not be thread-safe.
class RelayStore {
 public:
  virtual ~RelayStore() = default;
  [[nodiscard]] virtual Result<RelayRoomState> roomState(const RelayRoomKey& room) = 0;
  // The room's items with seq >= fromSeq, in seq order: at least one if there is any, and no
  // more once their bytes reach maxBytes (a join reads the room in such steps).
  [[nodiscard]] virtual Result<std::vector<RelayItem>> items(const RelayRoomKey& room,
                                                             std::uint64_t fromSeq,
                                                             std::size_t maxBytes) = 0;
  // REQUIRES: seq is above every seq stored in the room.
  [[nodiscard]] virtual Result<void> append(const RelayRoomKey& room, std::uint64_t seq,
                                            std::span<const std::uint8_t> bytes) = 0;
  // Atomically deletes the room's items with seq <= upTo and stores `bytes` at seq upTo.
  [[nodiscard]] virtual Result<void> replace(const RelayRoomKey& room, std::uint64_t upTo,
                                             std::span<const std::uint8_t> bytes) = 0;

  // Group commit. After beginBatch(), a store may hold writes in one open transaction: reads see
  // them, but nothing is durable until commitBatch() succeeds; if it fails, every write since
  // beginBatch() is gone. The relay's adapter opens a batch for the messages of one event-loop
  // pass and forwards nothing before the commit. Stores without batches ignore these.
  [[nodiscard]] virtual Result<void> beginBatch() { return {}; }
  [[nodiscard]] virtual Result<void> commitBatch() { return {}; }
};

// A RelayStore in memory, for tests. `failWrites` makes append/replace fail (fault tests).
class MemoryRelayStore final : public RelayStore {
 public:
  Result<RelayRoomState> roomState(const RelayRoomKey& room) override;
  Result<std::vector<RelayItem>> items(const RelayRoomKey& room, std::uint64_t fromSeq,
                                      std::size_t maxBytes) override;
  Result<void> append(const RelayRoomKey& room, std::uint64_t seq,
                      std::span<const std::uint8_t> bytes) override;
  Result<void> replace(const RelayRoomKey& room, std::uint64_t upTo,
                       std::span<const std::uint8_t> bytes) override;
  bool failWrites = false;
  // Bytes stored in every room together.
  std::size_t totalBytes() const;

 private:
  std::map<RelayRoomKey, std::map<std::uint64_t, std::vector<std::uint8_t>>> m_rooms;
  std::map<RelayRoomKey, std::uint64_t> m_lastSeq;
};

// Parses the 64 hex digits of a room id (either case). Fails with Error::malformed.
[[nodiscard]] Result<RelayRoomKey> parseRelayRoom(std::string_view hex);
// The 64 lowercase hex digits of `room`.
std::string relayRoomHex(const RelayRoomKey& room);

// A join sends the room's stored items in steps of about this many bytes (PROTOCOL.md, "Relay").
// A step costs the relay's event loop about 0.5 ms on the test VM whatever its size (most of it
// reading database pages), so smaller steps would only add steps.
inline constexpr std::size_t kRelayJoinStepBytes = 256u << 10;

// Routes the envelope of PROTOCOL.md "Relay" among connections. The store is the caller's and
// must outlive the router. Every frame is stored (committed) before it is forwarded; if storing
// fails the sender is closed and nothing is forwarded. Transient frames (kTransientFlag, see
// net/frame.h) are forwarded the same way but never stored. Not thread-safe.
class RelayRouter {
 public:
  using ConnId = std::uint64_t;

  struct Message {
    ConnId to = 0;
    bool text = false;  // a text message (envelope) or a binary one (an opaque frame)
    std::vector<std::uint8_t> bytes;
  };
  struct Closing {
    ConnId conn = 0;
    std::string reason;
  };
  // Send `messages` in order, then close each of `close` with its reason (the router already
  // treats those as gone: it ignores their input until disconnect()).
  struct Output {
    std::vector<Message> messages;
    std::vector<Closing> close;
  };

  struct Connected {
    ConnId conn = 0;
    Output out;  // closes `conn` at once if it was refused (too many from its address)
  };

  explicit RelayRouter(RelayStore& store, RelayLimits limits = {});
  RelayRouter(const RelayRouter&) = delete;
  RelayRouter& operator=(const RelayRouter&) = delete;

  // A new connection from `address` (any stable text naming the client's host, e.g. its IP) at
  // time `nowMs` (any monotonic clock, milliseconds). Over maxConnectionsPerAddress open
  // connections from one address, the new one is refused: `out` closes it with the reason and
  // it takes no slot. Either way the caller calls disconnect(conn) once the socket is gone.
  Connected connect(std::string_view address, std::int64_t nowMs);
  Output receiveText(ConnId conn, std::string_view text, std::int64_t nowMs);
  Output receiveBinary(ConnId conn, std::span<const std::uint8_t> bytes, std::int64_t nowMs);
  // The connection is gone (closed by either side). Unknown ids are ignored.
  void disconnect(ConnId conn);
  // Closes connections silent for longer than the idle timeout.
  Output expireIdle(std::int64_t nowMs);

  // A join sends the room's stored items in steps (kRelayJoinStepBytes), so that a large room
  // neither stalls everyone else while it is read and sent nor sits whole in memory. The first
  // step goes out with the join's reply; these are the connections with steps still to come,
  // and continueJoin sends `conn` its next one. After the last, "joined N": only then is `conn`
  // a member, sent live frames, and allowed to send frames. Frames stored in the room
  // meanwhile are read by the later steps. Unknown or finished connections get nothing.
  const std::set<ConnId>& joining() const { return m_joining; }
  Output continueJoin(ConnId conn);

  // The largest message `conn` may send next: maxFrameBytes, or maxRoomBytes right after
  // "snapshot N" (its blob). The server sets its socket's limit to it, so a larger message is
  // refused as its first fragment arrives instead of being read whole (PROTOCOL.md, "Limits").
  std::size_t largestNextMessage(ConnId conn) const;
  const RelayLimits& limits() const { return m_limits; }
  RelayStore& store() { return m_store; }
  std::size_t connectionCount() const { return m_conns.size(); }
  std::size_t memberCount(const RelayRoomKey& room) const;

 private:
  struct Conn {
    std::string address;  // empty if refused, so it holds no slot in m_perAddress
    std::optional<RelayRoomKey> room;
    std::int64_t lastActive = 0;
    double tokens = 0;
    std::int64_t lastRefill = 0;
    std::optional<std::uint64_t> pendingSnapshot;  // after "snapshot N", until its blob
    std::optional<std::uint64_t> joinFrom;         // while joining: the next seq to send
    bool closing = false;
  };
  struct Room {
    RelayRoomState state;
    std::set<ConnId> members;
    std::set<ConnId> joining;  // connections still being sent the stored items
  };

  Conn* live(ConnId conn);
  bool admit(ConnId id, Conn& conn, std::int64_t nowMs, Output& out);
  void close(ConnId id, Conn& conn, std::string reason, Output& out);
  void join(ConnId id, Conn& conn, std::string_view hex, Output& out);
  void joinStep(ConnId id, Conn& conn, Output& out);
  void storeSnapshot(ConnId id, Conn& conn, std::span<const std::uint8_t> bytes, Output& out);
  void storeFrame(ConnId id, Conn& conn, std::span<const std::uint8_t> bytes, Output& out);
  void forwardTransient(ConnId id, Conn& conn, std::span<const std::uint8_t> bytes, Output& out);
  bool checkFrameSize(ConnId id, Conn& conn, std::span<const std::uint8_t> bytes, Output& out);
  static void sendText(ConnId to, const std::string& text, Output& out);

  RelayStore& m_store;
  RelayLimits m_limits;
  ConnId m_nextConn = 1;
  std::map<ConnId, Conn> m_conns;
  std::map<RelayRoomKey, Room> m_rooms;  // rooms with at least one member or joiner
  std::set<ConnId> m_joining;
  // Open connections (not refused) per address; entries are erased when they reach 0.
  std::map<std::string, std::uint32_t, std::less<>> m_perAddress;
};

}  // namespace quire::net
