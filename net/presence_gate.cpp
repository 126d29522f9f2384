#include "net/presence_gate.h"

#include <utility>

namespace quire::net {

bool PresenceGate::resolvable(const Presence& p, const engine::Document& doc) {
  return doc.resolveAnchor(p.cursor).has_value() && doc.resolveAnchor(p.selection).has_value();
}

void PresenceGate::receive(const Presence& p, const engine::Document& doc,
                           std::vector<Presence>& shown) {
  auto seen = m_seenClock.find(p.replica);
  if (seen != m_seenClock.end() && p.clock <= seen->second) return;  // stale or repeated
  m_seenClock[p.replica] = p.clock;
  if (resolvable(p, doc)) {
    m_held.erase(p.replica);  // a newer presence supersedes a held older one
    shown.push_back(p);
  } else {
    m_held[p.replica] = p;
  }
}

void PresenceGate::release(const engine::Document& doc, std::vector<Presence>& shown) {
  for (auto it = m_held.begin(); it != m_held.end();) {
    if (resolvable(it->second, doc)) {
      shown.push_back(std::move(it->second));
      it = m_held.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace quire::net
