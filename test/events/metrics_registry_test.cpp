#include "cnimig/events/metrics_registry.hpp"

#include <boost/test/unit_test.hpp>

#include "cnimig/common/error.hpp"

using namespace cnimig::events;

BOOST_AUTO_TEST_SUITE(metrics_registry)

BOOST_AUTO_TEST_CASE(counters_and_gauges_render_in_exposition_format) {
  MetricsRegistry m;
  m.define_counter("cnimig_api_requests_total", "API requests by verb and status code.");
  m.define_gauge("cnimig_nodes", "Nodes by migration phase.");
  m.increment("cnimig_api_requests_total", {{"verb", "get"}, {"code", "200"}});
  m.increment("cnimig_api_requests_total", {{"verb", "get"}, {"code", "200"}}, 2);
  m.set("cnimig_nodes", {{"phase", "migrated"}}, 3);
  const auto text = m.render();
  BOOST_TEST(
      text.find("# HELP cnimig_api_requests_total API requests by verb and status code.\n") !=
      std::string::npos);
  BOOST_TEST(text.find("# TYPE cnimig_api_requests_total counter\n") != std::string::npos);
  BOOST_TEST(
      text.find("cnimig_api_requests_total{verb=\"get\",code=\"200\"} 3\n") != std::string::npos,
      text);
  BOOST_TEST(text.find("# TYPE cnimig_nodes gauge\ncnimig_nodes{phase=\"migrated\"} 3\n") !=
             std::string::npos);
  BOOST_TEST(m.value("cnimig_api_requests_total", {{"verb", "get"}, {"code", "200"}}) == 3);
  m.clear("cnimig_nodes");
  BOOST_TEST(m.render().find("cnimig_nodes{") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(histogram_buckets_are_cumulative) {
  MetricsRegistry m;
  m.define_histogram("cnimig_gate_duration_seconds", "Gate wait time.", {1, 10, 60});
  for (double v : {0.5, 5.0, 5.0, 100.0})
    m.observe("cnimig_gate_duration_seconds", {{"step", "roll"}}, v);
  const auto text = m.render();
  BOOST_TEST(text.find("cnimig_gate_duration_seconds_bucket{step=\"roll\",le=\"1\"} 1\n") !=
                 std::string::npos,
             text);
  BOOST_TEST(text.find("cnimig_gate_duration_seconds_bucket{step=\"roll\",le=\"10\"} 3\n") !=
             std::string::npos);
  BOOST_TEST(text.find("cnimig_gate_duration_seconds_bucket{step=\"roll\",le=\"60\"} 3\n") !=
             std::string::npos);
  BOOST_TEST(text.find("cnimig_gate_duration_seconds_bucket{step=\"roll\",le=\"+Inf\"} 4\n") !=
             std::string::npos);
  BOOST_TEST(text.find("cnimig_gate_duration_seconds_sum{step=\"roll\"} 110.5\n") !=
             std::string::npos);
  BOOST_TEST(text.find("cnimig_gate_duration_seconds_count{step=\"roll\"} 4\n") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(label_values_are_escaped) {
  MetricsRegistry m;
  m.define_counter("c", "help with \\ and\nnewline");
  m.increment("c", {{"error", "say \"hi\"\\\n"}});
  const auto text = m.render();
  BOOST_TEST(text.find("# HELP c help with \\\\ and\\nnewline\n") != std::string::npos, text);
  BOOST_TEST(text.find("c{error=\"say \\\"hi\\\"\\\\\\n\"} 1\n") != std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(undefined_or_mistyped_metric_is_a_bug) {
  MetricsRegistry m;
  m.define_gauge("g", "a gauge");
  BOOST_CHECK_THROW(m.increment("g"), cnimig::ErrorException);
  BOOST_CHECK_THROW(m.increment("nope"), cnimig::ErrorException);
}

BOOST_AUTO_TEST_SUITE_END()
