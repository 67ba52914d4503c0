#include "api_server.hpp"

#include <deque>
#include <list>
#include <set>
#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "cnimig/common/exception_message.hpp"
#include "cnimig/common/http_date.hpp"

#include "exec_channel.hpp"

namespace cnimig::sim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using asio::awaitable;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

ExecResult default_exec(const json::object&, const std::vector<std::string>& command) {
  if (command.size() == 2 && command[0] == "/knet-stress" && command[1] == "status")
    return ExecResult{0, "ok\n", ""};
  const std::string name = command.empty() ? std::string() : command.front();
  return ExecResult{127, "", "exec: \"" + name + "\": executable file not found in $PATH\n"};
}

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

struct Connection {
  explicit Connection(tcp::socket socket, asio::ssl::context& ctx)
      : stream(std::move(socket), ctx) {}
  SslStream stream;
};

// Waits until the peer closes (or sends anything: no client pipelines on a
// watch or held request), so abandoned watches end promptly.
awaitable<void> wait_closed(SslStream& stream) {
  char byte;
  co_await stream.async_read_some(asio::buffer(&byte, 1), use_nothrow);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// Counts a connection open for as long as its session runs.
struct OpenConnection {
  std::shared_ptr<ConnectionStats> stats;
  explicit OpenConnection(std::shared_ptr<ConnectionStats> s) : stats(std::move(s)) {
    stats->opened();
  }
  ~OpenConnection() { stats->closed(); }
};

// Counts a request in progress until its answer starts (or it is abandoned).
struct InProgress {
  ConnectionStats& stats;
  bool answered = false;
  explicit InProgress(ConnectionStats& s) : stats(s) { stats.request_started(); }
  void answer() {
    if (!std::exchange(answered, true))
      stats.request_answered();
  }
  ~InProgress() { answer(); }
};

}  // namespace

struct ApiServer::Impl : std::enable_shared_from_this<ApiServer::Impl> {
  Impl(asio::io_context& io, ApiHandler& handler, ApiServerOptions options)
      : io(io),
        handler(handler),
        options(std::move(options)),
        acceptor(io),
        tls(asio::ssl::context::tls_server) {}

  asio::io_context& io;
  ApiHandler& handler;
  ApiServerOptions options;
  tcp::acceptor acceptor;
  asio::ssl::context tls;
  ExecHook exec_hook = default_exec;
  std::list<std::weak_ptr<Connection>> connections;
  bool stopped = false;

  awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!stopped) {
      auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
      if (ec) {
        if (stopped || ec == asio::error::operation_aborted)
          co_return;
        continue;
      }
      socket.set_option(tcp::no_delay(true));
      auto conn = std::make_shared<Connection>(std::move(socket), tls);
      std::erase_if(connections, [](const auto& w) { return w.expired(); });
      connections.push_back(conn);
      asio::co_spawn(io, session(conn), [](std::exception_ptr e) {
        if (e)
          spdlog::debug("cnimig-sim: connection ended: {}", exception_message(e));
      });
    }
  }

  template <class Body>
  awaitable<bool> send(SslStream& stream, http::response<Body>& res) {
    // As Go's net/http does for the kube-apiserver: clients learn the
    // server's clock from it (the agent compares creationTimestamps with it).
    res.set(http::field::date, format_http_date(std::chrono::system_clock::now()));
    res.prepare_payload();
    auto [ec, n] = co_await http::async_write(stream, res, use_nothrow);
    (void)n;
    co_return !ec;
  }

  bool authorized(const http::request<http::string_body>& req) const {
    const auto auth = req[http::field::authorization];
    return auth.starts_with("Bearer ") && constant_time_equal(auth.substr(7), options.token);
  }

  awaitable<bool> send_unauthorized(SslStream& stream,
                                    const http::request<http::string_body>& req) {
    handler.count_request("unauthorized", "any");
    http::response<http::string_body> res{http::status::unauthorized, req.version()};
    res.set(http::field::content_type, "application/json");
    res.body() =
        R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401})";
    res.keep_alive(req.keep_alive());
    co_return co_await send(stream, res);
  }

  awaitable<bool> send_result(SslStream& stream, const http::request<http::string_body>& req,
                              ApiResponse response) {
    http::response<http::string_body> res{static_cast<http::status>(response.status),
                                          req.version()};
    res.set(http::field::content_type, response.content_type);
    if (response.retry_after_seconds > 0)
      res.set(http::field::retry_after, std::to_string(response.retry_after_seconds));
    res.body() = std::move(response.body);
    res.keep_alive(req.keep_alive());
    co_return co_await send(stream, res);
  }

  awaitable<void> session(std::shared_ptr<Connection> conn) {
    auto self = shared_from_this();
    // A copy of the handler's counters: this frame may outlive the handler.
    OpenConnection open{handler.connection_stats()};
    auto& stream = conn->stream;
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
    auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_nothrow);
    if (hec)
      co_return;
    beast::flat_buffer buffer;
    while (!stopped) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(256u * 1024 * 1024);
      beast::get_lowest_layer(stream).expires_after(std::chrono::minutes(5));
      auto [rec, rn] = co_await http::async_read(stream, buffer, parser, use_nothrow);
      (void)rn;
      if (rec)
        break;
      beast::get_lowest_layer(stream).expires_never();
      auto req = parser.release();
      // In progress from here until its answer starts (or it is abandoned).
      InProgress in_progress{*open.stats};
      const bool keep_alive = req.keep_alive();
      handler.set_client(req[http::field::user_agent]);

      if (!authorized(req)) {
        in_progress.answer();
        if (!co_await send_unauthorized(stream, req) || !keep_alive)
          break;
        continue;
      }

      if (handler.faults().latency.count() > 0) {
        asio::steady_timer t(io, handler.faults().latency);
        co_await t.async_wait(use_nothrow);
      }

      // Again after the co_await above: other connections ran meanwhile.
      handler.set_client(req[http::field::user_agent]);
      if (websocket::is_upgrade(req)) {
        in_progress.answer();
        co_await exec(stream, std::move(req));
        co_return;
      }

      ApiRequest request{std::string(req.method_string()), std::string(req.target()),
                         std::string(req[http::field::content_type]),
                         std::string(req[http::field::accept]), std::move(req.body())};
      ApiResult result = handler.handle(request);
      if (result.hold) {
        // Fault: never answer; the client's deadline (or its close) ends this.
        asio::steady_timer t(io, std::chrono::hours(1));
        co_await (t.async_wait(use_nothrow) || wait_closed(stream));
        break;
      }
      if (result.watch) {
        in_progress.answer();
        if (!co_await stream_watch(stream, req.version(), *result.watch) || !keep_alive)
          break;
        continue;
      }
      in_progress.answer();
      if (!co_await send_result(stream, req, std::move(result.response)) || !keep_alive)
        break;
    }
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(use_nothrow);
  }

  struct WatchSink {
    explicit WatchSink(asio::io_context& io) : wake(io) {}
    std::string pending;
    // Fault watch-delay: lines held until their time, in change order.
    std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> delayed;
    asio::steady_timer wake;
  };

  // Streams a watch as chunked JSON lines. Returns false when the connection
  // cannot be reused (the peer went away or the write failed).
  awaitable<bool> stream_watch(SslStream& stream, unsigned version, const WatchPlan& plan) {
    auto sink = std::make_shared<WatchSink>(io);
    for (const auto& line : plan.initial) {
      sink->pending += line;
      sink->pending.push_back('\n');
    }
    // Registered before any suspension: no change can slip between the
    // handler's snapshot of the history and this observer.
    auto& store = handler.store();
    const auto id = store.observe([this, sink, &plan](const Change& c) {
      if (auto line = plan.event_line(c)) {
        if (const auto delay = handler.faults().watch_delay; delay.count() > 0) {
          sink->delayed.emplace_back(std::chrono::steady_clock::now() + delay, *line + '\n');
        } else {
          sink->pending += *line;
          sink->pending.push_back('\n');
        }
        sink->wake.cancel();
      }
    });
    struct Unobserve {
      ObjectStore& s;
      std::size_t id;
      ~Unobserve() { s.unobserve(id); }
    } unobserve{store, id};

    http::response<http::empty_body> res{http::status::ok, version};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::transfer_encoding, "chunked");
    res.set(http::field::date, format_http_date(std::chrono::system_clock::now()));
    res.chunked(true);
    http::response_serializer<http::empty_body> sr{res};
    auto [hec, hn] = co_await http::async_write_header(stream, sr, use_nothrow);
    (void)hn;
    if (hec)
      co_return false;

    auto outcome = co_await (pump_watch(stream, *sink, plan) || wait_closed(stream));
    // Index 1: the peer went away first.
    co_return outcome.index() == 0 && std::get<0>(outcome);
  }

  // Writes the sink's lines as chunks until the watch ends (its timeout, a
  // cut fault, the initial list only, or the server stopping), with
  // bookmarks between. False when a write failed.
  awaitable<bool> pump_watch(SslStream& stream, WatchSink& sink, const WatchPlan& plan) {
    const auto now = std::chrono::steady_clock::now;
    const auto forever = std::chrono::steady_clock::time_point::max();
    const auto deadline = plan.timeout.count() > 0 ? now() + plan.timeout : forever;
    const auto cut =
        handler.faults().watch_cut.count() > 0 ? now() + handler.faults().watch_cut : forever;
    auto next_bookmark = plan.bookmarks ? now() + options.bookmark_interval : forever;
    while (!stopped) {
      while (!sink.delayed.empty() && sink.delayed.front().first <= now()) {
        sink.pending += sink.delayed.front().second;
        sink.delayed.pop_front();
      }
      if (!sink.pending.empty()) {
        std::string data = std::move(sink.pending);
        sink.pending.clear();
        auto [ec, n] =
            co_await asio::async_write(stream, http::make_chunk(asio::buffer(data)), use_nothrow);
        (void)n;
        if (ec)
          co_return false;
        continue;
      }
      if (plan.finish_after_initial)
        break;
      const auto t = now();
      if (t >= deadline || t >= cut)
        break;
      // A bookmark past events still held would let a resuming client
      // skip them.
      if (t >= next_bookmark && sink.delayed.empty()) {
        sink.pending = plan.bookmark_line(handler.store().resource_version()) + "\n";
        next_bookmark = t + options.bookmark_interval;
        continue;
      }
      const auto held = sink.delayed.empty() ? next_bookmark : sink.delayed.front().first;
      sink.wake.expires_at(std::min({deadline, cut, held}));
      co_await sink.wake.async_wait(use_nothrow);
    }
    auto [ec, n] = co_await asio::async_write(stream, http::make_chunk_last(), use_nothrow);
    (void)n;
    co_return !ec;
  }

  awaitable<void> exec(SslStream& stream, http::request<http::string_body> req) {
    const std::string target(req.target());
    const auto qpos = target.find('?');
    const auto rp = ApiHandler::parse_path(target.substr(0, qpos));
    const Query q = Query::parse(
        qpos == std::string::npos ? std::string_view{} : std::string_view(target).substr(qpos + 1));
    // The upgrade is a GET: kube-apiserver authorizes it as `get pods/exec`
    // (and from 1.35 also as `create`, see Authorizer).
    handler.count_request("get", "pods/exec");
    auto reject = [&](http::status status, std::string message) -> awaitable<void> {
      http::response<http::string_body> res{status, req.version()};
      res.set(http::field::content_type, "application/json");
      Error e = make_error(Errc::bad_request, std::move(message));
      e.http_status = static_cast<int>(status);
      e.reason = status == http::status::not_found ? "NotFound" : "BadRequest";
      res.body() = status_json(e);
      res.keep_alive(false);
      co_await send(stream, res);
    };
    if (!rp || !rp->type || rp->type->plural != "pods" || rp->subresource != "exec") {
      co_await reject(http::status::bad_request, "only pods/exec upgrades to WebSocket");
      co_return;
    }
    // Authorization comes first: a 403 says nothing about the pod.
    for (const auto& verb : handler.authorizer().websocket_exec_verbs()) {
      if (auto denied = handler.authorize(verb, *rp)) {
        http::response<http::string_body> res{static_cast<http::status>(denied->status),
                                              req.version()};
        res.set(http::field::content_type, denied->content_type);
        res.body() = std::move(denied->body);
        res.keep_alive(false);
        co_await send(stream, res);
        co_return;
      }
    }
    auto pod = handler.store().get(*rp->type, rp->ns, rp->name);
    if (!pod) {
      co_await reject(http::status::not_found, "pods \"" + rp->name + "\" not found");
      co_return;
    }
    const std::string chosen = exec_subprotocol(req[http::field::sec_websocket_protocol]);
    if (chosen.empty()) {
      co_await reject(http::status::bad_request,
                      "unsupported exec subprotocol; this server speaks v5.channel.k8s.io and "
                      "v4.channel.k8s.io");
      co_return;
    }
    const auto command = q.all("command");
    co_await answer_exec(stream, req, chosen, exec_hook(*pod, command), command,
                         {q.get("stdout", "true") != "false", q.get("stderr", "true") != "false"});
  }
};

ApiServer::ApiServer(asio::io_context& io, ApiHandler& handler, const net::IssuedCertificate& cert,
                     ApiServerOptions options)
    : impl_(std::make_shared<Impl>(io, handler, std::move(options))) {
  impl_->tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                         asio::ssl::context::no_tlsv1_1);
  impl_->tls.use_certificate_chain(asio::buffer(cert.cert_pem));
  impl_->tls.use_private_key(asio::buffer(cert.key_pem), asio::ssl::context::pem);
}

ApiServer::~ApiServer() {
  if (impl_)
    impl_->stopped = true;
}

Result<void> ApiServer::start() {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(impl_->options.host, ec);
  if (ec)
    return make_error(Errc::invalid_argument, "bad listen address " + impl_->options.host);
  tcp::endpoint ep(address, impl_->options.port);
  auto& acc = impl_->acceptor;
  acc.open(ep.protocol(), ec);
  if (!ec)
    acc.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec)
    acc.bind(ep, ec);
  if (!ec)
    acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error(Errc::transport, "cannot listen on " + impl_->options.host + ":" +
                                           std::to_string(impl_->options.port) + ": " +
                                           ec.message());
  // Owned by Impl (the loop holds a reference to it); ends when stop() closes the acceptor.
  asio::co_spawn(impl_->io, impl_->accept_loop(), [](std::exception_ptr e) {
    if (e)
      spdlog::error("cnimig-sim: accept loop failed: {}", exception_message(e));
  });
  return {};
}

void ApiServer::stop() {
  impl_->stopped = true;
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  for (auto& w : impl_->connections) {
    if (auto c = w.lock())
      beast::get_lowest_layer(c->stream).socket().close(ec);
  }
  impl_->connections.clear();
}

std::uint16_t ApiServer::port() const {
  boost::system::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void ApiServer::set_exec_hook(ExecHook hook) {
  impl_->exec_hook = std::move(hook);
}

}  // namespace cnimig::sim
