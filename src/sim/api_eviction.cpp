// The pods/eviction subresource: a delete that honours PodDisruptionBudgets
// (429 when it would break one), as kubectl drain and the agent use it.
#include <optional>
#include <vector>

#include <boost/json.hpp>

#include "api_handler.hpp"
#include "api_response.hpp"
#include "json_fields.hpp"

namespace cnimig::sim {
namespace json = boost::json;

namespace {

ApiResponse eviction_success() {
  return ApiResponse{
      201, "application/json",
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","code":201})"};
}

struct EvictionOptions {
  std::optional<std::int64_t> grace;
  bool dry_run = false;
};

EvictionOptions eviction_options(const Query& q, const std::string& body) {
  EvictionOptions o;
  o.dry_run = q.get("dryRun") == "All";
  if (body.empty())
    return o;
  // kubectl drain's typed client may send protobuf: then the defaults apply.
  auto ev = parse_object(body);
  if (const auto* d = ev ? fields::obj(*ev, "deleteOptions") : nullptr) {
    if (const auto* g = d->if_contains("gracePeriodSeconds"); g && g->is_number())
      o.grace = g->to_number<std::int64_t>();
    if (const auto* dr = d->if_contains("dryRun"); dr && dr->is_array() && !dr->get_array().empty())
      o.dry_run = true;
  }
  return o;
}

// The PodDisruptionBudgets of the pod's namespace that select it. A pod that
// is Pending, Succeeded or Failed is protected by none.
std::vector<ObjectPtr> budgets_of(ObjectStore& store, const json::object& pod,
                                  const std::string& ns) {
  std::vector<ObjectPtr> budgets;
  const auto phase = fields::str(fields::obj(pod, "status"), "phase");
  if (phase == "Succeeded" || phase == "Failed" || phase == "Pending")
    return budgets;
  const auto* meta = fields::obj(pod, "metadata");
  const json::object* labels = meta ? fields::obj(*meta, "labels") : nullptr;
  for (const auto& pdb : store.list(resource_type("policy", "poddisruptionbudgets"), ns)) {
    const auto* spec = fields::obj(*pdb, "spec");
    const auto* sel = spec ? spec->if_contains("selector") : nullptr;
    if (!sel || !sel->is_object())
      continue;  // policy/v1: a null selector selects no pods
    auto s = wire::LabelSelector::from_json(sel->get_object());
    if (s && s->matches(labels))
      budgets.push_back(pdb);
  }
  return budgets;
}

std::int64_t status_number(const json::object* status, std::string_view key) {
  if (status) {
    if (const auto* v = status->if_contains(key); v && v->is_number())
      return v->to_number<std::int64_t>();
  }
  return 0;
}

// The 429 kube-apiserver answers when the budget allows no disruption.
ApiResponse budget_violation(const json::object& pdb) {
  const auto* status = fields::obj(pdb, "status");
  const auto healthy = status_number(status, "currentHealthy");
  const auto desired = status_number(status, "desiredHealthy");
  json::object s{{"kind", "Status"},
                 {"apiVersion", "v1"},
                 {"metadata", json::object()},
                 {"status", "Failure"},
                 {"message", "Cannot evict pod as it would violate the pod's disruption budget."},
                 {"reason", "TooManyRequests"},
                 {"code", 429}};
  s["details"] = json::object{
      {"causes",
       json::array{json::object{
           {"reason", "DisruptionBudget"},
           {"message", "The disruption budget " + std::string(object_name(pdb)) + " needs " +
                           std::to_string(desired) + " healthy pods and has " +
                           std::to_string(healthy) + " currently"}}}}};
  return ApiResponse{429, "application/json", json::serialize(s)};
}

// Takes one disruption from the budget and records the pod as disrupted, as
// the eviction subresource does before deleting it.
Result<ObjectPtr> take_disruption(ObjectStore& store, const ObjectPtr& pdb, std::int64_t allowed,
                                  const std::string& pod_name) {
  json::object next = *pdb;
  auto& st = next["status"].as_object();
  st["disruptionsAllowed"] = allowed - 1;
  auto& disrupted = st["disruptedPods"];
  if (!disrupted.is_object())
    disrupted = json::object();
  disrupted.as_object()[pod_name] = rfc3339_now();
  return store.update_status(resource_type("policy", "poddisruptionbudgets"), std::move(next));
}

}  // namespace

ApiResponse ApiHandler::evict(const ResourcePath& rp, const Query& q, const std::string& body) {
  const auto& pods = resource_type("", "pods");
  if (!is_pods(*rp.type))
    return error_response(not_found("eviction is a subresource of pods only"));
  auto pod = store_.get(pods, rp.ns, rp.name);
  if (!pod)
    return error_response(not_found("pods \"" + rp.name + "\" not found"), "pods", rp.name);
  const auto options = eviction_options(q, body);
  if (fields::deleting(*pod))
    return eviction_success();  // already terminating: nothing left to protect
  const auto budgets = budgets_of(store_, *pod, rp.ns);
  if (budgets.size() > 1)
    return error_response(make_error(
        Errc::server_error, 500, "InternalError",
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does not "
        "support."));
  if (budgets.size() == 1) {
    const auto& pdb = budgets.front();
    const auto allowed = status_number(fields::obj(*pdb, "status"), "disruptionsAllowed");
    if (allowed <= 0) {
      ++evictions_blocked_;
      return budget_violation(*pdb);
    }
    if (!options.dry_run) {
      if (auto r = take_disruption(store_, pdb, allowed, rp.name); !r)
        return error_response(r.error());
    }
  }
  if (options.dry_run)
    return eviction_success();
  auto r = delete_object(pods, rp.ns, rp.name, options.grace);
  if (!r)
    return error_response(r.error(), "pods", rp.name);
  ++evictions_allowed_;
  return eviction_success();
}

}  // namespace cnimig::sim
