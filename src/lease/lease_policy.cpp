#include "cnimig/lease/lease_policy.hpp"

#include "cnimig/common/rfc3339.hpp"

namespace cnimig::lease {

LeaseRecord lease_record(const boost::json::object& lease) {
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

std::string holder_identity(std::string_view explicit_identity, std::string_view pod_name,
                            std::string_view hostname) {
  if (!explicit_identity.empty())
    return std::string(explicit_identity);
  if (!pod_name.empty())
    return std::string(pod_name);
  if (!hostname.empty())
    return std::string(hostname);
  return "cnimig-agent";
}

LeaseDecision decide_lease(const std::optional<LeaseRecord>& current, const std::string& identity,
                           std::chrono::system_clock::time_point now) {
  if (!current)
    return {LeaseVerdict::create, {}, std::nullopt};
  if (current->holder_identity == identity)
    return {LeaseVerdict::renew, identity, std::nullopt};
  // Released by its holder: free, and nobody's to take over.
  if (current->holder_identity.empty())
    return {LeaseVerdict::acquire, {}, std::nullopt};
  // Never renewed, or renewed too long ago: free to take.
  if (!current->renew_time || current->duration.count() <= 0) {
    return {LeaseVerdict::take_over, current->holder_identity, std::nullopt};
  }
  const auto expires = *current->renew_time + current->duration;
  if (now >= expires)
    return {LeaseVerdict::take_over, current->holder_identity, expires};
  return {LeaseVerdict::refuse, current->holder_identity, expires};
}

}  // namespace cnimig::lease
