// Error values for everything fallible in the engine (and, by reuse, in storage/ and net/).
// Bad input is a value, never an exception: see ../shared/style.md, "Errors".
#pragma once

#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace quire {

// What went wrong, with a message that says what and where.
class Error {
 public:
  enum class Code { Malformed, UnsupportedVersion, MissingDependency, Corrupt, Io, Crypto, Closed, InvalidArgument, Forked };

  static Error malformed(std::string msg) { return Error(Code::Malformed, std::move(msg)); }
  static Error unsupportedVersion(std::string msg) { return Error(Code::UnsupportedVersion, std::move(msg)); }
  static Error missingDependency(std::string msg) { return Error(Code::MissingDependency, std::move(msg)); }
  static Error corrupt(std::string msg) { return Error(Code::Corrupt, std::move(msg)); }
  static Error io(std::string msg) { return Error(Code::Io, std::move(msg)); }
  static Error crypto(std::string msg) { return Error(Code::Crypto, std::move(msg)); }
  static Error closed(std::string msg) { return Error(Code::Closed, std::move(msg)); }
  static Error invalidArgument(std::string msg) { return Error(Code::InvalidArgument, std::move(msg)); }
  // Two different ops under one (author, seq): FORMAT.md, "Forks".
  static Error forked(std::string msg) { return Error(Code::Forked, std::move(msg)); }

  // The same error, its message prefixed with where it happened: "txn 3: <message>".
  Error prefixed(const std::string& where) const { return Error(m_code, where + ": " + m_message); }

  Code code() const noexcept { return m_code; }
  const std::string& message() const noexcept { return m_message; }
  // "malformed: update: run of 40 chars but 12 bytes left"
  std::string toString() const;

 private:
  Error(Code code, std::string msg) : m_code(code), m_message(std::move(msg)) {}
  Code m_code;
  std::string m_message;
};

template <typename T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(Error e) { return tl::unexpected<Error>(std::move(e)); }

inline std::string Error::toString() const {
  const char* name = "error";
  switch (m_code) {
    case Code::Malformed: name = "malformed"; break;
    case Code::UnsupportedVersion: name = "unsupported version"; break;
    case Code::MissingDependency: name = "missing dependency"; break;
    case Code::Corrupt: name = "corrupt"; break;
    case Code::Io: name = "i/o error"; break;
    case Code::Crypto: name = "crypto error"; break;
    case Code::Closed: name = "closed"; break;
    case Code::InvalidArgument: name = "invalid argument"; break;
    case Code::Forked: name = "forked"; break;
  }
  return std::string(name) + ": " + m_message;
}

}  // namespace quire
