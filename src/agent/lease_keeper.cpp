#include "cnimig/agent/lease_keeper.hpp"

#include <cstdlib>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "cnimig/common/rfc3339.hpp"
#include "cnimig/kube/retry_policy.hpp"
#include "cnimig/kube/watch_stream.hpp"

#include <unistd.h>

namespace cnimig::agent {
namespace {

namespace asio = boost::asio;

kube::ResourcePath lease_path(const config::LeaseSettings& s) {
  return kube::ResourcePath::of("coordination.k8s.io", "v1", "leases")
      .in(s.namespace_)
      .named(s.name);
}

LeaseRecord read_record(const boost::json::object& lease) {
  LeaseRecord r;
  const auto* spec = lease.if_contains("spec");
  if (spec == nullptr || !spec->is_object())
    return r;
  const auto& s = spec->get_object();
  if (const auto* v = s.if_contains("holderIdentity"); v != nullptr && v->is_string()) {
    r.holder_identity = std::string(v->get_string());
  }
  for (const char* field : {"renewTime", "acquireTime"}) {
    if (const auto* v = s.if_contains(field); v != nullptr && v->is_string()) {
      r.renew_time = parse_rfc3339(v->get_string());
      if (r.renew_time)
        break;
    }
  }
  if (const auto* v = s.if_contains("leaseDurationSeconds"); v != nullptr && v->is_int64()) {
    r.duration = std::chrono::seconds(v->get_int64());
  }
  if (const auto* v = s.if_contains("leaseTransitions"); v != nullptr && v->is_int64()) {
    r.transitions = static_cast<int>(v->get_int64());
  }
  return r;
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
                                                 const boost::json::object* current) {
  const auto now = format_rfc3339(clock_(), TimePrecision::microseconds);
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(settings_.duration).count();
  boost::json::object spec{{"holderIdentity", identity_},
                           {"leaseDurationSeconds", std::max<std::int64_t>(1, seconds)},
                           {"renewTime", now},
                           {"leaseTransitions", transitions_}};
  boost::json::object metadata{{"name", settings_.name}, {"namespace", settings_.namespace_}};
  if (verdict == LeaseVerdict::create || verdict == LeaseVerdict::take_over)
    spec["acquireTime"] = now;
  if (current != nullptr) {
    const auto& old_spec = current->at("spec").as_object();
    if (verdict == LeaseVerdict::renew) {
      if (const auto* a = old_spec.if_contains("acquireTime"))
        spec["acquireTime"] = *a;
    }
    metadata["resourceVersion"] = kube::resource_version_of(*current);  // optimistic concurrency
  }
  boost::json::object lease{{"apiVersion", "coordination.k8s.io/v1"},
                            {"kind", "Lease"},
                            {"metadata", std::move(metadata)},
                            {"spec", std::move(spec)}};
  // Not `?:` around co_await: GCC 12 evaluates both arms' awaits.
  Result<boost::json::object> written = make_error(Errc::internal, "unset");
  if (verdict == LeaseVerdict::create) {
    const auto collection = lease_path(settings_).collection();
    written = co_await client_.create(collection, lease, kube::WriteOptions());
  } else {
    const auto path = lease_path(settings_);
    written = co_await client_.replace(path, lease, kube::WriteOptions());
  }
  if (!written)
    co_return written.error();
  resource_version_ = kube::resource_version_of(*written);
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
      record = read_record(*current);
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
    transitions_ =
        record ? record->transitions + (decision.verdict == LeaseVerdict::take_over ? 1 : 0) : 0;
    if (decision.verdict == LeaseVerdict::take_over) {
      spdlog::warn("taking over the stale Lease {}/{} from {}", settings_.namespace_,
                   settings_.name, decision.holder.empty() ? "nobody" : decision.holder);
    }
    auto written = co_await write(decision.verdict, current ? &*current : nullptr);
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

asio::awaitable<Result<void>> LeaseKeeper::keep_renewed() {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto period =
      std::max<std::chrono::milliseconds>(settings_.duration / 3, std::chrono::milliseconds(100));
  for (;;) {
    timer.expires_after(period);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec)
      co_return Result<void>{};  // cancelled: the run is ending
    const auto path = lease_path(settings_);
    auto current = co_await client_.get(path, kube::RequestOptions());
    if (!current) {
      if (current.error().retryable())
        continue;  // try again next period; the Lease has slack
      co_return current.error();
    }
    const auto record = read_record(*current);
    if (record.holder_identity != identity_) {
      co_return make_error(Errc::conflict, "Lease " + settings_.namespace_ + "/" + settings_.name +
                                               " was taken by " + record.holder_identity);
    }
    if (auto renewed = co_await write(LeaseVerdict::renew, &*current); !renewed) {
      if (renewed.error().retryable())
        continue;
      co_return renewed;
    }
  }
}

asio::awaitable<void> LeaseKeeper::release() {
  const auto path = lease_path(settings_);
  auto current = co_await client_.get(path, kube::RequestOptions());
  if (!current || read_record(*current).holder_identity != identity_)
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

}  // namespace cnimig::agent
