#include "cnimig/events/metrics_recorder.hpp"

#include <vector>

#include <boost/test/unit_test.hpp>

using namespace cnimig::events;

namespace {

struct Collect : EventSink {
  std::vector<std::string> names;
  void emit(const Event& e) override { names.push_back(e.name()); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics_recorder)

BOOST_AUTO_TEST_CASE(derives_metrics_from_events_and_forwards_them) {
  Collect next;
  MetricsRegistry registry;
  MetricsRecorder recorder(next, registry);
  recorder.emit(Event("node.phase").node("n1").field("phase", "prepared"));
  recorder.emit(Event("node.phase").node("n2").field("phase", "prepared"));
  recorder.emit(Event("node.phase").node("n1").field("phase", "cordoned"));
  recorder.emit(
      Event("gate.passed").field("gate", "ready").duration(std::chrono::milliseconds(2500)));
  recorder.emit(Event("probe.failed").error("x").field("round", 1));
  recorder.emit(Event("probe.passed").field("pods", 4).field("rounds", 2));
  recorder.record_request("PATCH", 200);
  recorder.record_request("PATCH", 200);
  recorder.record_request("GET", 0);

  BOOST_TEST(next.names.size() == 6u);
  BOOST_TEST(registry.value("cnimig_nodes", {{"phase", "prepared"}}) == 1);
  BOOST_TEST(registry.value("cnimig_nodes", {{"phase", "cordoned"}}) == 1);
  BOOST_TEST(registry.value("cnimig_probe_failures_total") == 1);
  BOOST_TEST(registry.value("cnimig_probes_passed_total") == 1);
  BOOST_TEST(registry.value("cnimig_api_requests_total", {{"verb", "patch"}, {"code", "200"}}) ==
             2);
  BOOST_TEST(registry.value("cnimig_api_requests_total", {{"verb", "get"}, {"code", "0"}}) == 1);
  BOOST_TEST(registry.value("cnimig_events_total", {{"event", "node.phase"}}) == 3);
  const auto text = registry.render();
  BOOST_TEST(text.find("cnimig_gate_wait_seconds_bucket{gate=\"ready\",le=\"5\"} 1\n") !=
                 std::string::npos,
             text);
  BOOST_TEST(text.find("cnimig_gate_wait_seconds_sum{gate=\"ready\"} 2.5\n") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
