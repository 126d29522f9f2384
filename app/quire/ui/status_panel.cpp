#include "app/quire/ui/status_panel.h"

#include <algorithm>

#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QRegularExpression>
#include <QStatusBar>
#include <QTimer>

namespace quire::app {

StatusPanel::StatusPanel(QStatusBar* bar, QPlainTextEdit* edit, QObject* parent)
    : QObject(parent),
      m_edit(edit),
      m_save(new QLabel(bar)),
      m_counts(new QLabel(bar)),
      m_unreceived(new QLabel(bar)),
      m_connection(new QLabel(bar)),
      m_busy(new QProgressBar(bar)),
      m_countTimer(new QTimer(this)),
      m_receiptTimer(new QTimer(this)) {
  m_busy->setRange(0, 0);  // indeterminate
  m_busy->setMaximumWidth(80);
  m_busy->setMaximumHeight(12);
  m_busy->setTextVisible(false);
  m_busy->hide();
  m_unreceived->hide();
  m_unreceived->setToolTip(
      tr("Stored on this computer, not yet received by a relay or another person's editor "
         "(you are offline, or they are on the way). They go out when a connection is up."));
  m_receiptTimer->setInterval(500);
  connect(m_receiptTimer, &QTimer::timeout, this, &StatusPanel::updateConnection);
  bar->addWidget(m_save);
  bar->addWidget(m_counts);
  bar->addPermanentWidget(m_unreceived);
  bar->addPermanentWidget(m_busy);
  bar->addPermanentWidget(m_connection);
  // Counting words walks the whole text: do it once typing pauses, not per keystroke.
  m_countTimer->setSingleShot(true);
  m_countTimer->setInterval(150);
  connect(m_countTimer, &QTimer::timeout, this, &StatusPanel::updateCounts);
  connect(edit, &QPlainTextEdit::textChanged, m_countTimer, qOverload<>(&QTimer::start));
  connect(edit, &QPlainTextEdit::textChanged, this, &StatusPanel::updateSaved);
  setSession(nullptr);
}

void StatusPanel::setSession(DocumentSession* session) {
  if (m_session) disconnect(m_session, nullptr, this, nullptr);
  m_session = session;
  if (session) {
    connect(session, &DocumentSession::saved, this, &StatusPanel::updateSaved);
    connect(session, &DocumentSession::connectionChanged, this, &StatusPanel::updateConnection);
    connect(session, &DocumentSession::unreceivedChanged, this, &StatusPanel::updateConnection);
    // Peers this editor's listener accepted are not routes; they count as live too.
    connect(&session->net(), &net::WsDocument::peerJoined, this, &StatusPanel::updateConnection,
            Qt::QueuedConnection);
    connect(&session->net(), &net::WsDocument::peerLeft, this, &StatusPanel::updateConnection,
            Qt::QueuedConnection);
    connect(session, &DocumentSession::storageFailed, this, [this](const QString& error) {
      m_save->setText(tr("Not saved: %1 (retrying)").arg(error));
    });
  }
  m_joining = false;
  m_joinReceived = m_joinTotal = m_loadShown = m_loadTotal = 0;
  updateSaved();
  updateCounts();
  updateConnection();
}

void StatusPanel::setShared(bool shared) {
  m_shared = shared;
  updateConnection();
}

void StatusPanel::setJoining(bool joining) {
  m_joining = joining;
  if (!joining) m_joinReceived = m_joinTotal = 0;
  updateConnection();
}

void StatusPanel::setJoinProgress(qint64 received, qint64 total) {
  m_joinReceived = received;
  m_joinTotal = total;
  updateConnection();
}

void StatusPanel::setLoadProgress(qint64 shown, qint64 total) {
  m_loadShown = shown;
  m_loadTotal = shown < total ? total : 0;
  updateConnection();
}

QString StatusPanel::saveText() const { return m_save->text(); }
QString StatusPanel::connectionText() const { return m_connection->text(); }
QString StatusPanel::unreceivedText() const {
  return m_unreceived->isVisibleTo(m_unreceived->parentWidget()) ? m_unreceived->text() : QString();
}

void StatusPanel::updateSaved() {
  if (!m_session) {
    m_save->clear();
    return;
  }
  // The binding hands an edit to the session synchronously, so the count is current here.
  QString saved = m_session->uncommittedEdits() > 0 ? tr("Saving…") : tr("All changes saved");
  const QStringList& damaged = m_session->damagedRows();
  if (!damaged.isEmpty()) {
    saved += damaged.size() == 1 ? tr(" · 1 damaged stored update skipped")
                                 : tr(" · %1 damaged stored updates skipped").arg(damaged.size());
    m_save->setToolTip(damaged.join(QLatin1Char('\n')));
  } else {
    m_save->setToolTip({});
  }
  m_save->setText(saved);
  // The edit's commit also changes what is unsent.
  updateConnection();
}

void StatusPanel::updateCounts() {
  if (!m_session) {
    m_counts->clear();
    return;
  }
  const QString text = m_edit->toPlainText();
  static const QRegularExpression words(QStringLiteral("[^\\s]+"));
  int wordCount = 0;
  for (auto it = words.globalMatch(text); it.hasNext(); it.next()) ++wordCount;
  const int chars = static_cast<int>(text.toUcs4().size());
  m_counts->setText((wordCount == 1 ? tr("1 word") : tr("%1 words").arg(wordCount)) +
                    QStringLiteral(" · ") +
                    (chars == 1 ? tr("1 character") : tr("%1 characters").arg(chars)));
}

void StatusPanel::updateConnection() {
  if (!m_session) {
    m_connection->setText(tr("No document open"));
    m_busy->hide();
    m_unreceived->hide();
    m_receiptTimer->stop();
    return;
  }
  const int accepted = static_cast<int>(m_session->net().peerCount());
  const int live = std::max(m_session->livePeers(), accepted);
  const ConnectionState state = accepted > 0 ? ConnectionState::Live : m_session->connectionState();
  switch (state) {
    case ConnectionState::Offline:
      m_connection->setText(tr("Offline"));
      break;
    case ConnectionState::Connecting:
      m_connection->setText(tr("Connecting…"));
      break;
    case ConnectionState::Live:
      m_connection->setText(tr("Live · %1").arg(live));
      break;
  }
  // Progress: showing a long text, else a join (with a figure once the relay announced one).
  const auto percent = [](qint64 done, qint64 total) {
    return static_cast<int>(std::clamp<qint64>(done * 100 / total, 0, 100));
  };
  if (m_loadTotal > 0) {
    const int p = percent(m_loadShown, m_loadTotal);
    m_connection->setText(tr("Loading… %1%").arg(p));
    m_busy->setRange(0, 100);
    m_busy->setValue(p);
  } else if (m_joining && m_joinTotal > 0) {
    const int p = percent(m_joinReceived, m_joinTotal);
    m_connection->setText(tr("Joining… %1%").arg(p));
    m_busy->setRange(0, 100);
    m_busy->setValue(p);
  } else if (m_joining) {
    m_connection->setText(tr("Joining…"));
    m_busy->setRange(0, 0);  // no figure yet: busy
  }
  m_busy->setVisible(m_joining || m_loadTotal > 0);
  // An edit normally reaches the relay in a millisecond or two: say so only for one that has
  // waited a second, so the label does not flicker while typing.
  constexpr std::uint64_t kShowAfterMs = 1000;
  const std::size_t unreceived = m_session->unreceivedEdits();
  const bool overdue = unreceived > 0 && m_session->oldestUnreceivedMs() >= kShowAfterMs;
  m_unreceived->setVisible(m_shared && overdue);
  if (unreceived > 0 && !m_receiptTimer->isActive()) m_receiptTimer->start();
  if (unreceived == 0) m_receiptTimer->stop();
  m_connection->setToolTip(m_shared ? QString()
                                    : tr("This document is not shared: File ▸ Share… gives "
                                         "it a link."));
  m_unreceived->setText(unreceived == 1 ? tr("1 edit not yet received")
                                        : tr("%1 edits not yet received").arg(unreceived));
}

}  // namespace quire::app
