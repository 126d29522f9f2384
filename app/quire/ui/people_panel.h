// "People here": who else has the open document open right now (name and colour swatch, from
// the session's presence), with this person first.
#pragma once

#include <map>

#include <QPointer>
#include <QWidget>

#include "app/quire/document_session.h"

class QListWidget;
class QLabel;

namespace quire::app {

// A child of the window's dock. Follows one session at a time (setSession). GUI thread only.
class PeoplePanel : public QWidget {
  Q_OBJECT
 public:
  explicit PeoplePanel(QWidget* parent = nullptr);
  void setSelf(const Identity& self);
  // Follows `session` (nullptr: none); forgets the people of the one before.
  void setSession(DocumentSession* session);
  int othersCount() const { return static_cast<int>(m_people.size()); }

 private:
  void rebuild();

  QListWidget* m_list;
  QLabel* m_empty;
  Identity m_self;
  QPointer<DocumentSession> m_session;
  std::map<engine::ReplicaId, net::Presence> m_people;
};

}  // namespace quire::app
