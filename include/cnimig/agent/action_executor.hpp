#pragma once
// Carries out the core's actions against the API. Each is idempotent (an
// object already gone counts as deleted, a label already set is set again).
// What the core must see is reported as outcomes (action_outcome.hpp: the
// connectivity check's result, evictions a PodDisruptionBudget blocks, pods
// removed) for the driver to fold into its record; a write that fails for
// good is returned as an error. It reads the cluster view and the record,
// and edits neither.

#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "cnimig/agent/action_outcome.hpp"
#include "cnimig/agent/action_runner.hpp"
#include "cnimig/agent/budget_watch.hpp"
#include "cnimig/agent/manifest_bundle.hpp"
#include "cnimig/agent/namespace_pods.hpp"
#include "cnimig/agent/node_write_batch.hpp"
#include "cnimig/config/config.hpp"
#include "cnimig/events/event_sink.hpp"
#include "cnimig/kube/client.hpp"
#include "cnimig/migrate/action.hpp"
#include "cnimig/migrate/cluster_snapshot.hpp"
#include "cnimig/migrate/migration_settings.hpp"
#include "cnimig/migrate/run_record.hpp"
#include "cnimig/probe/connectivity_check.hpp"

namespace cnimig::agent {

struct ExecutorSettings {
  config::Timeouts timeouts;
  probe::CheckSettings check;
  std::string knet_stress_namespace = "knet-stress";
  std::vector<std::string> knet_stress_daemonsets = {"knet-stress", "knet-stress-2"};
  std::string own_pod_namespace;  // in-cluster: the agent never evicts or deletes its own pod
  std::string own_pod_name;
  // What a probe's exec needs on this server (permission_check.hpp's
  // exec_permission): named when the API server refuses one with 403.
  std::string exec_permission = "get pods/exec";
  // Plan mode's server-side check (README.md "Usage"): every write goes out
  // with dryRun=All, so the API server validates and admits it (RBAC,
  // admission, schema, preconditions) and persists nothing. A PDB-blocked
  // eviction is not a failed check: the real run waits for the budget.
  bool dry_run = false;
  // After writing a pod cut-off, read where it falls in the pods'
  // resourceVersion order (CutoffOrdered). Only where the API promises that
  // resourceVersions of one resource compare (Kubernetes 1.35, KEP-5504):
  // elsewhere the core waits for the cut-off's second.
  bool order_cutoffs = false;
};

class ActionExecutor final : public ActionRunner {
 public:
  // `cluster`: the watch cache's view (which pods a check probes).
  ActionExecutor(kube::Client& client, const migrate::ClusterSnapshot& cluster,
                 const std::map<std::string, ManifestBundle>& bundles, ExecutorSettings settings,
                 events::EventSink& events, probe::PodExecutor& prober);

  // Runs one action to completion. A write that fails for good is returned
  // as an error (the driver records it as a Failure); a connectivity check
  // that keeps failing until its timeout is an outcome, not an error. `run`
  // is the driver's record as it stands while the action runs (a check
  // reads the write generation and the pods this run removed).
  boost::asio::awaitable<Result<void>> execute(const migrate::Action& action,
                                               const migrate::RunRecord& run) override;

  // Consecutive writes to one Node (node_write_batch.hpp) as one merge
  // patch: all of them or none. One write alone is the same patch.
  boost::asio::awaitable<Result<void>> execute_node_writes(
      const std::vector<migrate::Action>& writes, const migrate::RunRecord& run) override;

  // Called with every outcome as it happens (not at all when unset).
  void on_outcome(OutcomeHandler handler) override { outcome_ = std::move(handler); }

  // Called with the API's answer to every write of a Node or workload (its
  // kind, the object as stored), so the driver's cache shows the write before
  // the watch does (ClusterCache::apply_written). Not called in dry runs.
  void on_written(WrittenHandler handler) override { written_ = std::move(handler); }

  // A check whose knet-stress pods are not all there yet waits for the
  // snapshot to change (until its timeout) rather than failing a round.
  void on_snapshot_changes(ChangeSignal& signal) override { changes_ = &signal; }

  // A check selects its targets from this index of the knet-stress
  // namespace's pods (ClusterCache::namespace_pods, in step with `cluster`)
  // rather than from every pod of `cluster`: the same targets, at the cost
  // of the knet-stress pods on each change a waiting check sees. Ignored
  // when it indexes another namespace than settings.knet_stress_namespace.
  void select_from(const NamespacePods& knet_stress_pods) {
    knet_stress_pods_ =
        knet_stress_pods.ns() == settings_.knet_stress_namespace ? &knet_stress_pods : nullptr;
  }
  // The pods the connectivity checks have looked at so far, every selection
  // (each wake of a waiting check) counted: what their waits cost.
  std::size_t pods_examined() const noexcept { return pods_examined_; }

  // An eviction a watched PodDisruptionBudget refused (a 429 without
  // Retry-After) waits for that budget to allow a disruption (or its
  // fallback timer) instead of retrying on the backoff alone. Without it
  // (plan mode) every refusal uses the backoff.
  void wait_for_budgets(BudgetWatch& budgets) { budgets_ = &budgets; }

  // Dry runs: how many manifest objects were sent, and how many were not
  // because they live in a Namespace the same dry run would create.
  struct DryRunTally {
    std::size_t objects_checked = 0;
    std::size_t objects_skipped = 0;
    std::set<std::string> new_namespaces;
  };
  const DryRunTally& dry_run_tally() const noexcept { return dry_run_; }

 private:
  boost::asio::awaitable<Result<void>> patch_node(const std::string& node,
                                                  const std::vector<migrate::Action>& writes);
  boost::asio::awaitable<void> order_cutoff(const std::string& node, const std::string& annotation,
                                            const std::string& value);
  boost::asio::awaitable<Result<void>> merge_patch(std::string_view kind,
                                                   const kube::ResourcePath& path,
                                                   boost::json::object patch);
  void wrote(std::string_view kind, const boost::json::object& object);
  void gone(std::string_view kind, const std::string& ns, const std::string& name);
  boost::asio::awaitable<Result<void>> evict(const migrate::Action& action,
                                             const migrate::EvictPod& pod);
  boost::asio::awaitable<Result<void>> delete_pod(const std::string& node,
                                                  const migrate::DeletePod& pod);
  void report_outcome(const ActionOutcome& outcome) const;
  // Reports an accepted eviction or deletion (not in dry runs).
  void record_removed(const std::string& node, const std::string& uid) const;
  boost::asio::awaitable<Result<void>> apply_bundle(const std::string& id);
  boost::asio::awaitable<Result<void>> delete_bundle(const std::string& id);
  boost::asio::awaitable<Result<void>> delete_object(const migrate::ObjectRef& ref);
  // restore_cilium_defaults.cpp
  boost::asio::awaitable<Result<void>> restore_cilium_defaults(
      const migrate::RestoreCiliumDefaults& restore);
  boost::asio::awaitable<Result<void>> connectivity_check(const migrate::Action& action,
                                                          const migrate::RunRecord& run);
  // The budget ("namespace/name") that selects the pod, "" when none is found.
  boost::asio::awaitable<std::string> blocking_pdb(const std::string& ns, const std::string& pod);
  bool is_own_pod(const std::string& ns, const std::string& name) const;

  kube::Client& client_;
  const migrate::ClusterSnapshot& cluster_;
  const std::map<std::string, ManifestBundle>& bundles_;
  ExecutorSettings settings_;
  events::EventSink& events_;
  probe::PodExecutor& prober_;
  WrittenHandler written_;
  OutcomeHandler outcome_;
  ChangeSignal* changes_ = nullptr;
  BudgetWatch* budgets_ = nullptr;
  const NamespacePods* knet_stress_pods_ = nullptr;
  std::size_t pods_examined_ = 0;
  std::mt19937_64 sample_rng_{std::random_device{}()};  // a sampled check's other nodes
  DryRunTally dry_run_;
};

// What a connectivity check probes: the Ready, non-terminating pods of the
// knet-stress DaemonSets, and how many there must be (the sum of their
// status.desiredNumberScheduled). A check over fewer pods proves nothing about
// the nodes left out, so it may pass only when `missing` is empty.
struct ProbeSelection {
  std::vector<probe::ProbeTarget> targets;
  std::int64_t expected = 0;
  // Why `targets` is not the whole cluster ("3/4 knet-stress pods present and
  // Ready"); empty when it is.
  std::string missing;
  std::size_t pods_examined = 0;  // the pods looked at to choose them
};
// Pods `run` removed are going even while the watch still shows them.
ProbeSelection select_probe_targets(const migrate::ClusterSnapshot& snapshot,
                                    const migrate::RunRecord& run,
                                    const std::string& knet_stress_namespace,
                                    const std::vector<std::string>& knet_stress_daemonsets);

// The same selection from the index of the knet-stress namespace's pods
// (its namespace is the knet-stress one), which must show what `snapshot`'s
// nodes hold of it: the workloads still come from `snapshot`. Without
// `targets_when_partial` a selection with `missing` lists no targets (what
// a check does not probe), and costs no copies.
ProbeSelection select_probe_targets(const migrate::ClusterSnapshot& snapshot,
                                    const NamespacePods& knet_stress_pods,
                                    const migrate::RunRecord& run,
                                    const std::vector<std::string>& knet_stress_daemonsets,
                                    bool targets_when_partial);

// A sampled check (`check.nodes` not empty): keeps the targets on those
// nodes and on `check.sample` other nodes drawn from `rng`, and returns the
// nodes kept, sorted. The selection still had to be whole (no `missing`):
// only the execs are narrowed.
std::vector<std::string> narrow_probe_targets(ProbeSelection& selection,
                                              const migrate::RunConnectivityCheck& check,
                                              std::mt19937_64& rng);

}  // namespace cnimig::agent
