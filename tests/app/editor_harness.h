// Test harness for the editor core (app/quire): a QApplication made on first use (offscreen
// unless QT_QPA_PLATFORM says otherwise), an Editor = one temp database + DocumentSession +
// CollabTextEdit + TextBinding, an in-process relay (RelayServer + RelayRouter +
// MemoryRelayStore on 127.0.0.1), and input helpers that type the way a keyboard or an input
// method does. Test-only; GUI thread only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <QString>

#include "app/quire/collab_text_edit.h"
#include "app/quire/document_session.h"
#include "app/quire/text_binding.h"
#include "net/relay_router.h"
#include "net/relay_server.h"
#include "storage/append_queue.h"
#include "storage/document_store.h"
#include "tests/support/temp_dir.h"

namespace quire::test {

// Creates the QApplication once (argv "quire_app_tests"), setting QT_QPA_PLATFORM=offscreen
// first unless it is already set. Never called at static-initialisation time, so listing the
// tests (catch_discover_tests) needs no display.
void ensureGuiApp();

// Runs the event loop until `done()` or `timeoutMs` passed. Returns done().
bool spinUntil(const std::function<bool()>& done, int timeoutMs = 5000);
// Runs the event loop for `ms` milliseconds.
void spinFor(int ms);

// One person's editor on one database file. Members are destroyed in reverse order: binding,
// widget, session, queue, store.
struct Editor {
  std::string path;
  storage::DocumentId id;
  std::unique_ptr<storage::DocumentStore> store;
  std::unique_ptr<storage::AppendQueue> queue;
  std::unique_ptr<app::DocumentSession> session;
  std::unique_ptr<app::CollabTextEdit> edit;
  std::unique_ptr<app::TextBinding> binding;
  QString bindingError;  // the last bindingFailed() message

  // Opens the session for `id` in the database at `path` (which holds it) and binds a fresh
  // widget to it. On failure, `error` says why and the editor is incomplete.
  bool open(const std::string& dbPath, const storage::DocumentId& docId, std::string& error);
  // Tears down binding, widget, session and queue (the queue commits what it holds), then the
  // store.
  void close();
  ~Editor() { close(); }

  // The engine's text, as QString.
  QString engineText() const;
  // The widget's text.
  QString widgetText() const;
  // Moves the widget's caret to UTF-16 position `pos` (as a click would).
  void setCaret(int pos);
  // Selects [anchor, pos) in the widget (UTF-16 positions; pos is where the caret ends up).
  void select(int anchor, int pos);
  // The local caret, UTF-16.
  int caret() const;
};

// Makes a new database at `path` with one document titled `title`. Returns its id, or empty.
std::optional<storage::DocumentId> createDocument(const std::string& path, const std::string& title,
                                                  std::string& error);
// Adds document `id` (key copied from the database at `from`) to a new database at `path`.
bool adoptDocument(const std::string& from, const storage::DocumentId& id, const std::string& path,
                   std::string& error);
// The text stored for `id` in the database at `path`, read by a fresh DocumentStore.
std::optional<std::string> storedText(const std::string& path, const storage::DocumentId& id,
                                      std::string& error);

// A relay on 127.0.0.1 with a free port, storing rooms in memory.
class Relay {
 public:
  Relay();
  ~Relay();
  // 0 if it could not listen.
  quint16 port() const { return m_port; }
  std::string url() const;
  // Bytes the relay holds for all rooms.
  std::size_t storedBytes() const { return m_store.totalBytes(); }

 private:
  net::MemoryRelayStore m_store;
  net::RelayRouter m_router;
  std::unique_ptr<net::RelayServer> m_server;
  quint16 m_port = 0;
};

// ---- Input, sent straight to the widget (no event loop runs in between).
// Types `text` one code point at a time, each as one key press + release whose text() is the
// whole code point (a surrogate pair arrives in one event, as from a keyboard layout that has
// the character). '\n' is sent as Return.
void typeText(QWidget* widget, const QString& text);
// Sends `text` as one input-method commit (how CJK text and composed characters arrive).
void commitText(QWidget* widget, const QString& text);
// One key press + release with no text (Backspace, Delete, arrows).
void pressKey(QWidget* widget, int key, Qt::KeyboardModifiers modifiers = Qt::NoModifier);

// True if `text` holds an unpaired surrogate or U+FFFD.
bool hasBrokenCodeUnits(const QString& text);

}  // namespace quire::test

namespace quire::test {

// Calls ensureGuiApp() when constructed: a first member makes the app exist before the others.
struct GuiApp {
  GuiApp() { ensureGuiApp(); }
};

// One editor on a fresh database (dir/a.db) with an empty document titled `title`.
struct OneEditor {
  TempDir dir{"quire-app"};
  Editor editor;
  std::string error;
  bool ok = false;

  explicit OneEditor(const std::string& title = "Notes");
};

// Two people, Ada (A) and Grace (B), editing one document through an in-process relay, each in
// a database of their own: A created the document, B adopted it with the same id and key.
struct TwoEditors {
  GuiApp app;
  TempDir dir{"quire-app-two"};
  Relay relay;
  Editor a;
  Editor b;
  std::string error;
  bool ok = false;

  // Opens A, and B unless `openB` is false (then call openSecond()); connects whoever is open.
  explicit TwoEditors(bool openB = true);
  // Opens B and connects it; false (with `error`) on failure.
  bool openSecond();
  // Waits until both are connected to the relay.
  bool waitLive(int timeoutMs = 5000);
  // Runs the event loop until both engines have the same version and text, both widgets show
  // it, and every local edit is committed. False on timeout.
  bool settle(int timeoutMs = 5000);
  // The presence `viewer` shows for the person named `name`, if any.
  static std::optional<net::Presence> presenceNamed(const Editor& viewer, const std::string& name);
};

}  // namespace quire::test

#include <catch2/catch.hpp>

namespace Catch {
// QStrings print as quoted UTF-8 in failure messages.
template <>
struct StringMaker<QString> {
  static std::string convert(const QString& s) { return '"' + s.toStdString() + '"'; }
};
}  // namespace Catch
