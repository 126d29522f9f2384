// MainWindow's library actions: new, open, rename, delete, import, export, links, sharing.
#include <cstdio>
#include <filesystem>
#include <system_error>

#include <QAbstractFileIconProvider>
#include <QApplication>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QUrl>
#include <QInputDialog>
#include <QItemSelectionModel>
#include <QMessageBox>
#include <QPushButton>
#include <QStandardPaths>
#include <QStatusBar>
#include <QStyle>
#include <QTableView>

#include "app/quire/document_session.h"
#include "app/quire/ui/library_model.h"
#include "app/quire/ui/link_dialog.h"
#include "app/quire/ui/main_window.h"
#include "app/quire/ui/settings.h"
#include "app/quire/ui/share_dialog.h"
#include "app/quire/ui/workspace.h"

namespace quire::app {

namespace {

QString message(const Error& error) { return QString::fromStdString(error.message()); }

// Where the file dialogs start: the Documents folder, else the home folder. A folder that does
// not exist would make QFileDialog offer its name as the file to open, or start elsewhere.
QString startFolder() {
  const QString documents = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
  return QFileInfo(documents).isDir() ? documents : QDir::homePath();
}

// Icons and type names for the file dialogs from a file's name alone. Qt's own provider asks
// QMimeDatabase, which opens a file to read its first bytes whenever its name does not settle
// the type: browsing the library's folder opened quire.db, -wal and -shm, and closing them
// dropped SQLite's locks on the database (storage/SCHEMA.md, "The lock file").
class NameOnlyIconProvider : public QAbstractFileIconProvider {
 public:
  QIcon icon(IconType type) const override {
    return QApplication::style()->standardIcon(type == Folder ? QStyle::SP_DirIcon
                                               : type == Drive ? QStyle::SP_DriveHDIcon
                                                               : QStyle::SP_FileIcon);
  }
  QIcon icon(const QFileInfo& info) const override { return icon(info.isDir() ? Folder : File); }
  QString type(const QFileInfo& info) const override {
    if (info.isDir()) return QObject::tr("Folder");
    const QString suffix = info.suffix();
    return suffix.isEmpty() ? QObject::tr("File") : QObject::tr("%1 file").arg(suffix.toUpper());
  }
};

// Qt's own file dialog (a platform one may read files in this process), with the icons above.
QString askForFile(QWidget* parent, QFileDialog::AcceptMode mode, const QString& caption,
                   const QString& selection, const QString& filter) {
  static NameOnlyIconProvider icons;
  QFileDialog dialog(parent, caption, QString(), filter);
  dialog.setOption(QFileDialog::DontUseNativeDialog);
  dialog.setIconProvider(&icons);
  dialog.setAcceptMode(mode);
  dialog.setFileMode(mode == QFileDialog::AcceptOpen ? QFileDialog::ExistingFile
                                                     : QFileDialog::AnyFile);
  const QFileInfo start(selection);
  dialog.setDirectory(start.isDir() ? selection : start.absolutePath());
  if (!start.isDir()) dialog.selectFile(start.fileName());
  if (dialog.exec() != QDialog::Accepted || dialog.selectedFiles().isEmpty()) return {};
  return dialog.selectedFiles().constFirst();
}

// Whether `path` is one of the library's own files: the database, its WAL, its shared memory or
// its lock file. Reading one would drop SQLite's locks; writing one would destroy the library.
bool isLibraryFile(const QString& path, const std::string& database) {
  const std::filesystem::path chosen(QFile::encodeName(path).toStdString());
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal", ".lock"}) {
    if (std::filesystem::equivalent(chosen, database + suffix, ec) && !ec) return true;
    ec.clear();
  }
  return false;
}

}  // namespace

void MainWindow::restoreLastDocument() {
  const auto last = storage::DocumentId::fromHex(
      Settings().value("session/lastDocument").toString().toStdString());
  if (last && m_workspace->store().info(*last)) {
    openDocument(*last);
  } else if (auto first = m_library->idAt(0)) {
    openDocument(*first);  // the most recently edited
  }
}

void MainWindow::openDocument(const storage::DocumentId& id) {
  if (auto r = m_workspace->openDocument(id); !r) {
    showError(tr("Could not open the document"), message(r.error()));
  }
}

std::optional<storage::DocumentId> MainWindow::selectedId() const {
  const QModelIndexList rows = m_libraryView->selectionModel()->selectedRows();
  if (!rows.isEmpty()) return m_library->idAt(rows.first().row());
  if (DocumentSession* s = m_workspace->session()) return s->id();
  return std::nullopt;
}

void MainWindow::selectOpenDocument() {
  DocumentSession* s = m_workspace->session();
  const int row = s ? m_library->rowOf(s->id()) : -1;
  if (row < 0) return;
  const QModelIndex index = m_library->index(row, LibraryModel::TitleColumn);
  m_libraryView->selectionModel()->select(
      index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
  m_libraryView->selectionModel()->setCurrentIndex(index, QItemSelectionModel::NoUpdate);
}

void MainWindow::newDocument() {
  auto id = m_workspace->store().create(tr("Untitled").toStdString());
  if (!id) return showError(tr("Could not create a document"), message(id.error()));
  m_library->refresh();
  openDocument(*id);
}

void MainWindow::openSelected() {
  // The library is the open dialog: show it, and open what is selected there.
  m_libraryDock->show();
  m_libraryDock->raise();
  m_libraryView->setFocus();
  const QModelIndexList rows = m_libraryView->selectionModel()->selectedRows();
  if (!rows.isEmpty()) {
    if (auto id = m_library->idAt(rows.first().row())) openDocument(*id);
  }
}

void MainWindow::renameDocument() {
  const auto id = selectedId();
  if (!id) return;
  auto info = m_workspace->store().info(*id);
  if (!info) return showError(tr("Could not rename"), message(info.error()));
  bool ok = false;
  const QString title = QInputDialog::getText(this, tr("Rename"), tr("Title:"), QLineEdit::Normal,
                                              QString::fromStdString(info->title), &ok)
                            .trimmed();
  if (!ok || title.isEmpty()) return;
  if (auto r = m_workspace->store().rename(*id, title.toStdString()); !r) {
    return showError(tr("Could not rename"), message(r.error()));
  }
  m_library->refresh();
  updateTitle();
}

void MainWindow::deleteDocument() {
  const auto id = selectedId();
  if (!id) return;
  auto info = m_workspace->store().info(*id);
  if (!info) return;
  QMessageBox confirm(
      QMessageBox::Warning, tr("Delete document"),
      tr("Delete “%1” from this computer?").arg(QString::fromStdString(info->title)),
      QMessageBox::Cancel, this);
  confirm.setInformativeText(
      tr("Its text and history here are removed. Copies other people "
         "have are not affected."));
  QPushButton* remove = confirm.addButton(tr("&Delete"), QMessageBox::DestructiveRole);
  confirm.setDefaultButton(QMessageBox::Cancel);
  confirm.exec();
  if (confirm.clickedButton() != remove) return;
  DocumentSession* open = m_workspace->session();
  if (open && open->id() == *id) {
    m_workspace->closeDocument();
    // documentClosing() ran while the session was still the workspace's: show it is gone.
    updateTitle();
    updateActions();
  }
  if (auto r = m_workspace->store().remove(*id); !r) {
    return showError(tr("Could not delete"), message(r.error()));
  }
  Settings().remove(QStringLiteral("documents/%1").arg(QString::fromStdString(id->toHex())));
  m_library->refresh();
  updateActions();
}

void MainWindow::importFile() {
  const QString path =
      askForFile(this, QFileDialog::AcceptOpen, tr("Import a text file"), startFolder(),
                 tr("Text and Markdown (*.txt *.md *.markdown *.text);;All files (*)"));
  if (path.isEmpty()) return;
  importPath(path);
}

bool MainWindow::importPath(const QString& path) {
  if (isLibraryFile(path, m_workspace->store().path())) {
    showError(tr("Could not import"),
              tr("%1 is one of Quire's own library files; it holds your documents, not text to "
                 "import.").arg(QDir::toNativeSeparators(path)));
    return false;
  }
  auto id = m_workspace->store().importFile(QFile::encodeName(path).toStdString(),
                                            QFileInfo(path).completeBaseName().toStdString());
  if (!id) {
    showError(tr("Could not import"), message(id.error()));
    return false;
  }
  m_library->refresh();
  openDocument(*id);
  return true;
}

bool MainWindow::openArgument(const QString& argument) {
  const QUrl url(argument);
  if (url.isLocalFile()) return importPath(url.toLocalFile());
  if (url.scheme().isEmpty() && QFileInfo(argument).isFile()) return importPath(argument);
  return openLink(argument);
}

void MainWindow::exportFile() {
  const auto id = selectedId();
  if (!id) return;
  auto info = m_workspace->store().info(*id);
  if (!info) return;
  // Everything typed is in the database before the file is written from it.
  QString name = QString::fromStdString(info->title);
  name.replace(QLatin1Char('/'), QLatin1Char('-'));
  const QString path = askForFile(this, QFileDialog::AcceptSave, tr("Export"),
                                  QDir(startFolder()).filePath(name + QStringLiteral(".md")),
                                  tr("Markdown (*.md);;Text (*.txt);;All files (*)"));
  if (path.isEmpty()) return;
  if (isLibraryFile(path, m_workspace->store().path())) {
    return showError(tr("Could not export"),
                     tr("%1 is one of Quire's own library files; exporting there would destroy "
                        "your documents.").arg(QDir::toNativeSeparators(path)));
  }
  m_workspace->flush();
  if (auto r = m_workspace->store().exportFile(*id, QFile::encodeName(path).toStdString()); !r) {
    return showError(tr("Could not export"), message(r.error()));
  }
  statusBar()->showMessage(tr("Exported to %1").arg(QDir::toNativeSeparators(path)), 5000);
}

void MainWindow::askForLink() {
  LinkDialog dialog(this);
  if (dialog.exec() != QDialog::Accepted) return;
  openLink(dialog.link());
}

bool MainWindow::openLink(const QString& link) {
  auto id = m_workspace->openLink(link);
  if (!id) {
    showError(tr("Could not open the link"), message(id.error()));
    return false;
  }
  m_library->refresh();
  selectOpenDocument();
  return true;
}

void MainWindow::shareDocument() {
  if (!m_workspace->session()) return;
  ShareDialog dialog(m_workspace, m_prefs.relayUrl, this);
  dialog.exec();
  m_library->refresh();
}

}  // namespace quire::app
