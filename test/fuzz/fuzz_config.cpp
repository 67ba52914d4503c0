// The configuration parser must turn any input into a Config or an Error with
// a location: never crash, hang or throw.
#include <cstdint>
#include <string_view>

#include "cnimig/config/config_loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto result = cnimig::config::parse_config(text, "/nonexistent/fuzz/config.yaml");
  if (!result && result.error().message.empty())
    __builtin_trap();
  return 0;
}
