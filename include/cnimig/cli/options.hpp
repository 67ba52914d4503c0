#pragma once
// Command-line flags (README.md "Usage"). Parsing is pure so every flag and
// every conflict is unit-tested; errors are one line, for exit code 2.

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/common.h>

#include "cnimig/common/result.hpp"
#include "cnimig/config/config.hpp"
#include "cnimig/config/step.hpp"
#include "cnimig/events/logging.hpp"

namespace cnimig::cli {

enum class Command { run, status };

struct Options {
  Command command = Command::run;  // `cnimig-agent status ...`: Command::status
  bool output_json = false;        // status: -o json
  bool help = false;
  bool version = false;
  std::optional<std::filesystem::path> config;
  std::optional<std::filesystem::path> kubeconfig;
  std::optional<std::string> context;
  bool apply = false;
  bool rollback = false;  // --rollback: back to the source CNI
  config::StepRange steps{};
  bool steps_given = false;
  std::vector<std::string> nodes;  // empty: all nodes
  std::optional<unsigned> max_parallel_nodes;
  std::optional<config::MaxUnavailable> max_unavailable;
  std::optional<unsigned> max_requests_in_flight;
  events::LogFormat log_format = events::LogFormat::text;
  spdlog::level::level_enum log_level = spdlog::level::info;
  std::optional<unsigned> simulate;            // node count of an in-process cnimig-sim
  std::optional<std::string> metrics_address;  // --metrics-addr HOST:PORT
  bool plan_summary_only = false;              // --plan-output summary
};

// `args` excludes the program name. Accepts `--flag value` and `--flag=value`.
Result<Options> parse_options(std::span<const std::string_view> args);

std::string usage_text();

}  // namespace cnimig::cli
