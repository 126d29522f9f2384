#include "app/quire/ui/main_window.h"

#include <cstdio>

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFontDialog>
#include <QFontMetricsF>
#include <QHeaderView>
#include <QMenuBar>
#include <QMessageBox>
#include <QStatusBar>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include "app/quire/collab_text_edit.h"
#include "app/quire/document_session.h"
#include "app/quire/text_binding.h"
#include "app/quire/ui/find_bar.h"
#include "app/quire/ui/library_model.h"
#include "app/quire/ui/people_panel.h"
#include "app/quire/ui/settings.h"
#include "app/quire/ui/status_panel.h"
#include "app/quire/ui/workspace.h"
#include "quire/version.h"

namespace quire::app {

namespace {

QString caretKey(const storage::DocumentId& id) {
  return QStringLiteral("documents/%1/caret").arg(QString::fromStdString(id.toHex()));
}

}  // namespace

MainWindow::MainWindow(Workspace* workspace, Preferences prefs, QWidget* parent)
    : QMainWindow(parent),
      m_workspace(workspace),
      m_prefs(std::move(prefs)),
      m_edit(new CollabTextEdit(this)),
      m_findBar(new FindBar(m_edit, this)),
      m_library(new LibraryModel(workspace, this)),
      m_libraryView(new QTableView(this)),
      m_people(new PeoplePanel(this)),
      m_status(new StatusPanel(statusBar(), m_edit, this)) {
  auto* central = new QWidget(this);
  auto* layout = new QVBoxLayout(central);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  layout->addWidget(m_edit, 1);
  layout->addWidget(m_findBar);
  setCentralWidget(central);
  connect(m_findBar, &FindBar::editGroupBegins, this, [this] {
    if (m_binding) m_binding->beginEditGroup();
  });
  connect(m_findBar, &FindBar::editGroupEnds, this, [this] {
    if (m_binding) m_binding->endEditGroup();
  });

  Settings settings;
  QFont font = QApplication::font();
  font.setPointSizeF(font.pointSizeF() + 1);
  if (settings.contains("editor/font")) font.fromString(settings.value("editor/font").toString());
  m_edit->setFont(font);
  m_edit->setTabStopDistance(QFontMetricsF(font).horizontalAdvance(QLatin1Char(' ')) * 4);
  m_edit->setFrameShape(QFrame::NoFrame);
  m_edit->document()->setDocumentMargin(16);

  buildActions();
  buildMenus();
  buildDocks();

  connect(m_workspace, &Workspace::documentOpened, this, &MainWindow::documentOpened);
  connect(m_workspace, &Workspace::documentClosing, this, &MainWindow::documentClosing);
  // Every commit changes a row's edited time: re-read the library at most a few times a second.
  auto* libraryTimer = new QTimer(this);
  libraryTimer->setSingleShot(true);
  libraryTimer->setInterval(250);
  connect(m_workspace, &Workspace::libraryChanged, libraryTimer, qOverload<>(&QTimer::start));
  connect(libraryTimer, &QTimer::timeout, this, [this] {
    m_library->refresh();
    updateShared();
    selectOpenDocument();
    updateTitle();
  });
  connect(m_workspace, &Workspace::joiningChanged, m_status, &StatusPanel::setJoining);
  connect(m_workspace, &Workspace::joiningChanged, this, [this](bool joining) {
    m_edit->setPlaceholderText(joining ? tr("Joining… the text arrives as soon as a route "
                                            "to another copy is live.")
                                       : QString());
  });
  connect(m_edit, &QPlainTextEdit::textChanged, this, &MainWindow::updateActions);
  connect(m_edit, &QPlainTextEdit::copyAvailable, this, &MainWindow::updateActions);

  applyPreferences();
  documentClosing(nullptr);  // the empty state
  resize(1000, 680);
  restoreGeometry(settings.value("window/geometry").toByteArray());
  restoreState(settings.value("window/state").toByteArray());
}

MainWindow::~MainWindow() = default;

void MainWindow::buildActions() {
  auto make = [this](const QString& text, auto slot,
                     QKeySequence::StandardKey key = QKeySequence::UnknownKey) {
    auto* action = new QAction(text, this);
    if (key != QKeySequence::UnknownKey) action->setShortcuts(key);
    connect(action, &QAction::triggered, this, slot);
    return action;
  };
  m_newAction = make(tr("&New Document"), &MainWindow::newDocument, QKeySequence::New);
  m_openAction = make(tr("&Open…"), &MainWindow::openSelected, QKeySequence::Open);
  m_openLinkAction = make(tr("Open &Link…"), &MainWindow::askForLink);
  m_openLinkAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
  m_importAction = make(tr("&Import File…"), &MainWindow::importFile);
  m_exportAction = make(tr("&Export…"), &MainWindow::exportFile);
  m_exportAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));
  m_renameAction = make(tr("&Rename…"), &MainWindow::renameDocument);
  m_renameAction->setShortcut(QKeySequence(Qt::Key_F2));
  m_renameAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  m_deleteAction = make(tr("&Delete…"), &MainWindow::deleteDocument);
  m_shareAction = make(tr("&Share…"), &MainWindow::shareDocument);
  m_shareAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S));
  m_preferencesAction =
      make(tr("&Preferences…"), &MainWindow::editPreferences, QKeySequence::Preferences);
  if (m_preferencesAction->shortcut().isEmpty())
    m_preferencesAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Comma));
  m_quitAction = make(tr("&Quit"), &MainWindow::close, QKeySequence::Quit);

  m_undoAction = make(
      tr("&Undo"),
      [this] {
        if (m_binding) m_binding->undo();
      },
      QKeySequence::Undo);
  m_redoAction = make(
      tr("&Redo"),
      [this] {
        if (m_binding) m_binding->redo();
      },
      QKeySequence::Redo);
  m_cutAction = make(
      tr("Cu&t"), [this] { m_edit->cut(); }, QKeySequence::Cut);
  m_copyAction = make(
      tr("&Copy"), [this] { m_edit->copy(); }, QKeySequence::Copy);
  m_pasteAction = make(
      tr("&Paste"), [this] { m_edit->paste(); }, QKeySequence::Paste);
  m_selectAllAction = make(
      tr("Select &All"), [this] { m_edit->selectAll(); }, QKeySequence::SelectAll);
  m_findAction = make(
      tr("&Find…"), [this] { m_findBar->showFind(false); }, QKeySequence::Find);
  m_replaceAction = make(tr("R&eplace…"), [this] { m_findBar->showFind(true); });
  QList<QKeySequence> replaceKeys = QKeySequence::keyBindings(QKeySequence::Replace);
  for (const QKeySequence& k :
       {QKeySequence(Qt::CTRL | Qt::Key_H), QKeySequence(Qt::CTRL | Qt::Key_R)})
    if (!replaceKeys.contains(k)) replaceKeys << k;
  m_replaceAction->setShortcuts(replaceKeys);
  m_findNextAction = make(
      tr("Find &Next"), [this] { m_findBar->findNext(); }, QKeySequence::FindNext);
  m_findPreviousAction = make(
      tr("Find Pre&vious"), [this] { m_findBar->findPrevious(); }, QKeySequence::FindPrevious);
  m_fontAction = make(tr("&Font…"), &MainWindow::chooseFont);
  m_aboutAction = make(tr("&About Quire"), &MainWindow::showAbout);
}

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addActions({m_newAction, m_openAction, m_openLinkAction});
  file->addSeparator();
  file->addActions({m_importAction, m_exportAction});
  file->addSeparator();
  file->addActions({m_shareAction, m_renameAction, m_deleteAction});
  file->addSeparator();
  file->addAction(m_preferencesAction);
  file->addSeparator();
  file->addAction(m_quitAction);

  QMenu* edit = menuBar()->addMenu(tr("&Edit"));
  edit->addActions({m_undoAction, m_redoAction});
  edit->addSeparator();
  edit->addActions({m_cutAction, m_copyAction, m_pasteAction});
  edit->addSeparator();
  edit->addAction(m_selectAllAction);
  edit->addSeparator();
  edit->addActions({m_findAction, m_findNextAction, m_findPreviousAction, m_replaceAction});

  m_viewMenu = menuBar()->addMenu(tr("&View"));
  m_viewMenu->addAction(m_fontAction);
  m_viewMenu->addSeparator();

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(m_aboutAction);
}

void MainWindow::buildDocks() {
  m_libraryView->setModel(m_library);
  m_libraryView->setMinimumWidth(240);
  m_people->setMinimumWidth(150);
  m_libraryView->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_libraryView->setSelectionMode(QAbstractItemView::SingleSelection);
  m_libraryView->setEditTriggers(QAbstractItemView::EditKeyPressed);
  m_libraryView->verticalHeader()->hide();
  m_libraryView->setShowGrid(false);
  m_libraryView->setAlternatingRowColors(true);
  m_libraryView->setWordWrap(false);
  m_libraryView->horizontalHeader()->setSectionResizeMode(LibraryModel::TitleColumn,
                                                          QHeaderView::Stretch);
  m_libraryView->horizontalHeader()->setSectionResizeMode(LibraryModel::EditedColumn,
                                                          QHeaderView::ResizeToContents);
  m_libraryView->horizontalHeader()->setSectionResizeMode(LibraryModel::SyncColumn,
                                                          QHeaderView::ResizeToContents);
  m_libraryView->setContextMenuPolicy(Qt::ActionsContextMenu);
  m_libraryView->addActions(
      {m_newAction, m_renameAction, m_exportAction, m_shareAction, m_deleteAction});
  connect(m_libraryView, &QTableView::activated, this, [this](const QModelIndex& index) {
    if (auto id = m_library->idAt(index.row())) openDocument(*id);
  });
  connect(m_library, &LibraryModel::renameFailed, this,
          [this](const QString& error) { showError(tr("Could not rename"), error); });
  connect(m_library, &QAbstractItemModel::dataChanged, this, &MainWindow::updateTitle);

  m_libraryDock = new QDockWidget(tr("Library"), this);
  m_libraryDock->setObjectName(QStringLiteral("library"));
  m_libraryDock->setWidget(m_libraryView);
  addDockWidget(Qt::LeftDockWidgetArea, m_libraryDock);
  m_peopleDock = new QDockWidget(tr("People here"), this);
  m_peopleDock->setObjectName(QStringLiteral("people"));
  m_peopleDock->setWidget(m_people);
  addDockWidget(Qt::RightDockWidgetArea, m_peopleDock);
  resizeDocks({m_libraryDock, m_peopleDock}, {330, 170}, Qt::Horizontal);
  m_viewMenu->addAction(m_libraryDock->toggleViewAction());
  m_viewMenu->addAction(m_peopleDock->toggleViewAction());
}

void MainWindow::documentOpened(DocumentSession* session) {
  delete m_binding;
  m_edit->setReadOnly(false);
  m_edit->setPlaceholderText(QString());
  m_binding = new TextBinding(m_edit, session, this);
  connect(m_binding, &TextBinding::bindingFailed, this,
          [this](const QString& error) { showError(tr("The text was reloaded"), error); });
  // The caret where it was when this document was last closed; in a long text still being
  // shown, once its place is.
  const QVariant caret = Settings().value(caretKey(session->id()));
  auto placeCaret = [this, at = caret.toUInt()] {
    QTextCursor c = m_edit->textCursor();
    c.setPosition(std::min(m_binding->toUtf16(at), m_edit->document()->characterCount() - 1));
    m_edit->setTextCursor(c);
    m_edit->ensureCursorVisible();
  };
  if (caret.isValid()) {
    if (m_binding->toUtf16(caret.toUInt()) <= m_binding->shownLength()) {
      placeCaret();
    } else {
      auto* once = new QObject(m_binding);  // gone with the binding, or after placing it
      connect(m_binding, &TextBinding::loadProgress, once,
              [placeCaret, once](qint64 shown, qint64 total) {
                if (shown < total) return;
                placeCaret();
                once->deleteLater();
              });
    }
  }
  connect(m_binding, &TextBinding::loadProgress, m_status, &StatusPanel::setLoadProgress);
  connect(session, &DocumentSession::joinProgress, m_status, &StatusPanel::setJoinProgress);
  Settings().setValue("session/lastDocument", QString::fromStdString(session->id().toHex()));
  m_status->setSession(session);
  m_status->setJoining(m_workspace->joining());
  m_status->setLoadProgress(m_binding->shownLength(), m_binding->textLength());
  updateShared();
  m_people->setSession(session);
  m_library->refresh();
  selectOpenDocument();
  updateTitle();
  updateActions();
  m_edit->setFocus();
}

void MainWindow::documentClosing(DocumentSession* session) {
  if (session) saveCaret();
  delete m_binding;
  m_edit->clear();
  m_edit->setReadOnly(true);
  m_edit->setPlaceholderText(
      tr("No document is open.\n\nCreate one with File ▸ New Document (Ctrl+N), pick one in "
         "the library, or open a link someone shared with File ▸ Open Link… (Ctrl+L)."));
  m_status->setSession(nullptr);
  m_people->setSession(nullptr);
  m_findBar->hide();
  updateTitle();
  updateActions();
}

void MainWindow::updateShared() {
  DocumentSession* session = m_workspace->session();
  if (!session) return;
  auto routes = m_workspace->store().routes(session->id());
  m_status->setShared(routes && !routes->empty());
}

void MainWindow::saveCaret() {
  DocumentSession* session = m_workspace->session();
  if (!session || !m_binding) return;
  Settings().setValue(caretKey(session->id()),
                      m_binding->toCodePoints(m_edit->textCursor().position()));
}

void MainWindow::updateActions() {
  DocumentSession* session = m_workspace->session();
  const bool open = session != nullptr;
  for (QAction* a : {m_exportAction, m_shareAction, m_cutAction, m_pasteAction, m_selectAllAction,
                     m_findAction, m_replaceAction, m_findNextAction, m_findPreviousAction})
    a->setEnabled(open);
  m_undoAction->setEnabled(open && session->canUndo());
  m_redoAction->setEnabled(open && session->canRedo());
  const bool selection = m_edit->textCursor().hasSelection();
  m_cutAction->setEnabled(open && selection);
  m_copyAction->setEnabled(selection);
  const bool anyRow = m_library->rowCount() > 0;
  m_renameAction->setEnabled(anyRow);
  m_deleteAction->setEnabled(anyRow);
}

void MainWindow::updateTitle() {
  DocumentSession* session = m_workspace->session();
  QString title;
  if (session) {
    auto info = m_workspace->store().info(session->id());
    title = info ? QString::fromStdString(info->title) : session->title();
  }
  setWindowTitle(title.isEmpty() ? QStringLiteral("Quire") : tr("%1 — Quire").arg(title));
}

void MainWindow::chooseFont() {
  bool ok = false;
  const QFont font = QFontDialog::getFont(&ok, m_edit->font(), this, tr("Editor font"));
  if (!ok) return;
  m_edit->setFont(font);
  m_edit->setTabStopDistance(QFontMetricsF(font).horizontalAdvance(QLatin1Char(' ')) * 4);
  Settings().setValue("editor/font", font.toString());
}

void MainWindow::editPreferences() {
  PreferencesDialog dialog(m_prefs, this);
  if (dialog.exec() != QDialog::Accepted) return;
  const QString listening = m_workspace->listenAddress();
  m_prefs = dialog.preferences();
  // A new listening address is kept only if it works; the rest applies as it is.
  if (listening != m_prefs.listenAddress) {
    if (auto r = m_workspace->setListenAddress(m_prefs.listenAddress); !r) {
      m_prefs.listenAddress = listening;
      (void)m_workspace->setListenAddress(listening);
      showError(tr("Not listening for peers"),
                tr("%1\nThe previous listening address is kept.")
                    .arg(QString::fromStdString(r.error().message())));
    }
  }
  m_prefs.save();
  applyPreferences();
}

void MainWindow::applyPreferences() {
  const Identity self{m_prefs.name, m_prefs.colour};
  m_workspace->setIdentity(self);
  m_people->setSelf(self);
  if (m_workspace->listenAddress() != m_prefs.listenAddress) {
    if (auto r = m_workspace->setListenAddress(m_prefs.listenAddress); !r) {
      showError(tr("Not listening for peers"), QString::fromStdString(r.error().message()));
    }
  }
}

void MainWindow::showAbout() {
  QMessageBox::about(this, tr("About Quire"),
                     tr("<h3>Quire %1</h3><p>A text editor for writing together, on your own "
                        "computer first: every keystroke is stored here, and shared documents "
                        "sync when a route to another copy is live.</p>")
                         .arg(QStringLiteral(QUIRE_VERSION)));
}

void MainWindow::showError(const QString& what, const QString& error) {
  std::fprintf(stderr, "quire: %s: %s\n", qPrintable(what), qPrintable(error));
  QMessageBox::warning(this, what, error);
}

void MainWindow::bringToFront() {
  if (isMinimized()) showNormal();
  show();
  raise();
  activateWindow();
}

void MainWindow::closeEvent(QCloseEvent* event) {
  saveCaret();
  Settings settings;
  settings.setValue("window/geometry", saveGeometry());
  settings.setValue("window/state", saveState());
  m_workspace->closeDocument();
  event->accept();
}

}  // namespace quire::app
