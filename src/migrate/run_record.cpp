// Which writes a connectivity check vouches for.

#include "cnimig/migrate/run_record.hpp"

#include <algorithm>

namespace cnimig::migrate {

void note_write(RunRecord& run, const Action& write) {
  ++run.write_generation;
  if (write.node.empty())
    run.cluster_written = run.write_generation;
  else
    run.node_written[write.node] = run.write_generation;
}

void note_check(RunRecord& run, CheckResult result) {
  if (result.passed && result.full) {
    run.full_check_generation = std::max(run.full_check_generation, result.generation);
    run.node_proved.clear();
  } else if (result.passed) {
    for (const auto& node : result.probed_nodes) {
      const auto& unsettled = result.unsettled_nodes;
      if (std::find(unsettled.begin(), unsettled.end(), node) == unsettled.end() &&
          !result.unsettled_cluster)
        run.node_proved[node] = std::max(run.node_proved[node], result.generation);
    }
  }
  run.last_check = std::move(result);
}

std::vector<std::string> unproved_nodes(const RunRecord& run) {
  std::vector<std::string> out;
  for (const auto& [node, written] : run.node_written) {
    auto proved = run.full_check_generation;
    if (const auto it = run.node_proved.find(node); it != run.node_proved.end())
      proved = std::max(proved, it->second);
    if (written > proved)
      out.push_back(node);
  }
  return out;
}

CheckResult check_starting(const RunRecord& run) {
  CheckResult result;
  result.generation = run.write_generation;
  for (const auto& a : run.in_flight) {
    if (!is_write(a))
      continue;
    if (a.node.empty())
      result.unsettled_cluster = true;
    else if (std::find(result.unsettled_nodes.begin(), result.unsettled_nodes.end(), a.node) ==
             result.unsettled_nodes.end())
      result.unsettled_nodes.push_back(a.node);
  }
  return result;
}

bool writing_to(const RunRecord& run, const std::string& node) {
  return std::any_of(run.in_flight.begin(), run.in_flight.end(),
                     [&](const Action& a) { return is_write(a) && a.node == node; });
}

namespace {

// A write to `node` or a cluster-wide one (every write, for an empty
// `node`) is running now.
bool writing(const RunRecord& run, const std::string& node) {
  if (node.empty())
    return std::any_of(run.in_flight.begin(), run.in_flight.end(), is_write);
  return writing_to(run, node) || writing_to(run, "");
}

}  // namespace

bool check_covers(const RunRecord& run, const std::string& node) {
  if (!run.last_check || !run.last_check->passed)
    return false;
  const auto& check = *run.last_check;
  if (check.unsettled_cluster || writing(run, node))
    return false;
  if (node.empty())
    return check.full && check.generation == run.write_generation && check.unsettled_nodes.empty();
  if (!check.full && std::find(check.probed_nodes.begin(), check.probed_nodes.end(), node) ==
                         check.probed_nodes.end())
    return false;
  if (check.generation < run.cluster_written)
    return false;
  const auto written = run.node_written.find(node);
  if (written != run.node_written.end() && check.generation < written->second)
    return false;
  return std::find(check.unsettled_nodes.begin(), check.unsettled_nodes.end(), node) ==
         check.unsettled_nodes.end();
}

}  // namespace cnimig::migrate
