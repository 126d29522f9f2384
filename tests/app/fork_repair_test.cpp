// Issue 12, forks: an editor whose copy holds the losing version of a key holder's forged ops
// meets the winning one through the relay. The engine rebuilds the document (engine FORMAT.md,
// "Forks"); the editor must show the rebuilt text, forget undo steps that name the old ops, keep
// what its person typed, and store the rebuilt history in place of the old one.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include <QPixmap>

#include "engine/document.h"
#include "storage/document_store.h"
#include "tests/app/editor_harness.h"
#include "tests/support/test_util.h"

namespace {

// A key holder's ops: `text` at the start, as replica 0x4D.., seqs from 0.
std::vector<std::uint8_t> forged(const std::string& text) {
  quire::engine::Document mallory(quire::test::replicaId(0x4D));
  REQUIRE(mallory.insert(0, text));
  return mallory.encodeUpdateSince({});
}

// Stores `update` in document `id` of the database at `path`, as if it had arrived while the
// editor was closed.
void storeArrived(const std::string& path, const quire::storage::DocumentId& id,
                  const std::vector<std::uint8_t>& update) {
  auto store = quire::storage::DocumentStore::open(path);
  REQUIRE(store.has_value());
  REQUIRE((*store)->append(id, update).has_value());
}

}  // namespace

TEST_CASE("An editor holding a fork's losing version shows the winner, keeps its typing and stores the repair",
          "[app][fork][relay]") {
  quire::test::TwoEditors f(false);
  INFO(f.error);
  REQUIRE(f.ok);
  // A key holder gave Ada one version and Grace another while they were apart.
  f.a.close();
  storeArrived(f.dir.file("ada.db"), f.a.id, forged("mallory "));
  storeArrived(f.dir.file("grace.db"), f.a.id, forged("Mallory "));
  std::string error;
  REQUIRE(f.a.open(f.dir.file("ada.db"), f.a.id, error));
  CHECK(f.a.widgetText() == QStringLiteral("mallory "));
  f.a.setCaret(8);
  quire::test::typeText(f.a.edit.get(), QStringLiteral("typed by Ada"));
  CHECK(f.a.session->canUndo());

  // They meet in the room: "Mallory " sorts first and wins on both copies.
  f.a.session->setRoutes({f.relay.url()});
  REQUIRE(f.openSecond());
  const bool settled = f.settle(15000);
  INFO("A engine '" << f.a.engineText().toStdString() << "', widget '" << f.a.widgetText().toStdString()
                    << "'; B engine '" << f.b.engineText().toStdString() << "'");
  REQUIRE(settled);
  CHECK(f.a.widgetText() == QStringLiteral("Mallory typed by Ada"));
  CHECK(f.b.widgetText() == f.a.widgetText());
  // The undo stack named ops by their old numbers: it is gone, not misapplied.
  CHECK_FALSE(f.a.session->canUndo());
  CHECK(f.a.bindingError.isEmpty());

  // Typing goes on in the repaired document and reaches Grace.
  f.a.setCaret(f.a.widgetText().size());
  quire::test::typeText(f.a.edit.get(), QStringLiteral("!"));
  REQUIRE(f.settle(10000));
  CHECK(f.b.widgetText() == QStringLiteral("Mallory typed by Ada!"));

  // For a person to look at, beside the other screenshots.
  f.a.edit->show();
  quire::test::spinFor(50);
  const std::string dir = QUIRE_APP_ARTIFACTS_DIR;
  std::filesystem::create_directories(dir);
  CHECK(f.a.edit->grab().save(QString::fromStdString(dir + "/fork-repaired.png")));

  // On disk, Ada's database holds the repaired history alone (no row of the losing version
  // comes back when it is read afresh).
  f.a.close();
  auto stored = quire::test::storedText(f.dir.file("ada.db"), f.a.id, error);
  INFO(error);
  REQUIRE(stored.has_value());
  CHECK(*stored == "Mallory typed by Ada!");
}
