// Plan mode's summary on stderr and its `plan.summary` event.

#include "cnimig/agent/plan_summary_report.hpp"

#include <spdlog/spdlog.h>

#include "cnimig/agent/plan_summary_facts.hpp"
#include "cnimig/events/event_catalogue.hpp"

namespace cnimig::agent {

boost::asio::awaitable<void> report_plan_summary(PlanReport report, PlanFacts facts) {
  auto pdbs = co_await pdb_warnings(report.client);
  facts.warnings.insert(facts.warnings.end(), pdbs.begin(), pdbs.end());
  PlanSummaryInput input{
      report.run.actions, report.run.outcome, report.budget, report.timeouts, facts, {}};
  input.rollback = report.rollback;
  input.strategy = report.strategy;
  for (const auto& [id, bundle] : report.bundles) {
    auto& objects = input.bundle_objects[id];
    for (const auto& object : bundle.objects())
      objects.push_back(object.describe());
  }
  const auto summary = summarize_plan(input);
  // One message, so a JSON log keeps it in one line and a text log in one block.
  spdlog::info("plan summary (review before --apply)\n{}", render_plan_summary(summary));
  report.events.emit(
      events::Event(events::catalogued("plan.summary"))
          .field("writes", static_cast<std::int64_t>(summary.writes))
          .field("pods_evicted", static_cast<std::int64_t>(summary.pods_evicted))
          .field("pods_deleted", static_cast<std::int64_t>(summary.pods_deleted))
          .field("warnings", static_cast<std::int64_t>(summary.warnings.size()))
          .field("max_duration_ms", static_cast<std::int64_t>(summary.max_duration.count())));
}

}  // namespace cnimig::agent
