#include "tests/bench/hostile_bench.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <QJsonArray>
#include <QJsonObject>
#include <QString>

#include "net/crypto.h"
#include "tests/bench/bench_report.h"
#include "tests/bench/hostile_attack.h"
#include "tests/bench/hostile_decode.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/support/hostile_frames.h"
#include "tests/support/hostile_inputs.h"

namespace quire::bench {

namespace {

namespace fs = std::filesystem;
namespace hostile = quire::test::hostile;

// Inputs that decode to fewer bytes than this are left out of the time figure (fixed costs
// would dominate); every input counts for the allocation figure, which allows 1 MiB.
constexpr std::uint64_t kMinTimedDecodedBytes = 16u << 10;
constexpr std::int64_t kAllocAllowance = 1 << 20;
constexpr std::size_t kCorpusRowsShown = 5;

std::string corpusRoot() {
  if (const char* env = std::getenv("QUIRE_FUZZ_CORPUS")) return env;
#ifdef QUIRE_SOURCE_DIR
  return std::string(QUIRE_SOURCE_DIR) + "/tests/fuzz/corpus";
#else
  return "tests/fuzz/corpus";
#endif
}

std::vector<std::uint8_t> readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A corpus file as its fuzz target reads it (tests/fuzz/*_fuzz.cpp), or nothing for a target
// this bench does not know.
std::optional<DecodeCase> corpusCase(const std::string& target, const fs::path& file) {
  DecodeCase c;
  c.name = "corpus " + target + "/" + file.filename().string();
  std::vector<std::uint8_t> data = readFile(file);
  if (target == "history_fuzz") {
    // First byte odd: the rest is a body to wrap (fuzz_common.h, historyInput).
    c.decoder = HostileDecoder::History;
    c.bytes = fuzz::historyInput(data.data(), data.size());
  } else if (target == "frame_fuzz") {
    // First byte even: the rest is a frame; odd: a plaintext to seal first (bit 1: transient).
    c.decoder = HostileDecoder::Frame;
    if (data.empty() || (data[0] & 1) == 0) {
      c.bytes.assign(data.begin() + (data.empty() ? 0 : 1), data.end());
    } else {
      static const net::DocKey key = hostileFrameKey();
      static const net::RoomId room = net::roomIdOf(key);
      const std::uint8_t header = net::kProtocolVersion | ((data[0] & 2) ? net::kTransientFlag : 0);
      std::vector<std::uint8_t> ad{header};
      ad.insert(ad.end(), room.bytes.begin(), room.bytes.end());
      c.bytes = {header};
      const auto sealed = net::seal(key, std::span<const std::uint8_t>(data).subspan(1), ad);
      c.bytes.insert(c.bytes.end(), sealed.begin(), sealed.end());
    }
  } else if (target == "update_fuzz") {
    // *.stream files are updates on a stream that already names an agent, for the base document.
    c.decoder = HostileDecoder::Update;
    c.bytes = std::move(data);
    if (file.extension() == ".stream") c.onFuzzBase = c.withFuzzStream = true;
  } else if (target == "stored_row_fuzz") {
    // The first byte's low bits pick the row kind (tests/fuzz/checks_engine.h).
    if (data.empty()) data.push_back(0);  // nothing to decode: an empty history blob
    const int kind = data[0] & 3;
    c.bytes.assign(data.begin() + 1, data.end());
    c.decoder = kind == 0   ? HostileDecoder::History
                : kind == 1 ? HostileDecoder::Update
                : kind == 2 ? HostileDecoder::VersionVector
                            : HostileDecoder::StoredRows;
    c.onFuzzBase = kind == 1;
  } else if (target.find("message") != std::string::npos) {
    c.decoder = HostileDecoder::Message;
    c.bytes = std::move(data);
  } else if (target.find("version_vector") != std::string::npos) {
    c.decoder = HostileDecoder::VersionVector;
    c.bytes = std::move(data);
  } else if (target.find("update") != std::string::npos) {
    c.decoder = HostileDecoder::Update;
    c.bytes = std::move(data);
  } else if (target.find("history") != std::string::npos) {
    c.decoder = HostileDecoder::History;
    c.bytes = std::move(data);
  } else if (target.find("frame") != std::string::npos) {
    c.decoder = HostileDecoder::Frame;
    c.bytes = std::move(data);
  } else if (target.find("link") != std::string::npos) {
    c.decoder = HostileDecoder::Link;
    c.bytes = std::move(data);
  } else {
    return std::nullopt;
  }
  return c;
}

using CaseMaker = std::function<DecodeCase()>;

DecodeCase make(std::string name, HostileDecoder decoder, std::vector<std::uint8_t> bytes,
                std::vector<std::uint8_t> base = {}) {
  return DecodeCase{"crafted: " + std::move(name), decoder, std::move(bytes), std::move(base)};
}

// The crafted attacks, built one at a time (two of them are 64 MiB).
std::vector<CaseMaker> craftedCases() {
  using D = HostileDecoder;
  static const net::DocKey key = hostileFrameKey();
  static const net::RoomId room = net::roomIdOf(key);
  return {
      [] { return make("bomb history (states 1 GiB of zeros)", D::History, hostile::bombHistory()); },
      [] { return make("lying bomb history (states 64 KiB, expands to 1 GiB)", D::History,
                       hostile::lyingBombHistory()); },
      [] { return make("bomb snapshot frame", D::Frame, hostile::bombSnapshotFrame(key, room)); },
      [] { return make("seq overflow update (seq 0xFFFFFFF0 len 100)", D::Update, hostile::seqOverflowUpdate()); },
      [] { return make("seq at limit update (ends at seq 2^32-1)", D::Update, hostile::seqAtLimitUpdate()); },
      [] { return make("op counter past 2^32 update", D::Update, hostile::lvOverflowUpdate()); },
      [] { return make("100,000 authors update", D::Update, hostile::manyAuthorsUpdate()); },
      [] { return make("dependency chain of 20,000, deepest first", D::Update, hostile::reversedChainUpdate()); },
      [] { return make("truncated update", D::Update, hostile::truncatedUpdate()); },
      [] { return make("truncated history", D::History, hostile::truncatedHistory()); },
      [] { return make("truncated frame", D::Frame, hostile::truncatedFrame(key, room)); },
      [] { return make("64 MiB frame (one insert)", D::Frame, hostile::maxSizeFrame(key, room)); },
      [] { return make("64 MiB + 1 byte frame", D::Frame, hostile::oversizedFrame()); },
      [] { return make("forged duplicate of an honest op", D::Update, hostile::forgedDuplicateUpdate(),
                       hostile::honestUpdate()); },
      [] { return make("garbage in a sealed frame (64 KiB)", D::Frame,
                       hostile::sealedGarbageFrame(key, room, 64u << 10, 0x6A6A)); },
      [] { return make("garbage update (64 KiB)", D::Update, hostile::garbageUpdate(64u << 10, 0x6B6B)); },
  };
}

double kib(std::uint64_t bytes) { return static_cast<double>(bytes) / 1024.0; }

double msPerKib(const DecodeFigures& f, double ms) { return ms / kib(f.decodedBytes); }

double allocRatio(const DecodeFigures& f) {
  return static_cast<double>(std::max<std::int64_t>(0, f.peakBytes - kAllocAllowance)) /
         static_cast<double>(f.decodedBytes);
}

bool timedFigure(const DecodeFigures& f) { return f.decodedBytes >= kMinTimedDecodedBytes; }

std::string human(double bytes) {
  char buf[32];
  if (bytes >= 1024.0 * 1024 * 1024) std::snprintf(buf, sizeof buf, "%.2f GiB", bytes / (1024.0 * 1024 * 1024));
  else if (bytes >= 1024.0 * 1024) std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / (1024.0 * 1024));
  else if (bytes >= 1024.0) std::snprintf(buf, sizeof buf, "%.1f KiB", bytes / 1024.0);
  else std::snprintf(buf, sizeof buf, "%.0f B", bytes);
  return buf;
}

std::string fixed(double v, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string shortened(std::string s, std::size_t n) {
  if (s.size() > n) s = s.substr(0, n - 3) + "...";
  return s;
}

QJsonObject inputJson(const DecodeFigures& f) {
  QJsonObject o;
  o.insert(QStringLiteral("name"), QString::fromStdString(f.name));
  o.insert(QStringLiteral("decoder"), QString::fromLatin1(decoderName(f.decoder)));
  o.insert(QStringLiteral("verdict"), QString::fromStdString(f.verdict));
  o.insert(QStringLiteral("input_bytes"), static_cast<qint64>(f.inputBytes));
  o.insert(QStringLiteral("zstd_bytes"), static_cast<qint64>(f.zstdBytes));
  o.insert(QStringLiteral("decoded_bytes"), static_cast<qint64>(f.decodedBytes));
  addSample(o, "decode_ms", Sample{f.ms, f.msMin, f.msMax}, false);
  o.insert(QStringLiteral("timed_runs"), f.timedRuns);
  o.insert(QStringLiteral("decode_ms_per_kib"), msPerKib(f, f.ms));
  o.insert(QStringLiteral("counts_for_time"), timedFigure(f));
  o.insert(QStringLiteral("peak_bytes"), static_cast<qint64>(f.peakBytes));
  o.insert(QStringLiteral("peak_from_rss_lower_bound"), f.peakFromRss);
  o.insert(QStringLiteral("alloc_ratio"), allocRatio(f));
  o.insert(QStringLiteral("peak_rss_growth_bytes"), static_cast<qint64>(f.peakRssGrowth));
  o.insert(QStringLiteral("finished"), f.finished);
  return o;
}

}  // namespace

int runHostileBench(const BenchOptions& options) {
  if (auto crypto = net::initCrypto(); !crypto) {
    std::fprintf(stderr, "quire-bench: %s\n", crypto.error().toString().c_str());
    return kExitFailure;
  }
  DecodeLimitsForBench limits;
  limits.runs = options.runs;
  limits.timeoutMs = options.quick ? 20'000 : 60'000;
  limits.timedBudgetMs = options.quick ? 2'000 : 5'000;
  const std::string root = corpusRoot();
  std::printf("quire-bench hostile: decoders over the fuzz corpora in %s and the crafted attacks; "
              "each input in a forked child (address space +%s, killed after %d s), %d timed "
              "decodes, median (min-max); on %s%s\n\n",
              root.c_str(), human(static_cast<double>(limits.addressSpaceBytes)).c_str(),
              limits.timeoutMs / 1000, options.runs, machineDescription().c_str(),
              options.quick ? " (--quick: shorter timeouts and typing phases)" : "");
  std::fflush(stdout);

  // ---- Decoding.
  std::vector<DecodeFigures> all;
  std::vector<std::string> skipped;
  std::vector<std::string> emptyTargets;
  std::error_code ec;
  std::vector<fs::path> targets;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (entry.is_directory()) targets.push_back(entry.path());
  }
  std::sort(targets.begin(), targets.end());
  std::size_t corpusFiles = 0;
  for (const fs::path& dir : targets) {
    const std::string target = dir.filename().string();
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.is_regular_file() && entry.path().filename().string() != ".gitkeep") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) emptyTargets.push_back(target);
    for (const fs::path& file : files) {
      auto c = corpusCase(target, file);
      if (!c) {
        skipped.push_back(target);
        break;
      }
      all.push_back(measureDecode(*c, limits));
      ++corpusFiles;
    }
  }
  for (const CaseMaker& maker : craftedCases()) {
    const DecodeCase c = maker();
    all.push_back(measureDecode(c, limits));
  }

  std::vector<std::vector<std::string>> rows{{"input", "decoder", "in", "decoded", "ms", "ms/KiB",
                                              "peak heap", "alloc ratio", "peak RSS+", "verdict"}};
  const DecodeFigures* worstTime = nullptr;
  const DecodeFigures* worstAlloc = nullptr;
  for (const DecodeFigures& f : all) {
    if (timedFigure(f) && (worstTime == nullptr || msPerKib(f, f.ms) > msPerKib(*worstTime, worstTime->ms)))
      worstTime = &f;
    if (worstAlloc == nullptr || allocRatio(f) > allocRatio(*worstAlloc)) worstAlloc = &f;
  }
  // Every crafted input, and the corpus files worst by either figure (the JSON has them all).
  std::vector<std::size_t> byTime, byAlloc;
  for (std::size_t i = 0; i < corpusFiles; ++i) {
    if (timedFigure(all[i])) byTime.push_back(i);
    byAlloc.push_back(i);
  }
  std::sort(byTime.begin(), byTime.end(),
            [&](std::size_t a, std::size_t b) { return msPerKib(all[a], all[a].ms) > msPerKib(all[b], all[b].ms); });
  std::sort(byAlloc.begin(), byAlloc.end(),
            [&](std::size_t a, std::size_t b) { return allocRatio(all[a]) > allocRatio(all[b]); });
  std::vector<bool> shown(all.size(), false);
  for (std::size_t i = 0; i < std::min<std::size_t>(kCorpusRowsShown, byTime.size()); ++i) shown[byTime[i]] = true;
  for (std::size_t i = 0; i < std::min<std::size_t>(kCorpusRowsShown, byAlloc.size()); ++i) shown[byAlloc[i]] = true;
  for (std::size_t i = corpusFiles; i < all.size(); ++i) shown[i] = true;
  std::size_t hidden = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const DecodeFigures& f = all[i];
    if (!shown[i]) {
      ++hidden;
      continue;
    }
    const bool bound = !f.finished;
    rows.push_back({shortened(f.name, 58), decoderName(f.decoder), human(static_cast<double>(f.inputBytes)),
                    human(static_cast<double>(f.decodedBytes)),
                    (bound ? ">=" : "") + fixed(f.ms, 3),
                    timedFigure(f) ? (bound ? ">=" : "") + fixed(msPerKib(f, f.ms), 4) : "-",
                    (f.peakFromRss ? ">=" : "") + human(static_cast<double>(f.peakBytes)) + (f.peakFromRss ? " RSS" : ""),
                    fixed(allocRatio(f), 2),
                    f.peakRssGrowth < 0 ? "-" : human(static_cast<double>(f.peakRssGrowth)),
                    shortened(f.verdict, 70)});
  }
  printTable(rows);
  std::printf("\n%zu corpus files in %zu targets (the %zu not shown are below the worst %zu shown "
              "by each figure; all are in the JSON), %zu crafted inputs; ms/KiB only for inputs that "
              "decode to >= 16 KiB\n",
              corpusFiles, targets.size(), hidden, kCorpusRowsShown, all.size() - corpusFiles);
  for (const std::string& t : emptyTargets) std::printf("corpus %s: no files (only .gitkeep)\n", t.c_str());
  for (const std::string& t : skipped) std::printf("corpus %s: skipped, no decoder known for it\n", t.c_str());

  QJsonObject json;
  json.insert(QStringLiteral("machine"), QString::fromStdString(machineDescription()));
  json.insert(QStringLiteral("runs"), options.runs);
  json.insert(QStringLiteral("quick"), options.quick);
  json.insert(QStringLiteral("corpus_dir"), QString::fromStdString(root));
  json.insert(QStringLiteral("corpus_files"), static_cast<qint64>(corpusFiles));
  if (worstTime != nullptr) {
    const double k = kib(worstTime->decodedBytes);
    addSample(json, "worst_decode_ms_per_kib",
              Sample{worstTime->ms / k, worstTime->msMin / k, worstTime->msMax / k}, false);
    json.insert(QStringLiteral("worst_decode_ms_per_kib_input"), QString::fromStdString(worstTime->name));
    json.insert(QStringLiteral("worst_decode_ms_per_kib_lower_bound"), !worstTime->finished);
    std::printf("\nworst_decode_ms_per_kib   %s%s  %s (%s decoded in %s ms, %s)\n",
                worstTime->finished ? "" : ">=", formatSample({worstTime->ms / k, worstTime->msMin / k,
                worstTime->msMax / k}, 4).c_str(), worstTime->name.c_str(),
                human(static_cast<double>(worstTime->decodedBytes)).c_str(), fixed(worstTime->ms, 2).c_str(),
                shortened(worstTime->verdict, 80).c_str());
  }
  if (worstAlloc != nullptr) {
    json.insert(QStringLiteral("worst_decode_alloc_ratio"), allocRatio(*worstAlloc));
    json.insert(QStringLiteral("worst_decode_alloc_ratio_input"), QString::fromStdString(worstAlloc->name));
    json.insert(QStringLiteral("worst_decode_alloc_peak_bytes"), static_cast<qint64>(worstAlloc->peakBytes));
    json.insert(QStringLiteral("worst_decode_alloc_ratio_lower_bound"), worstAlloc->peakFromRss);
    std::printf("worst_decode_alloc_ratio  %s%s  %s (peak %s for %s decoded, %s)\n",
                worstAlloc->peakFromRss ? ">=" : "", fixed(allocRatio(*worstAlloc), 2).c_str(),
                worstAlloc->name.c_str(), human(static_cast<double>(worstAlloc->peakBytes)).c_str(),
                human(static_cast<double>(worstAlloc->decodedBytes)).c_str(),
                shortened(worstAlloc->verdict, 80).c_str());
  }
  QJsonArray inputs;
  for (const DecodeFigures& f : all) inputs.append(inputJson(f));
  json.insert(QStringLiteral("inputs"), inputs);
  std::fflush(stdout);

  // ---- The attack through the relay.
  AttackConfig attack;
  attack.runs = options.runs;
  attack.keystrokesPerPeer = options.quick ? 30 : 300;
  attack.drainTimeoutMs = options.quick ? 10'000 : 15'000;
  std::printf("\nattack: %d honest peers type at 30/s through quire-relay on 127.0.0.1, %d "
              "keystrokes each counted quiet and %d while an attacker sends one hostile frame "
              "every 100 ms, in 5 alternating cycles per run (quiet, attacked; each quiet slice "
              "after 0.5 s that count for neither; the attacker stays joined, silent, in the "
              "quiet slices, and a join of its still running when one begins is cut); %d runs\n",
              attack.peers, attack.keystrokesPerPeer, attack.keystrokesPerPeer, attack.runs);
  std::fflush(stdout);
  const AttackFigures af = measureAttack(attack);
  if (!af.note.empty()) std::printf("  %s\n", af.note.c_str());
  QJsonObject attackJson;
  if (!af.runs.empty()) {
    std::vector<double> ratio, quiet, attacked, quietP50, attackedP50, attackedMax;
    int missing = 0, closed = 0, sent = 0;
    int byKind[4] = {};
    for (const AttackRun& r : af.runs) {
      ratio.push_back(r.ratio());
      quiet.push_back(r.quietP99Ms);
      attacked.push_back(r.attackP99Ms);
      quietP50.push_back(r.quietP50Ms);
      attackedP50.push_back(r.attackP50Ms);
      attackedMax.push_back(r.attackMaxMs);
      missing += r.quietMissing + r.attackMissing;
      closed += r.attackerClosed;
      sent += r.framesSent;
      for (int k = 0; k < 4; ++k) byKind[k] += r.framesByKind[k];
    }
    addSample(json, "attack_keystroke_p99_ratio", summarize(ratio), false);
    addSample(attackJson, "quiet_keystroke_p99_ms", summarize(quiet), false);
    addSample(attackJson, "attack_keystroke_p99_ms", summarize(attacked), false);
    addSample(attackJson, "quiet_keystroke_p50_ms", summarize(quietP50), false);
    addSample(attackJson, "attack_keystroke_p50_ms", summarize(attackedP50), false);
    addSample(attackJson, "attack_keystroke_max_ms", summarize(attackedMax), false);
    attackJson.insert(QStringLiteral("runs_completed"), static_cast<int>(af.runs.size()));
    attackJson.insert(QStringLiteral("missing_deliveries"), missing);
    attackJson.insert(QStringLiteral("hostile_frames_sent"), sent);
    attackJson.insert(QStringLiteral("attacker_closed_by_relay"), closed);
    std::vector<std::vector<std::string>> arows{{"figure", "median (min-max)"},
        {"keystroke p99, quiet (ms)", formatSample(summarize(quiet), 2)},
        {"keystroke p99, attacked (ms)", formatSample(summarize(attacked), 2)},
        {"keystroke p50, quiet / attacked (ms)", formatSample(summarize(quietP50), 2) + " / " +
                                                  formatSample(summarize(attackedP50), 2)},
        {"keystroke max, attacked (ms)", formatSample(summarize(attackedMax), 1)},
        {"attack_keystroke_p99_ratio", formatSample(summarize(ratio), 2)}};
    std::printf("\n");
    printTable(arows);
    std::printf("\n%d hostile frames sent (%d %s, %d %s, %d %s, %d %s); the relay closed the attacker "
                "%d times; %d deliveries never came (counted at their deadline, a lower bound)\n",
                sent, byKind[0], kAttackFrameKinds[0], byKind[1], kAttackFrameKinds[1], byKind[2],
                kAttackFrameKinds[2], byKind[3], kAttackFrameKinds[3], closed, missing);
  }
  if (!af.failure.empty()) {
    attackJson.insert(QStringLiteral("failure"), QString::fromStdString(af.failure));
    std::printf("attack: %s\n", af.failure.c_str());
    if (af.runs.empty()) std::printf("attack_keystroke_p99_ratio: not measured\n");
  }
  json.insert(QStringLiteral("attack"), attackJson);

  if (auto written = writeJson(options.jsonPath, json); !written) {
    std::fprintf(stderr, "quire-bench: %s\n", written.error().toString().c_str());
    return kExitFailure;
  }
  std::printf("\nwrote %s\n", options.jsonPath.c_str());
  return kExitOk;
}

}  // namespace quire::bench
