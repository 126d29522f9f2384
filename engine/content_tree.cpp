#include "engine/content_tree.h"

#include <cassert>
#include <cstring>

namespace quire::engine {

void ContentTree::LeafIndex::set(LV lv, std::uint32_t n, std::uint32_t leaf) {
  while (n > 0) {
    std::uint32_t page = lv >> kShift;
    while (m_pages.size() <= page) m_pages.emplace_back(std::size_t{1} << kShift, kNil);
    std::uint32_t at = lv & kMask;
    std::uint32_t k = std::min<std::uint32_t>(n, (1u << kShift) - at);
    std::uint32_t* p = m_pages[page].data() + at;
    for (std::uint32_t i = 0; i < k; ++i) p[i] = leaf;
    lv += k;
    n -= k;
  }
}

std::size_t ContentTree::LeafIndex::memoryUsage() const {
  return m_pages.capacity() * sizeof(m_pages[0]) + m_pages.size() * (sizeof(std::uint32_t) << kShift);
}

ContentTree::ContentTree() {
  m_leaves.emplace_back();
}

TreeCursor ContentTree::findVisible(std::uint32_t pos) const {
  assert(pos < m_vis);
  // Edits cluster: try the leaf the last lookup ended in before descending from the root.
  if (m_hintLeaf != kNil && pos >= m_hintStart) {
    const Leaf& leaf = m_leaves[m_hintLeaf];
    std::uint32_t p = pos - m_hintStart;
    for (std::uint32_t i = 0; i < leaf.count; ++i) {
      std::int32_t len = leaf.items[i].len;
      if (len > 0) {
        if (p < static_cast<std::uint32_t>(len)) return {m_hintLeaf, i, p};
        p -= static_cast<std::uint32_t>(len);
      }
    }
  }
  std::uint32_t id = m_root;
  std::uint32_t before = 0;
  if (!m_rootIsLeaf) {
    for (;;) {
      const Node& n = m_nodes[id];
      std::uint32_t i = 0;
      while (pos >= n.vis[i]) {
        pos -= n.vis[i];
        before += n.vis[i++];
      }
      assert(i < n.count);
      id = n.child[i];
      if (n.leafChildren) break;
    }
  }
  m_hintLeaf = id;
  m_hintStart = before;
  const Leaf& leaf = m_leaves[id];
  for (std::uint32_t i = 0;; ++i) {
    assert(i < leaf.count);
    std::int32_t len = leaf.items[i].len;
    if (len > 0) {
      if (pos < static_cast<std::uint32_t>(len)) return {id, i, pos};
      pos -= static_cast<std::uint32_t>(len);
    }
  }
}

void ContentTree::index(LV lv, std::uint32_t n, std::uint32_t leaf) {
  if (m_indexed) m_leafOf.set(lv, n, leaf);
}

void ContentTree::ensureIndex() const {
  if (m_indexed) return;
  for (std::uint32_t id = m_firstLeaf; id != kNil; id = m_leaves[id].next)
    for (std::uint32_t i = 0; i < m_leaves[id].count; ++i)
      m_leafOf.set(m_leaves[id].items[i].lv, m_leaves[id].items[i].size(), id);
  m_indexed = true;
}

bool ContentTree::contains(LV lv) const {
  ensureIndex();
  if (!m_leafOf.has(lv)) return false;
  std::uint32_t leaf = m_leafOf.get(lv);
  return leaf != kNil;
}

TreeCursor ContentTree::find(LV lv) const {
  ensureIndex();
  std::uint32_t id = m_leafOf.get(lv);
  assert(id != kNil);
  const Leaf& leaf = m_leaves[id];
  for (std::uint32_t i = 0; i < leaf.count; ++i) {
    const Item& it = leaf.items[i];
    if (lv >= it.lv && lv - it.lv < it.size()) return {id, i, lv - it.lv};
  }
  assert(false && "leaf index points at a leaf without the LV");
  return {};
}

bool ContentTree::nextItem(TreeCursor& c) const {
  c.off = 0;
  if (c.idx + 1 < m_leaves[c.leaf].count) {
    ++c.idx;
    return true;
  }
  for (std::uint32_t id = m_leaves[c.leaf].next; id != kNil; id = m_leaves[id].next) {
    if (m_leaves[id].count > 0) {
      c.leaf = id;
      c.idx = 0;
      return true;
    }
  }
  return false;
}

bool ContentTree::roll(TreeCursor& c) const {
  const Leaf& leaf = m_leaves[c.leaf];
  if (c.idx < leaf.count && c.off < leaf.items[c.idx].size()) return true;
  TreeCursor n = c;
  if (c.idx >= leaf.count) {
    // An empty leaf (only the root of an empty tree).
    return false;
  }
  if (!nextItem(n)) return false;
  c = n;
  return true;
}

LV ContentTree::lvAfter(const TreeCursor& c) const {
  TreeCursor n = c;
  if (!roll(n)) return kNoLv;
  return itemAt(n).lv + n.off;
}

std::uint32_t ContentTree::slotOf(std::uint32_t node, std::uint32_t child) const {
  const Node& n = m_nodes[node];
  for (std::uint32_t i = 0; i < n.count; ++i)
    if (n.child[i] == child) return i;
  assert(false && "child not in its parent");
  return 0;
}

std::uint32_t ContentTree::visibleBefore(const TreeCursor& c) const {
  const Leaf& leaf = m_leaves[c.leaf];
  std::uint32_t pos = 0;
  for (std::uint32_t i = 0; i < c.idx; ++i)
    if (leaf.items[i].len > 0) pos += static_cast<std::uint32_t>(leaf.items[i].len);
  if (c.idx < leaf.count && leaf.items[c.idx].visible()) pos += c.off;
  std::uint32_t child = c.leaf;
  for (std::uint32_t node = leaf.parent; node != kNil; node = m_nodes[node].parent) {
    const Node& n = m_nodes[node];
    for (std::uint32_t i = 0; n.child[i] != child; ++i) pos += n.vis[i];
    child = node;
  }
  return pos;
}

std::uint32_t ContentTree::rawBefore(const TreeCursor& c) const {
  const Leaf& leaf = m_leaves[c.leaf];
  std::uint32_t pos = c.off;
  for (std::uint32_t i = 0; i < c.idx; ++i) pos += leaf.items[i].size();
  std::uint32_t child = c.leaf;
  for (std::uint32_t node = leaf.parent; node != kNil; node = m_nodes[node].parent) {
    const Node& n = m_nodes[node];
    for (std::uint32_t i = 0; n.child[i] != child; ++i) pos += n.raw[i];
    child = node;
  }
  return pos;
}

void ContentTree::adjust(std::uint32_t leaf, std::int32_t dVis, std::int32_t dRaw) {
  // A change in another leaf may shift where the hinted leaf starts.
  if (leaf != m_hintLeaf) m_hintLeaf = kNil;
  m_vis += static_cast<std::uint32_t>(dVis);
  m_raw += static_cast<std::uint32_t>(dRaw);
  std::uint32_t child = leaf;
  for (std::uint32_t node = m_leaves[leaf].parent; node != kNil; node = m_nodes[node].parent) {
    Node& n = m_nodes[node];
    std::uint32_t i = 0;
    while (n.child[i] != child) ++i;
    n.vis[i] += static_cast<std::uint32_t>(dVis);
    n.raw[i] += static_cast<std::uint32_t>(dRaw);
    child = node;
  }
}

void ContentTree::sumLeaf(std::uint32_t leaf, std::uint32_t& vis, std::uint32_t& raw) const {
  vis = raw = 0;
  const Leaf& l = m_leaves[leaf];
  for (std::uint32_t i = 0; i < l.count; ++i) {
    raw += l.items[i].size();
    if (l.items[i].len > 0) vis += static_cast<std::uint32_t>(l.items[i].len);
  }
}

void ContentTree::subtreeSum(std::uint32_t id, bool leaf, std::uint32_t& vis,
                             std::uint32_t& raw) const {
  if (leaf) return sumLeaf(id, vis, raw);
  vis = raw = 0;
  const Node& n = m_nodes[id];
  for (std::uint32_t i = 0; i < n.count; ++i) {
    vis += n.vis[i];
    raw += n.raw[i];
  }
}

void ContentTree::refreshUp(std::uint32_t leaf) {
  std::uint32_t child = leaf;
  bool isLeaf = true;
  for (std::uint32_t node = m_leaves[leaf].parent; node != kNil; node = m_nodes[node].parent) {
    std::uint32_t slot = slotOf(node, child);
    subtreeSum(child, isLeaf, m_nodes[node].vis[slot], m_nodes[node].raw[slot]);
    child = node;
    isLeaf = false;
  }
}

void ContentTree::setParent(std::uint32_t child, bool leafChild, std::uint32_t parent) {
  if (leafChild)
    m_leaves[child].parent = parent;
  else
    m_nodes[child].parent = parent;
}

void ContentTree::newRoot(std::uint32_t left, std::uint32_t right, bool leafChildren) {
  std::uint32_t root = static_cast<std::uint32_t>(m_nodes.size());
  m_nodes.emplace_back();
  Node& r = m_nodes[root];
  r.leafChildren = leafChildren;
  r.count = 2;
  r.child[0] = left;
  r.child[1] = right;
  subtreeSum(left, leafChildren, r.vis[0], r.raw[0]);
  subtreeSum(right, leafChildren, r.vis[1], r.raw[1]);
  setParent(left, leafChildren, root);
  setParent(right, leafChildren, root);
  m_root = root;
  m_rootIsLeaf = false;
}

// Counts along the paths of the leaves that changed are fixed afterwards by refreshUp().
void ContentTree::insertChild(std::uint32_t node, std::uint32_t after, std::uint32_t child,
                              bool leafChild) {
  if (m_nodes[node].count == kNodeCap) {
    std::uint32_t sib = static_cast<std::uint32_t>(m_nodes.size());
    m_nodes.emplace_back();
    Node& n = m_nodes[node];
    Node& s = m_nodes[sib];
    constexpr std::uint32_t half = kNodeCap / 2;
    s.leafChildren = n.leafChildren;
    s.count = kNodeCap - half;
    for (std::uint32_t i = 0; i < s.count; ++i) {
      s.child[i] = n.child[half + i];
      s.vis[i] = n.vis[half + i];
      s.raw[i] = n.raw[half + i];
      setParent(s.child[i], s.leafChildren, sib);
    }
    n.count = half;
    if (m_nodes[node].parent == kNil) {
      newRoot(node, sib, false);
    } else {
      std::uint32_t parent = m_nodes[node].parent;
      std::uint32_t slot = slotOf(parent, node);
      subtreeSum(node, false, m_nodes[parent].vis[slot], m_nodes[parent].raw[slot]);
      insertChild(parent, node, sib, false);
    }
    bool inNode = false;
    for (std::uint32_t i = 0; i < m_nodes[node].count; ++i) inNode |= m_nodes[node].child[i] == after;
    if (!inNode) node = sib;
  }
  Node& n = m_nodes[node];
  std::uint32_t at = slotOf(node, after) + 1;
  for (std::uint32_t i = n.count; i > at; --i) {
    n.child[i] = n.child[i - 1];
    n.vis[i] = n.vis[i - 1];
    n.raw[i] = n.raw[i - 1];
  }
  n.child[at] = child;
  ++n.count;
  setParent(child, leafChild, node);
  subtreeSum(child, leafChild, n.vis[at], n.raw[at]);
}

std::uint32_t ContentTree::splitLeaf(std::uint32_t id) {
  std::uint32_t sib = static_cast<std::uint32_t>(m_leaves.size());
  m_leaves.emplace_back();
  Leaf& l = m_leaves[id];
  Leaf& s = m_leaves[sib];
  constexpr std::uint32_t half = kLeafCap / 2;
  s.count = l.count - half;
  std::memcpy(s.items, l.items + half, s.count * sizeof(Item));
  l.count = half;
  s.next = l.next;
  l.next = sib;
  for (std::uint32_t i = 0; i < s.count; ++i) index(s.items[i].lv, s.items[i].size(), sib);
  if (l.parent == kNil) {
    newRoot(id, sib, true);
  } else {
    insertChild(l.parent, id, sib, true);
  }
  return sib;
}

// Callers adjust() the counts for the change first; a split recounts both halves afterwards.
void ContentTree::insertItems(std::uint32_t leaf, std::uint32_t idx, const Item* items,
                              std::uint32_t k) {
  std::uint32_t sib = kNil;
  std::uint32_t target = leaf;
  if (m_leaves[leaf].count + k > kLeafCap) {
    sib = splitLeaf(leaf);
    std::uint32_t kept = m_leaves[leaf].count;
    if (idx > kept) {
      target = sib;
      idx -= kept;
    }
  }
  Leaf& l = m_leaves[target];
  std::memmove(l.items + idx + k, l.items + idx, (l.count - idx) * sizeof(Item));
  std::memcpy(l.items + idx, items, k * sizeof(Item));
  l.count += k;
  m_items += k;
  for (std::uint32_t i = 0; i < k; ++i) index(items[i].lv, items[i].size(), target);
  if (sib != kNil) {
    refreshUp(leaf);
    refreshUp(sib);
  }
}

void ContentTree::removeItem(std::uint32_t leaf, std::uint32_t idx) {
  Leaf& l = m_leaves[leaf];
  std::memmove(l.items + idx, l.items + idx + 1, (l.count - idx - 1) * sizeof(Item));
  --l.count;
  --m_items;
}

void ContentTree::insert(const TreeCursor& c, LV lv, std::uint32_t n) {
  std::int32_t len = static_cast<std::int32_t>(n);
  adjust(c.leaf, len, len);
  Leaf& l = m_leaves[c.leaf];
  if (l.count == 0) {  // the empty tree
    Item it{lv, len};
    insertItems(c.leaf, 0, &it, 1);
  } else if (c.off == 0) {
    // Before item idx: extend the previous item if the LVs continue it.
    if (c.idx > 0 && l.items[c.idx - 1].visible() && l.items[c.idx - 1].lv + l.items[c.idx - 1].size() == lv) {
      l.items[c.idx - 1].len += len;
      index(lv, n, c.leaf);
    } else {
      Item it{lv, len};
      insertItems(c.leaf, c.idx, &it, 1);
    }
  } else {
    Item& cur = l.items[c.idx];
    std::uint32_t size = cur.size();
    if (c.off == size) {
      if (cur.visible() && cur.lv + size == lv) {
        cur.len += len;
        index(lv, n, c.leaf);
      } else {
        Item it{lv, len};
        insertItems(c.leaf, c.idx + 1, &it, 1);
      }
    } else {
      // Split the item around the new characters.
      std::int32_t sign = cur.len < 0 ? -1 : 1;
      Item tail{cur.lv + c.off, sign * static_cast<std::int32_t>(size - c.off)};
      cur.len = sign * static_cast<std::int32_t>(c.off);
      Item two[2] = {{lv, len}, tail};
      insertItems(c.leaf, c.idx + 1, two, 2);
    }
  }
}

void ContentTree::markDeleted(const TreeCursor& c, std::uint32_t n) {
  adjust(c.leaf, -static_cast<std::int32_t>(n), 0);
  Leaf& l = m_leaves[c.leaf];
  Item& cur = l.items[c.idx];
  assert(cur.visible() && c.off + n <= cur.size());
  std::uint32_t size = cur.size();
  std::int32_t dn = static_cast<std::int32_t>(n);
  LV lv = cur.lv;
  std::uint32_t leaf = c.leaf;
  if (c.off == 0 && n == size) {
    cur.len = -dn;
    // Merge with deleted neighbours in this leaf.
    if (c.idx + 1 < l.count && !l.items[c.idx + 1].visible() && l.items[c.idx + 1].lv == lv + n) {
      cur.len += l.items[c.idx + 1].len;
      removeItem(leaf, c.idx + 1);
    }
    if (c.idx > 0 && !l.items[c.idx - 1].visible() &&
        l.items[c.idx - 1].lv + l.items[c.idx - 1].size() == lv) {
      l.items[c.idx - 1].len += l.items[c.idx].len;
      removeItem(leaf, c.idx);
    }
  } else if (c.off == 0) {
    // Deleted head: join a deleted predecessor if it continues it.
    if (c.idx > 0 && !l.items[c.idx - 1].visible() &&
        l.items[c.idx - 1].lv + l.items[c.idx - 1].size() == lv) {
      l.items[c.idx - 1].len -= dn;
      cur.lv += n;
      cur.len -= dn;
    } else {
      cur.lv += n;
      cur.len -= dn;
      Item head{lv, -dn};
      insertItems(leaf, c.idx, &head, 1);
    }
  } else if (c.off + n == size) {
    // Deleted tail: join a deleted successor if it continues it.
    cur.len = static_cast<std::int32_t>(c.off);
    if (c.idx + 1 < l.count && !l.items[c.idx + 1].visible() && l.items[c.idx + 1].lv == lv + size) {
      l.items[c.idx + 1].lv -= n;
      l.items[c.idx + 1].len -= dn;
    } else {
      Item tail{lv + c.off, -dn};
      insertItems(leaf, c.idx + 1, &tail, 1);
    }
  } else {
    cur.len = static_cast<std::int32_t>(c.off);
    Item two[2] = {{lv + c.off, -dn}, {lv + c.off + n, static_cast<std::int32_t>(size - c.off - n)}};
    insertItems(leaf, c.idx + 1, two, 2);
  }
}

std::size_t ContentTree::memoryUsage() const {
  return m_leaves.capacity() * sizeof(Leaf) + m_nodes.capacity() * sizeof(Node) +
         m_leafOf.memoryUsage();
}

std::string ContentTree::checkInvariants() const {
  // Walk the leaves in order; every count must agree with what it summarises.
  ensureIndex();
  std::uint32_t vis = 0, raw = 0;
  std::size_t items = 0;
  for (std::uint32_t id = m_firstLeaf; id != kNil; id = m_leaves[id].next) {
    const Leaf& l = m_leaves[id];
    if (l.count > kLeafCap) return "tree: leaf over capacity";
    for (std::uint32_t i = 0; i < l.count; ++i) {
      const Item& it = l.items[i];
      if (it.len == 0) return "tree: empty item";
      for (std::uint32_t k = 0; k < it.size(); ++k)
        if (!m_leafOf.has(it.lv + k) || m_leafOf.get(it.lv + k) != id)
          return "tree: leaf index disagrees for LV " + std::to_string(it.lv + k);
      raw += it.size();
      if (it.visible()) vis += it.size();
    }
    items += l.count;
  }
  if (vis != m_vis || raw != m_raw) return "tree: totals disagree with the items";
  if (items != m_items) return "tree: item count disagrees";
  for (std::uint32_t n = 0; n < m_nodes.size(); ++n) {
    const Node& node = m_nodes[n];
    bool reachable = n == m_root && !m_rootIsLeaf;
    if (node.parent != kNil) {
      const Node& p = m_nodes[node.parent];
      for (std::uint32_t i = 0; i < p.count; ++i) reachable |= p.child[i] == n;
    }
    if (!reachable) return "tree: node " + std::to_string(n) + " not in its parent";
    for (std::uint32_t i = 0; i < node.count; ++i) {
      std::uint32_t v, r;
      subtreeSum(node.child[i], node.leafChildren, v, r);
      if (v != node.vis[i] || r != node.raw[i])
        return "tree: node " + std::to_string(n) + " slot " + std::to_string(i) + " counts are stale";
      std::uint32_t parent = node.leafChildren ? m_leaves[node.child[i]].parent : m_nodes[node.child[i]].parent;
      if (parent != n) return "tree: child's parent link is wrong";
    }
  }
  return {};
}

}  // namespace quire::engine
