#pragma once
// The agent's Prometheus metrics (served by `--metrics-addr`), derived from
// what it already reports: an EventSink that updates a MetricsRegistry from
// each event before passing it on, plus the Kubernetes client's per-attempt
// records. Families:
//   cnimig_nodes{phase}                      gauge: nodes by derived phase
//   cnimig_gate_wait_seconds{gate}           histogram: how long each gate held the run
//   cnimig_api_requests_total{verb,code}     counter: API attempts by HTTP verb and status (0: no
//   answer) cnimig_probe_failures_total              counter: failed knet-stress check rounds
//   cnimig_probes_passed_total               counter: passed connectivity checks
//   cnimig_events_total{event}               counter: events emitted, by name

#include <map>
#include <string>
#include <string_view>

#include "cnimig/events/event_sink.hpp"
#include "cnimig/events/metrics_registry.hpp"

namespace cnimig::events {

class MetricsRecorder final : public EventSink {
 public:
  MetricsRecorder(EventSink& next, MetricsRegistry& registry);

  void emit(const Event& event) override;

  // One API attempt: `verb` as on the wire (GET, PATCH...), `status` 0 when no
  // response arrived.
  void record_request(std::string_view verb, unsigned status);

 private:
  void publish_phases();

  EventSink& next_;
  MetricsRegistry& registry_;
  std::map<std::string, std::string> phases_;  // node -> phase
};

}  // namespace cnimig::events
