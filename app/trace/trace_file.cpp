#include "app/trace/trace_file.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <system_error>
#include <utility>

#include <QByteArray>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <QJsonValue>
#include <QString>
#include <zlib.h>

namespace quire::trace {

namespace {

// The largest trace is ~15 MB of JSON; this only stops a gzip bomb from taking all memory.
constexpr qsizetype kMaxJsonBytes = qsizetype{512} * 1024 * 1024;
constexpr std::uint64_t kMaxU32 = std::numeric_limits<std::uint32_t>::max();

std::string traceName(const std::string& path) {
  std::string name = std::filesystem::path(path).filename().string();
  for (const char* suffix : {".json.gz", ".json"}) {
    const std::size_t n = std::strlen(suffix);
    if (name.size() > n && name.compare(name.size() - n, n, suffix) == 0) {
      name.resize(name.size() - n);
      break;
    }
  }
  return name;
}

// Reads the whole file; gzread passes plain (uncompressed) files through unchanged.
Result<QByteArray> readFile(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    return fail(Error::io(path + ": no such file"));
  }
  if (!std::filesystem::is_regular_file(status)) {
    return fail(Error::io(path + ": not a regular file"));
  }
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    return fail(Error::io(path + ": cannot open: " + std::strerror(errno)));
  }
  QByteArray bytes;
  constexpr unsigned kChunk = 1u << 20;
  while (true) {
    const qsizetype used = bytes.size();
    if (used > kMaxJsonBytes) {
      gzclose(file);
      return fail(Error::malformed(path + ": more than 512 MiB of JSON"));
    }
    bytes.resize(used + kChunk);
    const int got = gzread(file, bytes.data() + used, kChunk);
    if (got < 0) {
      int code = 0;
      std::string what = gzerror(file, &code);
      // zlib puts the path in front of its message; we already do.
      if (what.starts_with(path + ": ")) what.erase(0, path.size() + 2);
      gzclose(file);
      if (code == Z_ERRNO) return fail(Error::io(path + ": read failed: " + std::strerror(errno)));
      return fail(Error::malformed(path + ": bad gzip data: " + what));
    }
    bytes.resize(used + got);
    if (got == 0) break;
  }
  // A stream cut short reads as a clean end of file; only the close reports it.
  const int closed = gzclose(file);
  if (closed == Z_BUF_ERROR) return fail(Error::malformed(path + ": gzip data is truncated"));
  if (closed != Z_OK) return fail(Error::io(path + ": read failed"));
  return bytes;
}

bool hasUnpairedSurrogate(const QString& s) {
  for (qsizetype i = 0; i < s.size(); ++i) {
    const QChar c = s.at(i);
    if (c.isHighSurrogate()) {
      if (i + 1 >= s.size() || !s.at(i + 1).isLowSurrogate()) return true;
      ++i;
    } else if (c.isLowSurrogate()) {
      return true;
    }
  }
  return false;
}

// Turns the JSON tree into a Trace, checking every value on the way. `where` strings are the
// location inside the file ("txn 12 patch 3"), empty at the top level.
class TraceParser {
 public:
  explicit TraceParser(std::string file) : m_file(std::move(file)) {}

  Result<Trace> parse(const QJsonDocument& doc) {
    if (!doc.isObject()) return fail(malformed("", "top level is not a JSON object"));
    const QJsonObject root = doc.object();
    Trace trace;

    if (root.contains("kind")) {
      auto kind = readString(root, "kind", "");
      if (!kind) return fail(kind.error());
      if (*kind == "concurrent") {
        trace.concurrent = true;
      } else if (*kind != "sequential") {
        return fail(malformed(
            "", "kind: expected \"concurrent\" or \"sequential\", got \"" + *kind + "\""));
      }
    }
    if (root.contains("startContent")) {
      auto start = readString(root, "startContent", "");
      if (!start) return fail(start.error());
      trace.startContent = std::move(*start);
    }
    auto end = readString(root, "endContent", "");
    if (!end) return fail(end.error());
    trace.endContent = std::move(*end);
    if (trace.concurrent) {
      auto agents = readNumber(root, "numAgents", "", kMaxAgents);
      if (!agents) return fail(agents.error());
      if (*agents == 0) return fail(malformed("", "numAgents is 0"));
      trace.numAgents = *agents;
    }

    if (!root.contains("txns")) return fail(malformed("", "missing key \"txns\""));
    if (!root.value("txns").isArray()) return fail(malformed("", "txns: expected an array"));
    const QJsonArray txns = root.value("txns").toArray();
    if (static_cast<std::uint64_t>(txns.size()) > kMaxU32)
      return fail(malformed("", "too many txns"));
    trace.txns.reserve(static_cast<std::size_t>(txns.size()));
    for (qsizetype i = 0; i < txns.size(); ++i) {
      auto txn = parseTxn(txns.at(i), static_cast<std::uint32_t>(i), trace);
      if (!txn) return fail(txn.error());
      trace.txns.push_back(std::move(*txn));
    }
    return trace;
  }

 private:
  Error malformed(const std::string& where, const std::string& what) const {
    return Error::malformed(m_file + ": " + (where.empty() ? "" : where + ": ") + what);
  }

  Result<std::string> readString(const QJsonValue& value, const std::string& where,
                                 const std::string& what) const {
    if (!value.isString()) return fail(malformed(where, what + ": expected a string"));
    const QString s = value.toString();
    if (hasUnpairedSurrogate(s))
      return fail(malformed(where, what + ": unpaired UTF-16 surrogate"));
    return s.toStdString();
  }

  Result<std::string> readString(const QJsonObject& obj, const char* key,
                                 const std::string& where) const {
    if (!obj.contains(QLatin1String(key)))
      return fail(malformed(where, std::string("missing key \"") + key + "\""));
    return readString(obj.value(QLatin1String(key)), where, key);
  }

  // An integer in [0, max]; JSON numbers are doubles, so fractions and infinities are refused.
  Result<std::uint32_t> readNumber(const QJsonValue& value, const std::string& where,
                                   const std::string& what, std::uint64_t max) const {
    if (!value.isDouble()) return fail(malformed(where, what + ": expected a number"));
    const double d = value.toDouble();
    if (!std::isfinite(d) || d < 0 || d != std::floor(d) || d > static_cast<double>(max)) {
      return fail(malformed(where, what + ": expected an integer in [0, " + std::to_string(max) +
                                       "], got " + QString::number(d, 'g', 17).toStdString()));
    }
    return static_cast<std::uint32_t>(d);
  }

  Result<std::uint32_t> readNumber(const QJsonObject& obj, const char* key,
                                   const std::string& where, std::uint64_t max) const {
    if (!obj.contains(QLatin1String(key)))
      return fail(malformed(where, std::string("missing key \"") + key + "\""));
    return readNumber(obj.value(QLatin1String(key)), where, key, max);
  }

  Result<TraceTxn> parseTxn(const QJsonValue& value, std::uint32_t index,
                            const Trace& trace) const {
    const std::string where = "txn " + std::to_string(index);
    if (!value.isObject()) return fail(malformed(where, "expected an object"));
    const QJsonObject obj = value.toObject();
    TraceTxn txn;
    if (trace.concurrent) {
      if (!obj.contains("parents")) return fail(malformed(where, "missing key \"parents\""));
      if (!obj.value("parents").isArray())
        return fail(malformed(where, "parents: expected an array"));
      const QJsonArray parents = obj.value("parents").toArray();
      txn.parents.reserve(static_cast<std::size_t>(parents.size()));
      for (qsizetype p = 0; p < parents.size(); ++p) {
        auto parent =
            readNumber(parents.at(p), where, "parents[" + std::to_string(p) + "]", kMaxU32);
        if (!parent) return fail(parent.error());
        if (*parent >= index) {
          return fail(
              malformed(where, "parent " + std::to_string(*parent) + " is not an earlier txn"));
        }
        txn.parents.push_back(*parent);
      }
      auto agent = readNumber(obj, "agent", where, kMaxU32);
      if (!agent) return fail(agent.error());
      if (*agent >= trace.numAgents) {
        return fail(malformed(where, "agent " + std::to_string(*agent) + " but numAgents is " +
                                         std::to_string(trace.numAgents)));
      }
      txn.agent = *agent;
    } else if (index > 0) {
      txn.parents.push_back(index - 1);
    }

    if (!obj.contains("patches")) return fail(malformed(where, "missing key \"patches\""));
    if (!obj.value("patches").isArray())
      return fail(malformed(where, "patches: expected an array"));
    const QJsonArray patches = obj.value("patches").toArray();
    txn.patches.reserve(static_cast<std::size_t>(patches.size()));
    for (qsizetype p = 0; p < patches.size(); ++p) {
      auto patch = parsePatch(patches.at(p), where + " patch " + std::to_string(p));
      if (!patch) return fail(patch.error());
      txn.patches.push_back(std::move(*patch));
    }
    return txn;
  }

  Result<TracePatch> parsePatch(const QJsonValue& value, const std::string& where) const {
    if (!value.isArray() || value.toArray().size() != 3) {
      return fail(malformed(where, "expected [pos, deleted, \"inserted\"]"));
    }
    const QJsonArray fields = value.toArray();
    auto pos = readNumber(fields.at(0), where, "pos", kMaxU32);
    if (!pos) return fail(pos.error());
    auto deleted = readNumber(fields.at(1), where, "deleted", kMaxU32);
    if (!deleted) return fail(deleted.error());
    auto inserted = readString(fields.at(2), where, "inserted");
    if (!inserted) return fail(inserted.error());
    return TracePatch{*pos, *deleted, std::move(*inserted)};
  }

  std::string m_file;
};

}  // namespace

std::size_t Trace::editCount() const {
  std::size_t n = 0;
  for (const TraceTxn& txn : txns) n += txn.patches.size();
  return n;
}

Result<Trace> loadTrace(const std::string& path) {
  auto bytes = readFile(path);
  if (!bytes) return fail(bytes.error());
  QJsonParseError parseError;
  const QJsonDocument doc = QJsonDocument::fromJson(*bytes, &parseError);
  if (parseError.error != QJsonParseError::NoError) {
    return fail(Error::malformed(path + ": not JSON: " + parseError.errorString().toStdString() +
                                 " at byte " + std::to_string(parseError.offset)));
  }
  auto trace = TraceParser(path).parse(doc);
  if (!trace) return fail(trace.error());
  trace->name = traceName(path);
  return trace;
}

std::vector<std::string> findTraces(const std::string& dir) {
  std::vector<std::filesystem::path> found;
  for (const char* kind : {"sequential", "concurrent"}) {
    std::error_code ec;
    std::filesystem::directory_iterator it(std::filesystem::path(dir) / kind, ec);
    for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      const std::string file = it->path().filename().string();
      const std::string suffix = ".json.gz";
      if (file.size() > suffix.size() && file.ends_with(suffix) && it->is_regular_file(ec)) {
        found.push_back(it->path());
      }
    }
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return std::pair(a.filename(), a) < std::pair(b.filename(), b);
  });
  std::vector<std::string> paths;
  paths.reserve(found.size());
  for (const auto& p : found) paths.push_back(p.string());
  return paths;
}

std::string defaultTracesDir() {
  const char* env = std::getenv("QUIRE_TRACES");
  if (env != nullptr && *env != '\0') return env;
#ifdef QUIRE_TRACES_DIR
  return QUIRE_TRACES_DIR;
#else
  return {};
#endif
}

}  // namespace quire::trace
