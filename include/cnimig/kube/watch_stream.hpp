#pragma once
// A list+watch of one collection as an awaitable stream of typed events, the
// reflector of client-go without its size:
//   - lists page by page (limit/continue), announcing Relisting, each item as
//     Listed and the end as Synced (with the list's resourceVersion);
//   - watches from that resourceVersion with allowWatchBookmarks=true, reading
//     the chunked body incrementally (Beast parser, buffer_body) through
//     WatchEventDecoder;
//   - BOOKMARK and every object event advance the resourceVersion; after a
//     dropped or timed-out stream it reconnects with jittered backoff from the
//     last one seen, so nothing is repeated or missed;
//   - 410 Gone (HTTP or an ERROR event with code 410: the resourceVersion was
//     compacted) starts a fresh list; consumers reconcile on Synced.
// Only fatal failures (401 after refresh, 403, 404, TLS, cancellation) end it.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "cnimig/common/result.hpp"
#include "cnimig/kube/client.hpp"
#include "cnimig/kube/watch_event_decoder.hpp"

namespace cnimig::kube {

enum class WatchEventType {
  relisting,  // a (re)list starts: Listed events follow, then Synced
  listed,     // an object from the list
  synced,     // the list is complete; objects not Listed since Relisting are gone
  added,
  modified,
  deleted,
  bookmark,  // only advances the resourceVersion
};
std::string_view to_string(WatchEventType t) noexcept;

struct WatchEvent {
  WatchEventType type;
  boost::json::object object;    // empty for relisting, synced, bookmark
  std::string resource_version;  // the stream's position after this event
};

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  std::uint32_t page_size = 500;
  // Asked of the server (timeoutSeconds, jittered like client-go's 5-10 min)
  // so streams end cleanly and get re-established.
  std::chrono::seconds server_timeout{300};
  // Longest silence before the stream is presumed dead and reconnected; the
  // API server sends a bookmark about every minute.
  std::chrono::milliseconds idle_timeout{150'000};
  RequestOptions list_request;
  RetryPolicy reconnect;  // backoff between failed (re)connects; max_attempts unused
};

struct WatchStats {
  std::uint64_t lists = 0;       // lists started (1 + re-lists)
  std::uint64_t watches = 0;     // watch requests made
  std::uint64_t reconnects = 0;  // watch streams that ended and were resumed
};

class WatchStream {
 public:
  WatchStream(Client& client, ResourcePath collection, WatchOptions options = {});
  ~WatchStream();
  WatchStream(const WatchStream&) = delete;
  WatchStream& operator=(const WatchStream&) = delete;

  // The next event; transient failures are retried inside. An error is final.
  boost::asio::awaitable<Result<WatchEvent>> next();
  // Ends the stream: a pending or later next() returns Errc::cancelled.
  void close();

  const std::string& resource_version() const noexcept { return resource_version_; }
  // Whether the stream is (re)listing rather than watching: after a final
  // error, whether the list or the watch request failed.
  bool listing() const noexcept { return listing_; }
  // Whether a watch request has been answered 200 at least once: a watch
  // refused for good (403) is only seen after the list has synced.
  bool watch_opened() const noexcept { return watch_opened_; }
  // Called once, when the first watch request is answered 200.
  void on_watch_opened(std::function<void()> handler) { on_watch_opened_ = std::move(handler); }
  const WatchStats& stats() const noexcept { return stats_; }

 private:
  struct Open;  // the open watch response (connection + parser)
  boost::asio::awaitable<Result<void>> list_page();
  boost::asio::awaitable<Result<void>> open_watch();
  boost::asio::awaitable<Result<void>> read_watch();
  boost::asio::awaitable<void> backoff();
  void start_relist();
  void drop_stream();

  Client& client_;
  ResourcePath collection_;
  WatchOptions options_;
  std::deque<WatchEvent> pending_;
  std::string resource_version_;
  bool listing_ = true;
  bool list_started_ = false;
  std::string list_continue_;
  std::unique_ptr<Open> open_;
  WatchEventDecoder decoder_;
  int failures_ = 0;
  bool closed_ = false;
  bool watch_opened_ = false;
  std::function<void()> on_watch_opened_;
  WatchStats stats_;
};

}  // namespace cnimig::kube
