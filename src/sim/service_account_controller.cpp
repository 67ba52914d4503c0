#include "service_account_controller.hpp"

namespace cnimig::sim {

namespace json = boost::json;
using namespace fields;

void ServiceAccountController::observe(const Change& change) {
  if (change.resource == &ctx_.namespaces && change.type == ChangeType::added) {
    namespaces_.insert(std::string(name(*change.object)));
    return;
  }
  if (change.resource != &resource_type("", "serviceaccounts") || change.type != ChangeType::added)
    return;
  const auto account_ns = ns(*change.object);
  for (const auto* type : {&ctx_.daemonsets, &ctx_.replicasets, &ctx_.statefulsets})
    for (const auto& workload : ctx_.store.list(*type, account_ns))
      requeue_(
          Change{ChangeType::modified, type, workload, workload, ctx_.store.resource_version()});
}

void ServiceAccountController::reconcile() {
  auto namespaces = std::move(namespaces_);
  namespaces_.clear();
  const auto& accounts = resource_type("", "serviceaccounts");
  for (const auto& n : namespaces) {
    auto namespace_object = ctx_.store.get(ctx_.namespaces, "", n);
    if (!namespace_object || deleting(*namespace_object) || ctx_.store.get(accounts, n, "default"))
      continue;
    (void)ctx_.create(
        accounts, json::object{{"apiVersion", "v1"},
                               {"kind", "ServiceAccount"},
                               {"metadata", json::object{{"name", "default"}, {"namespace", n}}}});
  }
}

}  // namespace cnimig::sim
