#define BOOST_TEST_MODULE kube_exec
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/test/unit_test.hpp>

#include "cnimig/kube/client.hpp"

#include "errc_print.hpp"
#include "tls_test_server.hpp"

using namespace cnimig;
using namespace cnimig::kube;
using namespace cnimig::kube::test;
using namespace std::chrono_literals;
namespace websocket = boost::beast::websocket;

namespace {

// A pod exec endpoint: answers with `protocol`, sends `frames`, then closes.
struct ExecEndpoint {
  std::string protocol;
  std::vector<std::string> frames;
  std::string offered;  // Sec-WebSocket-Protocol the client sent
  bool hang = false;

  asio::awaitable<bool> handle(Request& r, Stream& s) {
    if (!websocket::is_upgrade(r)) {
      std::string body = status_body(400, "BadRequest");
      co_return co_await respond(s, 400, body);
    }
    if (r.target().find("/pods/forbidden/") != std::string::npos) {
      std::string body =
          status_body(403, "Forbidden", R"(,"message":"pods \"forbidden\" is forbidden")");
      co_return co_await respond(s, 403, body, {}, false);
    }
    offered = std::string(r[http::field::sec_websocket_protocol]);
    websocket::stream<Stream&> ws(s);
    std::string chosen = protocol;
    ws.set_option(websocket::stream_base::decorator([chosen](websocket::response_type& res) {
      res.set(http::field::sec_websocket_protocol, chosen);
    }));
    auto [aec] = co_await ws.async_accept(r, nothrow);
    if (aec)
      co_return false;
    ws.binary(true);
    for (const auto& f : frames) {
      auto [wec, n] = co_await ws.async_write(asio::buffer(f), nothrow);
      if (wec)
        co_return false;
    }
    if (hang) {
      asio::steady_timer t(co_await asio::this_coro::executor, 30s);
      co_await t.async_wait(nothrow);
    }
    co_await ws.async_close(websocket::close_code::normal, nothrow);
    co_return false;
  }
};

std::string frame(char channel, const std::string& payload) {
  return std::string(1, channel) + payload;
}

struct Fixture {
  asio::io_context ioc;
  net::CertificateAuthority ca;
  TlsTestServer server{ioc, ca.issue_server("localhost", {"localhost"}, {"127.0.0.1"})};
  ExecEndpoint endpoint;
  std::unique_ptr<Client> client;

  Fixture() {
    server.start([this](Request& r, Stream& s) { return endpoint.handle(r, s); });
    ClientConfig c;
    c.server = server.url();
    c.ca_pem = ca.ca_pem();
    c.token = "t";
    client = std::move(Client::create(ioc.get_executor(), c).value());
  }
  ExecRequest request(std::string pod = "knet-stress-abc") {
    ExecRequest r;
    r.namespace_ = "knet-stress";
    r.pod = std::move(pod);
    r.command = {"/knet-stress", "status", "--all peers"};
    r.timeout = 5s;
    return r;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(exec_v4_non_zero_exit, Fixture) {
  endpoint.protocol = "v4.channel.k8s.io";  // an older server: the fallback
  endpoint.frames = {
      frame(1, "reached 3/4\n"), frame(2, "peer 10.0.0.7 unreachable\n"),
      frame(
          3,
          R"({"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [/knet-stress status], exit code 2","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"2"}]}})")};
  run(ioc, [&]() -> asio::awaitable<void> {
    auto r = co_await client->exec(request());
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().describe()));
    BOOST_TEST(r->exit_code == 2);
    BOOST_TEST(r->stdout_text == "reached 3/4\n");
    BOOST_TEST(r->stderr_text == "peer 10.0.0.7 unreachable\n");
  });
  BOOST_TEST(endpoint.offered == "v5.channel.k8s.io, v4.channel.k8s.io");
  BOOST_TEST_REQUIRE(server.targets.size() == 1u);
  BOOST_TEST(server.targets[0] ==
             "/api/v1/namespaces/knet-stress/pods/knet-stress-abc/"
             "exec?command=%2Fknet-stress&command=status&"
             "command=--all%20peers&stdout=true&stderr=true");
  BOOST_TEST(server.requests[0][http::field::authorization] == "Bearer t");
}

BOOST_FIXTURE_TEST_CASE(exec_v5_success, Fixture) {
  endpoint.protocol = "v5.channel.k8s.io";
  endpoint.frames = {frame(1, "ok"), frame('\xff', std::string(1, '\x01')),
                     frame(3, R"({"status":"Success"})")};
  run(ioc, [&]() -> asio::awaitable<void> {
    auto r = co_await client->exec(request());
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->exit_code == 0);
    BOOST_TEST(r->stdout_text == "ok");
  });
}

BOOST_FIXTURE_TEST_CASE(exec_errors_forbidden_and_deadline, Fixture) {
  endpoint.protocol = "v5.channel.k8s.io";
  endpoint.frames = {frame(1, "partial")};
  endpoint.hang = true;
  run(ioc, [&]() -> asio::awaitable<void> {
    auto f = co_await client->exec(request("forbidden"));
    BOOST_TEST_REQUIRE(!f.has_value());
    BOOST_TEST(f.error().code == Errc::forbidden);
    auto req = request();
    req.timeout = 300ms;
    auto started = std::chrono::steady_clock::now();
    auto t = co_await client->exec(req);
    BOOST_TEST_REQUIRE(!t.has_value());
    BOOST_TEST(t.error().code == Errc::timeout);
    BOOST_TEST((std::chrono::steady_clock::now() - started) < 3s);
  });
}
