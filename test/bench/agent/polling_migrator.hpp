#pragma once
// The API-use benchmark's baseline (issue 7 (a)): a list-and-sleep migrator
// that makes the same core decisions as the agent (migrate::next_actions and
// the same ActionExecutor) but, instead of watching, re-lists nodes, pods,
// DaemonSets, Deployments and StatefulSets every `interval`, then executes
// what the core returns, in order, and sleeps. Test-only: it exists to
// measure what watching saves.

#include <chrono>
#include <filesystem>
#include <string>

#include "cnimig/config/config.hpp"

namespace cnimig::bench {

struct PollingResult {
  bool completed = false;
  std::string reason;
  std::size_t polls = 0;
  std::chrono::milliseconds makespan{0};
};

PollingResult run_polling_migrator(const config::Config& config,
                                   const std::filesystem::path& kubeconfig,
                                   std::chrono::milliseconds interval,
                                   std::chrono::milliseconds limit);

}  // namespace cnimig::bench
