#pragma once
// `cnimig-agent status`: reads the cluster once (one listing of nodes, pods
// and the workloads the core reads, through the driver's own cache and
// projection, plus the Lease) and prints where the migration stands. It
// writes nothing and takes no Lease, so it runs safely beside an agent that
// is migrating. Exit codes as the agent's: 0 printed, 2 configuration or
// manifest error, 3 cluster unreachable.

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include "cnimig/config/config.hpp"

namespace cnimig::agent {

struct StatusOptions {
  config::Config config;
  std::optional<std::filesystem::path> kubeconfig;
  std::optional<std::string> context;
  bool json = false;  // -o json: one JSON object; otherwise tables
};

// The User-Agent of status's requests (the simulator's report counts by it).
inline constexpr const char* kStatusUserAgent = "cnimig-agent-status";

int run_status(const StatusOptions& options, std::FILE* out);

}  // namespace cnimig::agent
