#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "cnimig/common/http_date.hpp"
#include "cnimig/kube/status_error.hpp"

#include "client_impl.hpp"
#include <sys/socket.h>

namespace cnimig::kube {

namespace json = boost::json;

std::string_view to_string(Method m) noexcept {
  switch (m) {
    case Method::get:
      return "GET";
    case Method::post:
      return "POST";
    case Method::put:
      return "PUT";
    case Method::patch:
      return "PATCH";
    case Method::delete_:
      return "DELETE";
  }
  return "GET";
}

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

Error tls_setup_error(const std::string& what) {
  return make_error(Errc::tls, what);
}

bool is_ip(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// A pooled connection the server already closed (FIN or TLS close_notify
// waiting in the socket) must not carry the next request: with a
// non-idempotent write that would turn into an ambiguous failure.
bool looks_alive(Connection& c) {
  auto& sock = beast::get_lowest_layer(c.stream).socket();
  char byte;
  ssize_t n = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0)
    return false;  // orderly shutdown
  if (n > 0)
    return false;                                  // unsolicited bytes (close_notify)
  return errno == EAGAIN || errno == EWOULDBLOCK;  // nothing pending: alive
}

std::string query_join(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string q;
  for (const auto& [k, v] : params) {
    q += q.empty() ? '?' : '&';
    q += k;
    q += '=';
    q += url_encode(v);
  }
  return q;
}

HttpRequest make_request(Method m, std::string target, std::string body, std::string content_type,
                         bool idempotent, RequestOptions options) {
  HttpRequest r;
  r.method = m;
  r.target = std::move(target);
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  r.idempotent = idempotent;
  r.options = options;
  return r;
}

Result<json::object> parse_object(const std::string& body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object())
    return make_error(Errc::protocol, "response body is not a JSON object");
  return std::move(v.get_object());
}

}  // namespace

Error transport_error(const boost::system::error_code& ec, std::string_view during) {
  std::string what = std::string(during) + ": " + ec.message();
  if (ec == beast::error::timeout)
    return make_error(Errc::timeout, std::string(during) + ": deadline expired");
  if (ec == asio::error::operation_aborted)
    return make_error(Errc::cancelled, what);
  if (ec.category() == asio::error::get_ssl_category() ||
      ec.category() == asio::ssl::error::get_stream_category()) {
    // stream_truncated and friends after the handshake are dropped connections.
    if (during == "handshake")
      return make_error(Errc::tls, what);
    return make_error(Errc::transport, what);
  }
  return make_error(Errc::transport, what);
}

Result<ServerAddress> parse_server_url(const std::string& url) {
  ServerAddress a;
  const std::string scheme = "https://";
  if (url.rfind(scheme, 0) != 0)
    return make_error(Errc::config, "server URL must start with https://");
  std::string rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) {
    a.base_path = rest.substr(slash);
    while (!a.base_path.empty() && a.base_path.back() == '/')
      a.base_path.pop_back();
  }
  if (authority.empty())
    return make_error(Errc::config, "server URL has no host");
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos)
      return make_error(Errc::config, "server URL: unterminated IPv6 address");
    a.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':')
      a.port = authority.substr(close + 2);
  } else {
    auto colon = authority.rfind(':');
    a.host = authority.substr(0, colon);
    if (colon != std::string::npos)
      a.port = authority.substr(colon + 1);
  }
  if (a.port.empty())
    a.port = "443";
  a.host_header = authority;
  a.host_is_ip = is_ip(a.host);
  a.verify_name = a.host;
  return a;
}

// ---------------------------------------------------------------- transport

asio::awaitable<Result<std::unique_ptr<Connection>>> Client::Impl::connect(
    std::chrono::milliseconds timeout) {
  auto c = std::make_unique<Connection>(executor, tls);
  if (!config.insecure_skip_tls_verify) {
    c->stream.set_verify_mode(ssl::verify_peer);
    // Checks the DNS or IP subject alternative names against the server name.
    c->stream.set_verify_callback(ssl::host_name_verification(address.verify_name));
  } else {
    c->stream.set_verify_mode(ssl::verify_none);
  }
  // SNI carries DNS names only (RFC 6066 forbids IP literals).
  if (!is_ip(address.verify_name))
    SSL_set_tlsext_host_name(c->stream.native_handle(), address.verify_name.c_str());

  asio::ip::tcp::resolver resolver(executor);
  auto [rec, endpoints] = co_await resolver.async_resolve(address.host, address.port, use_nothrow);
  if (rec)
    co_return transport_error(rec, "resolve " + address.host);
  auto& tcp = beast::get_lowest_layer(c->stream);
  tcp.expires_after(timeout);
  auto [cec, ep] = co_await tcp.async_connect(endpoints, use_nothrow);
  if (cec)
    co_return transport_error(cec, "connect");
  tcp.socket().set_option(asio::ip::tcp::no_delay(true));
  auto [hec] = co_await c->stream.async_handshake(ssl::stream_base::client, use_nothrow);
  if (hec)
    co_return transport_error(hec, "handshake");
  tcp.expires_never();
  co_return c;
}

asio::awaitable<Result<std::unique_ptr<Connection>>> Client::Impl::acquire(
    std::chrono::milliseconds timeout) {
  auto now = std::chrono::steady_clock::now();
  while (!idle.empty()) {
    auto c = std::move(idle.back());
    idle.pop_back();
    if (now - c->idle_since < options.max_idle_time && looks_alive(*c)) {
      c->reused = true;
      co_return c;
    }
  }
  co_return co_await connect(timeout);
}

void Client::Impl::release(std::unique_ptr<Connection> c) {
  if (idle.size() >= options.max_idle_connections)
    return;
  c->idle_since = std::chrono::steady_clock::now();
  beast::get_lowest_layer(c->stream).expires_never();
  idle.push_back(std::move(c));
}

asio::awaitable<Result<void>> Client::Impl::decorate(http::request<http::string_body>& req) {
  req.set(http::field::host, address.host_header);
  req.set(http::field::user_agent, options.user_agent);
  if (req[http::field::accept].empty())
    req.set(http::field::accept, "application/json");
  auto auth = co_await credentials.authorization();
  if (!auth)
    co_return auth.error();
  if (!auth->empty())
    req.set(http::field::authorization, *auth);
  co_return Result<void>{};
}

namespace {
struct Attempt {
  Result<HttpResponse> result;
  bool maybe_sent = false;
  std::string retry_after;
};
}  // namespace

asio::awaitable<Result<HttpResponse>> Client::Impl::request(HttpRequest r) {
  const int max_attempts = std::max(1, r.options.max_attempts.value_or(options.retry.max_attempts));
  std::string path = r.target.substr(0, r.target.find('?'));
  bool refreshed_credentials = false;
  for (int attempt = 1;; ++attempt) {
    auto started = std::chrono::steady_clock::now();
    Attempt a{make_error(Errc::internal, "unset"), false, {}};
    unsigned status = 0;
    do {
      http::request<http::string_body> req{to_verb(r.method), full_target(r.target), 11};
      if (auto d = co_await decorate(req); !d) {
        a.result = d.error();
        break;
      }
      if (!r.body.empty() || r.method == Method::post || r.method == Method::put ||
          r.method == Method::patch) {
        req.set(http::field::content_type,
                r.content_type.empty() ? "application/json" : r.content_type);
        req.body() = r.body;
      }
      req.keep_alive(true);
      req.prepare_payload();

      // Held until this block ends (response read, or failure): the backoff
      // below waits without a slot.
      auto slot = co_await request_slots.acquire();
      if (!slot) {
        a.result = slot.error();
        break;
      }
      // The queueing is not the server's: neither the deadline nor the
      // observed duration includes it.
      started = std::chrono::steady_clock::now();
      auto conn = co_await acquire(r.options.timeout);
      if (!conn) {
        a.result = conn.error();
        break;
      }
      auto c = std::move(*conn);
      auto& tcp = beast::get_lowest_layer(c->stream);
      tcp.expires_after(r.options.timeout);
      a.maybe_sent = true;
      auto [wec, wn] = co_await http::async_write(c->stream, req, use_nothrow);
      if (wec) {
        a.result = transport_error(wec, "write");
        break;
      }
      http::response_parser<http::string_body> parser;
      parser.body_limit(std::uint64_t{1} << 30);
      auto [rec, rn] = co_await http::async_read(c->stream, c->buffer, parser, use_nothrow);
      if (rec) {
        a.result = transport_error(rec, "read");
        break;
      }
      auto res = parser.release();
      status = res.result_int();
      if (auto date = parse_http_date(res[http::field::date]))
        server_clock.observe(*date, started, std::chrono::steady_clock::now());
      a.retry_after = std::string(res[http::field::retry_after]);
      bool keep = res.keep_alive();
      a.result = HttpResponse{status, std::move(res.body())};
      if (keep)
        release(std::move(c));
    } while (false);

    if (options.observer)
      options.observer(RequestRecord{r.method, path, status,
                                     std::chrono::steady_clock::now() - started, attempt});

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

// ---------------------------------------------------------------- Client

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::create(asio::any_io_executor executor, ClientConfig config,
                                               ClientOptions options) {
  auto addr = parse_server_url(config.server);
  if (!addr)
    return addr.error();
  if (!config.tls_server_name.empty())
    addr->verify_name = config.tls_server_name;
  auto impl = std::make_unique<Impl>(std::move(executor), std::move(config), std::move(options),
                                     std::move(*addr));
  auto& ctx = impl->tls;
  const auto& cfg = impl->config;
  boost::system::error_code ec;
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (cfg.insecure_skip_tls_verify) {
    spdlog::warn(
        "kube: insecure-skip-tls-verify is set for {}: the API server's certificate is NOT "
        "verified; "
        "anyone on the path can impersonate the cluster",
        cfg.server);
  } else if (!cfg.ca_pem.empty()) {
    ctx.add_certificate_authority(asio::buffer(cfg.ca_pem), ec);
    if (ec)
      return tls_setup_error("certificate authority (" + cfg.description +
                             "): not a valid PEM certificate");
  } else {
    ctx.set_default_verify_paths(ec);
    if (ec)
      return tls_setup_error("cannot load the system trust store");
  }
  if (!cfg.client_cert_pem.empty()) {
    ctx.use_certificate_chain(asio::buffer(cfg.client_cert_pem), ec);
    if (ec)
      return tls_setup_error("client certificate (" + cfg.description +
                             "): not a valid PEM certificate");
    ctx.use_private_key(asio::buffer(cfg.client_key_pem), ssl::context::pem, ec);
    if (ec)
      return tls_setup_error("client key (" + cfg.description +
                             "): not a valid PEM key or does not match");
  }
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

const ClientConfig& Client::config() const noexcept {
  return impl_->config;
}
asio::any_io_executor Client::get_executor() const noexcept {
  return impl_->executor;
}
const ServerClock& Client::server_clock() const noexcept {
  return impl_->server_clock;
}

void Client::set_observer(RequestObserver observer) {
  impl_->options.observer = std::move(observer);
}

asio::awaitable<Result<HttpResponse>> Client::request(HttpRequest request) {
  co_return co_await impl_->request(std::move(request));
}

asio::awaitable<Result<json::object>> Client::get(const ResourcePath& object,
                                                  RequestOptions options) {
  auto req = make_request(Method::get, object.path(), {}, {}, true, options);
  auto r = co_await impl_->request(std::move(req));
  if (!r)
    co_return r.error();
  co_return parse_object(r->body);
}

asio::awaitable<Result<std::string>> Client::list_pages(
    const ResourcePath& collection, const ListOptions& options,
    const std::function<void(std::vector<json::object>&)>& on_page) {
  std::string cont;
  std::string rv;
  do {
    std::vector<std::pair<std::string, std::string>> q;
    if (options.limit > 0)
      q.emplace_back("limit", std::to_string(options.limit));
    if (!cont.empty())
      q.emplace_back("continue", cont);
    if (!options.label_selector.empty())
      q.emplace_back("labelSelector", options.label_selector);
    if (!options.field_selector.empty())
      q.emplace_back("fieldSelector", options.field_selector);
    auto req = make_request(Method::get, collection.collection().path() + query_join(q), {}, {},
                            true, options.request);
    auto r = co_await impl_->request(std::move(req));
    if (!r)
      co_return r.error();
    auto obj = parse_object(r->body);
    if (!obj)
      co_return obj.error();
    cont.clear();
    if (auto* meta = obj->if_contains("metadata"); meta && meta->is_object()) {
      if (auto* c = meta->get_object().if_contains("continue"); c && c->is_string())
        cont = c->get_string();
      if (auto* v = meta->get_object().if_contains("resourceVersion"); v && v->is_string())
        rv = v->get_string();
    }
    std::vector<json::object> items;
    if (auto* it = obj->if_contains("items"); it && it->is_array()) {
      items.reserve(it->get_array().size());
      for (auto& v : it->get_array())
        if (v.is_object())
          items.push_back(std::move(v.get_object()));
    }
    on_page(items);
  } while (!cont.empty());
  co_return rv;
}

asio::awaitable<Result<ObjectList>> Client::list(const ResourcePath& collection,
                                                 ListOptions options) {
  ObjectList out;
  // A named std::function: GCC 12 mishandles temporaries inside co_await expressions.
  std::function<void(std::vector<json::object>&)> collect = [&](std::vector<json::object>& items) {
    for (auto& item : items)
      out.items.push_back(std::move(item));
  };
  auto rv = co_await list_pages(collection, options, collect);
  if (!rv)
    co_return rv.error();
  out.resource_version = std::move(*rv);
  co_return out;
}

namespace {
std::string write_query(bool dry_run, std::vector<std::pair<std::string, std::string>> extra = {}) {
  if (dry_run)
    extra.emplace_back("dryRun", "All");
  return query_join(extra);
}
}  // namespace

asio::awaitable<Result<json::object>> Client::create(const ResourcePath& collection,
                                                     const json::object& object,
                                                     WriteOptions options) {
  // POST is not idempotent: a create that may have reached the server is not
  // repeated (the caller sees the error and re-reads).
  auto req =
      make_request(Method::post, collection.collection().path() + write_query(options.dry_run),
                   json::serialize(object), "application/json", false, options.request);
  auto r = co_await impl_->request(std::move(req));
  if (!r)
    co_return r.error();
  co_return parse_object(r->body);
}

asio::awaitable<Result<json::object>> Client::replace(const ResourcePath& object,
                                                      const json::object& body,
                                                      WriteOptions options) {
  auto req = make_request(Method::put, object.path() + write_query(options.dry_run),
                          json::serialize(body), "application/json", true, options.request);
  auto r = co_await impl_->request(std::move(req));
  if (!r)
    co_return r.error();
  co_return parse_object(r->body);
}

asio::awaitable<Result<json::object>> Client::patch(const ResourcePath& object, PatchType type,
                                                    std::string body, WriteOptions options) {
  const char* ct = type == PatchType::merge  ? "application/merge-patch+json"
                   : type == PatchType::json ? "application/json-patch+json"
                                             : "application/strategic-merge-patch+json";
  // A JSON patch may append to lists ("add" at "/-"): applying it twice is not
  // the same as once, so it is treated as non-idempotent.
  auto req = make_request(Method::patch, object.path() + write_query(options.dry_run),
                          std::move(body), ct, type != PatchType::json, options.request);
  auto r = co_await impl_->request(std::move(req));
  if (!r)
    co_return r.error();
  co_return parse_object(r->body);
}

asio::awaitable<Result<json::object>> Client::apply(const ResourcePath& object,
                                                    const json::object& body,
                                                    ApplyOptions options) {
  std::vector<std::pair<std::string, std::string>> q{{"fieldManager", options.field_manager}};
  if (options.force)
    q.emplace_back("force", "true");
  auto req =
      make_request(Method::patch, object.path() + write_query(options.dry_run, q),
                   json::serialize(body), "application/apply-patch+yaml", true, options.request);
  auto r = co_await impl_->request(std::move(req));
  if (!r)
    co_return r.error();
  co_return parse_object(r->body);
}

namespace {
json::object delete_body(const DeleteOptions& o, const char* kind, const char* api_version) {
  json::object b{{"kind", kind}, {"apiVersion", api_version}};
  if (o.dry_run)
    b["dryRun"] = json::array{"All"};
  if (o.grace_period_seconds)
    b["gracePeriodSeconds"] = *o.grace_period_seconds;
  if (!o.propagation_policy.empty())
    b["propagationPolicy"] = o.propagation_policy;
  if (!o.precondition_uid.empty() || !o.precondition_resource_version.empty()) {
    json::object p;
    if (!o.precondition_uid.empty())
      p["uid"] = o.precondition_uid;
    if (!o.precondition_resource_version.empty())
      p["resourceVersion"] = o.precondition_resource_version;
    b["preconditions"] = std::move(p);
  }
  return b;
}
}  // namespace

asio::awaitable<Result<json::object>> Client::remove(const ResourcePath& object,
                                                     DeleteOptions options) {
  auto body = delete_body(options, "DeleteOptions", "v1");
  auto req = make_request(Method::delete_, object.path() + write_query(options.dry_run),
                          json::serialize(body), "application/json", true, options.request);
  auto r = co_await impl_->request(std::move(req));
  if (!r)
    co_return r.error();
  co_return parse_object(r->body);
}

asio::awaitable<Result<void>> Client::evict(const std::string& ns, const std::string& pod,
                                            DeleteOptions options) {
  json::object eviction{{"apiVersion", "policy/v1"},
                        {"kind", "Eviction"},
                        {"metadata", json::object{{"name", pod}, {"namespace", ns}}}};
  eviction["deleteOptions"] = delete_body(options, "DeleteOptions", "v1");
  auto path = ResourcePath::core("pods").in(ns).named(pod).sub("eviction").path();
  auto req = make_request(Method::post, path + write_query(options.dry_run),
                          json::serialize(eviction), "application/json", false, options.request);
  auto r = co_await impl_->request(std::move(req));
  if (!r)
    co_return r.error();
  co_return Result<void>{};
}

asio::awaitable<Result<bool>> Client::can_i(const AccessCheck& check, RequestOptions options) {
  json::object attrs{{"verb", check.verb}, {"resource", check.resource}};
  if (!check.group.empty())
    attrs["group"] = check.group;
  if (!check.subresource.empty())
    attrs["subresource"] = check.subresource;
  if (!check.namespace_.empty())
    attrs["namespace"] = check.namespace_;
  if (!check.name.empty())
    attrs["name"] = check.name;
  json::object review{{"apiVersion", "authorization.k8s.io/v1"},
                      {"kind", "SelfSubjectAccessReview"},
                      {"spec", json::object{{"resourceAttributes", std::move(attrs)}}}};
  // Creating a review has no side effect: safe to repeat.
  auto req = make_request(Method::post, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                          json::serialize(review), "application/json", true, options);
  auto r = co_await impl_->request(std::move(req));
  if (!r)
    co_return r.error();
  auto obj = parse_object(r->body);
  if (!obj)
    co_return obj.error();
  if (auto* st = obj->if_contains("status"); st && st->is_object())
    if (auto* a = st->get_object().if_contains("allowed"); a && a->is_bool())
      co_return a->get_bool();
  co_return make_error(Errc::protocol, "SelfSubjectAccessReview: response has no status.allowed");
}

}  // namespace cnimig::kube
