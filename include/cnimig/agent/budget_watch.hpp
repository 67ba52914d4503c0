#pragma once
// The cluster's PodDisruptionBudgets, watched (they are few: one per
// application), so that an eviction a budget refused waits for that budget
// to allow a disruption (BudgetQueue) instead of retrying on a timer, and the
// budget that refused it is found without a list per blocked pod. Only what
// that needs is kept: each budget's selector, disruptionsAllowed and
// resourceVersion.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "cnimig/agent/budget_queue.hpp"
#include "cnimig/kube/client.hpp"
#include "cnimig/kube/informer.hpp"
#include "cnimig/wire/label_selector.hpp"

namespace cnimig::agent {

class BudgetWatch {
 public:
  explicit BudgetWatch(kube::Client& client);

  // Feeds the queue until cancelled; run it beside the work that evicts. A
  // watch the server refuses for good (no list or watch permission) only
  // warns: every blocked eviction then retries on its timer, as before.
  boost::asio::awaitable<void> run();

  // Whether the watch has listed the budgets (until then none is known).
  bool synced() const noexcept { return informer_.synced(); }
  // Waits until synced() (true), the watch ends, or `timeout` (false).
  boost::asio::awaitable<bool> wait_synced(std::chrono::steady_clock::duration timeout);
  // The budget ("namespace/name") that selects a pod of namespace `ns` with
  // these labels, as the watch shows it; "" when none does.
  std::string selecting(const std::string& ns, const boost::json::object* labels) const;
  // Whether the watch shows the budget `key` and still runs (a watch that
  // ended wakes nobody: its budgets' evictions use the plain backoff).
  bool shows(const std::string& key) const {
    return !informer_.stopped() && informer_.find(key) != nullptr;
  }
  // The newest resourceVersion the watch has shown. An eviction remembers it
  // when its request goes out: a budget state newer than that is newer than
  // the refusal (resourceVersions of one resource are comparable).
  std::uint64_t version() const noexcept { return version_; }

  BudgetQueue& queue() noexcept { return queue_; }

 private:
  struct Budget {
    std::optional<wire::LabelSelector> selector;  // none: selects nothing
    std::uint64_t version = 0;
    std::int64_t allowed = 0;  // status.disruptionsAllowed
  };
  static Budget project(const boost::json::object& pdb);

  BudgetQueue queue_;
  std::uint64_t version_ = 0;
  kube::Informer<Budget> informer_;
};

}  // namespace cnimig::agent
