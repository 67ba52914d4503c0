// Client calls pass every options argument explicitly: GCC 12 destroys the
// temporary of a defaulted `= {}` coroutine parameter twice.
// ActionExecutor's connectivity check: which knet-stress pods it probes and
// how a failing check is retried until timeouts.connectivity.

#include <algorithm>
#include <iterator>
#include <set>

#include "cnimig/agent/action_executor.hpp"
#include "cnimig/events/event_catalogue.hpp"
#include "cnimig/kube/retry_policy.hpp"

#include "executor_support.hpp"

namespace cnimig::agent {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// Peers see a node's change within seconds: retried from one second up to
// every 15 s.
const kube::RetryPolicy kCheckRetry{.base = std::chrono::milliseconds(1000),
                                    .cap = std::chrono::seconds(15)};

}  // namespace

namespace {

// The selection's parts, shared by the walk of every pod and the read of the
// knet-stress namespace's index: the DaemonSets first (how many pods they
// want, which are absent), then each node's pods in name order, then why the
// targets fall short.
class Selector {
 public:
  Selector(const migrate::ClusterSnapshot& snapshot, const migrate::RunRecord& run,
           const std::string& knet_stress_namespace,
           const std::vector<std::string>& knet_stress_daemonsets)
      : run_(run), namespace_(knet_stress_namespace), daemonsets_(knet_stress_daemonsets) {
    for (const auto& name : daemonsets_) {
      const auto* w = snapshot.workload({migrate::kDaemonSet, namespace_, name});
      if (w == nullptr || !w->exists) {
        absent_.push_back(namespace_ + "/" + name);
        continue;
      }
      out_.expected += w->desired;
    }
  }

  // `count_only`: the pods are counted, not listed (no strings copied).
  void node(const std::string& name, const std::vector<migrate::PodState>& pods,
            bool count_only = false) {
    out_.pods_examined += pods.size();
    for (const auto& pod : pods) {
      // A pod this run deleted is going even while the watch still shows it.
      if (pod.ns != namespace_ || !pod.daemon_set_owned() || pod.terminating || !pod.ready ||
          run_.removed_pods.contains(pod.uid)) {
        continue;
      }
      if (std::find(daemonsets_.begin(), daemonsets_.end(), pod.owner_name) == daemonsets_.end())
        continue;
      ++present_;
      if (!count_only)
        out_.targets.push_back({pod.ns, pod.name, name});
    }
  }

  ProbeSelection finish() && {
    const auto present = present_;
    if (present != out_.expected || out_.expected == 0) {
      out_.missing = std::to_string(present) + "/" + std::to_string(out_.expected) +
                     " knet-stress pods present and Ready";
    }
    for (const auto& ds : absent_)
      out_.missing += (out_.missing.empty() ? "" : "; ") + ("DaemonSet " + ds + " absent");
    return std::move(out_);
  }

 private:
  const migrate::RunRecord& run_;
  const std::string& namespace_;
  const std::vector<std::string>& daemonsets_;
  ProbeSelection out_;
  std::int64_t present_ = 0;
  std::vector<std::string> absent_;
};

}  // namespace

ProbeSelection select_probe_targets(const migrate::ClusterSnapshot& snapshot,
                                    const migrate::RunRecord& run,
                                    const std::string& knet_stress_namespace,
                                    const std::vector<std::string>& knet_stress_daemonsets) {
  Selector select(snapshot, run, knet_stress_namespace, knet_stress_daemonsets);
  for (const auto& [name, node] : snapshot.nodes)
    select.node(name, node.pods);
  return std::move(select).finish();
}

ProbeSelection select_probe_targets(const migrate::ClusterSnapshot& snapshot,
                                    const NamespacePods& knet_stress_pods,
                                    const migrate::RunRecord& run,
                                    const std::vector<std::string>& knet_stress_daemonsets,
                                    bool targets_when_partial) {
  // Counted first: a check waiting for its pods re-selects on every change,
  // and lists the targets (three strings a pod) only once they are whole.
  std::size_t counted = 0;
  if (!targets_when_partial) {
    Selector count(snapshot, run, knet_stress_pods.ns(), knet_stress_daemonsets);
    for (const auto& [name, pods] : knet_stress_pods.by_node())
      count.node(name, pods, true);
    auto partial = std::move(count).finish();
    if (!partial.missing.empty())
      return partial;
    counted = partial.pods_examined;
  }
  Selector select(snapshot, run, knet_stress_pods.ns(), knet_stress_daemonsets);
  for (const auto& [name, pods] : knet_stress_pods.by_node())
    select.node(name, pods);
  auto out = std::move(select).finish();
  out.pods_examined += counted;
  return out;
}

std::vector<std::string> narrow_probe_targets(ProbeSelection& selection,
                                              const migrate::RunConnectivityCheck& check,
                                              std::mt19937_64& rng) {
  std::set<std::string> kept(check.nodes.begin(), check.nodes.end());
  std::set<std::string> others;
  for (const auto& t : selection.targets) {
    if (!kept.contains(t.node))
      others.insert(t.node);
  }
  std::vector<std::string> sampled;
  std::sample(others.begin(), others.end(), std::back_inserter(sampled), check.sample, rng);
  kept.insert(sampled.begin(), sampled.end());
  std::erase_if(selection.targets,
                [&](const probe::ProbeTarget& t) { return !kept.contains(t.node); });
  return {kept.begin(), kept.end()};
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
// attempt started and the writes then still in flight
// (migrate::check_starting), so a check that predates a write never opens
// that write's gate.
asio::awaitable<Result<void>> ActionExecutor::connectivity_check(const migrate::Action& action,
                                                                 const migrate::RunRecord& run) {
  const auto deadline = Clock::now() + settings_.timeouts.connectivity;
  for (int round = 1;; ++round) {
    // What this round can vouch for: the writes issued and done by now.
    auto result = migrate::check_starting(run);
    // The index of the knet-stress pods when there is one: this runs again
    // on every change while the check waits.
    auto selection = knet_stress_pods_ != nullptr
                         ? select_probe_targets(cluster_, *knet_stress_pods_, run,
                                                settings_.knet_stress_daemonsets, false)
                         : select_probe_targets(cluster_, run, settings_.knet_stress_namespace,
                                                settings_.knet_stress_daemonsets);
    pods_examined_ += selection.pods_examined;
    if (!selection.missing.empty() && changes_ != nullptr && Clock::now() < deadline) {
      // Some knet-stress pods are being re-created (a node in flight beside
      // the one asking): the watch will show them, so wait for it rather
      // than fail a round and back off for a second or more.
      co_await changes_->wait(changes_->version(), deadline);
      --round;
      continue;
    }
    const auto& wanted = std::get<migrate::RunConnectivityCheck>(action.kind);
    if (!wanted.nodes.empty() && selection.missing.empty()) {
      result.full = false;
      result.probed_nodes = narrow_probe_targets(selection, wanted, sample_rng_);
    }
    const auto pods = selection.targets.size();
    // A subset of the pods proves nothing about the nodes left out: the
    // round fails, and is retried like any other, until every pod is there.
    probe::ConnectivityReport report;
    if (selection.missing.empty()) {
      report = co_await probe::run_connectivity_check(prober_, std::move(selection.targets),
                                                      settings_.check);
    }
    if (report.passed) {
      result.passed = true;
      report_outcome(CheckFinished{std::move(result)});
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
    const auto backoff = kCheckRetry.backoff(round, detail::jitter01());
    if (Clock::now() + backoff > deadline) {
      result.detail = detail;
      report_outcome(CheckFinished{std::move(result)});
      co_return Result<void>{};
    }
    co_await detail::pause(backoff);
  }
}

}  // namespace cnimig::agent
