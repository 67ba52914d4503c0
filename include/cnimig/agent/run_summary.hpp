#pragma once
// The last log line of an --apply run that completed: what it did, in words,
// for the steps it was asked to run (`--steps preflight` proves the cluster
// ready and moves no node to Cilium; only a run through cleanup completes
// the migration).

#include <chrono>
#include <cstddef>
#include <string>

#include "cnimig/config/step.hpp"

namespace cnimig::agent {

// `nodes`: the nodes the per-node steps acted on (the --nodes subset, or
// every node).
std::string completion_summary(const config::StepRange& steps, std::size_t nodes,
                               std::chrono::milliseconds elapsed);

}  // namespace cnimig::agent
