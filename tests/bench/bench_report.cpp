#include "tests/bench/bench_report.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>

#include <QFile>
#include <QJsonDocument>
#include <QJsonValue>
#include <QString>
#include <sys/utsname.h>
#include <unistd.h>

namespace quire::bench {

Sample summarize(std::vector<double> values) {
  assert(!values.empty());
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  const double median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  return Sample{median, values.front(), values.back()};
}

void addSample(QJsonObject& obj, const std::string& key, const Sample& sample, bool integral) {
  const auto value = [integral](double v) {
    return integral ? QJsonValue(static_cast<qint64>(std::llround(v))) : QJsonValue(v);
  };
  const QString name = QString::fromStdString(key);
  obj.insert(name, value(sample.median));
  obj.insert(name + QStringLiteral("_min"), value(sample.min));
  obj.insert(name + QStringLiteral("_max"), value(sample.max));
}

std::string formatSample(const Sample& sample, int decimals, double scale) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.*f (%.*f-%.*f)", decimals, sample.median / scale, decimals,
                sample.min / scale, decimals, sample.max / scale);
  return buf;
}

std::string machineDescription() {
  utsname info{};
  const std::string arch = uname(&info) == 0 ? info.machine : "unknown";
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  return arch + " / " + std::to_string(cpus > 0 ? cpus : 1);
}

Result<void> writeJson(const std::string& path, const QJsonObject& root) {
  QFile file(QFile::decodeName(path.c_str()));
  if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
    return fail(Error::io(path + ": cannot write: " + file.errorString().toStdString()));
  }
  const QByteArray bytes = QJsonDocument(root).toJson(QJsonDocument::Indented);
  if (file.write(bytes) != bytes.size() || !file.flush()) {
    return fail(Error::io(path + ": write failed: " + file.errorString().toStdString()));
  }
  return {};
}

void printTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  for (std::size_t r = 0; r < rows.size(); ++r) {
    std::string line;
    for (std::size_t c = 0; c < rows[r].size(); ++c) {
      std::string cell = rows[r][c];
      if (c + 1 < rows[r].size()) cell.resize(widths[c] + 2, ' ');
      line += cell;
    }
    std::printf("%s\n", line.c_str());
    if (r == 0) {
      std::size_t total = 0;
      for (std::size_t w : widths) total += w + 2;
      std::printf("%s\n", std::string(total > 2 ? total - 2 : 0, '-').c_str());
    }
  }
}

}  // namespace quire::bench
