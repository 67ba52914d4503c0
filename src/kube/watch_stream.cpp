#include "cnimig/kube/watch_stream.hpp"

#include <utility>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "cnimig/kube/status_error.hpp"
#include "cnimig/wire/object_fields.hpp"

#include "client_impl.hpp"

namespace cnimig::kube {

namespace json = boost::json;

std::string_view to_string(WatchEventType t) noexcept {
  switch (t) {
    case WatchEventType::relisting:
      return "RELISTING";
    case WatchEventType::listed:
      return "LISTED";
    case WatchEventType::synced:
      return "SYNCED";
    case WatchEventType::added:
      return "ADDED";
    case WatchEventType::modified:
      return "MODIFIED";
    case WatchEventType::deleted:
      return "DELETED";
    case WatchEventType::bookmark:
      return "BOOKMARK";
  }
  return "?";
}

namespace {

bool fatal(const Error& e) {
  switch (e.code) {
    case Errc::unauthorized:
    case Errc::forbidden:
    case Errc::not_found:
    case Errc::method_not_allowed:
    case Errc::bad_request:
    case Errc::invalid:
    case Errc::tls:
    case Errc::cancelled:
    case Errc::config:
      return true;
    default:
      return false;
  }
}

std::string selectors(const WatchOptions& o) {
  std::string q;
  if (!o.label_selector.empty())
    q += "&labelSelector=" + url_encode(o.label_selector);
  if (!o.field_selector.empty())
    q += "&fieldSelector=" + url_encode(o.field_selector);
  return q;
}

}  // namespace

struct WatchStream::Open {
  std::unique_ptr<Connection> connection;
  http::response_parser<http::buffer_body> parser;
  std::array<char, 64 * 1024> buffer;
};

WatchStream::WatchStream(Client& client, ResourcePath collection, WatchOptions options)
    : client_(client),
      collection_(std::move(collection).collection()),
      options_(std::move(options)) {}

WatchStream::~WatchStream() = default;

void WatchStream::close() {
  closed_ = true;
  if (open_) {
    boost::system::error_code ec;
    beast::get_lowest_layer(open_->connection->stream).socket().close(ec);
  }
}

void WatchStream::start_relist() {
  drop_stream();
  listing_ = true;
  list_started_ = false;
  list_continue_.clear();
}

void WatchStream::drop_stream() {
  open_.reset();
  decoder_.reset();
}

asio::awaitable<void> WatchStream::backoff() {
  ++failures_;
  auto& impl = client_.impl();
  auto wait = options_.reconnect.backoff(failures_, impl.random01());
  asio::steady_timer timer(impl.executor, wait);
  co_await timer.async_wait(use_nothrow);
}

asio::awaitable<Result<void>> WatchStream::list_page() {
  if (!list_started_) {
    list_started_ = true;
    ++stats_.lists;
    pending_.push_back(WatchEvent{WatchEventType::relisting, {}, resource_version_});
  }
  std::string target =
      collection_.path() + "?limit=" + std::to_string(options_.page_size) + selectors(options_);
  if (!list_continue_.empty())
    target += "&continue=" + url_encode(list_continue_);
  HttpRequest req;
  req.target = std::move(target);
  req.options = options_.list_request;
  auto r = co_await client_.impl().request(std::move(req));
  if (!r)
    co_return r.error();
  boost::system::error_code ec;
  auto v = json::parse(r->body, ec);
  if (ec || !v.is_object())
    co_return make_error(Errc::protocol, "list " + collection_.path() + ": not a JSON object");
  auto& o = v.get_object();
  std::string rv(wire::resource_version(o));
  list_continue_.clear();
  if (auto* m = o.if_contains("metadata"); m && m->is_object())
    if (auto* c = m->get_object().if_contains("continue"); c && c->is_string())
      list_continue_ = c->get_string();
  if (auto* items = o.if_contains("items"); items && items->is_array()) {
    for (auto& item : items->get_array())
      if (item.is_object())
        pending_.push_back(WatchEvent{WatchEventType::listed, std::move(item.get_object()), rv});
  }
  if (list_continue_.empty()) {
    // The list is a consistent snapshot at `rv`; the watch continues from it.
    resource_version_ = rv;
    listing_ = false;
    pending_.push_back(WatchEvent{WatchEventType::synced, {}, rv});
  }
  co_return Result<void>{};
}

asio::awaitable<Result<void>> WatchStream::open_watch() {
  auto& impl = client_.impl();
  // client-go jitters the server-side timeout so many watches do not expire together.
  auto secs = options_.server_timeout.count();
  secs += static_cast<long long>(static_cast<double>(secs) * impl.random01());
  std::string target = collection_.path() + "?watch=1&allowWatchBookmarks=true&resourceVersion=" +
                       url_encode(resource_version_) + "&timeoutSeconds=" + std::to_string(secs) +
                       selectors(options_);
  http::request<http::string_body> req{http::verb::get, impl.full_target(target), 11};
  if (auto d = co_await impl.decorate(req); !d)
    co_return d.error();
  req.keep_alive(true);
  ++stats_.watches;
  auto started = std::chrono::steady_clock::now();
  auto conn = co_await impl.acquire(options_.list_request.timeout);
  if (!conn)
    co_return conn.error();
  auto open = std::make_unique<Open>();
  open->connection = std::move(*conn);
  open->parser.body_limit(boost::none);  // a watch body is unbounded
  auto& c = *open->connection;
  beast::get_lowest_layer(c.stream).expires_after(options_.list_request.timeout);
  auto [wec, wn] = co_await http::async_write(c.stream, req, use_nothrow);
  if (wec)
    co_return transport_error(wec, "watch write");
  auto [hec, hn] = co_await http::async_read_header(c.stream, c.buffer, open->parser, use_nothrow);
  if (hec)
    co_return transport_error(hec, "watch read");
  unsigned status = open->parser.get().result_int();
  if (impl.options.observer)
    impl.options.observer(RequestRecord{Method::get, collection_.path(), status,
                                        std::chrono::steady_clock::now() - started, 1});
  if (status != 200) {
    // Read the (small) error body for its Status.
    std::string body;
    while (!open->parser.is_done() && body.size() < (1u << 20)) {
      open->parser.get().body().data = open->buffer.data();
      open->parser.get().body().size = open->buffer.size();
      auto [rec, rn] = co_await http::async_read(c.stream, c.buffer, open->parser, use_nothrow);
      body.append(open->buffer.data(), open->buffer.size() - open->parser.get().body().size);
      if (rec && rec != http::error::need_buffer)
        break;
    }
    auto err = error_from_response(status, body, open->parser.get()[http::field::retry_after]);
    if (status == 401)
      impl.credentials.invalidate();
    co_return err;
  }
  open_ = std::move(open);
  decoder_.reset();
  if (!std::exchange(watch_opened_, true) && on_watch_opened_)
    on_watch_opened_();
  co_return Result<void>{};
}

asio::awaitable<Result<void>> WatchStream::read_watch() {
  auto& p = open_->parser;
  auto& c = *open_->connection;
  if (p.is_done()) {
    // The server ended the stream (timeoutSeconds): resume at once.
    bool keep = p.get().keep_alive();
    auto conn = std::move(open_->connection);
    drop_stream();
    if (keep)
      client_.impl().release(std::move(conn));
    ++stats_.reconnects;
    co_return Result<void>{};
  }
  p.get().body().data = open_->buffer.data();
  p.get().body().size = open_->buffer.size();
  beast::get_lowest_layer(c.stream).expires_after(options_.idle_timeout);
  auto [ec, n] = co_await http::async_read_some(c.stream, c.buffer, p, use_nothrow);
  if (closed_)
    co_return make_error(Errc::cancelled, "watch closed");
  std::size_t got = open_->buffer.size() - p.get().body().size;
  std::vector<RawWatchEvent> raw;
  auto fed = decoder_.feed(std::string_view(open_->buffer.data(), got), raw);
  for (auto& ev : raw) {
    failures_ = 0;
    switch (ev.type) {
      case RawWatchEventType::error: {
        std::int64_t code = 0;
        if (auto* cd = ev.object.if_contains("code"); cd && cd->is_int64())
          code = cd->get_int64();
        std::string msg;
        if (auto* m = ev.object.if_contains("message"); m && m->is_string())
          msg = m->get_string();
        if (code == 410) {
          // "too old resource version": what we knew is compacted away.
          spdlog::debug("kube: watch {} expired (410), re-listing", collection_.path());
          start_relist();
          co_return Result<void>{};
        }
        spdlog::debug("kube: watch {} ERROR event {}: {}, reconnecting", collection_.path(), code,
                      msg);
        drop_stream();
        ++stats_.reconnects;
        co_await backoff();
        co_return Result<void>{};
      }
      case RawWatchEventType::bookmark:
        if (auto rv = wire::resource_version(ev.object); !rv.empty())
          resource_version_ = rv;
        pending_.push_back(WatchEvent{WatchEventType::bookmark, {}, resource_version_});
        break;
      default: {
        if (auto rv = wire::resource_version(ev.object); !rv.empty())
          resource_version_ = rv;
        auto type = ev.type == RawWatchEventType::added      ? WatchEventType::added
                    : ev.type == RawWatchEventType::modified ? WatchEventType::modified
                                                             : WatchEventType::deleted;
        pending_.push_back(WatchEvent{type, std::move(ev.object), resource_version_});
      }
    }
  }
  if (!fed) {
    spdlog::debug("kube: watch {}: {}, reconnecting", collection_.path(), fed.error().describe());
    drop_stream();
    ++stats_.reconnects;
    co_await backoff();
    co_return Result<void>{};
  }
  if (ec && ec != http::error::need_buffer) {
    // Dropped, cut mid-chunk or silent too long: resume from the last resourceVersion.
    spdlog::debug("kube: watch {} stream ended ({}), resuming from {}", collection_.path(),
                  ec.message(), resource_version_);
    drop_stream();
    ++stats_.reconnects;
    if (pending_.empty())
      co_await backoff();
  }
  co_return Result<void>{};
}

asio::awaitable<Result<WatchEvent>> WatchStream::next() {
  for (;;) {
    if (closed_)
      co_return make_error(Errc::cancelled, "watch closed");
    if (!pending_.empty()) {
      WatchEvent ev = std::move(pending_.front());
      pending_.pop_front();
      co_return ev;
    }
    if (listing_) {
      auto r = co_await list_page();
      if (!r) {
        if (fatal(r.error()))
          co_return r.error();
        // 410 on a continue token (expired) or a transient failure: start over.
        spdlog::debug("kube: list {} failed ({}), re-listing", collection_.path(),
                      r.error().describe());
        start_relist();
        co_await backoff();
      } else {
        failures_ = 0;
      }
      continue;
    }
    if (!open_) {
      auto r = co_await open_watch();
      if (!r) {
        if (closed_)
          co_return make_error(Errc::cancelled, "watch closed");
        if (r.error().code == Errc::gone) {
          start_relist();
          continue;
        }
        if (fatal(r.error()) && !(r.error().code == Errc::unauthorized && failures_ == 0))
          co_return r.error();
        drop_stream();
        co_await backoff();
      }
      continue;
    }
    auto r = co_await read_watch();
    if (!r)
      co_return r.error();
  }
}

}  // namespace cnimig::kube
