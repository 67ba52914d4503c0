// Client calls pass every options argument explicitly: GCC 12 destroys the
// temporary of a defaulted `= {}` coroutine parameter twice.
#include "cnimig/agent/action_executor.hpp"

#include <algorithm>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include "cnimig/events/event_catalogue.hpp"
#include "cnimig/kube/watch_stream.hpp"
#include "cnimig/wire/object_fields.hpp"

#include "executor_support.hpp"

namespace cnimig::agent {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using detail::gone_is_fine;
using detail::pause;

kube::ResourcePath node_path(const std::string& node) {
  return kube::ResourcePath::core("nodes").named(node);
}

kube::ResourcePath object_path(const ManifestObject& o) {
  auto p = kube::ResourcePath::of(o.info.group, o.info.version, o.info.plural).named(o.name);
  return o.info.namespaced ? p.in(o.namespace_) : p;
}

kube::ResourcePath workload_path(const migrate::ObjectRef& ref) {
  const auto* info = find_kind("apps/v1", ref.kind);
  const std::string plural = info != nullptr ? info->plural : "daemonsets";
  return kube::ResourcePath::of("apps", "v1", plural).in(ref.ns).named(ref.name);
}

// Patch bodies are built outside the coroutines: GCC 12 miscompiles braced
// initializer lists whose temporaries live across a co_await.
boost::json::object node_selector_patch(const boost::json::object& selector) {
  boost::json::object pod_spec;
  pod_spec["nodeSelector"] = selector;
  boost::json::object tmpl;
  tmpl["spec"] = std::move(pod_spec);
  boost::json::object spec;
  spec["template"] = std::move(tmpl);
  boost::json::object patch;
  patch["spec"] = std::move(spec);
  return patch;
}

boost::json::array current_taints(const boost::json::object& node) {
  const auto* spec = wire::obj(node, "spec");
  if (spec == nullptr)
    return {};
  const auto* taints = spec->if_contains("taints");
  if (taints == nullptr || !taints->is_array())
    return {};
  return taints->get_array();
}

// The write applies only to the object as read (409 Conflict otherwise).
void require_resource_version(boost::json::object& patch, const boost::json::object& read) {
  auto& meta = patch["metadata"];
  if (!meta.is_object())
    meta = boost::json::object();
  meta.as_object()["resourceVersion"] = read.at("metadata").at("resourceVersion");
}

}  // namespace

ActionExecutor::ActionExecutor(kube::Client& client, const migrate::ClusterSnapshot& cluster,
                               const std::map<std::string, ManifestBundle>& bundles,
                               ExecutorSettings settings, events::EventSink& events,
                               probe::PodExecutor& prober)
    : client_(client),
      cluster_(cluster),
      bundles_(bundles),
      settings_(std::move(settings)),
      events_(events),
      prober_(prober) {}

bool ActionExecutor::is_own_pod(const std::string& ns, const std::string& name) const {
  return !settings_.own_pod_name.empty() && ns == settings_.own_pod_namespace &&
         name == settings_.own_pod_name;
}

asio::awaitable<Result<void>> ActionExecutor::execute(const migrate::Action& action,
                                                      const migrate::RunRecord& run) {
  using namespace migrate;
  const auto& k = action.kind;
  if (is_node_object_write(action)) {
    const std::vector<Action> one(1, action);
    co_return co_await execute_node_writes(one, run);
  }
  if (const auto* a = std::get_if<EvictPod>(&k))
    co_return co_await evict(action, *a);
  if (const auto* a = std::get_if<DeletePod>(&k))
    co_return co_await delete_pod(action.node, *a);
  if (const auto* a = std::get_if<ApplyBundle>(&k))
    co_return co_await apply_bundle(a->id);
  if (const auto* a = std::get_if<DeleteBundle>(&k))
    co_return co_await delete_bundle(a->id);
  if (const auto* a = std::get_if<PatchDaemonSetNodeSelector>(&k)) {
    auto patch = node_selector_patch(merge_map_patch(a->set, a->remove));
    const auto path = workload_path(ObjectRef{kDaemonSet, a->ns, a->name});
    co_return co_await merge_patch(kDaemonSet, path, std::move(patch));
  }
  if (const auto* a = std::get_if<RestoreCiliumDefaults>(&k))
    co_return co_await restore_cilium_defaults(*a);
  if (const auto* a = std::get_if<DeleteObject>(&k))
    co_return co_await delete_object(a->object);
  if (std::holds_alternative<RunConnectivityCheck>(k))
    co_return co_await connectivity_check(action, run);
  co_return Result<void>{};  // WaitFor: nothing to execute
}

asio::awaitable<Result<void>> ActionExecutor::merge_patch(std::string_view kind,
                                                          const kube::ResourcePath& path,
                                                          boost::json::object patch) {
  auto body = boost::json::serialize(patch);
  kube::WriteOptions options;
  options.dry_run = settings_.dry_run;
  auto r = co_await client_.patch(path, kube::PatchType::merge, std::move(body), options);
  if (!r)
    co_return r.error();
  wrote(kind, *r);
  co_return Result<void>{};
}

void ActionExecutor::wrote(std::string_view kind, const boost::json::object& object) {
  if (written_ && !settings_.dry_run)
    written_(kind, object);
}

// spec.taints is a list that a merge patch replaces whole: read the node,
// compute its list and write it back with the resourceVersion we read, so a
// concurrent change (the node controller adds taints too) is not lost; on
// 409 Conflict read again. Labels, annotations and the cordon ride along.
asio::awaitable<Result<void>> ActionExecutor::execute_node_writes(
    const std::vector<migrate::Action>& writes, const migrate::RunRecord&) {
  if (writes.empty() || written_node(writes.front()) == nullptr)
    co_return make_error(Errc::internal, "not a batch of node writes");
  const std::string node = *written_node(writes.front());
  auto r = co_await patch_node(node, writes);
  if (r && settings_.order_cutoffs && !settings_.dry_run) {
    for (const auto& w : writes) {
      const auto* a = std::get_if<migrate::AnnotateNode>(&w.kind);
      if (a != nullptr && !a->cutoff.empty() && a->set.contains(a->cutoff))
        co_await order_cutoff(node, a->cutoff, a->set.at(a->cutoff));
    }
  }
  co_return r;
}

// The pods' resourceVersion now, read after the cut-off's write returned:
// every pod created before that write has a version at most this one. A
// pod the watch then shows being created with a larger one came after the
// cut-off, even within its second, so the deletion need not wait for the
// server's clock. Best effort: without it the core waits as before.
asio::awaitable<void> ActionExecutor::order_cutoff(const std::string& node,
                                                   const std::string& annotation,
                                                   const std::string& value) {
  const auto pods = kube::ResourcePath::core("pods");
  auto version = co_await client_.current_version(pods, kube::RequestOptions());
  const std::uint64_t pod_version = version ? wire::version_number(*version) : 0;
  if (pod_version == 0) {
    spdlog::debug(
        "node {}: the pods' resourceVersion after cut-off {} is not known ({}): the "
        "deletion waits for the cut-off's second",
        node, annotation, version ? "not a number: " + *version : version.error().describe());
    co_return;
  }
  report_outcome(CutoffOrdered{node, annotation, migrate::CutoffOrder{value, pod_version}});
}

asio::awaitable<Result<void>> ActionExecutor::patch_node(
    const std::string& node, const std::vector<migrate::Action>& writes) {
  const auto path = node_path(node);
  if (!edits_taints(writes)) {
    auto patch = node_merge_patch(writes, boost::json::array());
    co_return co_await merge_patch("Node", path, std::move(patch.body));
  }
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto current = co_await client_.get(path, kube::RequestOptions());
    if (!current)
      co_return current.error();
    auto patch = node_merge_patch(writes, current_taints(*current));
    if (patch.body.empty()) {
      wrote("Node", *current);
      co_return Result<void>{};  // already as wanted
    }
    if (patch.replaces_taints)
      require_resource_version(patch.body, *current);
    auto r = co_await merge_patch("Node", path, std::move(patch.body));
    if (r || r.error().code != Errc::conflict)
      co_return r;
  }
  co_return make_error(Errc::conflict,
                       "node " + node + " kept changing while its taints were edited");
}

asio::awaitable<Result<void>> ActionExecutor::apply_bundle(const std::string& id) {
  auto it = bundles_.find(id);
  if (it == bundles_.end())
    co_return make_error(Errc::internal, "no manifest bundle " + id);
  for (const auto& object : it->second.objects()) {
    // A dry run persists nothing, so the objects in a Namespace that this
    // dry run would create meet 404 `namespaces "X" not found` (the
    // NamespaceLifecycle admission plugin): like the plan's writes on other
    // objects it creates, they cannot be checked before the real run.
    if (settings_.dry_run && object.info.namespaced &&
        dry_run_.new_namespaces.contains(object.namespace_)) {
      ++dry_run_.objects_skipped;
      continue;
    }
    kube::ApplyOptions options;
    options.force = true;  // the agent owns these objects' fields
    options.dry_run = settings_.dry_run;
    const auto path = object_path(object);
    auto r = co_await client_.apply(path, object.body, options);
    if (settings_.dry_run)
      ++dry_run_.objects_checked;
    if (!r) {
      auto e = r.error();
      e.message = "applying " + object.describe() + ": " + e.message;
      co_return e;
    }
    // The answer to a dry-run create has no resourceVersion (nothing was
    // stored): this Namespace does not exist yet.
    if (settings_.dry_run && object.kind == "Namespace" && wire::resource_version(*r).empty())
      dry_run_.new_namespaces.insert(object.name);
    wrote(object.kind, *r);
  }
  co_return Result<void>{};
}

// Everything but the workloads first, the workloads last: a bundle counts as
// applied while its workloads exist, so a crash half-way leaves it "applied"
// and the next run deletes the rest.
asio::awaitable<Result<void>> ActionExecutor::delete_bundle(const std::string& id) {
  auto it = bundles_.find(id);
  if (it == bundles_.end())
    co_return make_error(Errc::internal, "no manifest bundle " + id);
  const auto& objects = it->second.objects();
  std::vector<const ManifestObject*> order;
  for (auto o = objects.rbegin(); o != objects.rend(); ++o) {
    if (o->info.group != "apps")
      order.push_back(&*o);
  }
  for (const auto& o : objects) {
    if (o.info.group == "apps")
      order.push_back(&o);
  }
  for (const auto* o : order) {
    const auto path = object_path(*o);
    kube::DeleteOptions options;
    options.dry_run = settings_.dry_run;
    auto removed = co_await client_.remove(path, options);
    if (auto r = gone_is_fine(removed); !r)
      co_return r;
    // Objects no watch shows (a CiliumNodeConfig) are gone once deleted; a
    // workload answered 404 is gone whatever its watch still shows.
    if (o->info.group == "cilium.io" || (!removed && o->info.group == "apps"))
      gone(o->kind, o->namespace_, o->name);
  }
  co_return Result<void>{};
}

asio::awaitable<Result<void>> ActionExecutor::delete_object(const migrate::ObjectRef& ref) {
  const auto path = workload_path(ref);
  kube::DeleteOptions options;
  options.dry_run = settings_.dry_run;
  auto removed = co_await client_.remove(path, options);
  if (!removed && removed.error().code == Errc::not_found)
    gone(ref.kind, ref.ns, ref.name);
  co_return gone_is_fine(removed);
}

// An object known to be gone: a deletion answered 404 (whatever the watch
// still shows), or deleted and never watched (a CiliumNodeConfig). Told to
// the cache as an answer without a resourceVersion that
// carries a deletionTimestamp (ClusterCache::apply_written), so a watch
// that missed the deletion (seen under API faults: cleanup deleted the
// node-cleanup DaemonSet again and again, each time answered 404) cannot
// hold the run.
void ActionExecutor::gone(std::string_view kind, const std::string& ns, const std::string& name) {
  boost::json::object going{
      {"metadata", {{"name", name}, {"namespace", ns}, {"deletionTimestamp", "gone"}}}};
  wrote(kind, going);
}

}  // namespace cnimig::agent
