// An independent oracle for engine/FORMAT.md, "Ordering": the claim that the engine's YjsMod-style
// integration rule gives the same document order as FugueMax.
//
// Source: M. Weidner, M. Kleppmann, "The Art of the Fugue: Minimizing Interleaving in
// Collaborative Text Editing", IEEE TPDS 36(11) 2025 / arXiv 2305.00583, cited as [Fugue]: its
// tree-based Fugue algorithm and the FugueMax variant. The rules below were also read against the
// authors' public reference implementations (mweidner037/fugue "fugue-simple";
// josephg/reference-crdts "fugue-max-simple.ts"); nothing is copied, and nothing here looks at the
// engine's internals or its origins: only at what a user sees (text) and at the update bytes.
//
// The oracle, deliberately literal and O(n) per operation:
//  * The state is a tree whose root is a placeholder; every other node is one inserted character
//    (id, character, parent, side = left or right child, tombstone flag). The list is the
//    in-order traversal: a node's left children (in sibling order), the node, its right children.
//    Deleting marks the node as a tombstone; it stays in the tree.
//  * Insert at visible index p ([Fugue], the Fugue insert rule): leftOrigin = the visible node at
//    p-1 (the root if p = 0); rightOrigin = the node right after leftOrigin in the traversal,
//    tombstones included (none = end of the list). If rightOrigin is none or is not a descendant
//    of leftOrigin, the new node is a right child of leftOrigin; otherwise it is a left child of
//    rightOrigin. The sender computes (parent, side) and sends it with the id; receivers just
//    attach the node (parent and side never depend on the receiver's state).
//  * Sibling order: Fugue orders same-side siblings by id. FugueMax keeps that for left children
//    and orders right children in reverse order of their rightOrigins (a sibling whose
//    rightOrigin comes later in the list comes first; "end" is after everything), ties by id.
//    So a right child's message also carries its rightOrigin.
//  * Ids are (replica id, counter); the oracle's replica key is byte 0 of the engine's 16-byte
//    ReplicaId (the only byte that differs here), so the oracle's id order is the engine's
//    replica-id order. The counter counts every insert and delete of the replica, like the
//    engine's seq.
//
// Each engine replica (quire::engine::Document) has an oracle replica beside it. Local edits are
// applied to both by position; the oracle computes the origins from its own state, never from the
// engine. Updates move between engine replicas as encodeUpdateSince / applyUpdate; the oracle
// replica on the receiving side gets every message the sender's oracle has and it lacks, in the
// sender's order (causal). Characters are unique per (replica, counter), so equal text means equal
// order of the visible characters.
#include <algorithm>
#include <climits>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/document.h"
#include "tests/support/test_util.h"

using quire::engine::Document;
using namespace quire::test;

namespace {

// ---- The oracle ------------------------------------------------------------------------------

enum class Variant : std::uint8_t { Fugue, FugueMax };
enum class Side : std::uint8_t { Left, Right };

// An element id: `replica` is the replica id's byte 0 (-1 for the root), `counter` its op count.
struct OId {
  int replica = -1;
  std::uint32_t counter = 0;
  auto operator<=>(const OId&) const = default;
};
constexpr OId kRootId{};

struct InsertMsg {
  OId id;
  char32_t ch = 0;
  OId parent;
  Side side = Side::Right;
  std::optional<OId> rightOrigin;  // right children only (FugueMax order); empty = end of list
};

struct DeleteMsg {
  OId id;  // the delete's own id (it uses up a counter value, as in the engine)
  OId target;
};

using Msg = std::variant<InsertMsg, DeleteMsg>;

OId idOf(const Msg& m) {
  return std::visit([](const auto& x) { return x.id; }, m);
}

class FugueTree {
 public:
  explicit FugueTree(Variant variant) : m_variant(variant) {
    m_nodes.push_back(Node{});  // the root
    m_index[kRootId] = 0;
  }

  bool has(OId id) const { return m_index.count(id) != 0; }

  // Every node but the root, in list order, tombstones included.
  std::vector<int> traversal() const {
    std::vector<int> out;
    walk(0, out);
    return out;
  }

  std::u32string text() const {
    std::u32string s;
    for (int n : traversal()) {
      if (!m_nodes[n].deleted) s.push_back(m_nodes[n].ch);
    }
    return s;
  }

  std::size_t length() const { return text().size(); }

  // The id of the visible character at `pos`. REQUIRES: pos < length().
  OId visibleAt(std::size_t pos) const {
    for (int n : traversal()) {
      if (m_nodes[n].deleted) continue;
      if (pos-- == 0) return m_nodes[n].id;
    }
    FAIL("oracle: visible position out of range");
    return kRootId;
  }

  // The insert generator: a message inserting `ch` with id `id` at visible position `pos`.
  InsertMsg makeInsert(OId id, char32_t ch, std::size_t pos) const {
    const std::vector<int> order = traversal();
    // leftOrigin: the visible node at pos-1, or the root; `next` = index in `order` after it.
    int leftOrigin = 0;
    std::size_t next = 0;
    if (pos > 0) {
      std::size_t seen = 0;
      bool found = false;
      for (std::size_t i = 0; i < order.size(); ++i) {
        if (m_nodes[order[i]].deleted) continue;
        if (++seen == pos) {
          leftOrigin = order[i];
          next = i + 1;
          found = true;
          break;
        }
      }
      REQUIRE(found);
    }
    // rightOrigin: the next node in the full traversal, tombstones included; -1 = end.
    const int rightOrigin = next < order.size() ? order[next] : -1;

    InsertMsg m;
    m.id = id;
    m.ch = ch;
    if (rightOrigin < 0 || !isDescendant(rightOrigin, leftOrigin)) {
      m.parent = m_nodes[leftOrigin].id;
      m.side = Side::Right;
      if (rightOrigin >= 0) m.rightOrigin = m_nodes[rightOrigin].id;
    } else {
      m.parent = m_nodes[rightOrigin].id;
      m.side = Side::Left;
    }
    return m;
  }

  void apply(const InsertMsg& m) {
    REQUIRE(!has(m.id));
    REQUIRE(has(m.parent));
    if (m.rightOrigin) REQUIRE(has(*m.rightOrigin));
    // List ranks of the existing nodes, to compare right origins.
    std::vector<int> rank(m_nodes.size() + 1, -1);
    const std::vector<int> order = traversal();
    for (std::size_t i = 0; i < order.size(); ++i) rank[order[i]] = static_cast<int>(i);

    Node node;
    node.id = m.id;
    node.ch = m.ch;
    node.parent = m_index.at(m.parent);
    node.side = m.side;
    node.rightOrigin = m.rightOrigin ? m_index.at(*m.rightOrigin) : -1;
    const int self = static_cast<int>(m_nodes.size());
    m_nodes.push_back(node);
    m_index[m.id] = self;

    std::vector<int>& siblings =
        m.side == Side::Left ? m_nodes[node.parent].left : m_nodes[node.parent].right;
    auto at = siblings.begin();
    while (at != siblings.end() && !goesBefore(self, *at, rank)) ++at;
    // Coverage: would plain Fugue (id order) have put it elsewhere?
    if (m_variant == Variant::FugueMax && m.side == Side::Right) {
      auto byId = siblings.begin();
      while (byId != siblings.end() && m_nodes[*byId].id < m.id) ++byId;
      if (byId != at) ++m_rightOriginDecided;
    }
    siblings.insert(at, self);
  }

  // How many right children FugueMax placed differently from plain Fugue's id order.
  int rightOriginDecided() const { return m_rightOriginDecided; }

  void apply(const DeleteMsg& m) {
    REQUIRE(has(m.target));
    m_nodes[m_index.at(m.target)].deleted = true;
  }

  void apply(const Msg& m) {
    std::visit([this](const auto& x) { apply(x); }, m);
  }

 private:
  struct Node {
    OId id;
    char32_t ch = 0;
    int parent = -1;
    Side side = Side::Right;
    int rightOrigin = -1;  // right children: their rightOrigin node, -1 = end of list
    bool deleted = false;
    std::vector<int> left;   // left children, in sibling order
    std::vector<int> right;  // right children, in sibling order
  };

  void walk(int n, std::vector<int>& out) const {
    for (int c : m_nodes[n].left) walk(c, out);
    if (n != 0) out.push_back(n);
    for (int c : m_nodes[n].right) walk(c, out);
  }

  bool isDescendant(int node, int ancestor) const {
    for (int n = node; n >= 0; n = m_nodes[n].parent) {
      if (n == ancestor) return true;
    }
    return false;
  }

  // Whether same-side siblings `a` (being added) and `b` (present) are ordered a before b.
  bool goesBefore(int a, int b, const std::vector<int>& rank) const {
    const Node& x = m_nodes[a];
    const Node& y = m_nodes[b];
    if (x.side == Side::Right && m_variant == Variant::FugueMax) {
      auto originRank = [&](int n) { return n < 0 ? INT_MAX : rank[n]; };
      const int rx = originRank(x.rightOrigin);
      const int ry = originRank(y.rightOrigin);
      REQUIRE(rx >= 0);
      REQUIRE(ry >= 0);
      if (rx != ry) return rx > ry;  // reverse order of right origins
    }
    return x.id < y.id;
  }

  Variant m_variant;
  int m_rightOriginDecided = 0;
  std::vector<Node> m_nodes;
  std::map<OId, int> m_index;
};

// One replica of the oracle: its tree, the messages it holds in the order it applied them, and
// its counter.
struct OracleReplica {
  int key = 0;  // replica id byte 0
  FugueTree tree;
  std::vector<Msg> log;
  std::set<OId> known;
  std::uint32_t counter = 0;

  OracleReplica(int k, Variant v) : key(k), tree(v) {}

  void deliver(const Msg& m) {
    if (!known.insert(idOf(m)).second) return;
    tree.apply(m);
    log.push_back(m);
  }

  void insert(std::size_t pos, const std::u32string& chars) {
    for (std::size_t i = 0; i < chars.size(); ++i) {
      deliver(tree.makeInsert(OId{key, counter++}, chars[i], pos + i));
    }
  }

  void remove(std::size_t pos, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      deliver(DeleteMsg{OId{key, counter++}, tree.visibleAt(pos)});
    }
  }

  void receiveFrom(const OracleReplica& other) {
    for (const Msg& m : other.log) deliver(m);
  }
};

// ---- Engine replicas beside oracle replicas -----------------------------------------------------

// Character for the `counter`-th op of replica number `index` (0 = A, 1 = B, ...): distinct for
// every (replica, op), so texts that are equal hold the same characters in the same order.
char32_t uniqueChar(std::size_t index, std::uint32_t counter) {
  REQUIRE(counter < 0x1000);
  return static_cast<char32_t>(0x4E00 + 0x1000 * index + counter);
}

// "A3 B0 ..." for generated characters, the character itself otherwise.
std::string labels(const std::u32string& text) {
  std::string out;
  for (char32_t c : text) {
    if (!out.empty()) out += ' ';
    if (c >= 0x4E00 && c < 0x4E00 + 0x1000 * 4) {
      out += static_cast<char>('A' + (c - 0x4E00) / 0x1000);
      out += std::to_string((c - 0x4E00) % 0x1000);
    } else {
      out += toUtf8(c);
    }
  }
  return out;
}

struct Peer {
  Document doc;
  OracleReplica oracle;
  Peer(std::uint8_t key, Variant v) : doc(replicaId(key)), oracle(key, v) {}
};

// N replicas (A, B, ...), each an engine document with an oracle replica beside it. Records every
// step, and the first step after which an engine replica's text differs from its oracle's.
class Net {
 public:
  Net(const std::vector<std::uint8_t>& keys, Variant v) : m_variant(v) {
    for (std::uint8_t k : keys) m_peers.emplace_back(k, v);
    std::ostringstream s;
    s << "replicas:";
    for (std::size_t i = 0; i < keys.size(); ++i)
      s << ' ' << name(i) << "=0x" << std::hex << int(keys[i]) << std::dec;
    m_trace.push_back(s.str());
  }

  std::size_t size() const { return m_peers.size(); }
  const Document& doc(std::size_t i) const { return m_peers[i].doc; }
  std::uint32_t length(std::size_t i) const { return m_peers[i].doc.length(); }
  std::uint32_t nextCounter(std::size_t i) const { return m_peers[i].oracle.counter; }
  int rightOriginDecided(std::size_t i) const {
    return m_peers[i].oracle.tree.rightOriginDecided();
  }

  std::string engineText(std::size_t i) const { return m_peers[i].doc.text(); }
  std::string oracleText(std::size_t i) const { return toUtf8(m_peers[i].oracle.tree.text()); }

  void insert(std::size_t i, std::uint32_t pos, const std::u32string& chars) {
    Peer& p = m_peers[i];
    REQUIRE(errorOf(p.doc.insert(pos, toUtf8(chars))) == "");
    p.oracle.insert(pos, chars);
    log(std::string(1, name(i)) + ": insert at " + std::to_string(pos) + " [" + labels(chars) +
        "]");
    compare(i);
  }

  void remove(std::size_t i, std::uint32_t pos, std::uint32_t count) {
    Peer& p = m_peers[i];
    REQUIRE(errorOf(p.doc.remove(pos, count)) == "");
    p.oracle.remove(pos, count);
    log(std::string(1, name(i)) + ": remove " + std::to_string(count) + " at " +
        std::to_string(pos));
    compare(i);
  }

  // Everything `from` has that `to` lacks.
  void send(std::size_t from, std::size_t to) {
    Peer& a = m_peers[from];
    Peer& b = m_peers[to];
    const auto bytes = a.doc.encodeUpdateSince(b.doc.version());
    auto r = b.doc.applyUpdate(bytes);
    REQUIRE(errorOf(r) == "");
    REQUIRE(b.doc.pendingOpCount() == 0);
    b.oracle.receiveFrom(a.oracle);
    log(std::string(1, name(from)) + " -> " + name(to));
    compare(to);
  }

  // Everyone gets everything: all to A, then A to all.
  void syncAll() {
    for (std::size_t i = 1; i < m_peers.size(); ++i) send(i, 0);
    for (std::size_t i = 1; i < m_peers.size(); ++i) send(0, i);
  }

  const std::optional<std::string>& firstMismatch() const { return m_firstMismatch; }

  std::string trace() const {
    std::string s;
    for (std::size_t i = 0; i < m_trace.size(); ++i)
      s += std::to_string(i) + ". " + m_trace[i] + "\n";
    return s;
  }

  // Labels of replica i's text on both sides, for messages.
  std::string describe(std::size_t i) const {
    return std::string(1, name(i)) + " engine [" + labels(toU32(engineText(i))) + "] oracle [" +
           labels(m_peers[i].oracle.tree.text()) + "]";
  }

  static char name(std::size_t i) { return static_cast<char>('A' + i); }

 private:
  void log(std::string s) { m_trace.push_back(std::move(s)); }

  // With the FugueMax oracle, the first difference ends the test case, with the steps so far
  // (later steps could not be mirrored anyway: a position may name different characters on the
  // two sides). With plain Fugue, differences are expected and only the first is recorded.
  void compare(std::size_t i) {
    if (m_firstMismatch || engineText(i) == oracleText(i)) return;
    m_firstMismatch = "after step " + std::to_string(m_trace.size() - 1) + ": " + describe(i);
    if (m_variant == Variant::FugueMax) {
      FAIL("engine and FugueMax oracle differ " << *m_firstMismatch << "\nsteps:\n" << trace());
    }
  }

  Variant m_variant;
  std::vector<Peer> m_peers;
  std::vector<std::string> m_trace;
  std::optional<std::string> m_firstMismatch;
};

// The seeded scenario: 2-4 replicas make random inserts (single characters and short runs) and
// deletes, exchanging updates (one way, sometimes both) at random moments, then a final full
// exchange. Inserts go to a few hot places: the start, the end, where the replica last typed
// (typing on forwards, or backwards with the caret kept in front), next to one of the last few
// characters inserted anywhere. A "burst" makes the concurrency FugueMax is about: the replicas
// that show an anchor character (often one just typed) each insert right after it, some updates
// move, and they insert right after one of the burst's characters or type on, twice; so one
// character gets concurrent right children made with different right origins. The same seed
// gives the same steps whichever variant the oracle runs, as long as the engine and the oracle
// agree on lengths (always with `deletes` off).
Net runScenario(std::uint64_t seed, Variant variant, bool deletes = true) {
  Rng rng(seed);
  const std::size_t n = 2 + rng.below(3);
  const auto pick = [&](std::size_t count) {
    return static_cast<std::size_t>(rng.below(static_cast<std::uint32_t>(count)));
  };
  std::vector<std::uint8_t> keys = {0x10, 0x20, 0x30, 0x40};
  for (std::size_t i = keys.size(); i > 1; --i) std::swap(keys[i - 1], keys[pick(i)]);
  keys.resize(n);
  Net net(keys, variant);

  std::vector<std::uint32_t> caret(n, 0);
  std::vector<char32_t> recent;  // the last few characters inserted, anywhere
  const auto insertOne = [&](std::size_t r, std::uint32_t pos, std::uint32_t k, bool forwards) {
    std::u32string chars;
    for (std::uint32_t i = 0; i < k; ++i) chars.push_back(uniqueChar(r, net.nextCounter(r) + i));
    net.insert(r, pos, chars);
    for (char32_t c : chars) recent.push_back(c);
    if (recent.size() > 4) recent.erase(recent.begin(), recent.end() - 4);
    caret[r] = forwards ? pos + k : pos;
  };
  const auto randomSend = [&](double both) {
    const std::size_t from = pick(n);
    std::size_t to = pick(n - 1);
    if (to >= from) ++to;
    net.send(from, to);
    if (rng.chance(both)) net.send(to, from);
  };
  // Where replica r shows character c: just after it, or nothing if r does not show it.
  const auto after = [&](std::size_t r, char32_t c) -> std::optional<std::uint32_t> {
    const std::u32string shown = toU32(net.engineText(r));
    const auto at = shown.find(c);
    if (at == std::u32string::npos) return std::nullopt;
    return static_cast<std::uint32_t>(at + 1);
  };

  const std::uint32_t steps = rng.between(10, 200);
  for (std::uint32_t step = 0; step < steps; ++step) {
    const std::uint32_t what = rng.below(100);
    if (what < 25) {
      randomSend(0.2);
      continue;
    }
    if (what < 50) {
      // A burst at one anchor: a character (often the one before some replica's caret) or the
      // document start.
      const std::size_t r0 = pick(n);
      const std::u32string shown = toU32(net.engineText(r0));
      std::optional<char32_t> anchor;
      if (!shown.empty() && rng.chance(0.8)) {
        std::size_t at = pick(shown.size());
        if (rng.chance(0.8))
          at = std::min<std::size_t>(caret[r0] > 0 ? caret[r0] - 1 : 0, shown.size() - 1);
        anchor = shown[at];
      }
      // Round 0: concurrent inserts right after the anchor. Rounds 1 and 2, each after some
      // updates moved: insert right after one of the burst's characters (which the replicas may
      // see followed by different siblings), or type on.
      std::vector<char32_t> made;
      for (int round = 0; round < 3; ++round) {
        if (round > 0 && !made.empty()) anchor = made[pick(made.size())];
        for (std::size_t r = 0; r < n; ++r) {
          if (round > 0 && rng.chance(0.3)) {
            insertOne(r, std::min(caret[r], net.length(r)), 1, true);  // type on
            continue;
          }
          const std::optional<std::uint32_t> pos =
              anchor ? after(r, *anchor) : std::optional<std::uint32_t>(0);
          if (pos && rng.chance(0.75)) {
            insertOne(r, *pos, 1, true);
            made.push_back(recent.back());
          }
        }
        const std::size_t sends = pick(n);
        for (std::size_t i = 0; i < sends; ++i) randomSend(0);
      }
      continue;
    }
    const std::size_t r = pick(n);
    const std::uint32_t len = net.length(r);
    if (deletes && len > 0 && what < 65) {
      const std::uint32_t count = rng.between(1, std::min<std::uint32_t>(3, len));
      std::uint32_t pos = 0;
      switch (rng.below(4)) {
        case 0:
          pos = 0;
          break;
        case 1:
          pos = len - count;
          break;
        case 2:
          pos = std::min(caret[r] > 0 ? caret[r] - 1 : 0, len - count);
          break;  // backspace
        default:
          pos = rng.between(0, len - count);
          break;
      }
      net.remove(r, pos, count);
      caret[r] = pos;
      continue;
    }
    const std::uint32_t k = rng.chance(0.7) ? 1 : rng.between(2, 5);
    std::uint32_t pos = 0;
    switch (rng.below(10)) {
      case 0:
      case 1:
        pos = 0;
        break;
      case 2:
        pos = len;
        break;
      case 3:
      case 4:
      case 5:
        pos = std::min(caret[r], len);
        break;
      case 6:
      case 7:
      case 8: {
        pos = len / 2;
        if (recent.empty()) break;
        if (auto at = after(r, recent[pick(recent.size())])) pos = *at - (rng.chance(0.3) ? 1 : 0);
        break;
      }
      default:
        pos = rng.between(0, len);
        break;
    }
    insertOne(r, pos, k, rng.chance(0.75));
  }
  net.syncAll();
  return net;
}

// Fresh replicas `keys`, each given `base` typed by the first one first (so all start equal).
Net netWithBase(const std::vector<std::uint8_t>& keys, const std::u32string& base,
                Variant v = Variant::FugueMax) {
  Net net(keys, v);
  if (!base.empty()) {
    net.insert(0, 0, base);
    for (std::size_t i = 1; i < net.size(); ++i) net.send(0, i);
  }
  return net;
}

void typeForward(Net& net, std::size_t r, std::uint32_t pos, const std::u32string& word) {
  for (std::size_t i = 0; i < word.size(); ++i)
    net.insert(r, pos + static_cast<std::uint32_t>(i), word.substr(i, 1));
}

void typeBackward(Net& net, std::size_t r, std::uint32_t pos, const std::u32string& word) {
  for (std::size_t i = word.size(); i-- > 0;) net.insert(r, pos, word.substr(i, 1));
}

// Requires that every replica, engine and oracle, shows one text, and returns it.
std::string requireConverged(const Net& net) {
  INFO(net.trace());
  INFO("first engine/oracle mismatch: " << net.firstMismatch().value_or("none"));
  for (std::size_t i = 0; i < net.size(); ++i) {
    INFO(net.describe(i));
    CHECK(net.engineText(i) == net.oracleText(i));
    CHECK(net.oracleText(i) == net.oracleText(0));
    CHECK(net.engineText(i) == net.engineText(0));
  }
  CHECK_FALSE(net.firstMismatch());
  return net.oracleText(0);
}

const std::vector<std::vector<std::uint8_t>> kTwoOrders = {{0x10, 0x20}, {0x20, 0x10}};
const std::vector<std::vector<std::uint8_t>> kThreeOrders = {
    {0x10, 0x20, 0x30}, {0x10, 0x30, 0x20}, {0x20, 0x10, 0x30},
    {0x20, 0x30, 0x10}, {0x30, 0x10, 0x20}, {0x30, 0x20, 0x10}};

}  // namespace

// ---- The oracle on its own ---------------------------------------------------------------------

TEST_CASE("FugueMax oracle: local typing builds the text typed", "[engine][ordering]") {
  OracleReplica r(0x10, Variant::FugueMax);
  r.insert(0, U"held");
  r.insert(3, U"lo worl");
  r.remove(2, 1);
  r.insert(2, U"l");
  r.insert(0, U">");
  CHECK(toUtf8(r.tree.text()) == ">hello world");
  OracleReplica s(0x20, Variant::FugueMax);
  s.receiveFrom(r);
  CHECK(toUtf8(s.tree.text()) == ">hello world");
}

// ---- Published cases, engine against oracle -------------------------------------------------

// [Fugue]'s introductory interleaving example (also Kleppmann et al., PaPoC 2019): two users type
// forwards at one place. FugueMax: the first character of each run is a left child of '>', later
// ones a right child of the previous one, so left siblings order by replica id and the runs stay
// whole.
TEST_CASE("FugueMax oracle: two replicas typing forwards at one place", "[engine][ordering]") {
  const auto keys = GENERATE(from_range(kTwoOrders));
  INFO("A=" << int(keys[0]) << " B=" << int(keys[1]));
  Net net = netWithBase(keys, U"<>");
  typeForward(net, 0, 1, U"abc");
  typeForward(net, 1, 1, U"XYZ");
  net.syncAll();
  const std::string merged = requireConverged(net);
  CHECK(merged == (keys[0] < keys[1] ? "<abcXYZ>" : "<XYZabc>"));
}

// [Fugue]'s backward-typing case (each character inserted before the previous one; RGA
// interleaves it): each run becomes a chain of left children under '>'.
TEST_CASE("FugueMax oracle: two replicas typing backwards at one place", "[engine][ordering]") {
  const auto keys = GENERATE(from_range(kTwoOrders));
  INFO("A=" << int(keys[0]) << " B=" << int(keys[1]));
  SECTION("inside text") {
    Net net = netWithBase(keys, U"<>");
    typeBackward(net, 0, 1, U"abc");
    typeBackward(net, 1, 1, U"XYZ");
    net.syncAll();
    const std::string merged = requireConverged(net);
    CHECK(merged == (keys[0] < keys[1] ? "<abcXYZ>" : "<XYZabc>"));
  }
  SECTION("into an empty document") {
    Net net = netWithBase(keys, U"");
    typeBackward(net, 0, 0, U"abc");
    typeBackward(net, 1, 0, U"XYZ");
    net.syncAll();
    const std::string merged = requireConverged(net);
    CHECK(merged == (keys[0] < keys[1] ? "abcXYZ" : "XYZabc"));
  }
  SECTION("one forwards, one backwards") {
    Net net = netWithBase(keys, U"<>");
    typeForward(net, 0, 1, U"abc");
    typeBackward(net, 1, 1, U"XYZ");
    net.syncAll();
    const std::string merged = requireConverged(net);
    CHECK(merged == (keys[0] < keys[1] ? "<abcXYZ>" : "<XYZabc>"));
  }
}

// The three-replica case where Yjs interleaves ([Fugue]'s Yjs discussion; automerge-classic
// issue #395): C types "world"; A receives it and types "hello " in front; B, having seen
// neither, types at the start. "hello " is a left subtree of 'w', so "hello world" stays whole.
TEST_CASE("FugueMax oracle: three-replica prepend case", "[engine][ordering]") {
  const auto keys = GENERATE(from_range(kThreeOrders));
  INFO("A=" << int(keys[0]) << " B=" << int(keys[1]) << " C=" << int(keys[2]));
  Net net = netWithBase(keys, U"");
  typeForward(net, 2, 0, U"world");
  net.send(2, 0);
  typeForward(net, 0, 0, U"hello ");
  typeForward(net, 1, 0, U"12345");
  net.syncAll();
  const std::string merged = requireConverged(net);
  // 'w' and '1' are both right children of the root with right origin "end": replica id order.
  CHECK(merged == (keys[2] < keys[1] ? "hello world12345" : "12345hello world"));
}

// The case that separates FugueMax from Fugue ([Fugue]'s example for FugueMax): three
// replicas insert one character each at the start (a, b, c in merged order); one that has a and c
// inserts X between them, one that has a and b inserts Y between them. X and Y are both right
// children of a, with right origins c and b: FugueMax puts X (right origin further right) first,
// giving a X Y b c whatever the ids; plain Fugue orders X and Y by id.
TEST_CASE("FugueMax oracle: right siblings with different right origins", "[engine][ordering]") {
  const auto keys3 = GENERATE(from_range(kThreeOrders));
  const bool xBelowY = GENERATE(true, false);
  std::vector<std::uint8_t> keys = keys3;
  keys.push_back(xBelowY ? 0x40 : 0x50);  // D: inserts X
  keys.push_back(xBelowY ? 0x50 : 0x40);  // E: inserts Y
  INFO("keys " << int(keys[0]) << ' ' << int(keys[1]) << ' ' << int(keys[2]) << "; X "
               << (xBelowY ? "below" : "above") << " Y");
  std::string withFugue;
  for (Variant v : {Variant::FugueMax, Variant::Fugue}) {
    Net net(keys, v);
    net.insert(0, 0, U"1");
    net.insert(1, 0, U"2");
    net.insert(2, 0, U"3");
    // Merged order of the three: ascending replica id (right children of the root, same origin).
    std::vector<std::size_t> byId = {0, 1, 2};
    std::sort(byId.begin(), byId.end(),
              [&](std::size_t x, std::size_t y) { return keys[x] < keys[y]; });
    const std::size_t a = byId[0], b = byId[1], c = byId[2];
    net.send(a, 3);
    net.send(c, 3);
    net.insert(3, 1, U"X");
    net.send(a, 4);
    net.send(b, 4);
    net.insert(4, 1, U"Y");
    for (std::size_t i = 0; i < 5; ++i) {
      for (std::size_t j = 0; j < 5; ++j) {
        if (i != j) net.send(i, j);
      }
    }
    const std::string abc = {char('1' + a), char('1' + b), char('1' + c)};
    if (v == Variant::FugueMax) {
      const std::string merged = requireConverged(net);
      CHECK(merged == std::string{abc[0], 'X', 'Y', abc[1], abc[2]});
    } else {
      withFugue = net.oracleText(0);
      CHECK(withFugue == (xBelowY ? std::string{abc[0], 'X', 'Y', abc[1], abc[2]}
                                  : std::string{abc[0], 'Y', 'X', abc[1], abc[2]}));
    }
  }
}

// ---- Seeded property test ---------------------------------------------------------------------

TEST_CASE("engine order equals a literal FugueMax oracle (seeded)", "[engine][ordering]") {
  const std::uint64_t seed = testSeed(GENERATE(range(0, 100)));
  INFO("seed " << seed);
  const Net net = runScenario(seed, Variant::FugueMax);
  requireConverged(net);
}

// The property test can tell FugueMax from plain Fugue. (1) On the same steps without deletes (so
// the steps cannot depend on which character a position names), a plain-Fugue oracle disagrees
// with the engine on a good share of seeds. (2) With deletes, the FugueMax oracle places right
// children against id order (the FugueMax-only rule) on a good share of seeds. Otherwise the
// scenarios would rarely reach that rule and the property test would prove little. Fixed seeds,
// so the counts do not depend on --rng-seed.
TEST_CASE("the seeded scenarios distinguish FugueMax from plain Fugue", "[engine][ordering]") {
  int differing = 0;
  int decided = 0;
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    const Net fugue = runScenario(seed, Variant::Fugue, false);
    const Net fugueMax = runScenario(seed, Variant::FugueMax, false);
    bool differs = false;
    for (std::size_t r = 0; r < fugue.size(); ++r) {
      INFO("seed " << seed << ", " << fugue.describe(r));
      CHECK(fugue.oracleText(r) == fugue.oracleText(0));  // plain Fugue converges too
      CHECK(fugueMax.engineText(r) == fugueMax.oracleText(r));
      if (fugue.engineText(r) != fugue.oracleText(r)) differs = true;
    }
    if (differs) ++differing;
    const Net withDeletes = runScenario(seed, Variant::FugueMax, true);
    if (withDeletes.rightOriginDecided(0) > 0) ++decided;
  }
  INFO(differing << " of 100 seeds differ between the engine and plain Fugue; on " << decided
                 << " of 100 (with deletes) a right origin decided a sibling order");
  CHECK(differing >= 10);
  CHECK(decided >= 10);
}
