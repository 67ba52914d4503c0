#include "service_account_admission.hpp"

#include <string>

#include "json_fields.hpp"

namespace cnimig::sim {

namespace json = boost::json;
using namespace fields;

Result<void> admit_service_account(const ObjectStore& store, const ResourceType& type,
                                   json::object& pod) {
  if (!type.group.empty() || type.plural != "pods")
    return {};
  auto& pod_spec = ensure_obj(pod, "spec");
  if (str(&pod_spec, "serviceAccountName").empty())
    pod_spec["serviceAccountName"] = "default";
  const std::string account(str(&pod_spec, "serviceAccountName"));
  const auto pod_ns = ns(pod);
  if (store.get(resource_type("", "serviceaccounts"), pod_ns, account))
    return {};
  // admission.NewForbidden names the pod by name, else by generateName.
  auto pod_name = name(pod);
  if (pod_name.empty())
    pod_name = str(meta(pod), "generateName");
  return make_error(Errc::forbidden, 403, "Forbidden",
                    "pods \"" + std::string(pod_name) +
                        "\" is forbidden: error looking up service account " + std::string(pod_ns) +
                        "/" + account + ": serviceaccount \"" + account + "\" not found");
}

}  // namespace cnimig::sim
