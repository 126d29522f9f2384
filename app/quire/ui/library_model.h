// The library as a table model over DocumentStore::list(): title, last edited, sync state.
// The view and the window's actions read rows through it; refresh() re-reads the store.
#pragma once

#include <optional>
#include <vector>

#include <QAbstractTableModel>

#include "storage/document_store.h"

namespace quire::app {

class Workspace;

// Owned by its parent; reads the workspace's store, which must outlive it. GUI thread only.
class LibraryModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { TitleColumn, EditedColumn, SyncColumn, ColumnCount };
  // Data role giving a row's document id as 32 hex digits.
  static constexpr int IdRole = Qt::UserRole + 1;

  explicit LibraryModel(Workspace* workspace, QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;
  bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;

  // Re-reads the store, keeping rows in place where the documents are the same.
  void refresh();
  std::optional<storage::DocumentId> idAt(int row) const;
  int rowOf(const storage::DocumentId& id) const;

 signals:
  // A rename typed in the view failed.
  void renameFailed(const QString& error);

 private:
  struct Row {
    storage::DocumentInfo info;
    bool shared = false;  // has routes
  };
  QString syncState(const Row& row) const;

  Workspace* m_workspace;
  std::vector<Row> m_rows;
};

}  // namespace quire::app
