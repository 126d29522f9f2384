#include "tests/app/editor_harness.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QHostAddress>
#include <QInputMethodEvent>
#include <QKeyEvent>
#include <QTextCursor>

namespace quire::test {

void ensureGuiApp() {
  static int argc = 1;
  static char name[] = "quire_app_tests";
  static char* argv[] = {name, nullptr};
  if (QCoreApplication::instance() != nullptr) return;
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  new QApplication(argc, argv);
}

bool spinUntil(const std::function<bool()>& done, int timeoutMs) {
  QElapsedTimer timer;
  timer.start();
  while (!done() && timer.elapsed() < timeoutMs) {
    QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
  }
  return done();
}

void spinFor(int ms) {
  QElapsedTimer timer;
  timer.start();
  while (timer.elapsed() < ms) QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
}

bool Editor::open(const std::string& dbPath, const storage::DocumentId& docId, std::string& error) {
  path = dbPath;
  id = docId;
  auto s = storage::DocumentStore::open(path);
  if (!s) {
    error = "DocumentStore::open: " + s.error().toString();
    return false;
  }
  store = std::move(*s);
  auto q = storage::AppendQueue::open(path);
  if (!q) {
    error = "AppendQueue::open: " + q.error().toString();
    return false;
  }
  queue = std::move(*q);
  auto session_ = app::DocumentSession::open(*store, *queue, id);
  if (!session_) {
    error = "DocumentSession::open: " + session_.error().toString();
    return false;
  }
  session = std::move(*session_);
  edit = std::make_unique<app::CollabTextEdit>();
  edit->resize(400, 200);
  binding = std::make_unique<app::TextBinding>(edit.get(), session.get());
  QObject::connect(binding.get(), &app::TextBinding::bindingFailed,
                   [this](const QString& e) { bindingError = e; });
  return true;
}

void Editor::close() {
  binding.reset();
  edit.reset();
  session.reset();
  queue.reset();  // commits what is queued
  store.reset();
}

QString Editor::engineText() const {
  return QString::fromStdString(session->document().text());
}

QString Editor::widgetText() const { return edit->toPlainText(); }

void Editor::setCaret(int pos) {
  QTextCursor c = edit->textCursor();
  c.setPosition(pos);
  edit->setTextCursor(c);
}

void Editor::select(int anchor, int pos) {
  QTextCursor c = edit->textCursor();
  c.setPosition(anchor);
  c.setPosition(pos, QTextCursor::KeepAnchor);
  edit->setTextCursor(c);
}

int Editor::caret() const { return edit->textCursor().position(); }

std::optional<storage::DocumentId> createDocument(const std::string& path, const std::string& title,
                                                  std::string& error) {
  auto store = storage::DocumentStore::open(path);
  if (!store) {
    error = store.error().toString();
    return std::nullopt;
  }
  auto id = (*store)->create(title);
  if (!id) {
    error = id.error().toString();
    return std::nullopt;
  }
  return *id;
}

bool adoptDocument(const std::string& from, const storage::DocumentId& id, const std::string& path,
                   std::string& error) {
  auto source = storage::DocumentStore::open(from);
  if (!source) {
    error = source.error().toString();
    return false;
  }
  auto key = (*source)->key(id);
  auto info = (*source)->info(id);
  if (!key || !info) {
    error = !key ? key.error().toString() : info.error().toString();
    return false;
  }
  auto target = storage::DocumentStore::open(path);
  if (!target) {
    error = target.error().toString();
    return false;
  }
  if (auto adopted = (*target)->adopt(id, *key, info->title); !adopted) {
    error = adopted.error().toString();
    return false;
  }
  return true;
}

std::optional<std::string> storedText(const std::string& path, const storage::DocumentId& id,
                                      std::string& error) {
  auto store = storage::DocumentStore::open(path);
  if (!store) {
    error = store.error().toString();
    return std::nullopt;
  }
  auto doc = (*store)->load(id);
  if (!doc) {
    error = doc.error().toString();
    return std::nullopt;
  }
  return doc->text();
}

Relay::Relay() : m_router(m_store) {
  m_server = std::make_unique<net::RelayServer>(m_router, [](const std::string&) {});
  if (auto port = m_server->listen(QHostAddress::LocalHost, 0)) m_port = *port;
}

Relay::~Relay() { m_server->shutDown(); }

std::string Relay::url() const { return "ws://127.0.0.1:" + std::to_string(m_port); }

namespace {

void sendKey(QWidget* widget, int key, Qt::KeyboardModifiers modifiers, const QString& text) {
  QKeyEvent press(QEvent::KeyPress, key, modifiers, text);
  QCoreApplication::sendEvent(widget, &press);
  QKeyEvent release(QEvent::KeyRelease, key, modifiers, text);
  QCoreApplication::sendEvent(widget, &release);
}

}  // namespace

void typeText(QWidget* widget, const QString& text) {
  for (int i = 0; i < text.size();) {
    const int n = (text.at(i).isHighSurrogate() && i + 1 < text.size()) ? 2 : 1;
    const QString unit = text.mid(i, n);
    i += n;
    if (unit == QStringLiteral("\n")) {
      sendKey(widget, Qt::Key_Return, Qt::NoModifier, QStringLiteral("\r"));
      continue;
    }
    int key = Qt::Key_unknown;
    if (n == 1) {
      const QChar c = unit.at(0);
      if (c.isLetterOrNumber() && c.unicode() < 0x80) key = c.toUpper().unicode();
      if (c == QLatin1Char(' ')) key = Qt::Key_Space;
    }
    sendKey(widget, key, Qt::NoModifier, unit);
  }
}

void commitText(QWidget* widget, const QString& text) {
  QInputMethodEvent event;
  event.setCommitString(text);
  QCoreApplication::sendEvent(widget, &event);
}

void pressKey(QWidget* widget, int key, Qt::KeyboardModifiers modifiers) {
  sendKey(widget, key, modifiers, QString());
}

bool hasBrokenCodeUnits(const QString& text) {
  for (int i = 0; i < text.size(); ++i) {
    const QChar c = text.at(i);
    if (c.unicode() == 0xFFFD) return true;
    if (c.isHighSurrogate()) {
      if (i + 1 >= text.size() || !text.at(i + 1).isLowSurrogate()) return true;
      ++i;
    } else if (c.isLowSurrogate()) {
      return true;
    }
  }
  return false;
}

}  // namespace quire::test

namespace quire::test {

namespace {

const app::Identity kAda{QStringLiteral("Ada"), QColor(0xD8, 0x1B, 0x60)};
const app::Identity kGrace{QStringLiteral("Grace"), QColor(0x1E, 0x88, 0xE5)};

}  // namespace

TwoEditors::TwoEditors(bool openB) {
  if (dir.path().empty()) {
    error = "no temp dir";
    return;
  }
  if (relay.port() == 0) {
    error = "the relay could not listen";
    return;
  }
  auto id = createDocument(dir.file("ada.db"), "Shared", error);
  if (!id) return;
  if (!adoptDocument(dir.file("ada.db"), *id, dir.file("grace.db"), error)) return;
  if (!a.open(dir.file("ada.db"), *id, error)) return;
  a.edit->setWindowTitle(QStringLiteral("Ada"));
  a.session->setIdentity(kAda);
  a.session->setRoutes({relay.url()});
  if (openB && !openSecond()) return;
  ok = true;
}

OneEditor::OneEditor(const std::string& title) {
  ensureGuiApp();
  if (dir.path().empty()) {
    error = "no temp dir";
    return;
  }
  auto id = createDocument(dir.file("a.db"), title, error);
  if (!id) return;
  ok = editor.open(dir.file("a.db"), *id, error);
}

bool TwoEditors::openSecond() {
  if (!b.open(dir.file("grace.db"), a.id, error)) return false;
  b.edit->setWindowTitle(QStringLiteral("Grace"));
  b.session->setIdentity(kGrace);
  b.session->setRoutes({relay.url()});
  return true;
}

bool TwoEditors::waitLive(int timeoutMs) {
  return spinUntil(
      [&] {
        return a.session->connectionState() == app::ConnectionState::Live &&
               (!b.session || b.session->connectionState() == app::ConnectionState::Live);
      },
      timeoutMs);
}

bool TwoEditors::settle(int timeoutMs) {
  return spinUntil(
      [&] {
        const auto& da = a.session->document();
        const auto& db = b.session->document();
        return a.session->uncommittedEdits() == 0 && b.session->uncommittedEdits() == 0 &&
               da.version() == db.version() && da.text() == db.text() &&
               a.widgetText() == a.engineText() && b.widgetText() == b.engineText();
      },
      timeoutMs);
}

std::optional<net::Presence> TwoEditors::presenceNamed(const Editor& viewer,
                                                       const std::string& name) {
  for (const auto& [replica, p] : viewer.binding->presences())
    if (p.name == name) return p;
  return std::nullopt;
}

}  // namespace quire::test
