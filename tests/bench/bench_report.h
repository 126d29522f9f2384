// What every quire-bench subcommand reports with: a figure repeated over runs (median, min,
// max), a plain-text table for people and a JSON file for ../shared/checks/targets.py.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <QJsonObject>

#include "engine/result.h"

namespace quire::bench {

// One figure measured once per run.
struct Sample {
  double median = 0;
  double min = 0;
  double max = 0;
};

// REQUIRES: !values.empty(). The median of an even count is the mean of the middle two.
Sample summarize(std::vector<double> values);

// Adds key, key_min and key_max. Integral figures (bytes) are written as integers.
void addSample(QJsonObject& obj, const std::string& key, const Sample& sample, bool integral);

// "12.34 (12.01-13.50)" with `decimals` places, each value divided by `scale` first.
std::string formatSample(const Sample& sample, int decimals, double scale = 1.0);

// "x86_64 / 2": the architecture (uname -m) and the number of online CPUs (nproc).
std::string machineDescription();

// Writes `root` as indented JSON. Fails with Error::io naming the path.
[[nodiscard]] quire::Result<void> writeJson(const std::string& path, const QJsonObject& root);

// Prints a left-aligned table (first row the header) with a rule under the header.
void printTable(const std::vector<std::vector<std::string>>& rows);

}  // namespace quire::bench
