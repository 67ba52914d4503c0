#include "cluster_model.hpp"

#include <algorithm>

#include <boost/asio/post.hpp>

#include "cilium_operator.hpp"
#include "cluster_bootstrap.hpp"
#include "controller_context.hpp"
#include "daemonset_controller.hpp"
#include "deployment_controller.hpp"
#include "disruption_controller.hpp"
#include "json_fields.hpp"
#include "kubelet_model.hpp"
#include "makespan_bound.hpp"
#include "node_lifecycle.hpp"
#include "replicaset_controller.hpp"
#include "scheduler.hpp"
#include "service_account_controller.hpp"
#include "statefulset_controller.hpp"

namespace cnimig::sim {

namespace json = boost::json;
using namespace fields;

namespace {
// CiliumNodeConfigs, once their CRD is registered (by group and plural: the
// type is registered at run time).
bool is_node_config(const ResourceType& type) {
  return type.group == "cilium.io" && type.plural == "ciliumnodeconfigs";
}
}  // namespace

struct ClusterModel::Impl {
  Impl(boost::asio::io_context& io_, ObjectStore& store, ClusterOptions opts)
      : io(io_),
        options(std::move(opts)),
        network(options),
        ctx{store, options, network},
        daemonsets(ctx),
        replicasets(ctx),
        deployments(ctx),
        statefulsets(ctx),
        scheduler(ctx),
        disruption(ctx),
        lifecycle(ctx),
        cilium_operator(ctx),
        accounts(ctx,
                 [this](const Change& c) {
                   daemonsets.observe(c);
                   replicasets.observe(c);
                   statefulsets.observe(c);
                 }),
        kubelet(io, ctx) {}

  boost::asio::io_context& io;
  ClusterOptions options;
  NetworkModel network;
  ControllerContext ctx;
  DaemonSetController daemonsets;
  ReplicaSetController replicasets;
  DeploymentController deployments;
  StatefulSetController statefulsets;
  Scheduler scheduler;
  DisruptionController disruption;
  NodeLifecycle lifecycle;
  CiliumOperator cilium_operator;
  ServiceAccountController accounts;
  KubeletModel kubelet;
  std::size_t observer = 0;
  bool posted = false;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
  std::size_t passes = 0;

  bool pending() const {
    return daemonsets.pending() || replicasets.pending() || deployments.pending() ||
           statefulsets.pending() || scheduler.pending() || disruption.pending() ||
           lifecycle.pending() || cilium_operator.pending() || accounts.pending();
  }

  void on_change(const Change& c) {
    const auto now = NetworkModel::Clock::now();
    const json::object* before = c.type == ChangeType::added ? nullptr : c.old_object.get();
    const json::object* after = c.type == ChangeType::deleted ? nullptr : c.object.get();
    if (c.resource == &ctx.pods)
      network.pod_changed(before, after, now);
    else if (c.resource == &ctx.nodes)
      network.node_changed(before, after, now);
    else if (c.resource == &ctx.daemonsets)
      network.daemonset_changed(before, after, now);
    else if (c.resource == &resource_type("", "configmaps"))
      network.configmap_changed(before, after, now);
    else if (is_node_config(*c.resource))
      network.node_config_changed(before, after);
    if (options.kubelet_only) {
      kubelet.observe(c);
      return;
    }
    daemonsets.observe(c);
    replicasets.observe(c);
    deployments.observe(c);
    statefulsets.observe(c);
    scheduler.observe(c);
    disruption.observe(c);
    lifecycle.observe(c);
    cilium_operator.observe(c);
    accounts.observe(c);
    kubelet.observe(c);
    schedule_pass();
  }

  void schedule_pass() {
    if (posted || !pending())
      return;
    posted = true;
    boost::asio::post(io, [this, a = alive] {
      if (!*a)
        return;
      posted = false;
      ++passes;
      // Accounts before the pods that need them, owners before dependents,
      // the scheduler after the creators, PDBs last.
      accounts.reconcile();
      deployments.reconcile();
      replicasets.reconcile();
      statefulsets.reconcile();
      daemonsets.reconcile();
      lifecycle.reconcile();
      scheduler.reconcile();
      disruption.reconcile();
      cilium_operator.reconcile();
      schedule_pass();
    });
  }
};

ClusterModel::ClusterModel(boost::asio::io_context& io, ObjectStore& store, ClusterOptions options)
    : impl_(std::make_unique<Impl>(io, store, std::move(options))) {
  auto* impl = impl_.get();
  impl_->network.on_node_network_changed(
      [impl](const std::string& node) { impl->kubelet.network_changed(node); });
  impl_->observer = store.observe([impl](const Change& c) { impl->on_change(c); });
  // Adopt what the store already holds (a model attached to a populated store).
  // CiliumNodeConfigs before the pods: a started Cilium agent took them.
  for (const auto* type :
       {&impl->ctx.namespaces, &impl->ctx.nodes, &impl->ctx.daemonsets,
        &resource_type("", "configmaps"), find_resource_type("cilium.io", "ciliumnodeconfigs"),
        &impl->ctx.pods, &impl->ctx.replicasets, &impl->ctx.deployments, &impl->ctx.statefulsets,
        &impl->ctx.pdbs})
    if (type)
      for (const auto& o : store.list(*type, ""))
        impl->on_change(Change{ChangeType::added, type, nullptr, o, store.resource_version()});
}

ClusterModel::~ClusterModel() {
  *impl_->alive = false;
  impl_->ctx.store.unobserve(impl_->observer);
}

void ClusterModel::bootstrap(std::size_t nodes, std::size_t pods_per_node) {
  populate_cluster(impl_->ctx, nodes, pods_per_node);
}

void ClusterModel::set_faults(const std::map<std::string, std::string>& extra) {
  auto& faults = impl_->options.faults;
  const auto value = [](const auto& m, std::string_view k) {
    auto it = m.find(k);
    return it == m.end() ? std::string() : std::string(it->second);
  };
  auto next = cluster_faults_from(extra);
  const auto old_node = value(faults, "never-ready-node");
  const auto old_pdb = value(faults, "blocking-pdb");
  faults = std::move(next);
  const auto new_node = value(faults, "never-ready-node");
  const auto new_pdb = value(faults, "blocking-pdb");
  if (!old_node.empty() && old_node != new_node)
    impl_->kubelet.readiness_restored(old_node);
  if (old_pdb != new_pdb) {
    for (const auto& k : {old_pdb, new_pdb})
      if (!k.empty())
        impl_->disruption.resync(k);
    impl_->schedule_pass();
  }
}

ExecResult ClusterModel::exec(const json::object& pod, const std::vector<std::string>& command) {
  ExecResult r;
  if (command.empty()) {
    r.exit_code = 126;
    r.stderr_text = "no command\n";
    return r;
  }
  const auto& cmd = command[0];
  if ((cmd == "/knet-stress" || cmd == "knet-stress") && command.size() >= 2 &&
      command[1] == "status")
    return impl_->network.knet_stress_status(pod);
  if (cmd == "true")
    return r;
  if (cmd == "hostname" || (cmd == "cat" && command.size() == 2 && command[1] == "/etc/hostname")) {
    r.stdout_text = std::string(name(pod)) + "\n";
    return r;
  }
  if (cmd == "ls" && command.size() == 2 &&
      (command[1] == "/etc/cni/net.d" || command[1] == "/etc/cni/net.d/")) {
    for (const auto& f : impl_->network.config_files(node_name(pod)))
      r.stdout_text += f + "\n";
    return r;
  }
  r.exit_code = 127;
  r.stderr_text = "exec: \"" + cmd + "\": executable file not found in $PATH\n";
  return r;
}

json::object ClusterModel::report() const {
  auto r = impl_->network.report(NetworkModel::Clock::now());
  const auto& store = impl_->ctx.store;
  std::size_t ready = 0, running = 0;
  const auto pods = store.list(impl_->ctx.pods, "");
  for (const auto& p : pods) {
    if (pod_ready(*p))
      ++ready;
    if (str(status(*p), "phase") == "Running")
      ++running;
  }
  r["nodes"] = store.count(impl_->ctx.nodes);
  r["pods"] = json::object{{"total", pods.size()},
                           {"running", running},
                           {"ready", ready},
                           {"waiting_for_network", impl_->kubelet.waiting_for_network()}};
  r["controller_passes"] = impl_->passes;
  // The source CNI's rollout budget, as its DaemonSet controller resolves it.
  const auto node_count = static_cast<std::int64_t>(store.count(impl_->ctx.nodes));
  std::int64_t source_max_unavailable = 1;
  if (auto ds = store.get(impl_->ctx.daemonsets, impl_->options.source_cni_namespace,
                          impl_->options.source_cni_daemonset)) {
    const auto* rolling = obj(obj(spec(*ds), "updateStrategy"), "rollingUpdate");
    source_max_unavailable = std::max<std::int64_t>(
        1, int_or_percent(rolling ? rolling->if_contains("maxUnavailable") : nullptr, node_count, 1,
                          false));
  }
  r["makespan_lower_bound"] =
      makespan_lower_bound(impl_->options, node_count, source_max_unavailable,
                           impl_->disruption.limits())
          .to_json();
  return r;
}

const NetworkModel& ClusterModel::network() const {
  return impl_->network;
}
const ClusterOptions& ClusterModel::options() const {
  return impl_->options;
}
bool ClusterModel::controllers_idle() const {
  return !impl_->posted && !impl_->pending();
}
std::size_t ClusterModel::kubelet_queue() const {
  return impl_->kubelet.queued();
}
std::size_t ClusterModel::pods_waiting_for_network() const {
  return impl_->kubelet.waiting_for_network();
}

}  // namespace cnimig::sim
