// libFuzzer target for VersionVector::decode: any input is rejected or decodes to a canonical
// vector (sorted, no zero seqs) that round-trips through encode.
#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/version_vector.h"
#include "tests/fuzz/fuzz_common.h"

using quire::engine::VersionVector;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto v = VersionVector::decode(std::span<const std::uint8_t>(data, size));
  if (!v) return 0;
  const auto& e = v->entries();
  for (std::size_t i = 0; i < e.size(); ++i) {
    if (e[i].second == 0) quire::fuzz::die("a decoded entry has seq 0");
    if (i > 0 && !(e[i - 1].first < e[i].first)) quire::fuzz::die("decoded entries not sorted");
  }
  auto again = VersionVector::decode(v->encode());
  if (!again || !(*again == *v)) quire::fuzz::die("a decoded vector does not round-trip");
  return 0;
}
