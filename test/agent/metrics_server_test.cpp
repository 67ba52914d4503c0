#include "cnimig/agent/metrics_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/test/unit_test.hpp>

using namespace cnimig;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace {

using Response = http::response<http::string_body>;

// A plain Beast client: one request on a fresh connection.
asio::awaitable<Response> fetch(tcp::endpoint endpoint, http::verb verb, std::string target) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(std::chrono::seconds(10));
  co_await stream.async_connect(endpoint, asio::use_awaitable);
  http::request<http::empty_body> request(verb, target, 11);
  request.set(http::field::host, "localhost");
  co_await http::async_write(stream, request, asio::use_awaitable);
  beast::flat_buffer buffer;
  Response response;
  co_await http::async_read(stream, buffer, response, asio::use_awaitable);
  co_return response;
}

struct Responses {
  Response metrics, missing, post;
};

asio::awaitable<Responses> client(tcp::endpoint endpoint) {
  Responses r;
  r.metrics = co_await fetch(endpoint, http::verb::get, "/metrics");
  r.missing = co_await fetch(endpoint, http::verb::get, "/");
  r.post = co_await fetch(endpoint, http::verb::post, "/metrics");
  co_return r;
}

// Races the client against the server (the server never ends on its own)
// and a 30 s guard timer.
asio::awaitable<Responses> exchange(agent::MetricsServer& server, tcp::endpoint endpoint) {
  asio::steady_timer guard(co_await asio::this_coro::executor, std::chrono::seconds(30));
  auto result =
      co_await (client(endpoint) || server.serve() || guard.async_wait(asio::use_awaitable));
  if (result.index() != 0)
    throw std::runtime_error("the exchange did not finish");
  co_return std::get<0>(std::move(result));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics_server)

BOOST_AUTO_TEST_CASE(serves_the_registry_on_get_metrics_only) {
  events::MetricsRegistry registry;
  registry.define_counter("cnimig_api_requests_total", "API attempts.");
  registry.increment("cnimig_api_requests_total", {{"verb", "get"}, {"code", "200"}}, 7);

  asio::io_context io;
  auto server = agent::MetricsServer::listen(io.get_executor(), "127.0.0.1:0", registry);
  BOOST_TEST_REQUIRE(server.has_value(), server.error().describe());
  const auto address = (*server)->address();
  BOOST_TEST(address.starts_with("127.0.0.1:"));
  BOOST_TEST(address != "127.0.0.1:0", "port 0 resolves to the bound port");
  const auto port = static_cast<unsigned short>(std::stoi(address.substr(address.rfind(':') + 1)));

  Responses r;
  asio::co_spawn(io, exchange(**server, {asio::ip::make_address("127.0.0.1"), port}),
                 [&](std::exception_ptr e, Responses got) {
                   if (e)
                     std::rethrow_exception(e);
                   r = std::move(got);
                 });
  io.run();

  BOOST_TEST(r.metrics.result_int() == 200u);
  BOOST_TEST(r.metrics[http::field::content_type] == "text/plain; version=0.0.4; charset=utf-8");
  BOOST_TEST(r.metrics.body() == registry.render());
  BOOST_TEST(r.metrics.body().find("cnimig_api_requests_total{verb=\"get\",code=\"200\"} 7\n") !=
             std::string::npos);
  BOOST_TEST(r.missing.result_int() == 404u);
  BOOST_TEST(r.post.result_int() == 405u);
  BOOST_TEST(r.post[http::field::allow] == "GET");
}

BOOST_AUTO_TEST_CASE(a_bad_or_busy_address_fails_before_serving) {
  events::MetricsRegistry registry;
  asio::io_context io;
  BOOST_TEST(!agent::MetricsServer::listen(io.get_executor(), "127.0.0.1", registry));
  BOOST_TEST(!agent::MetricsServer::listen(io.get_executor(), "127.0.0.1:70000", registry));
  auto first = agent::MetricsServer::listen(io.get_executor(), "127.0.0.1:0", registry);
  BOOST_TEST_REQUIRE(first.has_value());
  auto second = agent::MetricsServer::listen(io.get_executor(), (*first)->address(), registry);
  BOOST_TEST(!second.has_value(), "the port is taken");
}

BOOST_AUTO_TEST_CASE(split_host_port_accepts_names_v4_and_bracketed_v6) {
  auto a = agent::split_host_port("localhost:9464");
  BOOST_TEST_REQUIRE(a.has_value());
  BOOST_TEST(a->first == "localhost");
  BOOST_TEST(a->second == 9464);
  auto b = agent::split_host_port("[::1]:0");
  BOOST_TEST_REQUIRE(b.has_value());
  BOOST_TEST(b->first == "::1");
  BOOST_TEST(!agent::split_host_port("::1:80"));
}

BOOST_AUTO_TEST_SUITE_END()
