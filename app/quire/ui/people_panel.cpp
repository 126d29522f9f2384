#include "app/quire/ui/people_panel.h"

#include <QLabel>
#include <QListWidget>
#include <QPainter>
#include <QVBoxLayout>

namespace quire::app {

namespace {

QIcon swatch(const QColor& colour) {
  QPixmap pixmap(16, 16);
  pixmap.fill(Qt::transparent);
  QPainter p(&pixmap);
  p.setRenderHint(QPainter::Antialiasing);
  p.setPen(colour.darker(130));
  p.setBrush(colour);
  p.drawEllipse(QRectF(1.5, 1.5, 13, 13));
  return QIcon(pixmap);
}

}  // namespace

PeoplePanel::PeoplePanel(QWidget* parent)
    : QWidget(parent), m_list(new QListWidget(this)), m_empty(new QLabel(this)) {
  m_empty->setWordWrap(true);
  m_empty->setForegroundRole(QPalette::PlaceholderText);
  m_empty->setText(tr("Nobody else is here. Share the document to write together."));
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(m_list, 1);
  layout->addWidget(m_empty);
  rebuild();
}

void PeoplePanel::setSelf(const Identity& self) {
  m_self = self;
  rebuild();
}

void PeoplePanel::setSession(DocumentSession* session) {
  if (m_session) disconnect(m_session, nullptr, this, nullptr);
  m_session = session;
  m_people.clear();
  if (session) {
    connect(session, &DocumentSession::presenceChanged, this, [this](const net::Presence& p) {
      m_people[p.replica] = p;
      rebuild();
    });
    connect(session, &DocumentSession::presenceLeft, this, [this](const engine::ReplicaId& r) {
      m_people.erase(r);
      rebuild();
    });
  }
  rebuild();
}

void PeoplePanel::rebuild() {
  m_list->clear();
  auto* me = new QListWidgetItem(swatch(m_self.colour), tr("%1 (you)").arg(m_self.name));
  m_list->addItem(me);
  for (const auto& [replica, p] : m_people) {
    const QString name = p.name.empty() ? tr("Someone") : QString::fromStdString(p.name);
    m_list->addItem(new QListWidgetItem(swatch(QColor::fromRgb(p.colour)), name));
  }
  m_empty->setVisible(m_people.empty());
}

}  // namespace quire::app
