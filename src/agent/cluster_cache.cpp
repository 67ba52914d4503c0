#include "cnimig/agent/cluster_cache.hpp"

#include <algorithm>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "cnimig/agent/migration_inputs.hpp"
#include "cnimig/agent/pod_list.hpp"
#include "cnimig/agent/snapshot_projection.hpp"
#include "cnimig/wire/object_fields.hpp"
#include "cnimig/wire/object_key.hpp"

namespace cnimig::agent {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

// metadata.resourceVersion as a number; with anything else (0) every event
// applies, as a plain informer does.
std::uint64_t parse_version(std::string_view text) {
  return wire::version_number(text);
}

// Keeps a deleted object's last resourceVersion: an answer to one of our
// writes that the server gave before the deletion, arriving after the watch
// showed it, must not bring the object back (stale() compares). A new object
// of that name has a newer version.
void tombstone(std::unordered_map<std::string, std::uint64_t>& shown, const std::string& key,
               std::uint64_t deleted_at) {
  if (deleted_at == 0) {
    shown.erase(key);
    return;
  }
  auto& v = shown[key];
  v = std::max(v, deleted_at);
}

// The workload kinds the cache keeps, as the snapshot names them.
const char* workload_kind(std::string_view kind) {
  for (const char* k : {migrate::kDaemonSet, migrate::kDeployment, migrate::kStatefulSet}) {
    if (kind == k)
      return k;
  }
  return nullptr;
}

// An answer that says the object is gone: no resourceVersion (nothing the
// server stored), a deletionTimestamp.
bool is_gone(const boost::json::object& object) {
  const auto* meta = wire::meta(object);
  return meta != nullptr && meta->contains("deletionTimestamp") &&
         wire::resource_version(object).empty();
}

std::uint64_t resource_version(const boost::json::object& object) {
  return parse_version(wire::resource_version(object));
}

std::string workload_key(std::string_view kind, const std::string& key) {
  return std::string(kind) + " " + key;
}

}  // namespace

ClusterCache::ClusterCache(kube::Client& client, std::string annotation_prefix,
                           std::set<migrate::ObjectRef> workloads)
    : annotation_prefix_(std::move(annotation_prefix)),
      interesting_(std::move(workloads)),
      changes_(client.get_executor()) {
  nodes_ = std::make_unique<kube::Informer<char>>(
      client, kube::ResourcePath::core("nodes"),
      [this](const boost::json::object& o) { return upsert_node(o); });
  nodes_->on_change([this](const std::string& key, const char*, const char* now) {
    if (now == nullptr) {
      touched_.touch(key);
      snapshot_.nodes.erase(key);
      namespace_pods_.remove_node(key);
      node_uids_.erase(key);
      tombstone(node_versions_, key, parse_version(nodes_->event_version()));
      deleted_nodes_.insert(key);
    }
    changes_.notify_event();
  });
  pods_ = std::make_unique<kube::Informer<migrate::InternedString>>(
      client, kube::ResourcePath::core("pods"),
      [this](const boost::json::object& o) { return upsert_pod(o); });
  pods_->on_change([this](const std::string& key, const migrate::InternedString* old,
                          const migrate::InternedString* now) {
    if (now == nullptr && old != nullptr)
      remove_pod(key, *old);
    changes_.notify_event();
  });
  const auto workload_informer = [&](const char* kind, const char* plural) {
    auto informer = std::make_unique<kube::Informer<char>>(
        client, kube::ResourcePath::of("apps", "v1", plural),
        [this, kind](const boost::json::object& o) { return upsert_workload(kind, o); });
    const auto* watched = informer.get();
    informer->on_change(
        [this, kind, watched](const std::string& key, const char*, const char* now) {
          if (now == nullptr)
            remove_workload(kind, key, parse_version(watched->event_version()));
          changes_.notify_event();
        });
    return informer;
  };
  daemonsets_ = workload_informer(migrate::kDaemonSet, "daemonsets");
  deployments_ = workload_informer(migrate::kDeployment, "deployments");
  statefulsets_ = workload_informer(migrate::kStatefulSet, "statefulsets");
}

ClusterCache::~ClusterCache() = default;

asio::awaitable<Result<void>> ClusterCache::run() {
  // All five run until one fails or stop() closes them; the first error wins.
  auto results = co_await (nodes_->run() && pods_->run() && daemonsets_->run() &&
                           deployments_->run() && statefulsets_->run());
  (void)results;
  co_return Result<void>{};
}

void ClusterCache::stop() {
  nodes_->stop();
  pods_->stop();
  daemonsets_->stop();
  deployments_->stop();
  statefulsets_->stop();
  changes_.notify();
}

asio::awaitable<Result<void>> ClusterCache::wait_synced(
    std::chrono::steady_clock::duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const auto left = [&] { return deadline - std::chrono::steady_clock::now(); };
  // Listed, and watching: a watch the server refuses for good (a 403 on
  // watch where list is allowed) shows only once the list is done.
  const auto synced = [](const auto& informer) {
    return informer.synced() && informer.stream().watch_opened();
  };
  // One at a time (not `a && b` across co_awaits, which GCC 12 mishandles).
  // Each wait also ends when its informer stops: a failed one reports now.
  bool all = co_await nodes_->wait_until(synced, left());
  if (all)
    all = co_await pods_->wait_until(synced, left());
  if (all)
    all = co_await daemonsets_->wait_until(synced, left());
  if (all)
    all = co_await deployments_->wait_until(synced, left());
  if (all)
    all = co_await statefulsets_->wait_until(synced, left());
  if (all)
    co_return Result<void>{};
  if (auto failed = watch_failure())
    co_return *failed;
  co_return make_error(
      Errc::timeout,
      "the watches did not sync within " +
          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) + "s");
}

namespace {

// An informer's final error, led by the request the server refused.
template <class T>
std::optional<Error> refused(const kube::Informer<T>& informer, std::string_view resource) {
  const auto& failure = informer.failure();
  if (!failure)
    return std::nullopt;
  Error e = *failure;
  e.message = std::string(informer.stream().listing() ? "list " : "watch ") +
              std::string(resource) + ": " + e.message;
  return e;
}

}  // namespace

std::optional<Error> ClusterCache::watch_failure() const {
  if (auto e = refused(*nodes_, "nodes"))
    return e;
  if (auto e = refused(*pods_, "pods"))
    return e;
  if (auto e = refused(*daemonsets_, "apps/daemonsets"))
    return e;
  if (auto e = refused(*deployments_, "apps/deployments"))
    return e;
  return refused(*statefulsets_, "apps/statefulsets");
}

std::string ClusterCache::node_uid(const std::string& node) const {
  auto it = node_uids_.find(node);
  return it == node_uids_.end() ? std::string() : it->second;
}

bool ClusterCache::stale(std::unordered_map<std::string, std::uint64_t>& shown,
                         const std::string& key, std::uint64_t rv) {
  if (rv == 0)
    return false;
  auto [it, added] = shown.try_emplace(key, rv);
  if (!added && rv < it->second)
    return true;
  it->second = rv;
  return false;
}

void ClusterCache::apply_written(std::string_view kind, const boost::json::object& object) {
  if (const char* workload = workload_kind(kind); workload != nullptr && is_gone(object)) {
    // A deletion answered 404 (ActionExecutor::gone): newer than anything
    // shown, older than any object of that name created later.
    const auto key = wire::object_key(object);
    const auto shown = workload_versions_.find(workload_key(workload, key));
    remove_workload(workload, key, shown == workload_versions_.end() ? 0 : shown->second + 1);
    changes_.notify();
    return;
  }
  if (kind == "Node") {
    upsert_node(object);
  } else if (kind == migrate::kDaemonSet) {
    upsert_workload(migrate::kDaemonSet, object);
  } else if (kind == migrate::kDeployment) {
    upsert_workload(migrate::kDeployment, object);
  } else if (kind == migrate::kStatefulSet) {
    upsert_workload(migrate::kStatefulSet, object);
  } else if (!note_bundle_object(kind, object)) {
    return;
  }
  changes_.notify();
}

void ClusterCache::note_cutoff_order(const std::string& node, const std::string& annotation,
                                     const migrate::CutoffOrder& order) {
  auto it = snapshot_.nodes.find(node);
  if (it == snapshot_.nodes.end())
    return;
  // Only for the value the snapshot shows: one written since has its own.
  const auto value = it->second.annotations.find(annotation);
  if (value == it->second.annotations.end() || value->second != order.value)
    return;
  it->second.cutoff_orders[annotation] = order;
  touched_.touch(node);
  changes_.notify();
}

// A bundle without workloads (cilium-native's CiliumNodeConfig) counts as
// applied once its object is written and until an answer carries
// deletionTimestamp (the object is going: a deletion's answer).
bool ClusterCache::note_bundle_object(std::string_view kind, const boost::json::object& object) {
  if (bundles_ == nullptr)
    return false;
  const auto* meta = wire::meta(object);
  const bool going = meta != nullptr && meta->contains("deletionTimestamp");
  for (const auto& [id, bundle] : *bundles_) {
    if (bundle.find(kind, wire::ns(object), wire::name(object)) == nullptr)
      continue;
    if (going) {
      present_.erase(id);
    } else {
      present_.insert(id);
    }
    refresh_bundles();
    return true;
  }
  return false;
}

std::optional<std::string> ClusterCache::pod_node(const std::string& ns,
                                                  const std::string& name) const {
  if (const auto* node = pods_->find(wire::object_key(ns, name)))
    return node->str();
  return std::nullopt;
}

char ClusterCache::upsert_node(const boost::json::object& object) {
  const auto key = wire::object_key(object);
  if (stale(node_versions_, key, resource_version(object)))
    return 0;  // the snapshot already shows a newer version (our write's answer)
  auto state = project_node(object, annotation_prefix_);
  deleted_nodes_.erase(state.name);  // a node of that name (re)joined
  touched_.touch(state.name);
  auto& entry = snapshot_.nodes[state.name];
  state.pods = std::move(entry.pods);  // pods are placed by the pod informer
  // A cut-off's place in the pods' order holds while it keeps its value.
  for (auto& [name, order] : entry.cutoff_orders) {
    const auto value = state.annotations.find(name);
    if (value != state.annotations.end() && value->second == order.value)
      state.cutoff_orders.emplace(name, std::move(order));
  }
  entry = std::move(state);
  if (const auto* meta = object.if_contains("metadata"); meta != nullptr && meta->is_object()) {
    if (const auto* uid = meta->get_object().if_contains("uid");
        uid != nullptr && uid->is_string()) {
      node_uids_[entry.name] = std::string(uid->get_string());
    }
  }
  return 0;
}

// Called with the new object before the informer stores it, so the informer
// still holds the pod's previous node: a pod that got scheduled moves from
// the unscheduled list to its node's.
migrate::InternedString ClusterCache::upsert_pod(const boost::json::object& object) {
  auto state = project_pod(object);
  auto node = pod_node_name(object);
  const auto key = wire::object_key(state.ns, state.name);
  const auto* previous = pods_->find(key);
  // The version of the pod's creation is known only from the watch's ADDED
  // event; later events and re-lists keep what it showed, for this
  // incarnation (a StatefulSet's replacement has the same name), wherever
  // it was placed before (a pod the scheduler binds moves).
  if (pods_->event_type() == kube::WatchEventType::added) {
    state.created_version = resource_version(object);
  } else if (previous != nullptr) {
    if (const auto* shown = shown_pod(*previous, state.ns, state.name);
        shown != nullptr && shown->uid == state.uid)
      state.created_version = shown->created_version;
  }
  if (previous != nullptr && *previous != node)
    remove_pod(key, *previous);
  if (deleted_nodes_.contains(node))
    return node;  // bound to a deleted node: gone with it, whatever the watch still shows
  if (!node.empty())
    touched_.touch(node);
  auto& list = node.empty() ? snapshot_.unscheduled_pods : snapshot_.nodes[node].pods;
  if (!node.empty() && snapshot_.nodes[node].name.empty()) {
    // Seen before its node: a placeholder until the node informer fills it in.
    snapshot_.nodes[node].name = node;
    snapshot_.nodes[node].ready = false;
  }
  auto it = std::find_if(list.begin(), list.end(), [&](const migrate::PodState& p) {
    return p.name == state.name && p.ns == state.ns;
  });
  if (!node.empty())
    namespace_pods_.upsert(node, state);
  if (it == list.end()) {
    append_pod(list, std::move(state));
  } else {
    *it = std::move(state);
  }
  return node;
}

const migrate::PodState* ClusterCache::shown_pod(const std::string& node, std::string_view ns,
                                                 std::string_view name) const {
  const std::vector<migrate::PodState>* list = &snapshot_.unscheduled_pods;
  if (!node.empty()) {
    auto n = snapshot_.nodes.find(node);
    if (n == snapshot_.nodes.end())
      return nullptr;
    list = &n->second.pods;
  }
  auto it = std::find_if(list->begin(), list->end(),
                         [&](const migrate::PodState& p) { return p.name == name && p.ns == ns; });
  return it == list->end() ? nullptr : &*it;
}

void ClusterCache::remove_pod(const std::string& key, const std::string& node) {
  const auto [ns, name] = wire::split_object_key(key);
  std::vector<migrate::PodState>* list = &snapshot_.unscheduled_pods;
  if (!node.empty()) {
    auto n = snapshot_.nodes.find(node);
    if (n == snapshot_.nodes.end())
      return;
    touched_.touch(node);
    list = &n->second.pods;
    namespace_pods_.remove(node, ns, name);
  }
  std::erase_if(*list, [&](const migrate::PodState& p) { return p.name == name && p.ns == ns; });
}

char ClusterCache::upsert_workload(const char* kind, const boost::json::object& object) {
  const auto key = wire::object_key(object);
  const auto [ns, name] = wire::split_object_key(key);
  migrate::ObjectRef ref{kind, std::string(ns), std::string(name)};
  if (!interesting_.contains(ref))
    return 0;
  if (stale(workload_versions_, workload_key(kind, key), resource_version(object)))
    return 0;  // the snapshot already shows a newer version (our write's answer)
  snapshot_.workloads[ref] = project_workload(kind, object);
  refresh_bundles();
  return 0;
}

void ClusterCache::remove_workload(const char* kind, const std::string& key,
                                   std::uint64_t deleted_at) {
  tombstone(workload_versions_, workload_key(kind, key), deleted_at);
  const auto [ns, name] = wire::split_object_key(key);
  snapshot_.workloads.erase(migrate::ObjectRef{kind, std::string(ns), std::string(name)});
  refresh_bundles();
}

void ClusterCache::track_bundles(const std::map<std::string, ManifestBundle>& bundles) {
  bundles_ = &bundles;
  refresh_bundles();
}

void ClusterCache::refresh_bundles() {
  if (bundles_ != nullptr)
    detect_applied_bundles(snapshot_, *bundles_, present_);
}

}  // namespace cnimig::agent
