// The status bar's contents: whether everything typed is stored ("All changes saved" /
// "Saving…"), word and character counts, and the connection ("Offline" / "Connecting…" /
// "Live · N", "Joining… N%" / "Loading… N%" with a progress bar, "N edits not yet received"
// once an edit has waited a second for a relay or peer to receive it).
#pragma once

#include <QObject>
#include <QPointer>

#include "app/quire/document_session.h"

class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QStatusBar;
class QTimer;

namespace quire::app {

// Puts its widgets into `bar` (they are the bar's children). Follows one session at a time.
class StatusPanel : public QObject {
  Q_OBJECT
 public:
  StatusPanel(QStatusBar* bar, QPlainTextEdit* edit, QObject* parent = nullptr);
  void setSession(DocumentSession* session);
  void setJoining(bool joining);
  // How far a join through a relay has come (bytes of stored items received of `total`).
  void setJoinProgress(qint64 received, qint64 total);
  // How much of a long text the editor shows so far (see TextBinding::loadProgress).
  void setLoadProgress(qint64 shown, qint64 total);
  // Whether the document has routes; a document that is not shared has nothing to send.
  void setShared(bool shared);

  // What the labels say now (tests and the screenshot check read them).
  QString saveText() const;
  QString connectionText() const;
  // "N edits not yet received", or empty while hidden.
  QString unreceivedText() const;

 private:
  void updateSaved();
  void updateCounts();
  void updateConnection();

  QPlainTextEdit* m_edit;
  QLabel* m_save;
  QLabel* m_counts;
  QLabel* m_unreceived;
  QLabel* m_connection;
  QProgressBar* m_busy;
  QTimer* m_countTimer;
  QTimer* m_receiptTimer;  // re-checks the unreceived edits' age while there are any
  QPointer<DocumentSession> m_session;
  bool m_joining = false;
  qint64 m_joinReceived = 0, m_joinTotal = 0;  // total 0: no figure (a busy bar)
  qint64 m_loadShown = 0, m_loadTotal = 0;
  bool m_shared = false;
};

}  // namespace quire::app
