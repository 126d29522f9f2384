#include "tests/bench/editor_bench.h"

#include <malloc.h>

#include <algorithm>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <QApplication>
#include <QDir>
#include <QJsonObject>
#include <QKeyEvent>
#include <QStyleHints>
#include <QTemporaryDir>
#include <QTextBlock>
#include <QTextCursor>
#include <QTimer>

#include "app/quire/document_session.h"
#include "app/quire/text_binding.h"
#include "app/trace/trace_file.h"
#include "app/trace/trace_replay.h"
#include "engine/version_vector.h"
#include "net/crypto.h"
#include "storage/append_queue.h"
#include "storage/document_store.h"
#include "tests/bench/bench_report.h"
#include "tests/bench/editor_probe.h"
#include "tests/bench/editor_remote.h"
#include "tests/bench/sync_support.h"

namespace quire::bench {

namespace {

constexpr const char* kTraceName = "automerge-paper";
constexpr int kKeystrokes = 300;
constexpr int kKeystrokesQuick = 60;
constexpr int kRemoteKeystrokes = 1000;
constexpr int kWidth = 1000;
constexpr int kHeight = 800;
constexpr int kIdleMs = 1000;
constexpr int kPaintTimeoutMs = 5'000;
// The other replica types this far after the local caret, so its text is in view.
constexpr std::uint32_t kRemoteOffset = 40;
// The long document: ~4 M characters of pseudo-random words (a long novel is 1-2 M).
constexpr int kLongChars = 4'000'000;

struct EditorFigures {
  int keystrokes = 0;
  std::uint32_t docChars = 0;
  std::vector<double> keyP50, keyP99, keyMax, handlerP50, handlerP99, keyUnwaitedP99, keyWaitTotal;
  std::vector<double> burst, burstApplied, burstFirst, burstCpu, burstWait;
  std::size_t burstSignals = 0;
  std::vector<double> open, openSession, openBinding;
  std::vector<double> rss;
  int caretBlockChars = 0;  // the paragraph typed into, before typing
  // A long document (kLongChars) opened into the widget: until all of it is shown, and the
  // longest time the event loop did not turn meanwhile.
  std::vector<double> longShown, longMaxStall, longSession, longBinding;
};

// VmRSS of this process in MiB (0 if unreadable).
double rssMb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

struct Stored {
  std::unique_ptr<storage::DocumentStore> store;
  std::unique_ptr<storage::AppendQueue> queue;
  std::vector<std::uint8_t> history;  // the whole trace as one update
  storage::DocumentId id;             // this run's document
};

// The trace replayed into a document whose whole history is kept as one update, and a new
// database with its AppendQueue. The trace and the replay are freed (and their pages given back)
// before anything is measured: the app never holds them.
Result<Stored> prepare(const std::string& tracesDir, const std::string& db) {
  Stored s;
  {
    auto trace = trace::loadTrace(tracesDir + "/sequential/" + kTraceName + ".json.gz");
    if (!trace) return fail(trace.error());
    auto doc = trace::replaySequential(*trace);
    if (!doc) return fail(doc.error());
    if (doc->text() != trace->endContent) {
      return fail(Error::io(std::string(kTraceName) + ": replay differs from endContent"));
    }
    s.history = doc->encodeUpdateSince(engine::VersionVector{});
  }
  malloc_trim(0);
  auto store = storage::DocumentStore::open(db);
  if (!store) return fail(store.error());
  s.store = std::move(*store);
  auto queue = storage::AppendQueue::open(db);
  if (!queue) return fail(queue.error());
  s.queue = std::move(*queue);
  return s;
}

// Each run gets a fresh copy of the document, so no run opens or types into what an earlier run
// typed: created, the whole history appended as one update, then compacted as the store does by
// itself past its limits (snapshot, empty tail). The previous run's copy is removed.
Result<void> storeFresh(Stored& s, bool removePrevious) {
  s.queue->flush();
  if (removePrevious) {
    if (auto r = s.store->remove(s.id); !r) return fail(r.error());
  }
  auto id = s.store->create(kTraceName);
  if (!id) return fail(id.error());
  s.id = *id;
  if (auto r = s.store->append(s.id, s.history); !r) return fail(r.error());
  auto doc = s.store->load(s.id);
  if (!doc) return fail(doc.error());
  return s.store->compact(s.id, *doc);
}

bool sameText(ProbedTextEdit& edit, app::DocumentSession& session) {
  return edit.toPlainText().toStdString() == session.document().text();
}

Result<void> typeKeys(ProbedTextEdit& edit, app::DocumentSession& session, int count,
                      EditorFigures& f) {
  static constexpr char kLetters[] = "etaoinshrdlu ";
  std::vector<double> latency, handler, unwaited;
  double waitedMs = 0;
  for (int i = 0; i < count; ++i) {
    const char letter = kLetters[i % (sizeof kLetters - 1)];
    const int key = letter == ' ' ? Qt::Key_Space : Qt::Key_A + (letter - 'a');
    const QString text(QChar::fromLatin1(letter));
    const std::uint64_t before = edit.paints();
    const double waitBefore = runQueueWaitSeconds();
    const EditorClock::time_point start = EditorClock::now();
    QKeyEvent press(QEvent::KeyPress, key, Qt::NoModifier, text);
    QApplication::sendEvent(&edit, &press);
    const EditorClock::time_point handled = EditorClock::now();
    if (!runUntil([&] { return edit.paints() > before; }, kPaintTimeoutMs)) {
      return fail(Error::io("keystroke " + std::to_string(i) + ": no paint within 5 s"));
    }
    latency.push_back(msBetween(start, edit.lastPaint()));
    // Read after the paint: how long of it the GUI thread was runnable but had no CPU.
    const double waited = (runQueueWaitSeconds() - waitBefore) * 1e3;
    waitedMs += waited;
    unwaited.push_back(std::max(0.0, latency.back() - waited));
    handler.push_back(msBetween(start, handled));
    QKeyEvent release(QEvent::KeyRelease, key, Qt::NoModifier, text);
    QApplication::sendEvent(&edit, &release);
    // Let the AppendQueue's commit callback run (as it would between two keystrokes).
    if (!runUntil([&] { return session.uncommittedEdits() == 0; }, kPaintTimeoutMs)) {
      return fail(Error::io("keystroke " + std::to_string(i) + ": not committed within 5 s"));
    }
  }
  if (!sameText(edit, session)) return fail(Error::io("typing: the widget's text differs from the engine's"));
  f.keyP50.push_back(percentileOf(latency, 0.50));
  f.keyP99.push_back(percentileOf(latency, 0.99));
  f.keyMax.push_back(percentileOf(latency, 1.0));
  f.handlerP50.push_back(percentileOf(handler, 0.50));
  f.handlerP99.push_back(percentileOf(handler, 0.99));
  f.keyUnwaitedP99.push_back(percentileOf(unwaited, 0.99));
  f.keyWaitTotal.push_back(waitedMs);
  return {};
}

Result<void> runOnce(Stored& s, int run, int runs, EditorFigures& f) {
  if (auto r = storeFresh(s, run > 0); !r) return fail(r.error());
  auto edit = std::make_unique<ProbedTextEdit>();
  edit->resize(kWidth, kHeight);
  edit->show();
  edit->activateWindow();
  edit->setFocus();
  if (!runUntil([&] { return edit->paints() > 0; }, kPaintTimeoutMs)) {
    return fail(Error::io("the empty widget was never painted"));
  }
  runFor(50);

  // Open: choose the document -> its text painted.
  std::fprintf(stderr, "  run %d/%d: open\n", run + 1, runs);
  const std::uint64_t paintsBefore = edit->paints();
  const EditorClock::time_point start = EditorClock::now();
  auto opened = app::DocumentSession::open(*s.store, *s.queue, s.id);
  if (!opened) return fail(opened.error());
  std::unique_ptr<app::DocumentSession> session = std::move(*opened);
  const EditorClock::time_point sessionOpen = EditorClock::now();
  auto binding = std::make_unique<app::TextBinding>(edit.get(), session.get());
  const EditorClock::time_point bound = EditorClock::now();
  if (!runUntil([&] { return edit->paints() > paintsBefore; }, kPaintTimeoutMs)) {
    return fail(Error::io("open: no paint within 5 s"));
  }
  f.open.push_back(msBetween(start, edit->lastPaint()));
  f.openSession.push_back(msBetween(start, sessionOpen));
  f.openBinding.push_back(msBetween(sessionOpen, bound));
  if (!sameText(*edit, *session)) return fail(Error::io("open: the widget's text differs from the engine's"));
  f.docChars = session->document().length();

  runFor(kIdleMs);
  f.rss.push_back(rssMb());

  // Typing mid-document.
  std::fprintf(stderr, "  run %d/%d: %d keystrokes mid-document\n", run + 1, runs, f.keystrokes);
  QTextCursor caret = edit->textCursor();
  caret.setPosition(edit->document()->characterCount() / 2);
  edit->setTextCursor(caret);
  edit->centerCursor();
  f.caretBlockChars = edit->textCursor().block().length() - 1;
  runFor(100);
  if (auto r = typeKeys(*edit, *session, f.keystrokes, f); !r) return fail(r.error());

  std::fprintf(stderr, "  run %d/%d: %d remote keystrokes at once\n", run + 1, runs,
               kRemoteKeystrokes);
  const std::uint32_t at = std::min(binding->toCodePoints(edit->textCursor().position()) + kRemoteOffset,
                                    session->document().length());
  auto burst = measureRemoteBurst(*session, *edit, at, kRemoteKeystrokes);
  if (!burst) return fail(burst.error());
  f.burst.push_back(burst->burstMs);
  f.burstApplied.push_back(burst->appliedMs);
  f.burstFirst.push_back(burst->firstPatchMs);
  f.burstSignals = burst->patchSignals;
  f.burstCpu.push_back(burst->cpuMs);
  f.burstWait.push_back(burst->waitMs);
  std::fprintf(stderr, "  run %d/%d: burst %.1f ms (GUI thread CPU %.1f ms, waited %.1f ms), "
               "monotonic %.6f-%.6f s\n",
               run + 1, runs, burst->burstMs, burst->cpuMs, burst->waitMs, burst->startS, burst->endS);

  // The binding goes before the widget and the session; then the queue's callbacks drain.
  binding.reset();
  edit.reset();
  session.reset();
  s.queue->flush();
  runFor(50);
  return {};
}

// ~kLongChars characters of pseudo-random words in lines of ten.
std::string longText() {
  std::string out;
  out.reserve(kLongChars + 100);
  std::uint32_t seed = 7;
  const auto next = [&seed] { return (seed = seed * 1664525u + 1013904223u) >> 8; };
  while (out.size() < static_cast<std::size_t>(kLongChars)) {
    for (int word = 0; word < 10; ++word) {
      const int length = 2 + static_cast<int>(next() % 8);
      for (int i = 0; i < length; ++i) out += static_cast<char>('a' + next() % 26);
      out += ' ';
    }
    out += '\n';
  }
  return out;
}

// Opens a long document in a fresh widget, as the editor does, and measures how long the
// event loop was held: a zero-interval timer records every turn, and the longest gap between
// two turns (or between choosing the document and the first turn) is the worst freeze.
Result<void> measureLongOpen(Stored& s, EditorFigures& f) {
  const std::string text = longText();
  auto id = s.store->create("long");
  if (!id) return fail(id.error());
  {
    engine::Document doc(engine::ReplicaId{});
    if (auto r = doc.insert(0, text); !r) return fail(r.error());
    if (auto r = s.store->append(*id, doc.encodeUpdateSince(engine::VersionVector{})); !r)
      return fail(r.error());
    auto stored = s.store->load(*id);
    if (!stored) return fail(stored.error());
    if (auto r = s.store->compact(*id, *stored); !r) return fail(r.error());
  }
  auto edit = std::make_unique<ProbedTextEdit>();
  edit->resize(kWidth, kHeight);
  edit->show();
  if (!runUntil([&] { return edit->paints() > 0; }, kPaintTimeoutMs)) {
    return fail(Error::io("the empty widget was never painted"));
  }
  runFor(50);

  QTimer turns;
  turns.setInterval(0);
  EditorClock::time_point lastTurn;
  double maxStall = 0;
  QObject::connect(&turns, &QTimer::timeout, [&] {
    const EditorClock::time_point now = EditorClock::now();
    maxStall = std::max(maxStall, msBetween(lastTurn, now));
    lastTurn = now;
  });
  const std::uint64_t paintsBefore = edit->paints();
  const EditorClock::time_point start = EditorClock::now();
  lastTurn = start;
  turns.start();
  auto opened = app::DocumentSession::open(*s.store, *s.queue, *id);
  if (!opened) return fail(opened.error());
  std::unique_ptr<app::DocumentSession> session = std::move(*opened);
  const EditorClock::time_point sessionOpen = EditorClock::now();
  auto binding = std::make_unique<app::TextBinding>(edit.get(), session.get());
  f.longSession.push_back(msBetween(start, sessionOpen));
  f.longBinding.push_back(msBetween(sessionOpen, EditorClock::now()));
  if (!runUntil([&] { return edit->paints() > paintsBefore && !binding->loading(); }, 60'000)) {
    return fail(Error::io("long open: not shown within 60 s"));
  }
  const EditorClock::time_point shown = EditorClock::now();
  runFor(20);  // one more turn, so the last slice's stall is seen
  turns.stop();
  if (!sameText(*edit, *session)) return fail(Error::io("long open: the widget's text differs"));
  f.longShown.push_back(msBetween(start, shown));
  f.longMaxStall.push_back(maxStall);
  binding.reset();
  edit.reset();
  session.reset();
  s.queue->flush();
  if (auto r = s.store->remove(*id); !r) return fail(r.error());
  return {};
}

void printFigures(const EditorFigures& f, const BenchOptions& options) {
  std::printf("automerge-paper in the editor widget (%u characters), %dx%d offscreen, %d runs, "
              "median (min-max)\n",
              f.docChars, kWidth, kHeight, options.runs);
  printTable({
      {"figure", "median (min-max)", "unit", "target"},
      {"keypress_to_paint_p99_ms", formatSample(summarize(f.keyP99), 2), "ms", "<= 16"},
      {"keypress_to_paint_p50_ms", formatSample(summarize(f.keyP50), 2), "ms", ""},
      {"keypress_to_paint_max_ms", formatSample(summarize(f.keyMax), 2), "ms", ""},
      {"keypress_handler_p99_ms", formatSample(summarize(f.handlerP99), 2), "ms", ""},
      {"keypress_to_paint_unwaited_p99_ms", formatSample(summarize(f.keyUnwaitedP99), 2), "ms", ""},
      {"keypress_gui_wait_total_ms", formatSample(summarize(f.keyWaitTotal), 1), "ms", ""},
      {"remote_burst_ms", formatSample(summarize(f.burst), 1), "ms", "<= 50"},
      {"remote_burst_applied_ms", formatSample(summarize(f.burstApplied), 1), "ms", ""},
      {"remote_burst_first_patch_ms", formatSample(summarize(f.burstFirst), 2), "ms", ""},
      {"remote_burst_gui_cpu_ms", formatSample(summarize(f.burstCpu), 1), "ms", ""},
      {"remote_burst_gui_wait_ms", formatSample(summarize(f.burstWait), 1), "ms", ""},
      {"open_doc_ms", formatSample(summarize(f.open), 1), "ms", "<= 100"},
      {"open_session_ms", formatSample(summarize(f.openSession), 1), "ms", ""},
      {"open_binding_ms", formatSample(summarize(f.openBinding), 1), "ms", ""},
      {"rss_mb", formatSample(summarize(f.rss), 1), "MiB", "<= 80"},
      {"long_open_shown_ms", formatSample(summarize(f.longShown), 1), "ms", ""},
      {"long_open_max_stall_ms", formatSample(summarize(f.longMaxStall), 1), "ms", ""},
      {"long_open_session_ms", formatSample(summarize(f.longSession), 1), "ms", ""},
      {"long_open_binding_ms", formatSample(summarize(f.longBinding), 1), "ms", ""},
  });
  std::printf(
      "keypress: %d keystrokes per run at the middle of the text (a paragraph of %d "
      "characters; each run types into a fresh copy of the document), QKeyEvent sent to the widget "
      "-> end of the viewport's paintEvent; the AppendQueue commit runs between keystrokes.\n"
      "remote burst: another replica on its own thread, dialling the session's WsDocument "
      "through a WsListener on 127.0.0.1, sends %d keystrokes as %d frames while the GUI thread "
      "is blocked; timed from the GUI loop resuming to the end of the first paint showing all "
      "1,000 (%zu remoteEdited signals; _applied: to the signal that gave the engine the last "
      "one); text checked against the engine's and the other replica's.\n"
      "open: DocumentSession::open (compacted snapshot, empty tail) + TextBinding on a shown "
      "widget -> end of the first paint. rss: VmRSS after open and %d ms idle (run 1: %.1f).\n"
      "long_open: a document of %d characters of random words opened the same way -> all of "
      "it shown (TextBinding shows it in slices); max_stall: the longest the event loop did not "
      "turn meanwhile (a zero-interval timer's largest gap, from choosing the document on).\n",
      f.keystrokes, f.caretBlockChars, kRemoteKeystrokes, kRemoteKeystrokes, f.burstSignals, kIdleMs,
      f.rss.empty() ? 0.0 : f.rss.front(), kLongChars);
}

QJsonObject toJson(const EditorFigures& f, const BenchOptions& options) {
  QJsonObject root;
  root.insert(QStringLiteral("name"), QStringLiteral("editor"));
  root.insert(QStringLiteral("trace"), QString::fromLatin1(kTraceName));
  root.insert(QStringLiteral("runs"), options.runs);
  root.insert(QStringLiteral("quick"), options.quick);
  root.insert(QStringLiteral("machine"), QString::fromStdString(machineDescription()));
  root.insert(QStringLiteral("platform"), QGuiApplication::platformName());
  root.insert(QStringLiteral("widget_size"), QStringLiteral("%1x%2").arg(kWidth).arg(kHeight));
  root.insert(QStringLiteral("doc_chars"), static_cast<qint64>(f.docChars));
  root.insert(QStringLiteral("keystrokes_per_run"), f.keystrokes);
  root.insert(QStringLiteral("caret_paragraph_chars"), f.caretBlockChars);
  root.insert(QStringLiteral("remote_keystrokes"), kRemoteKeystrokes);
  root.insert(QStringLiteral("remote_patch_signals"), static_cast<qint64>(f.burstSignals));
  addSample(root, "keypress_to_paint_p99_ms", summarize(f.keyP99), false);
  addSample(root, "keypress_to_paint_p50_ms", summarize(f.keyP50), false);
  addSample(root, "keypress_to_paint_max_ms", summarize(f.keyMax), false);
  addSample(root, "keypress_handler_p50_ms", summarize(f.handlerP50), false);
  addSample(root, "keypress_handler_p99_ms", summarize(f.handlerP99), false);
  addSample(root, "keypress_to_paint_unwaited_p99_ms", summarize(f.keyUnwaitedP99), false);
  addSample(root, "keypress_gui_wait_total_ms", summarize(f.keyWaitTotal), false);
  addSample(root, "remote_burst_ms", summarize(f.burst), false);
  addSample(root, "remote_burst_applied_ms", summarize(f.burstApplied), false);
  addSample(root, "remote_burst_first_patch_ms", summarize(f.burstFirst), false);
  addSample(root, "remote_burst_gui_cpu_ms", summarize(f.burstCpu), false);
  addSample(root, "remote_burst_gui_wait_ms", summarize(f.burstWait), false);
  addSample(root, "open_doc_ms", summarize(f.open), false);
  addSample(root, "long_open_shown_ms", summarize(f.longShown), false);
  addSample(root, "long_open_max_stall_ms", summarize(f.longMaxStall), false);
  addSample(root, "long_open_session_ms", summarize(f.longSession), false);
  addSample(root, "long_open_binding_ms", summarize(f.longBinding), false);
  addSample(root, "open_session_ms", summarize(f.openSession), false);
  addSample(root, "open_binding_ms", summarize(f.openBinding), false);
  addSample(root, "rss_mb", summarize(f.rss), false);
  if (!f.rss.empty()) root.insert(QStringLiteral("rss_mb_first_run"), f.rss.front());
  return root;
}

}  // namespace

int runEditorBench(const BenchOptions& options) {
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  static int argc = 1;
  static char name[] = "quire-bench";
  static char* argv[] = {name, nullptr};
  QApplication app(argc, argv);
  // No blinking caret: every paint after a keystroke is the keystroke's.
  QGuiApplication::styleHints()->setCursorFlashTime(0);

  if (auto crypto = net::initCrypto(); !crypto) {
    std::fprintf(stderr, "quire-bench: %s\n", crypto.error().toString().c_str());
    return kExitFailure;
  }
  const QTemporaryDir dir(QDir::tempPath() + QStringLiteral("/quire-bench-editor-XXXXXX"));
  if (!dir.isValid()) {
    std::fprintf(stderr, "quire-bench: cannot create a temporary folder: %s\n",
                 dir.errorString().toStdString().c_str());
    return kExitFailure;
  }
  std::printf("quire-bench editor: %s, %d runs, median (min-max), on %s%s\n\n",
              QGuiApplication::platformName().toStdString().c_str(), options.runs,
              machineDescription().c_str(),
              options.quick ? " (--quick: 60 keystrokes per run instead of 300)" : "");
  std::fflush(stdout);
  auto stored = prepare(options.tracesDir, dir.path().toStdString() + "/editor.db");
  if (!stored) {
    std::fprintf(stderr, "quire-bench: editor: %s\n", stored.error().toString().c_str());
    return kExitFailure;
  }
  EditorFigures figures;
  figures.keystrokes = options.quick ? kKeystrokesQuick : kKeystrokes;
  for (int run = 0; run < options.runs; ++run) {
    if (auto r = runOnce(*stored, run, options.runs, figures); !r) {
      std::fprintf(stderr, "quire-bench: editor: %s\n", r.error().toString().c_str());
      return kExitFailure;
    }
  }
  // After every run's rss_mb was read: the long document's pages stay with the process.
  for (int run = 0; run < options.runs; ++run) {
    std::fprintf(stderr, "  run %d/%d: open a document of %d characters\n", run + 1,
                 options.runs, kLongChars);
    if (auto r = measureLongOpen(*stored, figures); !r) {
      std::fprintf(stderr, "quire-bench: editor: %s\n", r.error().toString().c_str());
      return kExitFailure;
    }
  }
  stored->queue.reset();
  stored->store.reset();
  printFigures(figures, options);
  if (auto written = writeJson(options.jsonPath, toJson(figures, options)); !written) {
    std::fprintf(stderr, "quire-bench: %s\n", written.error().toString().c_str());
    return kExitFailure;
  }
  std::printf("\nwrote %s\n", options.jsonPath.c_str());
  return kExitOk;
}

}  // namespace quire::bench
