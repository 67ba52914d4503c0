#pragma once
// An informer-like cache over a WatchStream: keeps a caller-chosen slim
// projection T of each object (memory matters at 150,000 pods: keep only the
// fields the engine needs), keyed "namespace/name" (or "name" when
// cluster-scoped), reconciles on every (re)list, and wakes coroutines when
// something changes - waiting is always on a change or a deadline, never a
// poll loop.
//
//   Informer<PodInfo> pods(client, ResourcePath::core("pods"), project_pod);
//   co_spawn(ex, pods.run(), ...);                       // owned by the caller
//   bool ok = co_await pods.wait_until([](auto& c) { return c.synced(); }, 30s);

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "cnimig/kube/watch_stream.hpp"
#include "cnimig/wire/object_key.hpp"

namespace cnimig::kube {

template <class T>
class Informer {
 public:
  using Projection = std::function<T(const boost::json::object&)>;
  // Called for every change: old is null on add, now is null on delete.
  using ChangeHandler = std::function<void(const std::string& key, const T* old, const T* now)>;

  Informer(Client& client, ResourcePath collection, Projection projection,
           WatchOptions options = {})
      : stream_(client, std::move(collection), std::move(options)),
        projection_(std::move(projection)),
        changed_(client.get_executor(), std::chrono::steady_clock::time_point::max()) {
    stream_.on_watch_opened([this] { notify(); });  // waiters on stream().watch_opened()
  }

  // Feeds the cache until stop() or a fatal error. Run it once, owned by the caller.
  boost::asio::awaitable<Result<void>> run() {
    for (;;) {
      auto ev = co_await stream_.next();
      if (!ev) {
        if (ev.error().code != Errc::cancelled)
          failure_ = ev.error();
        stopped_ = true;
        notify();  // waiters re-check (and see stopped() and failure())
        co_return ev.error();
      }
      apply(*ev);
    }
  }
  void stop() {
    stream_.close();
    stopped_ = true;
    notify();
  }

  bool synced() const noexcept { return synced_; }
  bool stopped() const noexcept { return stopped_; }
  // The error that ended run() (a 401 or 403, say), unless stop() ended it.
  // The stream's listing() tells whether the list or the watch failed.
  const std::optional<Error>& failure() const noexcept { return failure_; }
  // Bumped on every change to the cache; lets callers skip re-evaluation.
  std::uint64_t version() const noexcept { return version_; }
  std::size_t size() const noexcept { return items_.size(); }
  const T* find(const std::string& key) const {
    auto it = items_.find(key);
    return it == items_.end() ? nullptr : &it->second.value;
  }
  template <class F>
  void for_each(F&& f) const {
    for (const auto& [k, e] : items_)
      f(k, e.value);
  }
  void on_change(ChangeHandler handler) { on_change_ = std::move(handler); }
  // The resourceVersion of the event being applied, for a ChangeHandler: a
  // deletion's (or, for an object missing from a re-list, the list's). A
  // cache that also takes the answers to its own writes keeps it as a
  // tombstone, so an answer older than the deletion does not bring the
  // object back (resourceVersions of one resource are comparable: KEP-5504).
  const std::string& event_version() const noexcept { return event_version_; }
  // The type of the event being applied, for a Projection or ChangeHandler.
  // Without a selector, `added` is an object the watch saw being created:
  // a (re)list's items are `listed`, whatever their age.
  WatchEventType event_type() const noexcept { return event_type_; }
  const WatchStream& stream() const noexcept { return stream_; }

  // Waits until pred(*this) holds (true) or the timeout passes (false).
  // Woken by every change; also returns false once the informer stopped.
  boost::asio::awaitable<bool> wait_until(std::function<bool(const Informer&)> pred,
                                          std::chrono::steady_clock::duration timeout) {
    using namespace boost::asio::experimental::awaitable_operators;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    boost::asio::steady_timer timer(changed_.get_executor());
    for (;;) {
      if (pred(*this))
        co_return true;
      if (stopped_ || std::chrono::steady_clock::now() >= deadline)
        co_return false;
      timer.expires_at(deadline);
      constexpr auto token = boost::asio::as_tuple(boost::asio::use_awaitable);
      co_await (changed_.async_wait(token) || timer.async_wait(token));
    }
  }

 private:
  struct Entry {
    T value;
    std::uint64_t list_generation;
  };
  // noexcept and not std::hash<std::string> itself: libstdc++ then keeps no
  // hash code in each map node (8 bytes a pod, a 64-byte node instead of
  // 80 for the pod informer; equal keys are compared in full instead).
  struct KeyHash {
    std::size_t operator()(const std::string& key) const noexcept {
      return std::hash<std::string_view>{}(key);
    }
  };

  void notify() {
    ++version_;
    changed_.cancel();  // wakes every waiter; the expiry stays at max for the next ones
  }

  void apply(WatchEvent& ev) {
    event_version_ = ev.resource_version;
    event_type_ = ev.type;
    switch (ev.type) {
      case WatchEventType::relisting:
        ++generation_;
        return;
      case WatchEventType::bookmark:
        return;
      case WatchEventType::synced: {
        // Objects that were not in the new list disappeared while we were not watching.
        for (auto it = items_.begin(); it != items_.end();) {
          if (it->second.list_generation != generation_) {
            if (on_change_)
              on_change_(it->first, &it->second.value, nullptr);
            it = items_.erase(it);
          } else {
            ++it;
          }
        }
        synced_ = true;
        notify();
        return;
      }
      case WatchEventType::deleted: {
        auto it = items_.find(wire::object_key(ev.object));
        if (it != items_.end()) {
          if (on_change_)
            on_change_(it->first, &it->second.value, nullptr);
          items_.erase(it);
          notify();
        }
        return;
      }
      case WatchEventType::listed:
      case WatchEventType::added:
      case WatchEventType::modified: {
        std::string key = wire::object_key(ev.object);
        T value = projection_(ev.object);
        auto it = items_.find(key);
        if (it == items_.end()) {
          auto [pos, _] = items_.emplace(std::move(key), Entry{std::move(value), generation_});
          if (on_change_)
            on_change_(pos->first, nullptr, &pos->second.value);
        } else {
          T old = std::move(it->second.value);
          it->second.value = std::move(value);
          it->second.list_generation = generation_;
          if (on_change_)
            on_change_(it->first, &old, &it->second.value);
        }
        notify();
        return;
      }
    }
  }

  WatchStream stream_;
  Projection projection_;
  boost::asio::steady_timer changed_;
  std::unordered_map<std::string, Entry, KeyHash> items_;
  ChangeHandler on_change_;
  std::string event_version_;
  WatchEventType event_type_ = WatchEventType::listed;
  std::uint64_t generation_ = 0;
  std::uint64_t version_ = 0;
  bool synced_ = false;
  bool stopped_ = false;
  std::optional<Error> failure_;
};

}  // namespace cnimig::kube
