#pragma once
// Holds the coordination.k8s.io/v1 Lease that keeps a second agent out
// (README.md "systemd and the Lease"). Every write carries the resourceVersion it decided
// on, so of two agents racing for a stale Lease exactly one wins; the other
// sees 409 Conflict, reads again and finds the Lease live.

#include <chrono>
#include <functional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "cnimig/common/result.hpp"
#include "cnimig/config/config.hpp"
#include "cnimig/kube/client.hpp"
#include "cnimig/lease/lease_policy.hpp"

namespace cnimig::lease {

class LeaseKeeper {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  LeaseKeeper(
      kube::Client& client, config::LeaseSettings settings, std::string identity,
      Clock clock = [] { return std::chrono::system_clock::now(); });

  // Takes the Lease. Fails with Errc::conflict and reason "LeaseHeld" (the
  // message names the holder and when its Lease goes stale) when another
  // agent holds it.
  boost::asio::awaitable<Result<void>> acquire();

  // Renews every third of the Lease duration until cancelled (then returns
  // success). A renewal that fails for any reason (a 403 while a restarted
  // API server's authorization cache syncs, a 5xx, a timeout, a dropped
  // connection, a lost race) is tried again, with kube::RetryPolicy's backoff,
  // for as long as the Lease still holds. Returns an error only when the
  // Lease is lost: another agent holds it, or it expired unrenewed. The
  // caller must then stop writing at once.
  boost::asio::awaitable<Result<void>> keep_renewed();

  // Gives the Lease up (empty holder), so the next agent need not wait for it
  // to go stale. Best effort.
  boost::asio::awaitable<void> release();

  const std::string& identity() const noexcept { return identity_; }

 private:
  boost::asio::awaitable<Result<void>> write(LeaseVerdict verdict,
                                             const boost::json::object* current,
                                             kube::RequestOptions options);
  // One renewal: read the Lease, write it back renewed. Fails with reason
  // "LeaseLost" when another agent holds it; any other error is worth
  // another attempt. `left`: how long the Lease still holds.
  boost::asio::awaitable<Result<void>> renew_once(std::chrono::steady_clock::duration left);

  kube::Client& client_;
  config::LeaseSettings settings_;
  std::string identity_;
  Clock clock_;
  std::string resource_version_;  // of the Lease as we last wrote it
  // When the Lease we last wrote expires for everyone else: the local time
  // the write began (its renewTime, conservatively) plus its duration.
  std::chrono::steady_clock::time_point held_until_{};
  int transitions_ = 0;
};

// holder_identity() from the environment (CNIMIG_LEASE_IDENTITY,
// CNIMIG_POD_NAME) and gethostname(): stable across restarts on one host.
std::string default_identity();

}  // namespace cnimig::lease
