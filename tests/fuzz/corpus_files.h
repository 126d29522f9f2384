// The corpus replay's side of the fuzz corpora (tests/fuzz/corpus/<target>/): which targets
// exist and the files of one, read whole. Used by tests/{engine,net,storage}/corpus_replay_test.cpp.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace quire::fuzz {

// Every target with a corpus directory, and the suite whose corpus_replay_test replays it.
inline constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kCorpusTargets{{
    {"update_fuzz", "engine"},
    {"history_fuzz", "engine"},
    {"version_vector_fuzz", "engine"},
    {"frame_message_fuzz", "net"},
    {"frame_fuzz", "net"},
    {"share_link_fuzz", "net"},
    {"stored_row_fuzz", "storage"},
    {"import_text_fuzz", "storage"},
}};

inline std::filesystem::path corpusRoot() {
#ifdef QUIRE_SOURCE_DIR
  return std::filesystem::path(QUIRE_SOURCE_DIR) / "tests" / "fuzz" / "corpus";
#else
  return std::filesystem::path(__FILE__).parent_path() / "corpus";
#endif
}

struct CorpusFile {
  std::string name;
  std::vector<std::uint8_t> bytes;
};

// The regular files of corpus/<target>/ (dot files such as .gitkeep left out), sorted by name.
// Empty if the directory is missing or holds none.
inline std::vector<CorpusFile> corpusFiles(std::string_view target) {
  std::vector<CorpusFile> out;
  const auto dir = corpusRoot() / std::string(target);
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file() || name.starts_with(".")) continue;
    std::ifstream in(e.path(), std::ios::binary);
    out.push_back({name, std::vector<std::uint8_t>((std::istreambuf_iterator<char>(in)),
                                                    std::istreambuf_iterator<char>())});
  }
  std::sort(out.begin(), out.end(),
            [](const CorpusFile& a, const CorpusFile& b) { return a.name < b.name; });
  return out;
}

}  // namespace quire::fuzz
