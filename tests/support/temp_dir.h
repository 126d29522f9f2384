// A fresh mkdtemp() folder for one test, removed with everything in it when the test ends, pass
// or fail. Test-only.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace quire::test {

class TempDir {
 public:
  // `prefix` names the folder (e.g. "quire-store") so a leftover one says who made it.
  explicit TempDir(const std::string& prefix = "quire-test") {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (mkdtemp(pattern.data()) != nullptr) m_path = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!m_path.empty()) std::filesystem::remove_all(m_path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Empty if the folder could not be made.
  const std::string& path() const { return m_path; }
  // The path of `name` inside the folder.
  std::string file(const std::string& name) const { return m_path + "/" + name; }

 private:
  std::string m_path;
};

}  // namespace quire::test
