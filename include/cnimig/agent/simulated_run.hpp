#pragma once
// `cnimig-agent --simulate N`: the same run against an in-process cnimig-sim
// of N nodes served over real HTTPS on loopback (its own io_context thread),
// followed by the simulator's connectivity verdict.

#include "cnimig/agent/agent_run.hpp"

namespace cnimig::agent {

struct SimulationOptions {
  unsigned nodes = 8;
  unsigned pods_per_node = 4;
  double time_scale = 0.05;  // a demo should take seconds, not minutes
};

// Returns run_agent's exit code; 1 if the oracle saw a connectivity violation
// even though the run itself finished.
int run_simulated(AgentRunOptions options, const SimulationOptions& simulation,
                  events::EventSink& events);

}  // namespace cnimig::agent
