#pragma once
// One run of the agent end to end: connect, validate everything before the
// first write (configuration, manifests, permissions), then print the plan or
// migrate under the Lease, honouring SIGINT/SIGTERM, speaking to systemd.
// Returns the process exit code (README.md "Exit codes").

#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "cnimig/config/config.hpp"
#include "cnimig/config/step.hpp"
#include "cnimig/events/event_sink.hpp"
#include "cnimig/events/progress_line.hpp"

namespace cnimig::agent {

struct AgentRunOptions {
  config::Config config;
  bool apply = false;
  bool rollback = false;  // --rollback (src/migrate/README.md "Rollback")
  config::StepRange steps{};
  std::set<std::string> nodes;
  std::optional<std::filesystem::path> kubeconfig;
  std::optional<std::string> context;
  std::shared_ptr<events::ProgressLine> progress_line;
  // Test only (the CLI never sets it): migrate::MigrationSettings::skip_roll_for_tests.
  bool skip_roll_for_tests = false;
  std::optional<std::string> metrics_address;  // --metrics-addr HOST:PORT
  // --plan-output summary: a plan writes plan.summary instead of every plan.action.
  bool plan_summary_only = false;
};

int run_agent(const AgentRunOptions& options, events::EventSink& events);

}  // namespace cnimig::agent
