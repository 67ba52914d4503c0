// The watch event decoder must accept any byte stream in any split without
// crashing, and give the same events whichever way the bytes are split.
#include <cstdint>
#include <string_view>
#include <vector>

#include <boost/json/serialize.hpp>

#include "cnimig/kube/watch_event_decoder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  const std::size_t split = data[0] % size;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  using cnimig::kube::RawWatchEvent;
  std::vector<RawWatchEvent> whole, parts;
  cnimig::kube::WatchEventDecoder a, b;
  const bool ok_whole = a.feed(text, whole).has_value();
  const std::size_t cut = split < text.size() ? split : text.size();
  const bool ok_parts =
      b.feed(text.substr(0, cut), parts).has_value() && b.feed(text.substr(cut), parts).has_value();
  if (ok_whole != ok_parts)
    __builtin_trap();
  if (ok_whole) {
    if (whole.size() != parts.size())
      __builtin_trap();
    for (std::size_t i = 0; i < whole.size(); ++i)
      if (whole[i].type != parts[i].type ||
          boost::json::serialize(whole[i].object) != boost::json::serialize(parts[i].object))
        __builtin_trap();
  }
  return 0;
}
