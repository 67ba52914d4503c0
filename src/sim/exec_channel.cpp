#include "exec_channel.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json.hpp>

#include "cnimig/common/split.hpp"

namespace cnimig::sim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;

namespace {
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
}  // namespace

std::string exec_subprotocol(std::string_view offered) {
  for (const auto offer : split(offered, ','))
    if (const auto p = trim(offer); p == "v5.channel.k8s.io" || p == "v4.channel.k8s.io")
      return std::string(p);
  return {};
}

std::string exec_status(const ExecResult& r, const std::vector<std::string>& command) {
  if (r.exit_code == 0)
    return R"({"metadata":{},"status":"Success"})";
  std::string joined;
  for (const auto& c : command)
    joined += (joined.empty() ? "" : " ") + c;
  json::object s{
      {"metadata", json::object()},
      {"status", "Failure"},
      {"message", "command terminated with non-zero exit code: error executing command [" + joined +
                      "], exit code " + std::to_string(r.exit_code)},
      {"reason", "NonZeroExitCode"},
      {"details",
       {{"causes",
         json::array{{{"reason", "ExitCode"}, {"message", std::to_string(r.exit_code)}}}}}}};
  return json::serialize(s);
}

asio::awaitable<void> answer_exec(SslStream& stream, const http::request<http::string_body>& req,
                                  const std::string& subprotocol, const ExecResult& result,
                                  const std::vector<std::string>& command, ExecStreams streams) {
  websocket::stream<SslStream&> ws(stream);
  beast::get_lowest_layer(ws).expires_never();
  ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  ws.set_option(websocket::stream_base::decorator([subprotocol](websocket::response_type& res) {
    res.set(http::field::sec_websocket_protocol, subprotocol);
  }));
  auto [aec] = co_await ws.async_accept(req, use_nothrow);
  if (aec)
    co_return;
  ws.binary(true);
  auto send_channel = [&](char channel, const std::string& data) -> asio::awaitable<bool> {
    std::string frame(1, channel);
    frame += data;
    auto [ec, n] = co_await ws.async_write(asio::buffer(frame), use_nothrow);
    (void)n;
    co_return !ec;
  };
  if (!result.stdout_text.empty() && streams.stdout_wanted)
    co_await send_channel(1, result.stdout_text);
  if (!result.stderr_text.empty() && streams.stderr_wanted)
    co_await send_channel(2, result.stderr_text);
  co_await send_channel(3, exec_status(result, command));
  co_await ws.async_close(websocket::close_code::normal, use_nothrow);
}

}  // namespace cnimig::sim
