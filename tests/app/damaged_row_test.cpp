// A database that holds a poison row (an update an earlier version stored, or a damaged one)
// still opens in the editor: the row is skipped, everything else loads, and the status says so.
#include <catch2/catch.hpp>

#include <QStatusBar>

#include "app/quire/ui/status_panel.h"
#include "engine/document.h"
#include "storage/document_store.h"
#include "tests/app/editor_harness.h"
#include "tests/support/hostile_inputs.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_util.h"

TEST_CASE("a poison row in the database is skipped with a warning and the rest opens", "[binding][hostile]") {
  quire::test::GuiApp app;
  quire::test::TempDir dir("quire-poison-row");
  const std::string path = dir.file("quire.db");
  quire::storage::DocumentId id;
  {
    auto store = quire::storage::DocumentStore::open(path);
    REQUIRE(store);
    auto created = (*store)->create("Poisoned");
    REQUIRE(created);
    id = *created;
    quire::engine::Document doc(quire::test::replicaId(5));
    REQUIRE(doc.insert(0, "hello"));
    REQUIRE((*store)->append(id, doc.encodeUpdateSince({})));
    // Rows that no version can use: a counter overflow, and garbage behind an update header.
    REQUIRE((*store)->append(id, quire::test::hostile::seqOverflowUpdate()));
    REQUIRE((*store)->append(id, quire::test::hostile::garbageUpdate(300, 3)));
    const auto before = doc.version();
    REQUIRE(doc.insert(5, " world"));
    REQUIRE((*store)->append(id, doc.encodeUpdateSince(before)));
  }

  quire::test::Editor e;
  std::string error;
  REQUIRE(e.open(path, id, error));
  INFO(error);
  CHECK(e.engineText() == QStringLiteral("hello world"));
  CHECK(e.session->damagedRows().size() == 2);
  QStatusBar bar;
  quire::app::StatusPanel status(&bar, e.edit.get());
  status.setSession(e.session.get());
  CHECK(status.saveText().contains(QStringLiteral("2 damaged stored updates skipped")));

  // Typing still works and is stored; the skipped rows are still there (nothing is deleted).
  quire::test::typeText(e.edit.get(), QStringLiteral("!"));
  REQUIRE(quire::test::spinUntil([&] { return e.session->uncommittedEdits() == 0; }));
  e.close();
  auto store = quire::storage::DocumentStore::open(path);
  REQUIRE(store);
  std::vector<quire::Error> skipped;
  auto reopened = (*store)->loadSkippingDamaged(id, skipped);
  REQUIRE(reopened);
  CHECK(skipped.size() == 2);
  CHECK(reopened->text().size() == std::string("hello world!").size());
}
