#include "object_mirror.hpp"

#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "../json_fields.hpp"

namespace cnimig::sim {

namespace json = boost::json;
using namespace fields;

namespace {

bool is_pods(const ResourceType& type) {
  return type.group.empty() && type.plural == "pods";
}

// Sets a flag for the lifetime of a scope.
struct Applying {
  explicit Applying(bool& flag) : flag_(flag) { flag_ = true; }
  ~Applying() { flag_ = false; }
  Applying(const Applying&) = delete;
  Applying& operator=(const Applying&) = delete;
  bool& flag_;
};

}  // namespace

ObjectMirror::ObjectMirror(kube::Client& client, ObjectStore& store)
    : client_(client),
      store_(store),
      synced_signal_(client.get_executor(), std::chrono::steady_clock::time_point::max()) {}

ObjectMirror::~ObjectMirror() = default;

json::object ObjectMirror::merge_local(const ResourceType& type, json::object remote,
                                       const json::object* local) {
  // managedFields are the bulk of a real server's metadata and nothing here reads them.
  mutable_meta(remote).erase("managedFields");
  if (!is_pods(type) || !local || uid(*local) != uid(remote) ||
      str(status(*local), "hostIP").empty())
    return remote;
  // The kubelet has started this pod: its status is the local one, and the
  // annotations it wrote (the sandbox's interfaces) stay until the server has them.
  remote["status"] = (*local).at("status");
  if (const auto* local_annotations = obj(meta(*local), "annotations")) {
    auto& annotations = ensure_obj(mutable_meta(remote), "annotations");
    for (const auto& [k, v] : *local_annotations)
      if (!annotations.contains(k))
        annotations[k] = v;
  }
  return remote;
}

void ObjectMirror::put(const ResourceType& type, json::object remote) {
  if (is_pods(type) && removed_.contains(std::string(uid(remote))))
    return;
  auto local = store_.get(type, ns(remote), name(remote));
  auto merged = merge_local(type, std::move(remote), local.get());
  Applying guard(applying_);
  store_.mirror(type, std::move(merged));
}

void ObjectMirror::erase(const ResourceType& type, const json::object& last) {
  if (is_pods(type))
    removed_.erase(std::string(uid(last)));
  auto local = store_.get(type, ns(last), name(last));
  if (!local || uid(*local) != uid(last))
    return;
  Applying guard(applying_);
  (void)store_.remove(type, ns(last), name(last));
}

void ObjectMirror::apply(const ResourceType& type, kube::WatchEvent& event) {
  using kube::WatchEventType;
  switch (event.type) {
    case WatchEventType::relisting:
      listed_[&type].clear();
      return;
    case WatchEventType::listed:
      listed_[&type].insert(key(event.object));
      put(type, std::move(event.object));
      return;
    case WatchEventType::synced: {
      // What was not listed was deleted while no watch was open.
      const auto& seen = listed_[&type];
      for (const auto& o : store_.list(type, ""))
        if (!seen.contains(key(*o)))
          erase(type, *o);
      listed_[&type].clear();
      ++synced_;
      synced_signal_.cancel();
      return;
    }
    case WatchEventType::added:
    case WatchEventType::modified:
      put(type, std::move(event.object));
      return;
    case WatchEventType::deleted:
      erase(type, event.object);
      return;
    case WatchEventType::bookmark:
      return;
  }
}

boost::asio::awaitable<Result<void>> ObjectMirror::run(kube::ResourcePath collection,
                                                       const ResourceType& type) {
  kube::WatchStream stream(client_, std::move(collection));
  streams_.push_back(&stream);
  Result<void> outcome;
  while (!stopped_) {
    auto event = co_await stream.next();
    if (!event) {
      if (event.error().code != Errc::cancelled) {
        spdlog::error("cnimig-sim: mirror of {} ended: {}", type.plural, event.error().message);
        outcome = event.error();
      }
      break;
    }
    apply(type, *event);
  }
  std::erase(streams_, &stream);
  co_return outcome;
}

boost::asio::awaitable<bool> ObjectMirror::wait_synced(
    std::size_t lists, std::chrono::steady_clock::duration timeout) {
  using namespace boost::asio::experimental::awaitable_operators;
  constexpr auto token = boost::asio::as_tuple(boost::asio::use_awaitable);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  boost::asio::steady_timer timer(client_.get_executor(), deadline);
  while (synced_ < lists && !stopped_ && std::chrono::steady_clock::now() < deadline)
    co_await (synced_signal_.async_wait(token) || timer.async_wait(token));
  co_return synced_ >= lists;
}

void ObjectMirror::stop() {
  stopped_ = true;
  synced_signal_.cancel();
  for (auto* s : streams_)
    s->close();
}

}  // namespace cnimig::sim
