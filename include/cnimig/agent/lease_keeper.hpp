#pragma once
// Holds the coordination.k8s.io/v1 Lease that keeps a second agent out
// (README.md "systemd and the Lease"). Every write carries the resourceVersion it decided
// on, so of two agents racing for a stale Lease exactly one wins; the other
// sees 409 Conflict, reads again and finds the Lease live.

#include <chrono>
#include <functional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "cnimig/agent/lease_policy.hpp"
#include "cnimig/common/result.hpp"
#include "cnimig/config/config.hpp"
#include "cnimig/kube/client.hpp"

namespace cnimig::agent {

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
  // success). Returns an error if the Lease was lost: the caller must stop
  // writing at once.
  boost::asio::awaitable<Result<void>> keep_renewed();

  // Gives the Lease up (empty holder), so the next agent need not wait for it
  // to go stale. Best effort.
  boost::asio::awaitable<void> release();

  const std::string& identity() const noexcept { return identity_; }

 private:
  boost::asio::awaitable<Result<void>> write(LeaseVerdict verdict,
                                             const boost::json::object* current);

  kube::Client& client_;
  config::LeaseSettings settings_;
  std::string identity_;
  Clock clock_;
  std::string resource_version_;  // of the Lease as we last wrote it
  int transitions_ = 0;
};

// holder_identity() from the environment (CNIMIG_LEASE_IDENTITY,
// CNIMIG_POD_NAME) and gethostname(): stable across restarts on one host.
std::string default_identity();

}  // namespace cnimig::agent
