// `--metrics-addr 127.0.0.1:0` during a real migration: the agent announces
// the bound address with `metrics.listening`, and a scrape mid-run returns
// the Prometheus families with live values.
#define BOOST_TEST_MODULE e2e_metrics
#include <csignal>
#include <regex>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "sim_cluster.hpp"

using namespace cnimig::test;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

http::response<http::string_body> scrape(const std::string& address) {
  const auto colon = address.rfind(':');
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(10));
  asio::ip::tcp::resolver resolver(io);
  stream.connect(resolver.resolve(address.substr(0, colon), address.substr(colon + 1)));
  http::request<http::empty_body> request(http::verb::get, "/metrics", 11);
  request.set(http::field::host, address);
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  return response;
}

// The value of the first sample line starting with `prefix` (name and labels).
double sample(const std::string& text, const std::string& prefix) {
  double sum = 0;
  bool found = false;
  for (const auto& line : lines(text)) {
    if (line.starts_with(prefix)) {
      sum += std::stod(line.substr(line.rfind(' ') + 1));
      found = true;
    }
  }
  BOOST_TEST(found, "no sample " << prefix);
  return sum;
}

}  // namespace

BOOST_AUTO_TEST_CASE(scrape_during_a_migration) {
  SimCluster cluster(4);  // on 2 nodes the simulated PodDisruptionBudgets block every drain
  BackgroundProcess agent(cluster.agent_argv({"--apply", "--metrics-addr", "127.0.0.1:0"}));
  auto listening = agent.wait_for_line(
      [](const std::string& l) { return l.find("\"metrics.listening\"") != std::string::npos; },
      60s);
  BOOST_TEST_REQUIRE(listening.has_value(), agent.stderr_text());
  const auto address = std::string(boost::json::parse(*listening).at("address").as_string());
  BOOST_TEST(!address.ends_with(":0"), "the bound port is announced");

  // Mid-run: a node is being rolled.
  auto mid = agent.wait_for_line(
      [](const std::string& l) { return l.find("\"node.cordoned\"") != std::string::npos; }, 300s);
  BOOST_TEST_REQUIRE(mid.has_value(), agent.stderr_text());
  const auto response = scrape(address);
  BOOST_TEST(response.result_int() == 200u);
  const auto& text = response.body();
  for (const char* family :
       {"cnimig_nodes", "cnimig_gate_wait_seconds", "cnimig_api_requests_total",
        "cnimig_probe_failures_total", "cnimig_events_total"}) {
    BOOST_TEST(text.find(std::string("# TYPE ") + family + " ") != std::string::npos,
               "no family " << family);
  }
  BOOST_TEST(sample(text, "cnimig_api_requests_total{verb=\"get\",code=\"200\"}") > 0);
  BOOST_TEST(sample(text, "cnimig_api_requests_total{verb=\"patch\",code=\"200\"}") > 0);
  BOOST_TEST(sample(text, "cnimig_nodes{") == 4, "every node has a phase");
  BOOST_TEST(sample(text, "cnimig_gate_wait_seconds_count{") > 0);
  BOOST_TEST(sample(text, "cnimig_probes_passed_total") > 0);
  BOOST_TEST(sample(text, "cnimig_events_total{event=\"node.cordoned\"}") >= 1);

  // The run goes on to completion with the endpoint up.
  auto done = agent.wait_for_line(
      [](const std::string& l) { return l.find("\"migration.completed\"") != std::string::npos; },
      600s);
  BOOST_TEST_REQUIRE(done.has_value(), agent.stderr_text());
  agent.wait_for_line([](const std::string&) { return false; }, 30s);  // until EOF: it exits
  BOOST_TEST(agent.stop(0) == 0, agent.stderr_text());
}
