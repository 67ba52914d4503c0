#include "cnimig/agent/run_summary.hpp"

#include <spdlog/fmt/fmt.h>

namespace cnimig::agent {

std::string completion_summary(const config::StepRange& steps, std::size_t nodes,
                               std::chrono::milliseconds elapsed) {
  using config::Step;
  const auto seconds = std::chrono::duration<double>(elapsed).count();
  const auto first = static_cast<int>(steps.first);
  const auto last = static_cast<int>(steps.last);
  const auto range = first == last ? fmt::format("step {} ({})", first, to_string(steps.first))
                                   : fmt::format("steps {}-{} ({}-{})", first, last,
                                                 to_string(steps.first), to_string(steps.last));
  if (steps.last == Step::cleanup) {
    if (steps.contains(Step::migrate))
      return fmt::format("migration completed: {} node(s) on Cilium in {:.1f} s ({})", nodes,
                         seconds, range);
    return fmt::format("migration completed in {:.1f} s ({})", seconds, range);
  }
  if (steps.contains(Step::migrate)) {
    return fmt::format(
        "{} completed in {:.1f} s: {} node(s) on Cilium; step 5 (cleanup) is still "
        "to run",
        range, seconds, nodes);
  }
  return fmt::format(
      "{} completed in {:.1f} s; no node was migrated (step 4, migrate, was not "
      "selected)",
      range, seconds);
}

}  // namespace cnimig::agent
