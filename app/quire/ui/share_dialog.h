// The Share dialog: the open document's link (net::encodeShareLink over its stored routes and,
// when listening, this computer's address), a Copy button, a plain warning that the link gives
// read and write access, and a way to add a relay route (stored, then joined).
#pragma once

#include <string>
#include <vector>

#include <QDialog>

class QCheckBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;

namespace quire::app {

class Workspace;

// Modal, over the workspace's open document (REQUIRES: one is open). GUI thread only.
class ShareDialog : public QDialog {
  Q_OBJECT
 public:
  ShareDialog(Workspace* workspace, const QString& defaultRelay, QWidget* parent = nullptr);
  // The link as shown (empty when the document has no route yet).
  QString link() const;

 private:
  void refresh();
  void addRoute(const QString& route);
  // ws://ADDR:PORT for this computer's listener, with a reachable address for 0.0.0.0 / ::.
  QString thisComputerRoute() const;

  Workspace* m_workspace;
  QString m_defaultRelay;
  QLineEdit* m_link;
  QPushButton* m_copy;
  QLabel* m_hint;
  QListWidget* m_routes;
  QCheckBox* m_includeThisComputer;
  QPushButton* m_addDefault;
  QLineEdit* m_newRoute;
};

}  // namespace quire::app
