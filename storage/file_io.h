// The plain-file side of storage: random bytes for ids and keys, the database file's creation
// with mode 0600, reading a text file to import, and atomic export. SCHEMA.md, "Files".
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "engine/result.h"

namespace quire::storage {

// Fills `out` from the kernel's CSPRNG (getrandom(2)). Fails only if the kernel refuses.
[[nodiscard]] Result<void> fillRandom(std::span<std::uint8_t> out);

// Creates `path` with mode 0600 if it does not exist (an existing file is left alone).
// Sets `created` to whether this call made it.
[[nodiscard]] Result<void> createPrivateFile(const std::string& path, bool& created);

// The permission bits of an existing file (e.g. 0600).
[[nodiscard]] Result<unsigned> fileMode(const std::string& path);

// The contents of `path` if it is UTF-8 text: refused with a message when it holds a NUL byte
// (binary) or is not well-formed UTF-8. A leading UTF-8 byte order mark is dropped.
[[nodiscard]] Result<std::string> readUtf8File(const std::string& path);

// The checks readUtf8File makes on the bytes it read, without the file: `bytes` if they are
// UTF-8 text (leading byte order mark dropped), else Error::invalidArgument starting with `what`
// and naming the offset of the NUL byte or of the first bad UTF-8 byte. Linear in the size.
[[nodiscard]] Result<std::string> decodeImportedText(std::string bytes, const std::string& what);

// Replaces `path` with `bytes` so that a crash at any moment leaves either the old file or the
// new one: writes `path`.tmp in the same directory, fsyncs it, renames it over `path` and
// fsyncs the directory. An existing target keeps its permission bits; a new one gets 0644
// (less the umask).
[[nodiscard]] Result<void> writeFileAtomically(const std::string& path, std::string_view bytes);

}  // namespace quire::storage
