#include "net/relay_router.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "net/frame.h"

namespace quire::net {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<std::uint8_t> bytesOf(const std::string& text) {
  return std::vector<std::uint8_t>(text.begin(), text.end());
}

}  // namespace

// --- MemoryRelayStore ---------------------------------------------------------------------------

Result<RelayRoomState> MemoryRelayStore::roomState(const RelayRoomKey& room) {
  RelayRoomState state;
  if (auto last = m_lastSeq.find(room); last != m_lastSeq.end()) state.lastSeq = last->second;
  if (auto it = m_rooms.find(room); it != m_rooms.end() && !it->second.empty()) {
    state.firstSeq = it->second.begin()->first;
    state.count = it->second.size();
    for (const auto& [seq, bytes] : it->second) state.bytes += bytes.size();
  }
  return state;
}

Result<std::vector<RelayItem>> MemoryRelayStore::items(const RelayRoomKey& room,
                                                       std::uint64_t fromSeq,
                                                       std::size_t maxBytes) {
  std::vector<RelayItem> out;
  auto it = m_rooms.find(room);
  if (it == m_rooms.end()) return out;
  std::size_t bytes = 0;
  for (auto item = it->second.lower_bound(fromSeq); item != it->second.end() && bytes < maxBytes;
       ++item) {
    bytes += item->second.size();
    out.push_back({item->first, item->second});
  }
  return out;
}

std::size_t MemoryRelayStore::totalBytes() const {
  std::size_t total = 0;
  for (const auto& [room, items] : m_rooms)
    for (const auto& [seq, bytes] : items) total += bytes.size();
  return total;
}

Result<void> MemoryRelayStore::append(const RelayRoomKey& room, std::uint64_t seq,
                                      std::span<const std::uint8_t> bytes) {
  if (failWrites) return fail(Error::io("memory relay store: append failed (failWrites)"));
  m_rooms[room][seq].assign(bytes.begin(), bytes.end());
  m_lastSeq[room] = std::max(m_lastSeq[room], seq);
  return {};
}

Result<void> MemoryRelayStore::replace(const RelayRoomKey& room, std::uint64_t upTo,
                                       std::span<const std::uint8_t> bytes) {
  if (failWrites) return fail(Error::io("memory relay store: replace failed (failWrites)"));
  auto& items = m_rooms[room];
  items.erase(items.begin(), items.upper_bound(upTo));
  items[upTo].assign(bytes.begin(), bytes.end());
  m_lastSeq[room] = std::max(m_lastSeq[room], upTo);
  return {};
}

// --- room ids -----------------------------------------------------------------------------------

Result<RelayRoomKey> parseRelayRoom(std::string_view hex) {
  RelayRoomKey room{};
  if (hex.size() != 2 * room.size())
    return fail(Error::malformed("relay join: room id has " + std::to_string(hex.size()) +
                                 " characters, not 64 hex digits"));
  for (std::size_t i = 0; i < room.size(); ++i) {
    const int hi = hexValue(hex[2 * i]);
    const int lo = hexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return fail(Error::malformed("relay join: room id is not hex near position " +
                                   std::to_string(2 * i)));
    room[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return room;
}

std::string relayRoomHex(const RelayRoomKey& room) {
  std::string out;
  out.reserve(2 * room.size());
  for (std::uint8_t b : room) {
    out.push_back(kHexDigits[b >> 4]);
    out.push_back(kHexDigits[b & 0x0f]);
  }
  return out;
}

// --- RelayRouter --------------------------------------------------------------------------------

RelayRouter::RelayRouter(RelayStore& store, RelayLimits limits)
    : m_store(store), m_limits(limits) {}

RelayRouter::Connected RelayRouter::connect(std::string_view address, std::int64_t nowMs) {
  Connected result;
  result.conn = m_nextConn++;
  Conn& conn = m_conns[result.conn];
  conn.lastActive = nowMs;
  conn.lastRefill = nowMs;
  conn.tokens = m_limits.maxMessagesPerSecond;
  auto count = m_perAddress.find(address);
  if (count != m_perAddress.end() && count->second >= m_limits.maxConnectionsPerAddress) {
    close(result.conn, conn,
          "too many connections from this address (limit " +
              std::to_string(m_limits.maxConnectionsPerAddress) + ")",
          result.out);
    return result;
  }
  if (count == m_perAddress.end()) count = m_perAddress.emplace(std::string(address), 0).first;
  count->second += 1;
  conn.address = std::string(address);
  return result;
}

std::size_t RelayRouter::memberCount(const RelayRoomKey& room) const {
  auto it = m_rooms.find(room);
  return it == m_rooms.end() ? 0 : it->second.members.size();
}

std::size_t RelayRouter::largestNextMessage(ConnId conn) const {
  auto it = m_conns.find(conn);
  const bool snapshot = it != m_conns.end() && it->second.pendingSnapshot.has_value();
  return snapshot ? std::max(m_limits.maxFrameBytes, m_limits.maxRoomBytes)
                  : m_limits.maxFrameBytes;
}

RelayRouter::Conn* RelayRouter::live(ConnId conn) {
  auto it = m_conns.find(conn);
  if (it == m_conns.end() || it->second.closing) return nullptr;
  return &it->second;
}

void RelayRouter::sendText(ConnId to, const std::string& text, Output& out) {
  out.messages.push_back({to, true, bytesOf(text)});
}

void RelayRouter::close(ConnId id, Conn& conn, std::string reason, Output& out) {
  // Leave the room at once, so nothing more is forwarded to a socket that is closing.
  if (conn.room) {
    auto room = m_rooms.find(*conn.room);
    if (room != m_rooms.end()) {
      room->second.members.erase(id);
      room->second.joining.erase(id);
      if (room->second.members.empty() && room->second.joining.empty()) m_rooms.erase(room);
    }
  }
  m_joining.erase(id);
  conn.joinFrom.reset();
  conn.closing = true;
  out.close.push_back({id, std::move(reason)});
}

void RelayRouter::disconnect(ConnId conn) {
  auto it = m_conns.find(conn);
  if (it == m_conns.end()) return;
  if (!it->second.closing) {
    Output ignored;
    close(conn, it->second, "disconnected", ignored);
  }
  // The slot is freed only now, not at close(): a closing socket is still open until it is gone.
  if (!it->second.address.empty()) {
    auto count = m_perAddress.find(it->second.address);
    if (count != m_perAddress.end() && --count->second == 0) m_perAddress.erase(count);
  }
  m_conns.erase(it);
}

bool RelayRouter::admit(ConnId id, Conn& conn, std::int64_t nowMs, Output& out) {
  conn.lastActive = nowMs;
  const double rate = m_limits.maxMessagesPerSecond;
  const double elapsed = static_cast<double>(std::max<std::int64_t>(0, nowMs - conn.lastRefill));
  conn.tokens = std::min(rate, conn.tokens + elapsed * rate / 1000.0);
  conn.lastRefill = nowMs;
  if (conn.tokens < 1.0) {
    close(id, conn,
          "too many messages per second (limit " + std::to_string(m_limits.maxMessagesPerSecond) +
              ")",
          out);
    return false;
  }
  conn.tokens -= 1.0;
  return true;
}

RelayRouter::Output RelayRouter::receiveText(ConnId id, std::string_view text, std::int64_t nowMs) {
  Output out;
  Conn* conn = live(id);
  if (conn == nullptr || !admit(id, *conn, nowMs, out)) return out;
  if (conn->pendingSnapshot) {
    close(id, *conn, "expected the snapshot as a binary message after 'snapshot N'", out);
    return out;
  }
  const std::size_t space = text.find(' ');
  const std::string_view verb = text.substr(0, space);
  const std::string_view arg =
      space == std::string_view::npos ? std::string_view{} : text.substr(space + 1);
  if (verb == "join") {
    join(id, *conn, arg, out);
  } else if (!conn->room) {
    close(id, *conn, "join a room first ('join ROOM-ID')", out);
  } else if (verb == "mark" && space == std::string_view::npos) {
    sendText(id, "mark " + std::to_string(m_rooms[*conn->room].state.lastSeq), out);
  } else if (verb == "sync" && space == std::string_view::npos) {
    // Like "mark", for the sender's own frames: the server sends the answer only once what came
    // before it is committed, so "synced" means stored.
    sendText(id, "synced " + std::to_string(m_rooms[*conn->room].state.lastSeq), out);
  } else if (verb == "snapshot") {
    std::uint64_t upTo = 0;
    const auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), upTo);
    if (arg.empty() || ec != std::errc() || end != arg.data() + arg.size()) {
      close(id, *conn, "malformed 'snapshot N'", out);
      return out;
    }
    conn->pendingSnapshot = upTo;
  } else {
    close(id, *conn, "unknown relay message", out);
  }
  return out;
}

void RelayRouter::join(ConnId id, Conn& conn, std::string_view hex, Output& out) {
  if (conn.room) {
    close(id, conn, "already joined a room", out);
    return;
  }
  auto key = parseRelayRoom(hex);
  if (!key) {
    close(id, conn, key.error().message(), out);
    return;
  }
  auto existing = m_rooms.find(*key);
  RelayRoomState state;
  if (existing != m_rooms.end()) {
    state = existing->second.state;
  } else {
    auto loaded = m_store.roomState(*key);
    if (!loaded) {
      close(id, conn, "cannot read the room's store", out);
      return;
    }
    state = *loaded;
  }
  // How much is coming, so the joiner can show progress (clients ignore texts they do not know).
  sendText(id, "replay " + std::to_string(state.count) + " " + std::to_string(state.bytes), out);
  Room& room = m_rooms[*key];
  room.state = state;
  room.joining.insert(id);
  m_joining.insert(id);
  conn.room = *key;
  conn.joinFrom = 0;
  joinStep(id, conn, out);
}

RelayRouter::Output RelayRouter::continueJoin(ConnId id) {
  Output out;
  if (Conn* conn = live(id); conn != nullptr && conn->joinFrom) joinStep(id, *conn, out);
  return out;
}

void RelayRouter::joinStep(ConnId id, Conn& conn, Output& out) {
  Room& room = m_rooms[*conn.room];
  auto items = m_store.items(*conn.room, *conn.joinFrom, kRelayJoinStepBytes);
  if (!items) {
    close(id, conn, "cannot read the room's store", out);
    return;
  }
  for (RelayItem& item : *items) {
    conn.joinFrom = item.seq + 1;
    out.messages.push_back({id, false, std::move(item.bytes)});
  }
  // A snapshot stored meanwhile replaced items: the next step starts from it, or past it.
  if (!items->empty() && *conn.joinFrom <= room.state.lastSeq) return;
  sendText(id, "joined " + std::to_string(room.state.lastSeq), out);
  room.joining.erase(id);
  room.members.insert(id);
  m_joining.erase(id);
  conn.joinFrom.reset();
}

RelayRouter::Output RelayRouter::receiveBinary(ConnId id, std::span<const std::uint8_t> bytes,
                                               std::int64_t nowMs) {
  Output out;
  Conn* conn = live(id);
  if (conn == nullptr || !admit(id, *conn, nowMs, out)) return out;
  if (!conn->room) {
    close(id, *conn, "join a room first ('join ROOM-ID')", out);
  } else if (conn->joinFrom) {
    close(id, *conn, "a frame before 'joined' (the room is still being sent)", out);
  } else if (conn->pendingSnapshot) {
    // The blob after "snapshot N" is stored whatever its first byte says.
    storeSnapshot(id, *conn, bytes, out);
  } else if (isTransientFrame(bytes)) {
    forwardTransient(id, *conn, bytes, out);
  } else {
    storeFrame(id, *conn, bytes, out);
  }
  return out;
}

bool RelayRouter::checkFrameSize(ConnId id, Conn& conn, std::span<const std::uint8_t> bytes,
                                 Output& out) {
  if (bytes.empty()) {
    close(id, conn, "empty frame", out);
    return false;
  }
  if (bytes.size() > m_limits.maxFrameBytes) {
    close(id, conn,
          "frame too large (" + std::to_string(bytes.size()) + " bytes, limit " +
              std::to_string(m_limits.maxFrameBytes) + ")",
          out);
    return false;
  }
  return true;
}

void RelayRouter::forwardTransient(ConnId id, Conn& conn, std::span<const std::uint8_t> bytes,
                                   Output& out) {
  if (!checkFrameSize(id, conn, bytes, out)) return;
  // No seq and no storage: it only matters to whoever is in the room right now, and the
  // room's quota is not touched, so presence keeps flowing even in a full room.
  for (ConnId member : m_rooms[*conn.room].members)
    if (member != id) out.messages.push_back({member, false, {bytes.begin(), bytes.end()}});
}

void RelayRouter::storeFrame(ConnId id, Conn& conn, std::span<const std::uint8_t> bytes,
                             Output& out) {
  if (!checkFrameSize(id, conn, bytes, out)) return;
  Room& room = m_rooms[*conn.room];
  if (room.state.bytes + bytes.size() > m_limits.maxRoomBytes) {
    close(id, conn,
          "room storage full (limit " + std::to_string(m_limits.maxRoomBytes) +
              " bytes): a member must send a snapshot",
          out);
    return;
  }
  const std::uint64_t seq = room.state.lastSeq + 1;
  if (!m_store.append(*conn.room, seq, bytes)) {
    close(id, conn, "cannot store the frame", out);
    return;
  }
  if (room.state.count == 0) room.state.firstSeq = seq;
  room.state.lastSeq = seq;
  room.state.count += 1;
  room.state.bytes += bytes.size();
  for (ConnId member : room.members)
    if (member != id) out.messages.push_back({member, false, {bytes.begin(), bytes.end()}});
}

void RelayRouter::storeSnapshot(ConnId id, Conn& conn, std::span<const std::uint8_t> bytes,
                                Output& out) {
  const std::uint64_t upTo = *conn.pendingSnapshot;
  conn.pendingSnapshot.reset();
  Room& room = m_rooms[*conn.room];
  const std::string prefix = "snapshot-refused " + std::to_string(upTo) + " ";
  // A refusal is not a violation: two members may snapshot concurrently, and the later one
  // then names a point the first already replaced.
  if (upTo > room.state.lastSeq) {
    sendText(id, prefix + "beyond the last stored frame " + std::to_string(room.state.lastSeq),
             out);
    return;
  }
  if (room.state.count > 0 && upTo < room.state.firstSeq) {
    sendText(id, prefix + "older than the stored snapshot " + std::to_string(room.state.firstSeq),
             out);
    return;
  }
  if (bytes.empty() || bytes.size() > m_limits.maxRoomBytes) {
    close(id, conn,
          "snapshot of " + std::to_string(bytes.size()) + " bytes (limit " +
              std::to_string(m_limits.maxRoomBytes) + ")",
          out);
    return;
  }
  if (!m_store.replace(*conn.room, upTo, bytes)) {
    close(id, conn, "cannot store the snapshot", out);
    return;
  }
  auto state = m_store.roomState(*conn.room);
  if (!state) {
    close(id, conn, "cannot read the room's store", out);
    return;
  }
  room.state = *state;
  // Everyone hears of it (to restart their count of items since the last snapshot), and the
  // others get the blob right after the notice: a snapshot may carry what they never received
  // as frames (a big paste a member snapshotted instead of sending).
  const std::string stored = "snapshot-stored " + std::to_string(upTo);
  for (ConnId member : room.members) {
    sendText(member, stored, out);
    if (member != id) out.messages.push_back({member, false, {bytes.begin(), bytes.end()}});
  }
}

RelayRouter::Output RelayRouter::expireIdle(std::int64_t nowMs) {
  Output out;
  for (auto& [id, conn] : m_conns) {
    if (conn.closing || nowMs - conn.lastActive <= m_limits.idleTimeoutMs) continue;
    close(id, conn, "idle for more than " + std::to_string(m_limits.idleTimeoutMs / 1000) + " s",
          out);
  }
  return out;
}

}  // namespace quire::net
