// The order tree: every character a copy has ever held, deleted ones included, in document
// order, as runs of consecutive LVs (items). A B-tree whose inner nodes count visible and raw
// characters per child, so position lookups are O(log n). FORMAT.md, "Order tree".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/ids.h"

namespace quire::engine {

// Characters lv, lv+1, ..., lv+size()-1, adjacent in document order. Negative len: deleted.
struct Item {
  LV lv;
  std::int32_t len;
  std::uint32_t size() const { return static_cast<std::uint32_t>(len < 0 ? -len : len); }
  bool visible() const { return len > 0; }
};

// A place between characters: inside leaf `leaf`, item `idx`, after `off` of its characters
// (0 <= off <= size). Valid until the next change to the tree.
struct TreeCursor {
  std::uint32_t leaf = 0;
  std::uint32_t idx = 0;
  std::uint32_t off = 0;
};

// Owns its nodes (stored in vectors, linked by index, so a copy is a deep copy). Not thread-safe.
class ContentTree {
 public:
  static constexpr std::uint32_t kLeafCap = 32;
  static constexpr std::uint32_t kNodeCap = 16;
  static constexpr std::uint32_t kNil = 0xFFFFFFFFu;

  ContentTree();

  std::uint32_t visibleCount() const { return m_vis; }
  std::uint32_t rawCount() const { return m_raw; }
  std::size_t itemCount() const { return m_items; }

  // The cursor before everything.
  TreeCursor start() const { return {m_firstLeaf, 0, 0}; }
  // The cursor on visible character `pos` (off < size of a visible item). REQUIRES pos < visibleCount().
  TreeCursor findVisible(std::uint32_t pos) const;
  // The cursor on character `lv` (which may be deleted). REQUIRES: lv is in the tree.
  // The first call builds the LV index (O(n)); later edits keep it up to date. Copies made by
  // local edits alone never need it.
  TreeCursor find(LV lv) const;
  bool contains(LV lv) const;

  const Item& itemAt(const TreeCursor& c) const { return m_leaves[c.leaf].items[c.idx]; }
  // The LV of the character right after the cursor, or kNoLv at the end.
  LV lvAfter(const TreeCursor& c) const;
  // Moves to the start of the next item; false at the end. Skips empty leaves.
  bool nextItem(TreeCursor& c) const;
  // Normalises a cursor at the end of an item to the start of the next one; false at the end.
  bool roll(TreeCursor& c) const;

  // Visible / raw characters before the cursor.
  std::uint32_t visibleBefore(const TreeCursor& c) const;
  std::uint32_t rawBefore(const TreeCursor& c) const;

  // Inserts visible characters lv..lv+n-1 at the cursor. REQUIRES: they are not in the tree.
  void insert(const TreeCursor& c, LV lv, std::uint32_t n);
  // Marks n characters from the cursor deleted. REQUIRES: all in the cursor's item, visible.
  void markDeleted(const TreeCursor& c, std::uint32_t n);

  // Capacity hint: about `items` items will be inserted.
  void reserve(std::size_t items) { m_leaves.reserve(items / (kLeafCap / 2) + 1); }

  std::size_t memoryUsage() const;
  std::string checkInvariants() const;

 private:
  struct Leaf {
    std::uint32_t parent = kNil;
    std::uint32_t next = kNil;
    std::uint32_t count = 0;
    Item items[kLeafCap];
  };
  struct Node {
    std::uint32_t parent = kNil;
    std::uint32_t count = 0;
    bool leafChildren = true;
    std::uint32_t child[kNodeCap];
    std::uint32_t vis[kNodeCap];
    std::uint32_t raw[kNodeCap];
  };
  // LV -> leaf, in pages so growth never copies the whole index.
  class LeafIndex {
   public:
    std::uint32_t get(LV lv) const { return m_pages[lv >> kShift][lv & kMask]; }
    bool has(LV lv) const { return (lv >> kShift) < m_pages.size(); }
    void set(LV lv, std::uint32_t n, std::uint32_t leaf);
    std::size_t memoryUsage() const;

   private:
    static constexpr std::uint32_t kShift = 12;
    static constexpr std::uint32_t kMask = (1u << kShift) - 1;
    std::vector<std::vector<std::uint32_t>> m_pages;
  };

  void index(LV lv, std::uint32_t n, std::uint32_t leaf);
  void ensureIndex() const;
  void insertItems(std::uint32_t leaf, std::uint32_t idx, const Item* items, std::uint32_t k);
  void removeItem(std::uint32_t leaf, std::uint32_t idx);
  void adjust(std::uint32_t leaf, std::int32_t dVis, std::int32_t dRaw);
  std::uint32_t splitLeaf(std::uint32_t leaf);
  void insertChild(std::uint32_t node, std::uint32_t after, std::uint32_t child, bool leafChild);
  void newRoot(std::uint32_t left, std::uint32_t right, bool leafChildren);
  void setParent(std::uint32_t child, bool leafChild, std::uint32_t parent);
  void refreshUp(std::uint32_t leaf);
  void subtreeSum(std::uint32_t id, bool leaf, std::uint32_t& vis, std::uint32_t& raw) const;
  std::uint32_t slotOf(std::uint32_t node, std::uint32_t child) const;
  void sumLeaf(std::uint32_t leaf, std::uint32_t& vis, std::uint32_t& raw) const;

  std::vector<Leaf> m_leaves;
  std::vector<Node> m_nodes;
  std::uint32_t m_root = 0;
  bool m_rootIsLeaf = true;
  std::uint32_t m_firstLeaf = 0;
  std::uint32_t m_vis = 0;
  std::uint32_t m_raw = 0;
  std::size_t m_items = 0;
  mutable LeafIndex m_leafOf;
  mutable bool m_indexed = false;
  // The leaf the last findVisible() ended in and the visible characters before it.
  mutable std::uint32_t m_hintLeaf = kNil;
  mutable std::uint32_t m_hintStart = 0;
};

}  // namespace quire::engine
