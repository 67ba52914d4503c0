#include "cnimig/events/metrics_recorder.hpp"

#include <cctype>

namespace cnimig::events {
namespace {

std::string string_field(const Event& e, std::string_view key) {
  const auto* v = e.fields().if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

MetricsRecorder::MetricsRecorder(EventSink& next, MetricsRegistry& registry)
    : next_(next), registry_(registry) {
  registry_.define_gauge("cnimig_nodes", "Nodes by the migration phase derived from the cluster.");
  registry_.define_histogram("cnimig_gate_wait_seconds",
                             "How long each gate held the run before it passed.",
                             {0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600});
  registry_.define_counter("cnimig_api_requests_total",
                           "Kubernetes API attempts by HTTP verb and status code (0: no answer).");
  registry_.define_counter("cnimig_probe_failures_total",
                           "Rounds of knet-stress connectivity checks that failed.");
  registry_.define_counter("cnimig_probes_passed_total", "Connectivity checks that passed.");
  registry_.define_counter("cnimig_events_total", "Events written to the event stream, by name.");
  // Present from the first scrape, so a rate() over them starts at zero.
  registry_.increment("cnimig_probe_failures_total", {}, 0);
  registry_.increment("cnimig_probes_passed_total", {}, 0);
}

void MetricsRecorder::emit(const Event& event) {
  const auto& name = event.name();
  registry_.increment("cnimig_events_total", {{"event", name}});
  if (name == "node.phase") {
    phases_[string_field(event, "node")] = string_field(event, "phase");
    publish_phases();
  } else if (name == "gate.passed") {
    const auto* ms = event.fields().if_contains("duration_ms");
    if (ms && ms->is_number()) {
      registry_.observe("cnimig_gate_wait_seconds", {{"gate", string_field(event, "gate")}},
                        ms->to_number<double>() / 1000.0);
    }
  } else if (name == "probe.failed") {
    registry_.increment("cnimig_probe_failures_total");
  } else if (name == "probe.passed") {
    registry_.increment("cnimig_probes_passed_total");
  }
  next_.emit(event);
}

void MetricsRecorder::record_request(std::string_view verb, unsigned status) {
  std::string lower(verb);
  for (auto& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  registry_.increment("cnimig_api_requests_total",
                      {{"verb", lower}, {"code", std::to_string(status)}});
}

void MetricsRecorder::publish_phases() {
  std::map<std::string, int> counts;
  for (const auto& [node, phase] : phases_)
    ++counts[phase];
  registry_.clear("cnimig_nodes");
  for (const auto& [phase, n] : counts)
    registry_.set("cnimig_nodes", {{"phase", phase}}, n);
}

}  // namespace cnimig::events
