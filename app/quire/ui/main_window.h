// The editor window: the library (a dock with a table over LibraryModel), the text
// (CollabTextEdit bound to the open DocumentSession through TextBinding), the find bar, the
// "People here" dock and the status bar. Menus carry the standard shortcuts. The window only
// shows and forwards: documents, links and the network are the Workspace's.
#pragma once

#include <optional>

#include <QMainWindow>
#include <QPointer>

#include "app/quire/ui/preferences.h"
#include "storage/document_store.h"

class QAction;
class QDockWidget;
class QMenu;
class QTableView;

namespace quire::app {

class CollabTextEdit;
class DocumentSession;
class FindBar;
class LibraryModel;
class PeoplePanel;
class StatusPanel;
class TextBinding;
class Workspace;

// Owns its widgets (Qt parents); the workspace is the caller's and must outlive it.
class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  MainWindow(Workspace* workspace, Preferences prefs, QWidget* parent = nullptr);
  ~MainWindow() override;

  // Reopens the last document (caret where it was), else the most recently edited one.
  void restoreLastDocument();
  // Opens a share link; a bad one is reported (dialog and stderr) and changes nothing.
  bool openLink(const QString& link);
  // What `quire ARG` names: a share link, or a text file (a path or a file:// URL, as "Open
  // With" passes it), which is imported as a new document and opened.
  bool openArgument(const QString& argument);
  // Brings the window to the front (another `quire` handed us a link).
  void bringToFront();

  // Test hooks (hidden command-line options): types `text` into the editor as key presses;
  // grabs the window into a PNG.
  void testTypeText(const QString& text);
  bool testGrab(const QString& path);
  // Opens the find-and-replace bar on `text` and finds its first match.
  void testFind(const QString& text);
  // Grabs the Share dialog of the open document into a PNG.
  bool testGrabShareDialog(const QString& path);

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  // main_window.cpp: layout, menus, session binding.
  void buildActions();
  void buildMenus();
  void buildDocks();
  void documentOpened(DocumentSession* session);
  void documentClosing(DocumentSession* session);
  void updateActions();
  void updateTitle();
  void chooseFont();
  void editPreferences();
  void applyPreferences();
  void showAbout();
  void showError(const QString& what, const QString& error);
  void saveCaret();
  void updateShared();

  // main_window_documents.cpp: library actions.
  void newDocument();
  void openSelected();
  void openDocument(const storage::DocumentId& id);
  void renameDocument();
  void deleteDocument();
  void importFile();
  bool importPath(const QString& path);
  void exportFile();
  void askForLink();
  void shareDocument();
  std::optional<storage::DocumentId> selectedId() const;
  void selectOpenDocument();

  Workspace* m_workspace;
  Preferences m_prefs;
  CollabTextEdit* m_edit;
  FindBar* m_findBar;
  LibraryModel* m_library;
  QTableView* m_libraryView;
  PeoplePanel* m_people;
  StatusPanel* m_status;
  QPointer<TextBinding> m_binding;

  QAction* m_newAction = nullptr;
  QAction* m_openAction = nullptr;
  QAction* m_openLinkAction = nullptr;
  QAction* m_importAction = nullptr;
  QAction* m_exportAction = nullptr;
  QAction* m_renameAction = nullptr;
  QAction* m_deleteAction = nullptr;
  QAction* m_shareAction = nullptr;
  QAction* m_preferencesAction = nullptr;
  QAction* m_quitAction = nullptr;
  QAction* m_undoAction = nullptr;
  QAction* m_redoAction = nullptr;
  QAction* m_cutAction = nullptr;
  QAction* m_copyAction = nullptr;
  QAction* m_pasteAction = nullptr;
  QAction* m_selectAllAction = nullptr;
  QAction* m_findAction = nullptr;
  QAction* m_replaceAction = nullptr;
  QAction* m_findNextAction = nullptr;
  QAction* m_findPreviousAction = nullptr;
  QAction* m_fontAction = nullptr;
  QAction* m_aboutAction = nullptr;
  QMenu* m_viewMenu = nullptr;
  QDockWidget* m_libraryDock = nullptr;
  QDockWidget* m_peopleDock = nullptr;
};

}  // namespace quire::app
