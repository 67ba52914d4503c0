#pragma once
// Strict loading: unknown keys, duplicate keys, wrong types, invalid names and
// missing manifest files are errors whose message starts with
// "<file>:<line>:<column>: <dotted.key>: " so an operator can jump to it.

#include <filesystem>
#include <string_view>

#include "cnimig/common/result.hpp"
#include "cnimig/config/config.hpp"

namespace cnimig::config {

Result<Config> load_config(const std::filesystem::path& file);

// Parses YAML text as if it were read from `file` (relative manifest paths
// resolve against file's directory, which must exist for the files to be found).
Result<Config> parse_config(std::string_view yaml, const std::filesystem::path& file);

}  // namespace cnimig::config
