// Manifest parsing (YAML documents, kind mapping, label rewriting) must turn
// any input into a bundle or an error: never crash, hang or throw.
#include <cstdint>
#include <string_view>

#include "cnimig/agent/manifest_bundle.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  cnimig::config::LabelKeys keys;
  keys.cilium = "example.com/cilium";
  keys.value = "yes";
  auto bundle = cnimig::agent::ManifestBundle::parse("fuzz", text, "fuzz.yaml",
                                                     cnimig::agent::LabelRewrite::from(keys));
  if (!bundle && bundle.error().message.empty())
    __builtin_trap();
  return 0;
}
