#include "kubelet_write_back.hpp"

#include <chrono>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "../json_fields.hpp"

namespace cnimig::sim {

namespace json = boost::json;
namespace asio = boost::asio;
using namespace fields;

KubeletWriteBack::KubeletWriteBack(kube::Client& client, ObjectStore& store, ObjectMirror& mirror)
    : client_(client),
      store_(store),
      mirror_(mirror),
      wake_(client.get_executor(), std::chrono::steady_clock::time_point::max()) {
  observer_ = store_.observe([this](const Change& c) { observe(c); });
}

KubeletWriteBack::~KubeletWriteBack() {
  store_.unobserve(observer_);
}

void KubeletWriteBack::observe(const Change& c) {
  if (mirror_.applying() || stopped_ || c.resource != &resource_type("", "pods"))
    return;
  const auto& pod = *c.object;
  Write w{Kind::status, std::string(ns(pod)), std::string(name(pod)), std::string(uid(pod)), ""};
  if (c.type == ChangeType::deleted) {
    mirror_.removed_locally(w.uid);
    w.kind = Kind::remove;
    enqueue(std::move(w));
    return;
  }
  if (c.type != ChangeType::modified || !c.old_object)
    return;
  // Annotations the kubelet added or changed (it never removes any).
  json::object added;
  const auto* before = obj(meta(*c.old_object), "annotations");
  if (const auto* after = obj(meta(pod), "annotations"))
    for (const auto& [k, v] : *after) {
      const auto* old = before ? before->if_contains(k) : nullptr;
      if (!old || *old != v)
        added[k] = v;
    }
  if (!added.empty()) {
    Write a = w;
    a.kind = Kind::annotations;
    // metadata.uid in a patch is a precondition: never another incarnation.
    a.body = json::serialize(json::object{
        {"metadata", json::object{{"uid", w.uid}, {"annotations", std::move(added)}}}});
    enqueue(std::move(a));
  }
  const auto* old_status = status(*c.old_object);
  const auto* new_status = status(pod);
  if (new_status && (!old_status || *old_status != *new_status)) {
    w.body = json::serialize(
        json::object{{"metadata", json::object{{"uid", w.uid}}}, {"status", *new_status}});
    enqueue(std::move(w));
  }
}

void KubeletWriteBack::enqueue(Write write) {
  queue_.push_back(std::move(write));
  wake_.cancel();
}

asio::awaitable<void> KubeletWriteBack::send(const Write& w) {
  const auto pod = kube::ResourcePath::core("pods").in(w.ns).named(w.name);
  kube::WriteOptions options;
  options.request.timeout = std::chrono::seconds(10);
  Result<json::object> result = json::object{};
  switch (w.kind) {
    case Kind::annotations:
      result = co_await client_.patch(pod, kube::PatchType::merge, w.body, options);
      break;
    case Kind::status: {
      const auto status_path = pod.sub("status");
      result = co_await client_.patch(status_path, kube::PatchType::strategic, w.body, options);
      break;
    }
    case Kind::remove: {
      kube::DeleteOptions del;
      del.grace_period_seconds = 0;
      del.precondition_uid = w.uid;
      del.request.timeout = std::chrono::seconds(10);
      result = co_await client_.remove(pod, del);
      break;
    }
  }
  // Gone (or a newer pod under the same name): nothing left to report for it.
  if (!result && result.error().code != Errc::not_found && result.error().code != Errc::conflict) {
    ++failed_;
    spdlog::warn("cnimig-sim: write-back of {}/{} failed: {}", w.ns, w.name,
                 result.error().message);
    co_return;
  }
  ++sent_;
}

asio::awaitable<void> KubeletWriteBack::run() {
  constexpr auto token = asio::as_tuple(asio::use_awaitable);
  while (!stopped_) {
    if (queue_.empty()) {
      wake_.expires_at(std::chrono::steady_clock::time_point::max());
      co_await wake_.async_wait(token);
      continue;
    }
    auto w = std::move(queue_.front());
    queue_.pop_front();
    co_await send(w);
  }
}

void KubeletWriteBack::stop() {
  stopped_ = true;
  wake_.cancel();
}

}  // namespace cnimig::sim
