// Client::Impl::request: one HTTP request with a deadline per attempt, a
// slot among max_requests_in_flight, and retries with backoff for what the
// retry policy deems safe to repeat.

#include <spdlog/spdlog.h>

#include "cnimig/common/http_date.hpp"
#include "cnimig/kube/status_error.hpp"

#include "client_impl.hpp"

namespace cnimig::kube {
namespace {

http::verb to_verb(Method m) {
  switch (m) {
    case Method::get:
      return http::verb::get;
    case Method::post:
      return http::verb::post;
    case Method::put:
      return http::verb::put;
    case Method::patch:
      return http::verb::patch;
    case Method::delete_:
      return http::verb::delete_;
  }
  return http::verb::get;
}

// The body and the framing, after decorate() has set the headers.
void set_body(http::request<http::string_body>& req, const HttpRequest& r) {
  if (!r.body.empty() || r.method == Method::post || r.method == Method::put ||
      r.method == Method::patch) {
    req.set(http::field::content_type,
            r.content_type.empty() ? "application/json" : r.content_type);
    req.body() = r.body;
  }
  req.keep_alive(true);
  req.prepare_payload();
}

}  // namespace

asio::awaitable<Client::Impl::Attempt> Client::Impl::send_once(const HttpRequest& r) {
  Attempt a;
  a.started = std::chrono::steady_clock::now();
  http::request<http::string_body> req{to_verb(r.method), full_target(r.target), 11};
  if (auto d = co_await decorate(req); !d) {
    a.result = d.error();
    co_return a;
  }
  set_body(req, r);
  // Held until this attempt ends (response read, or failure): the backoff
  // in request() waits without a slot.
  auto slot = co_await request_slots.acquire();
  if (!slot) {
    a.result = slot.error();
    co_return a;
  }
  // The queueing is not the server's: neither the deadline nor the
  // observed duration includes it.
  a.started = std::chrono::steady_clock::now();
  auto conn = co_await acquire(r.options.timeout);
  if (!conn) {
    a.result = conn.error();
    co_return a;
  }
  co_await exchange(std::move(*conn), req, r.options.timeout, a);
  co_return a;
}

asio::awaitable<void> Client::Impl::exchange(std::unique_ptr<Connection> c,
                                             http::request<http::string_body>& req,
                                             std::chrono::milliseconds timeout, Attempt& a) {
  auto& tcp = beast::get_lowest_layer(c->stream);
  tcp.expires_after(timeout);
  a.maybe_sent = true;
  auto [wec, wn] = co_await http::async_write(c->stream, req, use_nothrow);
  if (wec) {
    a.result = transport_error(wec, "write");
    co_return;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::uint64_t{1} << 30);
  auto [rec, rn] = co_await http::async_read(c->stream, c->buffer, parser, use_nothrow);
  if (rec) {
    a.result = transport_error(rec, "read");
    co_return;
  }
  auto res = parser.release();
  const unsigned status = res.result_int();
  if (auto date = parse_http_date(res[http::field::date]))
    server_clock.observe(*date, a.started, std::chrono::steady_clock::now());
  a.retry_after = std::string(res[http::field::retry_after]);
  bool keep = res.keep_alive();
  a.result = HttpResponse{status, std::move(res.body())};
  if (keep)
    release(std::move(c));
}

asio::awaitable<Result<HttpResponse>> Client::Impl::request(HttpRequest r) {
  const int max_attempts = std::max(1, r.options.max_attempts.value_or(options.retry.max_attempts));
  std::string path = r.target.substr(0, r.target.find('?'));
  bool refreshed_credentials = false;
  for (int attempt = 1;; ++attempt) {
    auto a = co_await send_once(r);
    const unsigned status = a.result ? a.result->status : 0;
    if (options.observer)
      options.observer(RequestRecord{r.method, path, status,
                                     std::chrono::steady_clock::now() - a.started, attempt});

    Error err;
    if (a.result) {
      if (a.result->status < 400)
        co_return std::move(*a.result);
      err = error_from_response(a.result->status, a.result->body, a.retry_after);
    } else {
      err = a.result.error();
      if (err.code == Errc::cancelled)
        co_return err;
    }
    // client-go re-runs exec plugins and re-reads token files after a 401;
    // that retry does not count against the attempts.
    if (err.code == Errc::unauthorized && err.http_status == 401 && !refreshed_credentials &&
        credentials.invalidate()) {
      refreshed_credentials = true;
      --attempt;
      continue;
    }
    if (attempt >= max_attempts || !should_retry(err, r.idempotent, a.maybe_sent)) {
      err.message = std::string(to_string(r.method)) + " " + path + ": " + err.message;
      co_return err;
    }
    auto wait = options.retry.delay(attempt, err, random01());
    spdlog::debug("kube: {} {} failed ({}), attempt {}/{}, retrying in {} ms", to_string(r.method),
                  path, err.describe(), attempt, max_attempts, wait.count());
    asio::steady_timer timer(executor, wait);
    auto [tec] = co_await timer.async_wait(use_nothrow);
    if (tec)
      co_return make_error(Errc::cancelled, "request cancelled during backoff");
  }
}

}  // namespace cnimig::kube
