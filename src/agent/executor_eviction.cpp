// Client calls pass every options argument explicitly: GCC 12 destroys the
// temporary of a defaulted `= {}` coroutine parameter twice.
// ActionExecutor's pod removals: evictions (PodDisruptionBudgets decide)
// and deletions, each reported once the API accepted it.

#include <boost/asio/error.hpp>
#include <boost/json/serialize.hpp>
#include <boost/system/system_error.hpp>

#include "cnimig/agent/action_executor.hpp"
#include "cnimig/events/event_catalogue.hpp"
#include "cnimig/kube/retry_policy.hpp"
#include "cnimig/wire/label_selector.hpp"
#include "cnimig/wire/object_fields.hpp"
#include "cnimig/wire/object_key.hpp"

#include "executor_support.hpp"

namespace cnimig::agent {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// A PodDisruptionBudget that allows no disruption now may allow one in
// seconds (a replica became Ready) or minutes: retried from half a second up
// to every 30 s, with the server's Retry-After when it gives one, until the
// drain timeout.
const kube::RetryPolicy kEvictionRetry{.base = std::chrono::milliseconds(500),
                                       .cap = std::chrono::seconds(30)};
// A budget the watch shows wakes its waiters itself (BudgetQueue): the timer
// is only the fallback for an event that never comes, so it can be long
// (1,500 waiters on one budget would otherwise keep refused requests coming).
const kube::RetryPolicy kWatchedBudgetFallback{.base = std::chrono::seconds(10),
                                               .cap = std::chrono::seconds(120)};

constexpr const char* kUnknownBudget = "a PodDisruptionBudget";

}  // namespace

asio::awaitable<std::string> ActionExecutor::blocking_pdb(const std::string& ns,
                                                          const std::string& pod) {
  const auto pod_path = kube::ResourcePath::core("pods").in(ns).named(pod);
  auto object = co_await client_.get(pod_path, kube::RequestOptions());
  if (!object)
    co_return std::string();
  const auto* labels = wire::obj(wire::meta(*object), "labels");
  if (budgets_ != nullptr && budgets_->synced())
    co_return budgets_->selecting(ns, labels);
  const auto pdb_path = kube::ResourcePath::of("policy", "v1", "poddisruptionbudgets").in(ns);
  auto pdbs = co_await client_.list(pdb_path, kube::ListOptions());
  if (!pdbs)
    co_return std::string();
  for (const auto& pdb : pdbs->items) {
    const auto* selector = wire::obj(wire::spec(pdb), "selector");
    if (selector == nullptr)
      continue;
    // A selector the API server would not have accepted selects nothing.
    if (const auto parsed = wire::LabelSelector::from_json(*selector);
        parsed && parsed->matches(labels))
      co_return wire::object_key(pdb);
  }
  co_return std::string();
}

// Through the eviction API, so PodDisruptionBudgets decide. A 429 means the
// budget allows no disruption now: wait for it to allow one (a watched
// budget) or retry with backoff, until the drain timeout, then give up with
// the PDB named.
asio::awaitable<Result<void>> ActionExecutor::evict(const migrate::Action& action,
                                                    const migrate::EvictPod& pod) {
  if (is_own_pod(pod.ns, pod.name))
    co_return Result<void>{};
  const auto deadline = Clock::now() + settings_.timeouts.drain;
  std::string pdb;           // the budget that refused it, once one did
  std::uint64_t ticket = 0;  // the place in the budget's line, kept through refusals
  const auto unblock = [&] {
    if (!pdb.empty())
      report_outcome(EvictionSettled{pod.ns, pod.name});
  };
  const auto gave_up = [&] {
    unblock();
    return make_error(
        Errc::timeout,
        "eviction of pod " + pod.ns + "/" + pod.name + " was refused by " +
            (pdb.empty() ? std::string("the API server") : "PodDisruptionBudget " + pdb) +
            " until the drain timeout");
  };
  for (int attempt = 1;; ++attempt) {
    // What the budget watch had shown when this request went out: a budget
    // state newer than it is newer than a refusal of this request.
    const auto seen = budgets_ != nullptr ? budgets_->version() : 0;
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
        if (pdb.empty())
          pdb = kUnknownBudget;
        report_outcome(EvictionBlocked{{pod.ns, pod.name, pdb}});
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
      // A budget's refusal gives no Retry-After; a 429 that does is the API
      // server shedding load, whose wait the backoff below honours.
      const bool by_budget = r.error().retry_after == std::chrono::milliseconds::zero();
      if (budgets_ != nullptr && by_budget && budgets_->shows(pdb)) {
        // Rounded up: a fallback that ends just short of the deadline would
        // cost one more refused request before giving up.
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
        if (left <= std::chrono::milliseconds::zero())
          co_return gave_up();
        if (ticket == 0)
          ticket = budgets_->queue().ticket();
        const auto fallback =
            std::min(kWatchedBudgetFallback.backoff(attempt, detail::jitter01()), left);
        const auto woke = co_await budgets_->queue().wait(pdb, ticket, seen, fallback);
        // Cancelled (a second stop request) as every other wait of an action
        // is: the driver takes the action as no longer running, not failed.
        if (woke == BudgetQueue::Wake::cancelled)
          throw boost::system::system_error(asio::error::operation_aborted);
        if (woke == BudgetQueue::Wake::fallback && Clock::now() >= deadline)
          co_return gave_up();
        continue;
      }
    } else if (!r.error().retryable()) {
      unblock();
      co_return r.error();
    }
    const auto wait = kEvictionRetry.delay(attempt, r.error(), detail::jitter01());
    if (Clock::now() + wait > deadline)
      co_return gave_up();
    co_await detail::pause(wait);
  }
}

void ActionExecutor::report_outcome(const ActionOutcome& outcome) const {
  if (outcome_)
    outcome_(outcome);
}

void ActionExecutor::record_removed(const std::string& node, const std::string& uid) const {
  if (uid.empty() || settings_.dry_run)
    return;
  report_outcome(PodRemoved{node, uid});
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
  if (auto r = detail::gone_is_fine(removed); !r)
    co_return r;
  record_removed(node, pod.uid);  // never deleted twice
  co_return Result<void>{};
}

}  // namespace cnimig::agent
