#include "storage/file_io.h"

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/utf8.h"

namespace quire::storage {
namespace {

std::string errnoText(int err) { return std::strerror(err); }

// Closes a descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : m_fd(fd) {}
  ~Fd() {
    if (m_fd >= 0) ::close(m_fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return m_fd; }
  // Closes now and reports close(2)'s error (it can carry a delayed write error).
  int release() {
    const int rc = ::close(m_fd);
    m_fd = -1;
    return rc;
  }

 private:
  int m_fd;
};

std::string directoryOf(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

Result<void> fillRandom(std::span<std::uint8_t> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::getrandom(out.data() + done, out.size() - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(Error::io("storage: getrandom: " + errnoText(errno)));
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Result<void> createPrivateFile(const std::string& path, bool& created) {
  created = false;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    created = true;
    ::close(fd);
    return {};
  }
  if (errno == EEXIST) return {};
  return fail(Error::io("storage: create database " + path + ": " + errnoText(errno)));
}

Result<unsigned> fileMode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return fail(Error::io("storage: stat " + path + ": " + errnoText(errno)));
  return static_cast<unsigned>(st.st_mode & 07777);
}

Result<std::string> readUtf8File(const std::string& path) {
  const std::string what = "storage: import " + path;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return fail(Error::io(what + ": " + errnoText(errno)));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail(Error::io(what + ": " + errnoText(errno)));
  if (!S_ISREG(st.st_mode)) return fail(Error::invalidArgument(what + ": not a regular file"));
  std::string text;
  text.reserve(static_cast<std::size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(Error::io(what + ": " + errnoText(errno)));
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  return decodeImportedText(std::move(text), what);
}

Result<std::string> decodeImportedText(std::string text, const std::string& what) {
  if (const auto nul = text.find('\0'); nul != std::string::npos) {
    return fail(Error::invalidArgument(what + ": refused: a binary file (NUL byte at offset " +
                                       std::to_string(nul) + "), only UTF-8 text can be imported"));
  }
  if (!engine::utf8::countValid(text)) {
    // Find the first bad byte so the message can point at it.
    std::size_t pos = 0;
    while (pos < text.size()) {
      const std::size_t len = engine::utf8::sequenceLength(static_cast<unsigned char>(text[pos]));
      if (pos + len > text.size() ||
          !engine::utf8::countValid(std::string_view(text).substr(pos, len)))
        break;
      pos += len;
    }
    return fail(Error::invalidArgument(what +
                                       ": refused: not valid UTF-8 (first bad byte at offset " +
                                       std::to_string(pos) + "), only UTF-8 text can be imported"));
  }
  if (text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);
  return text;
}

Result<void> writeFileAtomically(const std::string& path, std::string_view bytes) {
  const std::string what = "storage: export to " + path;
  const std::string tmp = path + ".tmp";
  mode_t mode = 0644;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) mode = st.st_mode & 07777;

  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (fd.get() < 0) return fail(Error::io(what + ": create " + tmp + ": " + errnoText(errno)));
  auto abandon = [&](const std::string& step, int err) {
    ::unlink(tmp.c_str());
    return fail(Error::io(what + ": " + step + ": " + errnoText(err)));
  };
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return abandon("write " + tmp, errno);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return abandon("fsync " + tmp, errno);
  if (fd.release() != 0) return abandon("close " + tmp, errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return abandon("rename " + tmp, errno);

  const std::string dir = directoryOf(path);
  Fd dirFd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dirFd.get() < 0)
    return fail(Error::io(what + ": open directory " + dir + ": " + errnoText(errno)));
  if (::fsync(dirFd.get()) != 0)
    return fail(Error::io(what + ": fsync directory " + dir + ": " + errnoText(errno)));
  return {};
}

}  // namespace quire::storage
