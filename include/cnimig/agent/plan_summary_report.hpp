#pragma once
// Plan mode's report for people: gathers the summary's facts that need the
// API (PodDisruptionBudgets), logs the rendered summary on stderr (through
// the logger, so `--log-format json` keeps stderr JSON lines) and emits the
// `plan.summary` event with its counts on stdout.

#include <map>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "cnimig/agent/manifest_bundle.hpp"
#include "cnimig/agent/plan_summary.hpp"
#include "cnimig/events/event_sink.hpp"
#include "cnimig/kube/client.hpp"
#include "cnimig/migrate/simulated_effects.hpp"

namespace cnimig::agent {

struct PlanReport {
  kube::Client& client;
  events::EventSink& events;
  const migrate::PlanRun& run;
  const migrate::Budget& budget;
  const config::Timeouts& timeouts;
  const std::map<std::string, ManifestBundle>& bundles;
  bool rollback = false;  // Selection::rollback
  config::Strategy strategy = config::Strategy::multus;
};

// `facts` from plan_facts, with any warnings found before (preflight).
boost::asio::awaitable<void> report_plan_summary(PlanReport report, PlanFacts facts);

}  // namespace cnimig::agent
