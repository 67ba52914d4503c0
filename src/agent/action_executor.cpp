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

namespace cnimig::agent {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

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

// Success, or the object was already gone: both mean "deleted".
Result<void> gone_is_fine(const Result<boost::json::object>& r) {
  if (r || r.error().code == Errc::not_found)
    return {};
  return r.error();
}

asio::awaitable<void> pause(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::use_awaitable);
}

const boost::json::object* object_at(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

// Patch bodies are built outside the coroutines: GCC 12 miscompiles braced
// initializer lists whose temporaries live across a co_await.
boost::json::object metadata_patch(const char* field, const boost::json::object& map) {
  boost::json::object inner;
  inner[field] = map;
  boost::json::object patch;
  patch["metadata"] = std::move(inner);
  return patch;
}

boost::json::object cordon_patch(bool unschedulable) {
  boost::json::object spec;
  // Uncordon removes the field, as `kubectl uncordon` does.
  spec["unschedulable"] = unschedulable ? boost::json::value(true) : boost::json::value(nullptr);
  boost::json::object patch;
  patch["spec"] = std::move(spec);
  return patch;
}

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

boost::json::object taints_patch(const boost::json::value& resource_version,
                                 const boost::json::array& taints) {
  boost::json::object meta;
  meta["resourceVersion"] = resource_version;
  boost::json::object spec;
  spec["taints"] = taints.empty() ? boost::json::value(nullptr) : boost::json::value(taints);
  boost::json::object patch;
  patch["metadata"] = std::move(meta);
  patch["spec"] = std::move(spec);
  return patch;
}

boost::json::object taint_object(const migrate::Taint& t) {
  boost::json::object o;
  o["key"] = t.key;
  o["value"] = t.value;
  o["effect"] = t.effect;
  return o;
}

}  // namespace

boost::json::object merge_map_patch(const std::map<std::string, std::string>& set,
                                    const std::vector<std::string>& remove) {
  boost::json::object out;
  for (const auto& [k, v] : set)
    out[k] = v;
  for (const auto& k : remove)
    out[k] = nullptr;
  return out;
}

bool selector_matches(const boost::json::object& selector, const boost::json::object& labels) {
  const auto label = [&](std::string_view key) -> const boost::json::value* {
    return labels.if_contains(key);
  };
  if (const auto* match = object_at(selector, "matchLabels")) {
    for (const auto& [k, v] : *match) {
      const auto* have = label(k);
      if (have == nullptr || *have != v)
        return false;
    }
  }
  if (const auto* exprs = selector.if_contains("matchExpressions");
      exprs != nullptr && exprs->is_array()) {
    for (const auto& e : exprs->get_array()) {
      if (!e.is_object())
        return false;
      const auto& expr = e.get_object();
      const auto key =
          expr.contains("key") && expr.at("key").is_string() ? expr.at("key").get_string() : "";
      const auto op = expr.contains("operator") && expr.at("operator").is_string()
                          ? expr.at("operator").get_string()
                          : "";
      const auto* have = label(key);
      bool in_values = false;
      if (const auto* values = expr.if_contains("values");
          values != nullptr && values->is_array() && have) {
        in_values = std::find(values->get_array().begin(), values->get_array().end(), *have) !=
                    values->get_array().end();
      }
      if (op == "In" && !in_values)
        return false;
      if (op == "NotIn" && have != nullptr && in_values)
        return false;
      if (op == "Exists" && have == nullptr)
        return false;
      if (op == "DoesNotExist" && have != nullptr)
        return false;
    }
  }
  return true;
}

ActionExecutor::ActionExecutor(kube::Client& client, migrate::ClusterSnapshot& snapshot,
                               const std::map<std::string, ManifestBundle>& bundles,
                               ExecutorSettings settings, events::EventSink& events,
                               probe::PodExecutor& prober)
    : client_(client),
      snapshot_(snapshot),
      bundles_(bundles),
      settings_(std::move(settings)),
      events_(events),
      prober_(prober) {}

bool ActionExecutor::is_own_pod(const std::string& ns, const std::string& name) const {
  return !settings_.own_pod_name.empty() && ns == settings_.own_pod_namespace &&
         name == settings_.own_pod_name;
}

asio::awaitable<Result<void>> ActionExecutor::execute(const migrate::Action& action) {
  using namespace migrate;
  const auto& k = action.kind;
  if (const auto* a = std::get_if<LabelNode>(&k)) {
    co_return co_await patch_node(a->node,
                                  metadata_patch("labels", merge_map_patch(a->set, a->remove)));
  }
  if (const auto* a = std::get_if<AnnotateNode>(&k)) {
    co_return co_await patch_node(
        a->node, metadata_patch("annotations", merge_map_patch(a->set, a->remove)));
  }
  if (const auto* a = std::get_if<SetCordon>(&k)) {
    co_return co_await patch_node(a->node, cordon_patch(a->unschedulable));
  }
  if (const auto* a = std::get_if<AddTaint>(&k))
    co_return co_await change_taints(a->node, a->taint, true);
  if (const auto* a = std::get_if<RemoveTaint>(&k))
    co_return co_await change_taints(a->node, a->taint, false);
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
    co_return co_await connectivity_check(action);
  co_return Result<void>{};  // WaitFor, Halt, Done: nothing to execute
}

asio::awaitable<Result<void>> ActionExecutor::patch_node(const std::string& node,
                                                         boost::json::object patch) {
  const auto path = node_path(node);
  co_return co_await merge_patch("Node", path, std::move(patch));
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
// edit its list and write it back with the resourceVersion we read, so a
// concurrent change (the node controller adds taints too) is not lost; on
// 409 Conflict read again.
asio::awaitable<Result<void>> ActionExecutor::change_taints(const std::string& node,
                                                            const migrate::Taint& taint, bool add) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    const auto path = node_path(node);
    auto current = co_await client_.get(path, kube::RequestOptions());
    if (!current)
      co_return current.error();
    boost::json::array taints;
    const auto* spec = object_at(*current, "spec");
    if (spec != nullptr) {
      if (const auto* t = spec->if_contains("taints"); t != nullptr && t->is_array())
        taints = t->get_array();
    }
    const auto same = [&](const boost::json::value& v) {
      return v.is_object() && v.get_object().contains("key") &&
             v.get_object().at("key") == taint.key.c_str() && v.get_object().contains("effect") &&
             v.get_object().at("effect") == taint.effect.c_str();
    };
    const auto it = std::find_if(taints.begin(), taints.end(), same);
    if (add == (it != taints.end())) {
      wrote("Node", *current);
      co_return Result<void>{};  // already as wanted
    }
    if (add) {
      taints.push_back(taint_object(taint));
    } else {
      taints.erase(it);
    }
    const auto rv = current->at("metadata").at("resourceVersion");
    const auto patch = taints_patch(rv, taints);
    auto body = boost::json::serialize(patch);
    kube::WriteOptions options;
    options.dry_run = settings_.dry_run;
    auto r = co_await client_.patch(path, kube::PatchType::merge, std::move(body), options);
    if (r) {
      wrote("Node", *r);
      co_return Result<void>{};
    }
    if (r.error().code != Errc::conflict)
      co_return r.error();
  }
  co_return make_error(Errc::conflict,
                       "node " + node + " kept changing while its taints were edited");
}

asio::awaitable<std::string> ActionExecutor::blocking_pdb(const std::string& ns,
                                                          const std::string& pod) {
  const auto pod_path = kube::ResourcePath::core("pods").in(ns).named(pod);
  const auto pdb_path = kube::ResourcePath::of("policy", "v1", "poddisruptionbudgets").in(ns);
  auto object = co_await client_.get(pod_path, kube::RequestOptions());
  auto pdbs = co_await client_.list(pdb_path, kube::ListOptions());
  if (!object || !pdbs)
    co_return std::string("a PodDisruptionBudget");
  const auto* meta = object_at(*object, "metadata");
  const auto* labels = meta != nullptr ? object_at(*meta, "labels") : nullptr;
  const boost::json::object empty;
  for (const auto& pdb : pdbs->items) {
    const auto* spec = object_at(pdb, "spec");
    const auto* selector = spec != nullptr ? object_at(*spec, "selector") : nullptr;
    if (selector != nullptr && selector_matches(*selector, labels != nullptr ? *labels : empty)) {
      co_return ns + "/" + std::string(pdb.at("metadata").at("name").as_string());
    }
  }
  co_return std::string("a PodDisruptionBudget");
}

// Through the eviction API, so PodDisruptionBudgets decide. A 429 means the
// budget allows no disruption now: retry with backoff until the drain
// timeout, then give up with the PDB named.
asio::awaitable<Result<void>> ActionExecutor::evict(const migrate::Action& action,
                                                    const migrate::EvictPod& pod) {
  if (is_own_pod(pod.ns, pod.name))
    co_return Result<void>{};
  const auto deadline = Clock::now() + settings_.timeouts.drain;
  std::chrono::milliseconds backoff{500};
  std::string pdb;
  const auto unblock = [&] {
    std::erase_if(snapshot_.blocked_evictions, [&](const migrate::BlockedEviction& b) {
      return b.ns == pod.ns && b.name == pod.name;
    });
  };
  for (;;) {
    kube::DeleteOptions options;
    options.request.max_attempts = 1;
    options.dry_run = settings_.dry_run;
    auto r = co_await client_.evict(pod.ns, pod.name, options);
    if (r || r.error().code == Errc::not_found) {
      unblock();
      record_removed(action.node, pod.uid);  // never evicted twice
      co_return Result<void>{};
    }
    if (r.error().code == Errc::too_many_requests) {
      if (pdb.empty()) {
        pdb = co_await blocking_pdb(pod.ns, pod.name);
        snapshot_.blocked_evictions.push_back({pod.ns, pod.name, pdb});
        events_.emit(events::Event(events::catalogued("pod.eviction_blocked"))
                         .step(migrate::to_string(action.step))
                         .node(action.node)
                         .resource("Pod " + pod.ns + "/" + pod.name)
                         .field("pdb", pdb));
      }
      if (settings_.dry_run) {
        unblock();  // admitted but for the budget, which a real run waits for
        co_return Result<void>{};
      }
    } else if (!r.error().retryable()) {
      unblock();
      co_return r.error();
    }
    if (Clock::now() + backoff > deadline) {
      unblock();
      co_return make_error(
          Errc::timeout,
          "eviction of pod " + pod.ns + "/" + pod.name + " was refused by " +
              (pdb.empty() ? std::string("the API server") : "PodDisruptionBudget " + pdb) +
              " until the drain timeout");
    }
    co_await pause(std::max(backoff, r.error().retry_after));
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(30));
  }
}

void ActionExecutor::record_removed(const std::string& node, const std::string& uid) {
  if (uid.empty() || settings_.dry_run)
    return;
  auto n = snapshot_.nodes.find(node);
  if (n == snapshot_.nodes.end())
    return;
  // The watch may have delivered the deletion before this answer: then there
  // is nothing left to guard, and recording the uid would keep it forever.
  const auto& pods = n->second.pods;
  if (std::any_of(pods.begin(), pods.end(),
                  [&](const migrate::PodState& p) { return p.uid == uid; }))
    snapshot_.removed_pods.insert(uid);
}

asio::awaitable<Result<void>> ActionExecutor::delete_pod(const std::string& node,
                                                         const migrate::DeletePod& pod) {
  if (is_own_pod(pod.ns, pod.name))
    co_return Result<void>{};
  const auto path = kube::ResourcePath::core("pods").in(pod.ns).named(pod.name);
  kube::DeleteOptions options;
  options.dry_run = settings_.dry_run;
  // Only this incarnation: a StatefulSet's replacement has the same name.
  options.precondition_uid = pod.uid;
  auto removed = co_await client_.remove(path, options);
  // 409 on the uid precondition: the name now belongs to a replacement, so
  // the pod we meant is gone.
  if (!removed && removed.error().code == Errc::conflict && !pod.uid.empty())
    removed = boost::json::object();
  if (auto r = gone_is_fine(removed); !r)
    co_return r;
  record_removed(node, pod.uid);  // never deleted twice
  co_return Result<void>{};
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
    if (settings_.dry_run && object.kind == "Namespace" && kube::resource_version_of(*r).empty())
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
  }
  co_return Result<void>{};
}

asio::awaitable<Result<void>> ActionExecutor::delete_object(const migrate::ObjectRef& ref) {
  const auto path = workload_path(ref);
  kube::DeleteOptions options;
  options.dry_run = settings_.dry_run;
  auto removed = co_await client_.remove(path, options);
  co_return gone_is_fine(removed);
}

ProbeSelection select_probe_targets(const migrate::ClusterSnapshot& snapshot,
                                    const std::string& knet_stress_namespace,
                                    const std::vector<std::string>& knet_stress_daemonsets) {
  ProbeSelection out;
  std::vector<std::string> absent;
  for (const auto& name : knet_stress_daemonsets) {
    const auto* w = snapshot.workload({migrate::kDaemonSet, knet_stress_namespace, name});
    if (w == nullptr || !w->exists) {
      absent.push_back(knet_stress_namespace + "/" + name);
      continue;
    }
    out.expected += w->desired;
  }
  for (const auto& [name, node] : snapshot.nodes) {
    for (const auto& pod : node.pods) {
      // A pod this run deleted is going even while the watch still shows it.
      if (pod.ns != knet_stress_namespace || !pod.daemon_set_owned() || pod.terminating ||
          !pod.ready || snapshot.removed_pods.contains(pod.uid)) {
        continue;
      }
      if (std::find(knet_stress_daemonsets.begin(), knet_stress_daemonsets.end(), pod.owner_name) ==
          knet_stress_daemonsets.end()) {
        continue;
      }
      out.targets.push_back({pod.ns, pod.name, name});
    }
  }
  const auto present = static_cast<std::int64_t>(out.targets.size());
  if (present != out.expected || out.expected == 0) {
    out.missing = std::to_string(present) + "/" + std::to_string(out.expected) +
                  " knet-stress pods present and Ready";
  }
  for (const auto& ds : absent)
    out.missing += (out.missing.empty() ? "" : "; ") + ("DaemonSet " + ds + " absent");
  return out;
}

namespace {

// A probe whose exec the API server refused (403) proves nothing about
// connectivity, and retrying will not help: the credentials lack the
// permission (a WebSocket exec needs `get pods/exec`, from Kubernetes 1.35
// also `create`). The error names it.
std::optional<Error> refused_probe(const probe::ConnectivityReport& report,
                                   const std::string& permission) {
  for (const auto& f : report.failures) {
    if (!f.exec_error || f.exec_error->code != Errc::forbidden)
      continue;
    Error e = *f.exec_error;
    e.message = permission + " (the API server refused the knet-stress probe's exec into " +
                f.target.namespace_ + "/" + f.target.pod + ": " + e.message + ")";
    return e;
  }
  return std::nullopt;
}

}  // namespace

// Retries a failing check until timeouts.connectivity: right after a node
// changes, peers may need a moment to see each other. Only the final outcome
// is recorded, with the write generation at which the passing (or last)
// attempt started, so a check that predates a write never opens a gate.
asio::awaitable<Result<void>> ActionExecutor::connectivity_check(const migrate::Action& action) {
  const auto deadline = Clock::now() + settings_.timeouts.connectivity;
  std::chrono::milliseconds backoff{1000};
  for (int round = 1;; ++round) {
    const auto generation = snapshot_.write_generation;
    auto selection = select_probe_targets(snapshot_, settings_.knet_stress_namespace,
                                          settings_.knet_stress_daemonsets);
    const auto pods = selection.targets.size();
    // A subset of the pods proves nothing about the nodes left out: the
    // round fails, and is retried like any other, until every pod is there.
    probe::ConnectivityReport report;
    if (selection.missing.empty()) {
      report = co_await probe::run_connectivity_check(prober_, std::move(selection.targets),
                                                      settings_.check);
    }
    if (report.passed) {
      snapshot_.last_check = migrate::CheckResult{true, generation, {}};
      auto passed = events::Event(events::catalogued("probe.passed"))
                        .step(migrate::to_string(action.step))
                        .duration(report.duration)
                        .field("pods", static_cast<std::int64_t>(report.probed))
                        .field("rounds", round);
      if (!action.node.empty())
        passed.node(action.node);
      events_.emit(passed);
      co_return Result<void>{};
    }
    if (auto denied = refused_probe(report, settings_.exec_permission))
      co_return *denied;
    std::string detail = !selection.missing.empty()
                             ? selection.missing
                             : std::to_string(report.failures.size()) + "/" + std::to_string(pods) +
                                   " knet-stress pods cannot reach all peers";
    for (std::size_t i = 0; i < report.failures.size() && i < 3; ++i) {
      const auto& f = report.failures[i];
      detail +=
          (i == 0 ? ": " : "; ") + f.target.pod + " on " + f.target.node + " (" + f.detail + ")";
    }
    auto failed = events::Event(events::catalogued("probe.failed"))
                      .step(migrate::to_string(action.step))
                      .duration(report.duration)
                      .error(detail)
                      .field("round", round);
    if (!action.node.empty())
      failed.node(action.node);
    events_.emit(failed);
    if (Clock::now() + backoff > deadline) {
      snapshot_.last_check = migrate::CheckResult{false, generation, detail};
      co_return Result<void>{};
    }
    co_await pause(backoff);
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(15));
  }
}

}  // namespace cnimig::agent
