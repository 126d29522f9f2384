// The editor window's Preferences dialog, driven as a person drives it
// (tests/app/window_fixture.h).
#include <catch2/catch.hpp>

#include "tests/app/window_fixture.h"

using namespace quire::test::window;

// ---- Preferences.

namespace {

QLineEdit* field(QWidget* dialog, const char* name) {
  auto* e = dialog->findChild<QLineEdit*>(QString::fromLatin1(name));
  CHECK(e != nullptr);
  return e;
}

void setField(QWidget* dialog, const char* name, const QString& text) {
  if (QLineEdit* e = field(dialog, name)) {
    e->selectAll();
    QTest::keyClicks(e, text);
    if (text.isEmpty()) QTest::keyClick(e, Qt::Key_Delete);
  }
}

QAbstractButton* okButton(QWidget* dialog) {
  auto* box = dialog->findChild<QDialogButtonBox*>();
  return box ? box->button(QDialogButtonBox::Ok) : nullptr;
}

// The first row of the "People here" list: this person.
QString selfInPeople(MainWindow* window) {
  auto* dock = window->findChild<QDockWidget*>(QStringLiteral("people"));
  auto* list = dock ? dock->widget()->findChild<QListWidget*>() : nullptr;
  return list && list->count() > 0 ? list->item(0)->text() : QString();
}

}  // namespace

TEST_CASE("Preferences saves and applies name, colour, relay and listening address",
          "[window]") {
  Window w;
  INFO(w.error);
  REQUIRE(w.ok);
  w.newDocument(QStringLiteral("served"));
  CHECK(selfInPeople(w.window.get()) == QStringLiteral("Ada (you)"));
  CHECK(w.workspace->listeningPort() == 0);
  const QColor colour(0x1E, 0x88, 0xE5);

  std::shared_ptr<quire::test::DialogAnswer> colourAnswer;
  auto answer = answerNext<quire::app::PreferencesDialog>([&](quire::app::PreferencesDialog* d) {
    CHECK(field(d, "name")->text() == QStringLiteral("Ada"));
    setField(d, "name", QString::fromUtf8("Grace Hopper-Ünal"));
    // The colour button opens a colour dialog; the swatch shows what was picked.
    colourAnswer = answerNext<QColorDialog>([&](QColorDialog* c) {
      CHECK(c->currentColor() == QColor(0xD8, 0x1B, 0x60));
      c->setCurrentColor(colour);
      c->accept();
    });
    auto* button = d->findChild<QPushButton*>(QStringLiteral("colour"));
    click(button);
    if (button) CHECK(button->text() == colour.name());
    // Cancelling the colour dialog keeps the colour just picked.
    auto cancelColour = answerNext<QColorDialog>([](QColorDialog* c) {
      c->setCurrentColor(Qt::green);
      c->reject();
    });
    click(button);
    CHECK(cancelColour->wait());
    if (button) CHECK(button->text() == colour.name());
    setField(d, "relayUrl", QStringLiteral("wss://relay.example.org/quire"));
    setField(d, "listenAddress", QStringLiteral("127.0.0.1:0"));
    click(okButton(d));
  });
  w.trigger(QStringLiteral("File"), QStringLiteral("Preferences"));
  REQUIRE_ANSWERED(answer);
  REQUIRE(colourAnswer);
  REQUIRE_ANSWERED(colourAnswer);

  // Saved...
  const Preferences saved = Preferences::load();
  CHECK(saved.name == QString::fromUtf8("Grace Hopper-Ünal"));
  CHECK(saved.colour == colour);
  CHECK(saved.relayUrl == QStringLiteral("wss://relay.example.org/quire"));
  CHECK(saved.listenAddress == QStringLiteral("127.0.0.1:0"));
  // ...and applied: the identity others see, and a listener that accepts connections.
  CHECK(selfInPeople(w.window.get()) == QString::fromUtf8("Grace Hopper-Ünal (you)"));
  CHECK(w.workspace->listenAddress() == QStringLiteral("127.0.0.1:0"));
  const quint16 port = w.workspace->listeningPort();
  REQUIRE(port > 0);
  QTcpSocket socket;
  socket.connectToHost(QHostAddress::LocalHost, port);
  bool connected = false;
  quire::test::spinUntil([&] {
    connected = socket.state() == QAbstractSocket::ConnectedState;
    return connected;
  });
  CHECK(connected);
  socket.abort();

  // The dialog opens on what was saved; clearing the address stops listening.
  auto clear = answerNext<quire::app::PreferencesDialog>([&](quire::app::PreferencesDialog* d) {
    CHECK(field(d, "name")->text() == QString::fromUtf8("Grace Hopper-Ünal"));
    CHECK(field(d, "relayUrl")->text() == QStringLiteral("wss://relay.example.org/quire"));
    CHECK(field(d, "listenAddress")->text() == QStringLiteral("127.0.0.1:0"));
    setField(d, "listenAddress", QString());
    click(okButton(d));
  });
  w.trigger(QStringLiteral("File"), QStringLiteral("Preferences"));
  REQUIRE_ANSWERED(clear);
  CHECK(w.workspace->listeningPort() == 0);
  CHECK(Preferences::load().listenAddress.isEmpty());
}

TEST_CASE("Preferences warns about a bad relay or address, stays open, and applies nothing",
          "[window]") {
  Window w;
  INFO(w.error);
  REQUIRE(w.ok);
  w.newDocument();
  QStringList warnings;
  std::vector<std::shared_ptr<quire::test::DialogAnswer>> warningAnswers;
  bool stayedOpen = true;
  // Fills the dialog with `relay` and `listen`, presses OK and answers the warning it shows.
  auto tryBad = [&](QWidget* d, const QString& relay, const QString& listen) {
    setField(d, "relayUrl", relay);
    setField(d, "listenAddress", listen);
    warningAnswers.push_back(answerNext<QMessageBox>([&](QMessageBox* box) {
      warnings << box->text();
      click(box->button(QMessageBox::Ok));
    }));
    click(okButton(d));
    stayedOpen = stayedOpen && d->isVisible();
  };
  auto answer = answerNext<quire::app::PreferencesDialog>([&](quire::app::PreferencesDialog* d) {
    setField(d, "name", QStringLiteral("Mallory"));
    tryBad(d, QStringLiteral("http://relay.example.org"), QString());  // not ws://
    tryBad(d, QStringLiteral("ws://"), QString());                     // no host
    tryBad(d, QString(), QStringLiteral("127.0.0.1"));                 // no port
    tryBad(d, QString(), QStringLiteral("127.0.0.1:70000"));           // port out of range
    tryBad(d, QString(), QStringLiteral("relay.example.org:7400"));    // a host name
    CHECK(d->isVisible());
    click(d->findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Cancel));
  });
  w.trigger(QStringLiteral("File"), QStringLiteral("Preferences"));
  REQUIRE_ANSWERED(answer);
  for (const auto& a : warningAnswers) REQUIRE_ANSWERED(a);
  CHECK(stayedOpen);
  REQUIRE(warnings.size() == 5);
  CHECK(warnings[0].contains(QStringLiteral("ws://")));
  CHECK(warnings[1].contains(QStringLiteral("ws://")));
  for (int i = 2; i < 5; ++i) CHECK(warnings[i].contains(QStringLiteral("address:port")));
  // Nothing saved, nothing applied.
  CHECK_FALSE(quire::app::Settings().contains(QStringLiteral("identity/name")));
  CHECK(selfInPeople(w.window.get()) == QStringLiteral("Ada (you)"));
  CHECK(w.workspace->listenAddress().isEmpty());
  CHECK(w.workspace->listeningPort() == 0);
}

TEST_CASE("Preferences reports an address it cannot listen on", "[window]") {
  Window w;
  INFO(w.error);
  REQUIRE(w.ok);
  w.newDocument();
  QTcpServer taken;
  REQUIRE(taken.listen(QHostAddress::LocalHost, 0));
  const QString address = QStringLiteral("127.0.0.1:%1").arg(taken.serverPort());
  auto answer = answerNext<quire::app::PreferencesDialog>([&](quire::app::PreferencesDialog* d) {
    setField(d, "listenAddress", address);
    click(okButton(d));
  });
  // The error comes once the dialog has closed.
  QString error;
  auto report = answerNext<QMessageBox>([&](QMessageBox* box) {
    error = box->windowTitle();
    click(box->button(QMessageBox::Ok));
  });
  w.trigger(QStringLiteral("File"), QStringLiteral("Preferences"));
  REQUIRE_ANSWERED(answer);
  REQUIRE_ANSWERED(report);
  CHECK(error == QStringLiteral("Not listening for peers"));
  CHECK(w.workspace->listeningPort() == 0);
  // Not saved: the next start does not try it again.
  CHECK(quire::app::Preferences::load().listenAddress.isEmpty());
  CHECK(w.workspace->listenAddress().isEmpty());
}
