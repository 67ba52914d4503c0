// Deletion: graceful deletion of scheduled pods, finalizers, namespaces and
// the garbage collection of dependents; DELETE and deletecollection.
#include <algorithm>

#include <boost/json.hpp>

#include "cnimig/common/rfc3339.hpp"

#include "api_handler.hpp"
#include "api_response.hpp"
#include "json_fields.hpp"

namespace cnimig::sim {
namespace json = boost::json;

Result<ObjectPtr> ApiHandler::delete_object(const ResourceType& type, const std::string& ns,
                                            const std::string& name,
                                            std::optional<std::int64_t> grace,
                                            const std::string& propagation) {
  auto current = store_.get(type, ns, name);
  if (!current)
    return not_found(type.plural + " \"" + name + "\" not found");
  const auto* meta = fields::obj(*current, "metadata");
  if (is_pods(type)) {
    const auto* spec = fields::obj(*current, "spec");
    std::int64_t seconds = 30;
    if (spec) {
      if (const auto* t = spec->if_contains("terminationGracePeriodSeconds"); t && t->is_number())
        seconds = t->to_number<std::int64_t>();
    }
    if (grace)
      seconds = *grace;
    // Unscheduled pods have no kubelet to finish their deletion: they go at once.
    if (seconds > 0 && !fields::str(spec, "nodeName").empty()) {
      if (meta && meta->contains("deletionTimestamp"))
        return current;
      json::object next = *current;
      auto& m = fields::mutable_meta(next);
      m["deletionTimestamp"] = format_rfc3339(
          std::chrono::system_clock::now() + std::chrono::seconds(seconds), TimePrecision::seconds);
      m["deletionGracePeriodSeconds"] = seconds;
      return store_.update(type, std::move(next));
    }
    return store_.remove(type, ns, name);
  }
  if (meta) {
    if (const auto* f = meta->if_contains("finalizers");
        f && f->is_array() && !f->get_array().empty()) {
      if (meta->contains("deletionTimestamp"))
        return current;
      json::object next = *current;
      auto& m = fields::mutable_meta(next);
      m["deletionTimestamp"] = rfc3339_now();
      m["deletionGracePeriodSeconds"] = 0;
      return store_.update(type, std::move(next));
    }
  }
  auto removed = store_.remove(type, ns, name);
  if (!removed)
    return removed;
  if (type.group.empty() && type.plural == "namespaces") {
    for (const auto* t : resource_types()) {
      if (!t->namespaced)
        continue;
      for (const auto& o : store_.list(*t, name))
        (void)store_.remove(*t, name, object_name(*o));
    }
  } else if (propagation != "Orphan") {
    collect_garbage(type, **removed);
  }
  return removed;
}

void ApiHandler::collect_garbage(const ResourceType& type, const json::object& owner) {
  // The garbage collector deletes dependents whose ownerReferences name the
  // deleted owner's uid (here synchronously, for the kinds that own pods).
  static const char* const owners[] = {"daemonsets", "replicasets", "statefulsets", "deployments",
                                       "jobs"};
  if (std::find(std::begin(owners), std::end(owners), type.plural) == std::end(owners))
    return;
  const auto uid = fields::str(fields::obj(owner, "metadata"), "uid");
  const auto ns = std::string(object_namespace(owner));
  std::vector<const ResourceType*> dependents{&resource_type("", "pods")};
  if (type.plural == "deployments")
    dependents = {&resource_type("apps", "replicasets")};
  for (const auto* dt : dependents) {
    for (const auto& o : store_.list(*dt, ns)) {
      const auto* m = fields::obj(*o, "metadata");
      const auto* refs = m ? m->if_contains("ownerReferences") : nullptr;
      if (!refs || !refs->is_array())
        continue;
      for (const auto& ref : refs->get_array()) {
        if (fields::str(ref.if_object(), "uid") == uid) {
          (void)delete_object(*dt, ns, std::string(object_name(*o)), std::nullopt);
          break;
        }
      }
    }
  }
}

namespace {

struct DeleteOptions {
  std::optional<std::int64_t> grace;
  std::string propagation = "Background";
  std::string precondition_uid;
  std::string precondition_rv;
  bool dry_run = false;
};

Result<DeleteOptions> delete_options(const Query& q, const std::string& body) {
  DeleteOptions o;
  if (!body.empty()) {
    auto obj = parse_object(body);
    if (!obj)
      return obj.error();
    if (const auto* g = obj->if_contains("gracePeriodSeconds"); g && g->is_number())
      o.grace = g->to_number<std::int64_t>();
    if (auto p = fields::str(&*obj, "propagationPolicy"); !p.empty())
      o.propagation = p;
    if (const auto* pre = fields::obj(*obj, "preconditions")) {
      o.precondition_uid = fields::str(pre, "uid");
      o.precondition_rv = fields::str(pre, "resourceVersion");
    }
    if (const auto* d = obj->if_contains("dryRun"); d && d->is_array() && !d->get_array().empty())
      o.dry_run = true;
  }
  if (auto g = q.get("gracePeriodSeconds"); !g.empty())
    o.grace = std::atoll(g.c_str());
  if (auto p = q.get("propagationPolicy"); !p.empty())
    o.propagation = p;
  if (q.get("dryRun") == "All")
    o.dry_run = true;
  return o;
}

}  // namespace

ApiResponse ApiHandler::remove(const ResourcePath& rp, const Query& q, const std::string& body) {
  const auto& type = *rp.type;
  auto opts = delete_options(q, body);
  if (!opts)
    return error_response(opts.error());
  auto current = store_.get(type, rp.ns, rp.name);
  if (!current)
    return error_response(not_found(type.plural + " \"" + rp.name + "\" not found"), type.plural,
                          rp.name);
  const auto* meta = fields::obj(*current, "metadata");
  if ((!opts->precondition_uid.empty() && opts->precondition_uid != fields::str(meta, "uid")) ||
      (!opts->precondition_rv.empty() &&
       opts->precondition_rv != fields::str(meta, "resourceVersion")))
    return error_response(make_error(Errc::conflict, 409, "Conflict",
                                     "Precondition failed: UID or ResourceVersion in precondition "
                                     "does not match the object"),
                          type.plural, rp.name);
  if (opts->dry_run)
    return object_response(current);
  auto r = delete_object(type, rp.ns, rp.name, opts->grace, opts->propagation);
  if (!r)
    return error_response(r.error(), type.plural, rp.name);
  return object_response(*r);
}

ApiResponse ApiHandler::delete_collection(const ResourcePath& rp, const Query& q) {
  const auto& type = *rp.type;
  auto labels = wire::LabelSelector::parse(q.get("labelSelector"));
  if (!labels)
    return error_response(labels.error());
  auto fields = wire::FieldSelector::parse(q.get("fieldSelector"));
  if (!fields)
    return error_response(fields.error());
  auto opts = delete_options(q, {});
  json::array items;
  for (const auto& o : store_.list(type, rp.ns)) {
    const auto* meta = fields::obj(*o, "metadata");
    if (!labels->matches(meta ? fields::obj(*meta, "labels") : nullptr) || !fields->matches(*o))
      continue;
    if (!opts->dry_run) {
      auto r = delete_object(type, std::string(object_namespace(*o)), std::string(object_name(*o)),
                             opts->grace, opts->propagation);
      if (r)
        items.push_back(**r);
    } else {
      items.push_back(*o);
    }
  }
  return object_response(json::object{{"kind", type.kind + "List"},
                                      {"apiVersion", api_version(type)},
                                      {"metadata", json::object()},
                                      {"items", std::move(items)}});
}

}  // namespace cnimig::sim
