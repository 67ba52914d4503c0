// The kubeconfig parser must turn any input into a Kubeconfig or an Error
// naming the file: never crash, hang or throw.
#include <cstdint>
#include <string_view>

#include "cnimig/kube/kubeconfig.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto result = cnimig::kube::parse_kubeconfig(text, "/nonexistent/fuzz/kubeconfig");
  if (!result && result.error().message.find("/nonexistent/fuzz/kubeconfig") == std::string::npos)
    __builtin_trap();
  return 0;
}
