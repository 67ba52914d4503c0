#include "cnimig/lease/lease_keeper.hpp"

#include <cstdlib>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "cnimig/common/rfc3339.hpp"
#include "cnimig/kube/retry_policy.hpp"
#include "cnimig/wire/object_fields.hpp"

#include <unistd.h>

namespace cnimig::lease {
namespace {

namespace asio = boost::asio;

kube::ResourcePath lease_path(const config::LeaseSettings& s) {
  return kube::ResourcePath::of("coordination.k8s.io", "v1", "leases")
      .in(s.namespace_)
      .named(s.name);
}

}  // namespace

std::string default_identity() {
  const char* explicit_identity = std::getenv("CNIMIG_LEASE_IDENTITY");
  const char* pod = std::getenv("CNIMIG_POD_NAME");
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return holder_identity(explicit_identity ? explicit_identity : "", pod ? pod : "", host);
}

LeaseKeeper::LeaseKeeper(kube::Client& client, config::LeaseSettings settings, std::string identity,
                         Clock clock)
    : client_(client),
      settings_(std::move(settings)),
      identity_(std::move(identity)),
      clock_(std::move(clock)) {}

asio::awaitable<Result<void>> LeaseKeeper::write(LeaseVerdict verdict,
                                                 const boost::json::object* current,
                                                 kube::RequestOptions options) {
  const auto sent = std::chrono::steady_clock::now();
  const auto now = format_rfc3339(clock_(), TimePrecision::microseconds);
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(settings_.duration).count();
  boost::json::object spec{{"holderIdentity", identity_},
                           {"leaseDurationSeconds", std::max<std::int64_t>(1, seconds)},
                           {"renewTime", now},
                           {"leaseTransitions", transitions_}};
  boost::json::object metadata{{"name", settings_.name}, {"namespace", settings_.namespace_}};
  if (verdict != LeaseVerdict::renew)
    spec["acquireTime"] = now;
  if (current != nullptr) {
    const auto& old_spec = current->at("spec").as_object();
    if (verdict == LeaseVerdict::renew) {
      if (const auto* a = old_spec.if_contains("acquireTime"))
        spec["acquireTime"] = *a;
    }
    metadata["resourceVersion"] = wire::resource_version(*current);  // optimistic concurrency
  }
  boost::json::object lease{{"apiVersion", "coordination.k8s.io/v1"},
                            {"kind", "Lease"},
                            {"metadata", std::move(metadata)},
                            {"spec", std::move(spec)}};
  // Not `?:` around co_await: GCC 12 evaluates both arms' awaits.
  Result<boost::json::object> written = make_error(Errc::internal, "unset");
  kube::WriteOptions write_options;
  write_options.request = options;
  if (verdict == LeaseVerdict::create) {
    const auto collection = lease_path(settings_).collection();
    written = co_await client_.create(collection, lease, write_options);
  } else {
    const auto path = lease_path(settings_);
    written = co_await client_.replace(path, lease, write_options);
  }
  if (!written)
    co_return written.error();
  resource_version_ = wire::resource_version(*written);
  held_until_ = sent + settings_.duration;
  co_return Result<void>{};
}

asio::awaitable<Result<void>> LeaseKeeper::acquire() {
  // A lost race (409 on create or replace) is answered by reading again. So
  // is a transient failure of the write (the client does not repeat a create
  // that may have reached the server): our identity is stable, so a create
  // that did land reads back as our own Lease and is renewed.
  // The client's backoff (one agent: no jitter needed, the midpoint will do).
  const kube::RetryPolicy policy;
  asio::steady_timer pause(co_await asio::this_coro::executor);
  for (int attempt = 1; attempt <= policy.max_attempts; ++attempt) {
    const auto path = lease_path(settings_);
    auto current = co_await client_.get(path, kube::RequestOptions());
    std::optional<LeaseRecord> record;
    if (current) {
      record = lease_record(*current);
    } else if (current.error().code != Errc::not_found) {
      co_return current.error();
    }
    const auto decision = decide_lease(record, identity_, clock_());
    if (decision.verdict == LeaseVerdict::refuse) {
      Error e = make_error(Errc::conflict,
                           "another agent (" + decision.holder + ") holds Lease " +
                               settings_.namespace_ + "/" + settings_.name + " until " +
                               format_rfc3339(*decision.expires, TimePrecision::seconds) +
                               "; it is taken over only once it is not renewed for its duration");
      e.reason = "LeaseHeld";
      co_return e;
    }
    const bool new_holder =
        decision.verdict == LeaseVerdict::take_over || decision.verdict == LeaseVerdict::acquire;
    transitions_ = record ? record->transitions + (new_holder ? 1 : 0) : 0;
    // A released Lease (the previous run's release()) is simply acquired.
    if (decision.verdict == LeaseVerdict::take_over) {
      spdlog::warn("taking over the stale Lease {}/{} from {}", settings_.namespace_,
                   settings_.name, decision.holder);
    }
    auto written =
        co_await write(decision.verdict, current ? &*current : nullptr, kube::RequestOptions());
    if (written)
      co_return written;
    const auto& e = written.error();
    if (e.retryable()) {
      spdlog::warn("writing Lease {}/{} failed ({}); reading it again", settings_.namespace_,
                   settings_.name, e.describe());
      pause.expires_after(policy.delay(attempt, e, 0.5));
      co_await pause.async_wait(asio::use_awaitable);
    } else if (e.code != Errc::conflict && e.code != Errc::already_exists) {
      co_return written;
    }
  }
  co_return make_error(Errc::conflict, "could not write Lease " + settings_.namespace_ + "/" +
                                           settings_.name + " in " +
                                           std::to_string(policy.max_attempts) +
                                           " attempts (lost races or server errors)");
}

asio::awaitable<Result<void>> LeaseKeeper::renew_once(std::chrono::steady_clock::duration left) {
  // The keeper repeats a failed renewal itself, within the Lease's time.
  kube::RequestOptions options;
  options.max_attempts = 1;
  options.timeout =
      std::min(options.timeout, std::chrono::duration_cast<std::chrono::milliseconds>(left));
  const auto path = lease_path(settings_);
  auto current = co_await client_.get(path, options);
  if (!current) {
    if (current.error().code != Errc::not_found)
      co_return current.error();
    // Deleted under us: create it again, as client-go's leader election
    // does. An agent that created it first wins (409), and the next attempt
    // reads its holder.
    co_return co_await write(LeaseVerdict::create, nullptr, options);
  }
  const auto record = lease_record(*current);
  if (record.holder_identity != identity_) {
    Error e =
        make_error(Errc::conflict,
                   "Lease " + settings_.namespace_ + "/" + settings_.name + " was taken by " +
                       (record.holder_identity.empty() ? std::string("nobody (it was released)")
                                                       : record.holder_identity));
    e.reason = "LeaseLost";
    co_return e;
  }
  co_return co_await write(LeaseVerdict::renew, &*current, options);
}

asio::awaitable<Result<void>> LeaseKeeper::keep_renewed() {
  using Clock = std::chrono::steady_clock;
  using std::chrono::milliseconds;
  // The client's backoff between failed renewals (one agent: no jitter
  // needed, the midpoint will do).
  const kube::RetryPolicy policy;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto period = std::max<milliseconds>(settings_.duration / 3, milliseconds(100));
  int failures = 0;
  Error last;
  for (;;) {
    auto wait = period;
    if (failures > 0) {
      // At most half of what is left each time, so that the last attempts
      // come just before the Lease would expire.
      const auto left = std::chrono::duration_cast<milliseconds>(held_until_ - Clock::now());
      wait = std::max(std::min(policy.delay(failures, last, 0.5), left / 2), milliseconds(10));
    }
    timer.expires_after(wait);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec)
      co_return Result<void>{};  // cancelled: the run is ending
    const auto left = held_until_ - Clock::now();
    if (left <= Clock::duration::zero()) {
      co_return make_error(
          Errc::timeout,
          "Lease " + settings_.namespace_ + "/" + settings_.name +
              " expired: not renewed within its duration (" +
              std::to_string(
                  std::chrono::duration_cast<std::chrono::seconds>(settings_.duration).count()) +
              "s); the last renewal failed with " + last.describe());
    }
    auto renewed = co_await renew_once(left);
    if (renewed) {
      if (failures > 0) {
        spdlog::info("renewed Lease {}/{} after {} failed attempt(s)", settings_.namespace_,
                     settings_.name, failures);
      }
      failures = 0;
      continue;
    }
    if (renewed.error().reason == "LeaseLost")
      co_return renewed.error();
    last = renewed.error();
    ++failures;
    spdlog::warn("renewing Lease {}/{} failed ({}); trying again while it holds ({} ms left)",
                 settings_.namespace_, settings_.name, last.describe(),
                 std::chrono::duration_cast<milliseconds>(held_until_ - Clock::now()).count());
  }
}

asio::awaitable<void> LeaseKeeper::release() {
  const auto path = lease_path(settings_);
  auto current = co_await client_.get(path, kube::RequestOptions());
  if (!current || lease_record(*current).holder_identity != identity_)
    co_return;
  auto lease = *current;
  auto& spec = lease["spec"].as_object();
  spec["holderIdentity"] = "";
  spec["leaseDurationSeconds"] = 1;
  if (auto r = co_await client_.replace(path, lease, kube::WriteOptions()); !r) {
    spdlog::warn("could not release Lease {}/{}: {}", settings_.namespace_, settings_.name,
                 r.error().describe());
  }
}

}  // namespace cnimig::lease
