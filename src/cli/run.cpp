#include "cnimig/cli/run.hpp"

#include <cstdio>
#include <iostream>
#include <vector>

#include <spdlog/spdlog.h>

#include "cnimig/agent/agent_run.hpp"
#include "cnimig/agent/simulated_run.hpp"
#include "cnimig/agent/status_command.hpp"
#include "cnimig/cli/options.hpp"
#include "cnimig/common/exit_code.hpp"
#include "cnimig/config/config_loader.hpp"
#include "cnimig/events/event_catalogue.hpp"
#include "cnimig/events/json_lines_writer.hpp"

namespace cnimig::cli {
namespace {

int usage_error(const std::string& message) {
  std::cerr << "cnimig-agent: " << message << "\nRun 'cnimig-agent --help' for usage.\n";
  return kExitUsage;
}

// Flags override the file; the combined budget must still be coherent.
Result<config::Config> effective_config(const Options& options) {
  const std::filesystem::path file = options.config.value_or(CNIMIG_DEFAULT_CONFIG);
  auto loaded = config::load_config(file);
  if (!loaded)
    return loaded.error();
  auto& c = *loaded;
  if (options.max_parallel_nodes)
    c.parallelism.max_parallel_nodes = *options.max_parallel_nodes;
  if (options.max_unavailable)
    c.parallelism.max_unavailable = *options.max_unavailable;
  if (options.max_requests_in_flight)
    c.parallelism.max_requests_in_flight = *options.max_requests_in_flight;
  const auto& p = c.parallelism;
  if (!p.max_unavailable.percent && p.max_parallel_nodes > p.max_unavailable.value) {
    // Name where each value came from, so the user knows what to change.
    const auto from = [&](bool flag, std::string_view flag_name, std::string_view key) {
      return flag ? std::string(flag_name)
                  : "parallelism." + std::string(key) + " in " + file.string();
    };
    return make_error(
        Errc::invalid_argument,
        from(options.max_parallel_nodes.has_value(), "--max-parallel-nodes", "maxParallelNodes") +
            " (" + std::to_string(p.max_parallel_nodes) + ") exceeds " +
            from(options.max_unavailable.has_value(), "--max-unavailable", "maxUnavailable") +
            " (" + std::to_string(p.max_unavailable.value) +
            "): lower the first or raise the second (no more nodes may be in flight than may be "
            "unavailable)");
  }
  return loaded;
}

}  // namespace

int run(int argc, char** argv) {
  std::vector<std::string_view> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  auto options = parse_options(args);
  if (!options)
    return usage_error(options.error().message);
  if (options->help) {
    std::cout << usage_text();
    return kExitDone;
  }
  if (options->version) {
    std::cout << "cnimig-agent " << CNIMIG_VERSION << "\n";
    return kExitDone;
  }

  auto progress = events::configure_logging(options->log_format, options->log_level);
  auto config = effective_config(*options);
  if (!config) {
    // Config errors may span several lines, one per problem, each file:line:col.
    std::cerr << "cnimig-agent: " << config.error().message << "\n";
    return kExitUsage;
  }

  // Only now is the strategy known: `--steps roll` is a usage error for one
  // without a roll step.
  if (auto why = config::steps_refusal(config->strategy, options->steps); !why.empty())
    return usage_error(why);

  if (options->command == Command::status) {
    agent::StatusOptions status{std::move(*config), options->kubeconfig, options->context,
                                options->output_json};
    return agent::run_status(status, stdout);
  }

  events::JsonLinesWriter events(stdout);
  events.emit(events::Event(events::catalogued("config.loaded"))
                  .field("config", config->source.string())
                  .field("steps", std::string(config::to_string(options->steps.first)) + "-" +
                                      std::string(config::to_string(options->steps.last)))
                  .field("apply", options->apply));

  agent::AgentRunOptions run_options;
  run_options.config = std::move(*config);
  run_options.apply = options->apply;
  run_options.rollback = options->rollback;
  run_options.steps = options->steps;
  run_options.nodes = {options->nodes.begin(), options->nodes.end()};
  run_options.kubeconfig = options->kubeconfig;
  run_options.context = options->context;
  run_options.progress_line = progress;
  run_options.metrics_address = options->metrics_address;
  run_options.plan_summary_only = options->plan_summary_only;
  if (options->simulate) {
    agent::SimulationOptions simulation;
    simulation.nodes = *options->simulate;
    return agent::run_simulated(std::move(run_options), simulation, events);
  }
  return agent::run_agent(run_options, events);
}

}  // namespace cnimig::cli
