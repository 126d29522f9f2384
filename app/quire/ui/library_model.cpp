#include "app/quire/ui/library_model.h"

#include <algorithm>

#include <QDateTime>
#include <QFont>
#include <QLocale>

#include "app/quire/ui/workspace.h"

namespace quire::app {

LibraryModel::LibraryModel(Workspace* workspace, QObject* parent)
    : QAbstractTableModel(parent), m_workspace(workspace) {
  refresh();
}

int LibraryModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int LibraryModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QString LibraryModel::syncState(const Row& row) const {
  const DocumentSession* session = m_workspace->session();
  if (session && session->id() == row.info.id) {
    if (m_workspace->joining()) return tr("Joining…");
    switch (session->connectionState()) {
      case ConnectionState::Live:
        return tr("Live");
      case ConnectionState::Connecting:
        return tr("Connecting…");
      case ConnectionState::Offline:
        return row.shared ? tr("Offline") : tr("This computer");
    }
  }
  return row.shared ? tr("Shared") : tr("This computer");
}

QVariant LibraryModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= static_cast<int>(m_rows.size())) return {};
  const Row& row = m_rows[static_cast<std::size_t>(index.row())];
  if (role == IdRole) return QString::fromStdString(row.info.id.toHex());
  const QDateTime edited = QDateTime::fromMSecsSinceEpoch(row.info.editedMs);
  if (role == Qt::DisplayRole || role == Qt::EditRole) {
    switch (index.column()) {
      case TitleColumn:
        return QString::fromStdString(row.info.title);
      case EditedColumn: {
        const QDate today = QDate::currentDate();
        if (edited.date() == today) return QLocale().toString(edited.time(), QLocale::ShortFormat);
        return QLocale().toString(edited.date(), QLocale::ShortFormat);
      }
      case SyncColumn:
        return syncState(row);
    }
  }
  if (role == Qt::ToolTipRole) {
    return tr("%1\nLast edited %2\n%3")
        .arg(QString::fromStdString(row.info.title),
             QLocale().toString(edited, QLocale::LongFormat), syncState(row));
  }
  if (role == Qt::FontRole && index.column() == TitleColumn) {
    const DocumentSession* session = m_workspace->session();
    if (session && session->id() == row.info.id) {
      QFont bold;
      bold.setBold(true);
      return bold;
    }
  }
  return {};
}

QVariant LibraryModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case TitleColumn:
      return tr("Title");
    case EditedColumn:
      return tr("Last edited");
    case SyncColumn:
      return tr("Sync");
  }
  return {};
}

Qt::ItemFlags LibraryModel::flags(const QModelIndex& index) const {
  Qt::ItemFlags f = QAbstractTableModel::flags(index);
  if (index.isValid() && index.column() == TitleColumn) f |= Qt::ItemIsEditable;
  return f;
}

bool LibraryModel::setData(const QModelIndex& index, const QVariant& value, int role) {
  if (role != Qt::EditRole || !index.isValid() || index.column() != TitleColumn) return false;
  const QString title = value.toString().trimmed();
  if (title.isEmpty()) return false;
  Row& row = m_rows[static_cast<std::size_t>(index.row())];
  if (auto r = m_workspace->store().rename(row.info.id, title.toStdString()); !r) {
    emit renameFailed(QString::fromStdString(r.error().toString()));
    return false;
  }
  row.info.title = title.toStdString();
  emit dataChanged(index, index);
  return true;
}

void LibraryModel::refresh() {
  auto listed = m_workspace->store().list();
  if (!listed) return;
  std::vector<Row> rows;
  rows.reserve(listed->size());
  for (auto& info : *listed) {
    auto routes = m_workspace->store().routes(info.id);
    rows.push_back(Row{std::move(info), routes && !routes->empty()});
  }
  // Most recently edited first, the way people look for what they were working on.
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Row& a, const Row& b) { return a.info.editedMs > b.info.editedMs; });
  const bool sameIds =
      rows.size() == m_rows.size() &&
      std::equal(rows.begin(), rows.end(), m_rows.begin(),
                 [](const Row& a, const Row& b) { return a.info.id == b.info.id; });
  if (sameIds) {
    m_rows = std::move(rows);
    if (!m_rows.empty()) emit dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
    return;
  }
  beginResetModel();
  m_rows = std::move(rows);
  endResetModel();
}

std::optional<storage::DocumentId> LibraryModel::idAt(int row) const {
  if (row < 0 || row >= static_cast<int>(m_rows.size())) return std::nullopt;
  return m_rows[static_cast<std::size_t>(row)].info.id;
}

int LibraryModel::rowOf(const storage::DocumentId& id) const {
  for (std::size_t i = 0; i < m_rows.size(); ++i)
    if (m_rows[i].info.id == id) return static_cast<int>(i);
  return -1;
}

}  // namespace quire::app
