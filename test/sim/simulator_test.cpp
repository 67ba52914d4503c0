#define BOOST_TEST_MODULE sim simulator over https
#include "cnimig/sim/simulator.hpp"

#include <map>
#include <thread>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "object_store.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using namespace cnimig::sim;

namespace {

// A blocking HTTPS client that verifies the simulator's certificate against its CA.
struct Client {
  Client(Simulator& sim) : sim(sim), tls(asio::ssl::context::tls_client), stream(io, tls) {
    tls.add_certificate_authority(asio::buffer(sim.ca_pem()));
    tls.set_verify_mode(asio::ssl::verify_peer);
    stream.set_verify_callback(asio::ssl::host_name_verification("127.0.0.1"));
    const auto port =
        static_cast<unsigned short>(std::stoi(sim.url().substr(sim.url().rfind(':') + 1)));
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
    beast::get_lowest_layer(stream).connect(
        asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    stream.handshake(asio::ssl::stream_base::client);
  }
  http::response<http::string_body> request(http::verb verb, const std::string& target,
                                            std::string body = {}, bool auth = true,
                                            std::string content_type = "application/json") {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (auth)
      req.set(http::field::authorization, "Bearer " + sim.token());
    if (!body.empty()) {
      req.set(http::field::content_type, content_type);
      req.body() = std::move(body);
    }
    req.prepare_payload();
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
    http::write(stream, req);
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    return res;
  }
  // Starts a watch and reads until `predicate(body so far)` holds or the stream ends.
  std::string watch(const std::string& target, const std::function<bool(const std::string&)>& done,
                    const std::function<void()>& after_header = {}) {
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::authorization, "Bearer " + sim.token());
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
    http::write(stream, req);
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 26);
    http::read_header(stream, buffer, parser);
    if (after_header)
      after_header();
    beast::error_code ec;
    while (!parser.is_done() && !done(parser.get().body())) {
      http::read_some(stream, buffer, parser, ec);
      if (ec)
        break;
    }
    return parser.get().body();
  }
  Simulator& sim;
  asio::io_context io;
  asio::ssl::context tls;
  beast::ssl_stream<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
};

SimulatorOptions small() {
  SimulatorOptions o;
  o.nodes = 3;
  o.pods_per_node = 1;
  o.bookmark_interval = std::chrono::milliseconds(100);
  o.time_scale = 0.01;
  return o;
}

}  // namespace

BOOST_AUTO_TEST_CASE(auth_list_and_report) {
  Simulator sim(small());
  BOOST_TEST_REQUIRE(sim.start().has_value());
  Client c(sim);
  auto denied = c.request(http::verb::get, "/api/v1/nodes", {}, false);
  BOOST_TEST(denied.result_int() == 401);
  BOOST_TEST(json::parse(denied.body()).at("reason").as_string() == "Unauthorized");
  auto nodes = c.request(http::verb::get, "/api/v1/nodes");  // same connection: keep-alive
  BOOST_TEST(nodes.result_int() == 200);
  BOOST_TEST(json::parse(nodes.body()).at("items").as_array().size() == 3u);
  auto report = json::parse(c.request(http::verb::get, "/sim/v1/report").body());
  BOOST_TEST(report.at("requests").at("list nodes").to_number<std::uint64_t>() == 1u);
  BOOST_TEST(report.at("nodes").to_number<std::uint64_t>() == 3u);
  BOOST_TEST(sim.kubeconfig().find("current-context: cnimig-sim") != std::string::npos);
  sim.stop();
}

BOOST_AUTO_TEST_CASE(watch_streams_events_and_bookmarks) {
  Simulator sim(small());
  BOOST_TEST_REQUIRE(sim.start().has_value());
  Client watcher(sim);
  Client writer(sim);
  const auto list =
      json::parse(writer.request(http::verb::get, "/api/v1/namespaces/default/configmaps").body());
  const std::string rv(list.at("metadata").at("resourceVersion").as_string());
  auto body = watcher.watch(
      "/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&resourceVersion=" +
          rv,
      [](const std::string& b) {
        return b.find("\"ADDED\"") != std::string::npos && b.find("BOOKMARK") != std::string::npos;
      },
      [&] {
        auto created = writer.request(http::verb::post, "/api/v1/namespaces/default/configmaps",
                                      R"({"metadata":{"name":"seen"}})");
        BOOST_TEST(created.result_int() == 201);
      });
  BOOST_TEST(body.find("\"name\":\"seen\"") != std::string::npos);
  BOOST_TEST(body.find("BOOKMARK") != std::string::npos);
  sim.stop();
}

BOOST_AUTO_TEST_CASE(watch_cut_fault_ends_streams) {
  auto options = small();
  options.faults = *FaultSpec::parse("watch-cut=300ms");
  options.bookmark_interval = std::chrono::seconds(60);
  Simulator sim(options);
  BOOST_TEST_REQUIRE(sim.start().has_value());
  Client c(sim);
  const auto started = std::chrono::steady_clock::now();
  auto body = c.watch("/api/v1/pods?watch=1", [](const std::string&) { return false; });
  const auto elapsed = std::chrono::steady_clock::now() - started;
  BOOST_TEST(elapsed < std::chrono::seconds(5));
  BOOST_TEST(body.find("knet-stress-node-2") != std::string::npos);  // initial ADDED events
  // The connection stays usable after the stream's last chunk.
  BOOST_TEST(c.request(http::verb::get, "/version").result_int() == 200);
  sim.stop();
}

namespace {
// Runs `command` in pod `pod` over the v4 channel protocol; returns channel -> data.
std::map<int, std::string> exec_v4(Simulator& sim, const std::string& pod,
                                   const std::string& query) {
  Client c(sim);
  beast::websocket::stream<beast::ssl_stream<beast::tcp_stream>&> ws(c.stream);
  beast::get_lowest_layer(ws).expires_never();
  std::string chosen;
  ws.set_option(beast::websocket::stream_base::decorator([&](beast::websocket::request_type& req) {
    req.set(http::field::authorization, "Bearer " + sim.token());
    req.set(http::field::sec_websocket_protocol, "v4.channel.k8s.io, v3.channel.k8s.io");
  }));
  beast::websocket::response_type res;
  ws.handshake(res, "127.0.0.1", "/api/v1/namespaces/default/pods/" + pod + "/exec?" + query);
  std::map<int, std::string> out;
  out[-1] = std::string(res[http::field::sec_websocket_protocol]);
  beast::error_code ec;
  for (;;) {
    beast::flat_buffer b;
    ws.read(b, ec);
    if (ec)
      break;
    const auto data = beast::buffers_to_string(b.data());
    if (!data.empty())
      out[static_cast<unsigned char>(data[0])] += data.substr(1);
  }
  return out;
}
}  // namespace

BOOST_AUTO_TEST_CASE(exec_over_websocket_v4) {
  Simulator sim(small());
  BOOST_TEST_REQUIRE(sim.start().has_value());
  auto ok = exec_v4(sim, "knet-stress-node-0",
                    "command=%2Fknet-stress&command=status&stdout=true&stderr=true");
  BOOST_TEST(ok[-1] == "v4.channel.k8s.io");
  BOOST_TEST(ok[1] == "ok\n");
  BOOST_TEST(json::parse(ok[3]).at("status").as_string() == "Success");
  auto bad = exec_v4(sim, "knet-stress-node-0", "command=nope&stdout=true&stderr=true");
  const auto status = json::parse(bad[3]);
  BOOST_TEST(status.at("reason").as_string() == "NonZeroExitCode");
  BOOST_TEST(status.at("details").at("causes").at(0).at("message").as_string() == "127");
  BOOST_TEST(!bad[2].empty());
  sim.stop();
}

BOOST_AUTO_TEST_CASE(embedded_on_callers_io_context_and_held_requests) {
  asio::io_context io;
  auto options = small();
  options.faults = *FaultSpec::parse("timeout-rate=1,error-verbs=get");
  Simulator sim(io, options);
  BOOST_TEST_REQUIRE(sim.start().has_value());
  std::thread runner([&] { io.run(); });
  {
    Client c(sim);
    BOOST_TEST(c.request(http::verb::get, "/api/v1/nodes").result_int() == 200);  // list: not held
    beast::get_lowest_layer(c.stream).expires_after(std::chrono::milliseconds(300));
    http::request<http::empty_body> req{http::verb::get, "/api/v1/nodes/node-0", 11};
    req.set(http::field::authorization, "Bearer " + sim.token());
    http::write(c.stream, req);
    http::response<http::string_body> res;
    // tcp_stream deadlines apply to asynchronous operations only.
    beast::error_code ec;
    beast::get_lowest_layer(c.stream).expires_after(std::chrono::milliseconds(300));
    http::async_read(c.stream, c.buffer, res, [&](beast::error_code e, std::size_t) { ec = e; });
    c.io.run();
    BOOST_TEST((ec == beast::error::timeout));  // the simulator never answered
  }
  asio::post(io, [&] { sim.stop(); });
  io.stop();
  runner.join();
}

namespace {
// Stands in for the cluster model: what the factory hands it and what it reports.
struct FakeCluster : SimulatedCluster {
  explicit FakeCluster(ObjectStore& store) : store(store) {}
  void bootstrap(std::size_t nodes, std::size_t pods_per_node) override {
    booted = nodes * 1000 + pods_per_node;
    (void)store.create(resource_type("", "namespaces"),
                       json::object{{"metadata", {{"name", "default"}}}});
    (void)store.create(resource_type("", "pods"),
                       json::object{{"metadata", {{"name", "p"}, {"namespace", "default"}}},
                                    {"spec", {{"nodeName", "n"}}}});
  }
  ExecResult exec(const json::object&, const std::vector<std::string>&) override {
    return ExecResult{3, "", "unreachable: 10.0.0.1\n"};
  }
  json::object report() const override {
    return json::object{{"violations", 7}, {"booted", booted}};
  }
  ObjectStore& store;
  std::size_t booted = 0;
};
}  // namespace

BOOST_AUTO_TEST_CASE(cluster_factory_plugs_in_the_model) {
  auto options = small();
  options.faults = *FaultSpec::parse("gone-on-resume=1,latency=5ms,node-never-ready=node-1");
  FakeCluster* fake = nullptr;
  Simulator sim(options,
                [&](asio::io_context&, ObjectStore& store, ApiHandler&,
                    const SimulatorOptions& o) -> std::unique_ptr<SimulatedCluster> {
                  BOOST_TEST(o.faults.extra.at("node-never-ready") ==
                             "node-1");  // model's faults pass through
                  auto c = std::make_unique<FakeCluster>(store);
                  fake = c.get();
                  return c;
                });
  BOOST_TEST_REQUIRE(sim.start().has_value());
  BOOST_TEST(fake->booted == 3001u);
  Client c(sim);
  auto report = json::parse(c.request(http::verb::get, "/sim/v1/report").body());
  BOOST_TEST(report.at("violations").to_number<int>() == 7);
  BOOST_TEST(report.at("booted").to_number<int>() == 3001);
  auto exec = exec_v4(sim, "p", "command=/knet-stress&command=status");
  BOOST_TEST(exec[2] == "unreachable: 10.0.0.1\n");
  BOOST_TEST(json::parse(exec[3]).at("details").at("causes").at(0).at("message").as_string() ==
             "3");
  Client w(sim);
  auto body =
      w.watch("/api/v1/pods?watch=1&resourceVersion=1", [](const std::string&) { return false; });
  BOOST_TEST(body.find("\"code\":410") != std::string::npos);  // gone-on-resume
  sim.stop();
}
