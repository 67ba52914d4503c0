#pragma once
// Internal to the config loader: the `ciliumRequirements:` section.

#include <optional>

#include <yaml-cpp/yaml.h>

#include "cnimig/config/config.hpp"

#include "yaml_reader.hpp"

namespace cnimig::config::detail {

// `ciliumRequirements: {kubernetes: "1.A-1.B", kernel: "M.N"}`: both keys
// required when the section is there; an absent or null section leaves `out`
// unset (the agent's table decides).
void read_cilium_requirements(Reader& r, const YAML::Node& node, const YAML::Mark& mark,
                              std::optional<CiliumRequirements>& out);

}  // namespace cnimig::config::detail
