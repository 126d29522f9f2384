// "Edits not yet received by anyone": a local edit counts as received once a relay says it
// stored it (its answer to "sync", sent after the frames before it are committed) or once it
// went to a direct peer. Typed offline, edits wait, the status bar says so after a second, and
// the next join's catch-up gets them received.
#include <catch2/catch.hpp>

#include <memory>

#include <QHostAddress>
#include <QStatusBar>

#include "app/quire/ui/status_panel.h"
#include "net/ws_peer.h"
#include "tests/app/editor_harness.h"
#include "tests/support/temp_dir.h"

namespace {

using quire::test::Editor;
using quire::test::TwoEditors;

}  // namespace

TEST_CASE("Edits typed offline wait as not received, and a relay's answer clears them",
          "[binding][relay][receipt]") {
  quire::test::OneEditor one("Receipts");
  INFO(one.error);
  REQUIRE(one.ok);
  Editor& e = one.editor;
  QStatusBar bar;
  quire::app::StatusPanel status(&bar, e.edit.get());
  status.setSession(e.session.get());
  status.setShared(true);

  // Nobody listens on port 9 of this machine: the route stays down.
  e.session->setRoutes({"ws://127.0.0.1:9"});
  quire::test::typeText(e.edit.get(), QStringLiteral("offline words here"));
  REQUIRE(quire::test::spinUntil([&] { return e.session->uncommittedEdits() == 0; }));
  const std::size_t waiting = e.session->unreceivedEdits();
  CHECK(waiting == 18);  // one per keystroke, though kept as one entry while offline
  CHECK(status.unreceivedText().isEmpty());  // not yet: only once one has waited a second
  REQUIRE(quire::test::spinUntil([&] { return !status.unreceivedText().isEmpty(); }, 3000));
  CHECK(status.unreceivedText() ==
        (waiting == 1 ? QStringLiteral("1 edit not yet received")
                      : QStringLiteral("%1 edits not yet received").arg(waiting)));
  CHECK(e.session->unreceivedEdits() == waiting);

  // A relay comes into reach: the join's catch-up carries them, its answer clears them.
  quire::test::Relay relay;
  REQUIRE(relay.port() != 0);
  e.session->setRoutes({relay.url()});
  REQUIRE(quire::test::spinUntil([&] { return e.session->unreceivedEdits() == 0; }));
  REQUIRE(quire::test::spinUntil([&] { return status.unreceivedText().isEmpty(); }, 2000));
  CHECK(relay.storedBytes() > 0);

  // Live: each edit is received within moments, and the label never shows.
  quire::test::typeText(e.edit.get(), QStringLiteral(" and more"));
  REQUIRE(quire::test::spinUntil([&] {
    return e.session->uncommittedEdits() == 0 && e.session->unreceivedEdits() == 0;
  }));
  CHECK(status.unreceivedText().isEmpty());
}

TEST_CASE("Edits sent to a direct peer count as received", "[binding][receipt]") {
  TwoEditors f(false);
  REQUIRE(f.ok);
  // Ada has no relay: Grace dials Ada's editor directly.
  f.a.session->setRoutes({});
  quire::net::WsListener listener;
  listener.serve(&f.a.session->net());
  REQUIRE(listener.listen(QHostAddress::LocalHost, 0));
  quire::test::typeText(f.a.edit.get(), QStringLiteral("before anyone came"));
  REQUIRE(quire::test::spinUntil([&] { return f.a.session->uncommittedEdits() == 0; }));
  CHECK(f.a.session->unreceivedEdits() > 0);

  REQUIRE(f.openSecond());
  f.b.session->setRoutes({"ws://127.0.0.1:" + std::to_string(listener.port())});
  // The hello's catch-up sends Grace everything: received.
  REQUIRE(f.settle());
  REQUIRE(quire::test::spinUntil([&] { return f.a.session->unreceivedEdits() == 0; }));
  quire::test::typeText(f.a.edit.get(), QStringLiteral(", and after"));
  REQUIRE(f.settle());
  f.b.setCaret(f.b.widgetText().size());
  quire::test::typeText(f.b.edit.get(), QStringLiteral(" (Grace)"));
  REQUIRE(f.settle());
  CHECK(f.a.session->unreceivedEdits() == 0);
  CHECK(f.b.session->unreceivedEdits() == 0);
  CHECK(f.b.engineText() == QStringLiteral("before anyone came, and after (Grace)"));
}
