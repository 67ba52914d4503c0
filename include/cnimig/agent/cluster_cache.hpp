#pragma once
// The driver's view of the cluster: informers over nodes, pods, DaemonSets,
// Deployments and StatefulSets that keep one migrate::ClusterSnapshot up to
// date in place. The cache owns that snapshot: nothing else edits it. Each pod lives once, as a
// PodState in its node's list (the pod informer itself keeps only the pod's node name), so memory
// stays small at 150,000 pods. Every change wakes `changes()`.

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <boost/asio/awaitable.hpp>

#include "cnimig/agent/change_signal.hpp"
#include "cnimig/agent/change_source.hpp"
#include "cnimig/agent/manifest_bundle.hpp"
#include "cnimig/agent/namespace_pods.hpp"
#include "cnimig/kube/client.hpp"
#include "cnimig/kube/informer.hpp"
#include "cnimig/migrate/cluster_snapshot.hpp"
#include "cnimig/migrate/migration_settings.hpp"

namespace cnimig::agent {

class ClusterCache final : public ChangeSource {
 public:
  // `workloads`: the DaemonSets, Deployments and StatefulSets the core reads
  // (watched, preflight, cleanup, the CNI DaemonSets, the bundles' workloads).
  ClusterCache(kube::Client& client, std::string annotation_prefix,
               std::set<migrate::ObjectRef> workloads);
  ~ClusterCache() override;

  // The bundles whose objects decide ClusterSnapshot::applied_bundles,
  // refreshed on every workload change. Must outlive the cache.
  void track_bundles(const std::map<std::string, ManifestBundle>& bundles);

  // Keeps the pods of namespace `ns` (the knet-stress one) apart as well,
  // for namespace_pods(). Call before run().
  void index_namespace(std::string ns) { namespace_pods_ = NamespacePods(std::move(ns)); }
  // The indexed namespace's pods, in step with snapshot(); empty (namespace
  // "") without index_namespace().
  const NamespacePods& namespace_pods() const noexcept { return namespace_pods_; }

  // Runs every informer until stop(); the first fatal watch error ends it.
  boost::asio::awaitable<Result<void>> run();
  void stop();

  // Succeeds once every informer has listed and its watch has been answered.
  // Fails at once when a list or
  // watch is refused for good (the error of the first informer that failed,
  // its message led by the request, e.g. "list nodes: ..."), else with
  // Errc::timeout.
  boost::asio::awaitable<Result<void>> wait_synced(std::chrono::steady_clock::duration timeout);
  // The first informer's final error (a 401 or 403 on its list or watch), as
  // wait_synced() reports it; nullopt while every informer runs.
  std::optional<Error> watch_failure() const;

  const migrate::ClusterSnapshot& snapshot() const noexcept override { return snapshot_; }
  ChangeSignal& changes() noexcept override { return changes_; }
  // Plan mode's hand-over: the plan is the run's last use of the snapshot,
  // moved out rather than copied (tens of MB at 150,000 pods). Watch events
  // that arrive later update what is left, which nothing reads any more.
  migrate::ClusterSnapshot release_snapshot() noexcept { return std::move(snapshot_); }

  // Read-your-writes: the API's answer to one of our writes (a Node, or a
  // DaemonSet, Deployment or StatefulSet: `kind`) goes into the snapshot at
  // once, so the next decision sees what this run already did; the watch,
  // which may trail it, never takes the snapshot back to an older version.
  // An object of a bundle without workloads (no watch: its CRD may not be
  // served yet) records that bundle as applied, or not once an answer
  // carries metadata.deletionTimestamp; preflight reports what it read so.
  void apply_written(std::string_view kind, const boost::json::object& object) override;
  void note_cutoff_order(const std::string& node, const std::string& annotation,
                         const migrate::CutoffOrder& order) override;
  migrate::TouchedNodes take_touched_nodes() override {
    return std::exchange(touched_, migrate::TouchedNodes{});
  }
  // metadata.uid of a node, for Events that point at it.
  std::string node_uid(const std::string& node) const;
  // The node of pod ns/name as the pod informer holds it now ("" while
  // unscheduled; nullopt when there is no such pod), independent of
  // snapshot(), which plan mode hands over to its plan.
  std::optional<std::string> pod_node(const std::string& ns, const std::string& name) const;

 private:
  migrate::InternedString upsert_pod(const boost::json::object& pod);
  void remove_pod(const std::string& key, const std::string& node);
  // The snapshot's pod ns/name in `node`'s list ("": the unscheduled ones).
  const migrate::PodState* shown_pod(const std::string& node, std::string_view ns,
                                     std::string_view name) const;
  char upsert_node(const boost::json::object& node);
  char upsert_workload(const char* kind, const boost::json::object& object);
  void remove_workload(const char* kind, const std::string& key, std::uint64_t deleted_at);
  void refresh_bundles();
  bool note_bundle_object(std::string_view kind, const boost::json::object& object);

  // Whether a watch event of resourceVersion `rv` for `key` is older than
  // what the snapshot shows (after apply_written); records `rv` otherwise.
  static bool stale(std::unordered_map<std::string, std::uint64_t>& shown, const std::string& key,
                    std::uint64_t rv);

  std::string annotation_prefix_;
  std::set<migrate::ObjectRef> interesting_;
  const std::map<std::string, ManifestBundle>* bundles_ = nullptr;
  // Bundles without workloads whose objects exist (note_bundle_object).
  std::set<std::string> present_;
  migrate::ClusterSnapshot snapshot_;
  NamespacePods namespace_pods_{""};
  // Nodes changed since take_touched_nodes(): a node's own events and its
  // pods' (a pod that moves touches both nodes). Everything at first.
  migrate::TouchedNodes touched_ = migrate::TouchedNodes::everything();
  std::unordered_map<std::string, std::string> node_uids_;
  // Nodes the watch saw deleted. Their pods stay until the pod garbage
  // collector removes them, and an update of one must not bring the node
  // back as a placeholder: the core would take it for a node that joined.
  std::set<std::string> deleted_nodes_;
  // The resourceVersion each node / workload ("Kind ns/name") in the
  // snapshot was projected from.
  std::unordered_map<std::string, std::uint64_t> node_versions_;
  std::unordered_map<std::string, std::uint64_t> workload_versions_;
  ChangeSignal changes_;
  std::unique_ptr<kube::Informer<char>> nodes_;
  // value: the pod's node ("" unscheduled), interned: one pointer a pod.
  std::unique_ptr<kube::Informer<migrate::InternedString>> pods_;
  std::unique_ptr<kube::Informer<char>> daemonsets_;
  std::unique_ptr<kube::Informer<char>> deployments_;
  std::unique_ptr<kube::Informer<char>> statefulsets_;
};

}  // namespace cnimig::agent
