// The exec channel decoder must take any sequence of WebSocket messages
// without crashing: the input is cut into messages by its 0x00 bytes.
#include <cstdint>
#include <string_view>

#include "cnimig/kube/exec_channel_decoder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  cnimig::kube::ExecChannelDecoder decoder(1024);
  while (!text.empty()) {
    auto end = text.find('\0');
    auto message = text.substr(0, end);
    if (!decoder.feed(message))
      break;
    if (end == std::string_view::npos)
      break;
    text.remove_prefix(end + 1);
  }
  auto result = decoder.result();
  if (result && (result->stdout_text.size() > 1024 || result->stderr_text.size() > 1024))
    __builtin_trap();
  return 0;
}
