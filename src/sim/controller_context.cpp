#include "controller_context.hpp"

#include <cmath>

#include "api_defaults.hpp"
#include "json_fields.hpp"
#include "service_account_admission.hpp"

namespace cnimig::sim {

namespace json = boost::json;
using namespace fields;

void ControllerContext::delete_pod(const json::object& pod) {
  if (deleting(pod))
    return;
  if (node_name(pod).empty()) {
    (void)store.remove(pods, ns(pod), name(pod));
    return;
  }
  json::object next = pod;
  auto& meta = next["metadata"].as_object();
  meta["deletionTimestamp"] = rfc3339_now();
  meta["deletionGracePeriodSeconds"] = integer(spec(pod), "terminationGracePeriodSeconds", 30);
  meta.erase("resourceVersion");
  (void)store.update(pods, std::move(next));
}

Result<ObjectPtr> ControllerContext::create(const ResourceType& type, const json::object& o) {
  const bool generated = str(meta(o), "name").empty() && !str(meta(o), "generateName").empty();
  // In a cluster the controllers create through the API, which defaults
  // what they send (a pod gets enableServiceLinks, its containers their
  // terminationMessagePath, ...).
  json::object defaulted = o;
  apply_defaults(type, defaulted);
  // Admission, as for any client: a pod of a missing ServiceAccount is
  // refused until the account exists (ServiceAccountController re-queues
  // the namespace's workloads then).
  if (auto admitted = admit_service_account(store, type, defaulted); !admitted)
    return admitted.error();
  for (int attempt = 0;; ++attempt) {
    auto r = store.create(type, defaulted);
    if (r || !generated || r.error().code != Errc::already_exists || attempt == 8)
      return r;
  }
}

json::object owner_reference(const json::object& owner) {
  return json::object{{"apiVersion", str(&owner, "apiVersion")},
                      {"kind", str(&owner, "kind")},
                      {"name", name(owner)},
                      {"uid", uid(owner)},
                      {"controller", true},
                      {"blockOwnerDeletion", true}};
}

std::string template_hash(const json::value& value) {
  // FNV-1a over the serialized value, printed in the alphabet Kubernetes uses
  // for generated suffixes (no vowels, no confusable digits).
  const auto text = json::serialize(value);
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  static constexpr char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (int i = 0; i < 10; ++i) {
    out.push_back(alphabet[h % (sizeof alphabet - 1)]);
    h /= (sizeof alphabet - 1);
  }
  return out;
}

std::int64_t generation_of(const json::object& obj) {
  return integer(meta(obj), "generation", 1);
}

std::int64_t int_or_percent(const json::value* v, std::int64_t total, std::int64_t dflt,
                            bool round_up) {
  if (!v || v->is_null())
    return dflt;
  if (v->is_int64())
    return v->get_int64();
  if (v->is_uint64())
    return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_string()) {
    std::string s(v->get_string());
    if (!s.empty() && s.back() == '%') {
      const double pct = std::atof(s.substr(0, s.size() - 1).c_str());
      const double x = pct * static_cast<double>(total) / 100.0;
      return static_cast<std::int64_t>(round_up ? std::ceil(x) : std::floor(x));
    }
    return std::atoll(s.c_str());
  }
  return dflt;
}

}  // namespace cnimig::sim

namespace cnimig::sim {

json::object pod_from_template(const json::object& owner, std::string_view pod_name,
                               bool generate) {
  const auto* tmpl = obj(spec(owner), "template");
  json::object meta_out;
  if (const auto* tm = obj(tmpl, "metadata")) {
    if (const auto* l = obj(tm, "labels"))
      meta_out["labels"] = *l;
    if (const auto* a = obj(tm, "annotations"))
      meta_out["annotations"] = *a;
  }
  meta_out[generate ? "generateName" : "name"] = pod_name;
  meta_out["namespace"] = ns(owner);
  meta_out["ownerReferences"] = json::array{owner_reference(owner)};
  json::object pod_spec = obj(tmpl, "spec") ? *obj(tmpl, "spec") : json::object{};
  if (!pod_spec.contains("restartPolicy"))
    pod_spec["restartPolicy"] = "Always";
  if (!pod_spec.contains("schedulerName"))
    pod_spec["schedulerName"] = "default-scheduler";
  if (!pod_spec.contains("terminationGracePeriodSeconds"))
    pod_spec["terminationGracePeriodSeconds"] = 30;
  if (!pod_spec.contains("serviceAccountName"))
    pod_spec["serviceAccountName"] = "default";
  return json::object{{"apiVersion", "v1"},
                      {"kind", "Pod"},
                      {"metadata", std::move(meta_out)},
                      {"spec", std::move(pod_spec)},
                      {"status", json::object{{"phase", "Pending"}, {"qosClass", "BestEffort"}}}};
}

}  // namespace cnimig::sim
