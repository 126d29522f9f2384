#include "app/cli/type_command.h"

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "app/cli/cli_command.h"
#include "app/cli/store_access.h"
#include "engine/document.h"
#include "engine/utf8.h"
#include "storage/document_store.h"

namespace quire::app {

namespace {

constexpr const char* kHelp =
    "Usage: quire-cli type [--db PATH] [--delay-ms N] DOC TEXT\n"
    "\n"
    "Types TEXT at the end of DOC (id, id prefix of at least 4 digits, or title), one code\n"
    "point per keystroke. Each keystroke is a local insert whose update is committed to the\n"
    "database before 'typed N' (N = keystrokes so far) is printed and flushed on stdout, so a\n"
    "process killed at any moment has stored at least every keystroke it reported.\n"
    "Put -- before a TEXT that starts with '-'.\n"
    "\n"
    "Options:\n"
    "  --delay-ms N  pause N milliseconds between keystrokes (default 0)\n"
    "  --db PATH     the database (default: quire.db in the app data location,\n"
    "                e.g. ~/.local/share/quire/quire.db)\n"
    "  -h, --help    show this help\n";

}  // namespace

int runTypeCommand(const QStringList& args) {
  LibraryCommandLine line("type", kHelp, {"DOC", "TEXT"});
  const QCommandLineOption delayOption(QStringLiteral("delay-ms"), QString(), QStringLiteral("N"));
  line.addOption(delayOption);
  if (auto done = line.parse(args)) return *done;
  int delayMs = 0;
  if (line.parser().isSet(delayOption)) {
    bool ok = false;
    delayMs = line.parser().value(delayOption).toInt(&ok);
    if (!ok || delayMs < 0) {
      return reportUsageError("type", "--delay-ms needs an integer >= 0, got '" +
                                          line.parser().value(delayOption).toStdString() + "'");
    }
  }
  // QString holds what the command line said as UTF-16; its UTF-8 form is always valid.
  const std::string text = line.positional(1).toStdString();

  auto store = line.openStore();
  if (!store) return kExitFailure;
  const auto id = resolveDocument(*store, line.positional(0));
  if (!id) return kExitFailure;
  auto doc = store->load(*id);
  if (!doc) return reportFailure(doc.error().toString());

  std::size_t typed = 0;
  for (std::size_t at = 0; at < text.size();) {
    if (typed > 0 && delayMs > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delayMs));
    const std::size_t n = engine::utf8::sequenceLength(static_cast<unsigned char>(text[at]));
    const engine::LV before = doc->nextLv();
    if (auto inserted = doc->insert(doc->length(), std::string_view(text).substr(at, n));
        !inserted) {
      return reportFailure("typing: " + inserted.error().toString());
    }
    const std::vector<std::uint8_t> update = doc->encodeOpsSince(before);
    if (auto appended = store->append(*id, update, &*doc); !appended) {
      return reportFailure(appended.error().toString());
    }
    at += n;
    ++typed;
    // Reported only once committed: the kill test relies on this order.
    std::printf("typed %zu\n", typed);
    std::fflush(stdout);
  }
  return kExitOk;
}

}  // namespace quire::app
