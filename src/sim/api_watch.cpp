// Lists (JSON or server-side Tables, paged) and watches: the initial events
// and, through WatchPlan, the events each later change produces.
#include <algorithm>
#include <chrono>
#include <cstdlib>

#include <boost/json.hpp>

#include "api_handler.hpp"
#include "api_response.hpp"
#include "json_fields.hpp"

namespace cnimig::sim {
namespace json = boost::json;

namespace {

std::string event_json(std::string_view type, const json::object& obj) {
  std::string s = "{\"type\":\"";
  s.append(type);
  s.append("\",\"object\":");
  s.append(json::serialize(obj));
  s.push_back('}');
  return s;
}

bool selected(const wire::LabelSelector& labels, const wire::FieldSelector& field_selector,
              const json::object& obj) {
  return (labels.empty() || labels.matches(fields::obj(fields::meta(obj), "labels"))) &&
         (field_selector.empty() || field_selector.matches(obj));
}

// The objects a list or watch looks at, in key order from after `after` (a
// continue token): for pods with a spec.nodeName selector, the node's pods only.
std::vector<ObjectPtr> candidates(ObjectStore& store, const ResourcePath& rp,
                                  const wire::FieldSelector& field_selector,
                                  std::string_view after) {
  if (is_pods(*rp.type) && field_selector.node_name()) {
    auto pods = store.pods_on_node(*field_selector.node_name());
    std::erase_if(pods, [&](const ObjectPtr& p) {
      return (!rp.ns.empty() && object_namespace(*p) != rp.ns) ||
             (!after.empty() && ObjectStore::key(object_namespace(*p), object_name(*p)) <= after);
    });
    std::sort(pods.begin(), pods.end(), [](const ObjectPtr& a, const ObjectPtr& b) {
      return ObjectStore::key(object_namespace(*a), object_name(*a)) <
             ObjectStore::key(object_namespace(*b), object_name(*b));
    });
    return pods;
  }
  return store.list_page(*rp.type, rp.ns, after, 0, nullptr);
}

TableObjects table_objects(const Query& q) {
  const auto include = q.get("includeObject");
  return include == "Object" ? TableObjects::full
         : include == "None" ? TableObjects::none
                             : TableObjects::metadata;
}

std::size_t page_limit(const Query& q) {
  if (auto l = q.get("limit"); !l.empty())
    return static_cast<std::size_t>(std::max(0L, std::atol(l.c_str())));
  return 0;
}

// A server-side Table of one page (kubectl get).
ApiResponse list_table(ObjectStore& store, const ResourcePath& rp, const Query& q,
                       const wire::LabelSelector& labels,
                       const wire::FieldSelector& field_selector) {
  const auto limit = page_limit(q);
  std::vector<ObjectPtr> rows;
  bool more_rows = false;
  for (const auto& o : candidates(store, rp, field_selector, q.get("continue"))) {
    if (!selected(labels, field_selector, *o))
      continue;
    if (limit && rows.size() == limit) {
      more_rows = true;
      break;
    }
    rows.push_back(o);
  }
  auto t = to_table(*rp.type, rows, table_objects(q), std::to_string(store.resource_version()));
  if (more_rows)
    t["metadata"].as_object()["continue"] =
        ObjectStore::key(object_namespace(*rows.back()), object_name(*rows.back()));
  return object_response(t);
}

// A <Kind>List of one page, written out directly.
ApiResponse list_json(ObjectStore& store, const ResourcePath& rp, const Query& q,
                      const wire::LabelSelector& labels,
                      const wire::FieldSelector& field_selector) {
  const auto& type = *rp.type;
  const auto limit = page_limit(q);
  // "items" before "metadata" so the (possibly 100 MB) list is built in place,
  // once: key order is not significant in JSON.
  const auto item_version = ApiHandler::requested_api_version(rp);
  std::string body =
      "{\"kind\":\"" + type.kind + "List\",\"apiVersion\":\"" + item_version + "\",\"items\":[";
  std::size_t n = 0;
  std::string last;
  bool more = false;
  for (const auto& o : candidates(store, rp, field_selector, q.get("continue"))) {
    if (!selected(labels, field_selector, *o))
      continue;
    if (limit && n == limit) {
      more = true;  // a further matching item exists
      break;
    }
    if (n++)
      body.push_back(',');
    body += json::serialize(*ApiHandler::at_version(o, item_version));
    if (limit)
      last = ObjectStore::key(object_namespace(*o), object_name(*o));
  }
  body +=
      "],\"metadata\":{\"resourceVersion\":\"" + std::to_string(store.resource_version()) + "\"";
  if (more)
    body += ",\"continue\":" + json::serialize(json::string(last));
  body += "}}";
  return ApiResponse{200, "application/json", std::move(body)};
}

}  // namespace

bool WatchPlan::selects(const json::object& obj) const {
  if (!ns.empty() && type->namespaced && object_namespace(obj) != ns)
    return false;
  if (!name.empty() && object_name(obj) != name)
    return false;
  return selected(labels, fields, obj);
}

std::optional<std::string> WatchPlan::event_line(const Change& change) const {
  if (change.resource != type)
    return std::nullopt;
  switch (change.type) {
    case ChangeType::added:
      if (selects(*change.object))
        return render("ADDED", change.object);
      return std::nullopt;
    case ChangeType::deleted:
      if (selects(*change.object))
        return render("DELETED", change.object);
      return std::nullopt;
    case ChangeType::modified: {
      const bool was = change.old_object && selects(*change.old_object);
      const bool is = selects(*change.object);
      if (was && is)
        return render("MODIFIED", change.object);
      if (is)
        return render("ADDED", change.object);
      if (was)
        return render("DELETED", change.object);
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::string WatchPlan::render(std::string_view event_type, const ObjectPtr& object) const {
  if (!table)
    return event_json(event_type, *ApiHandler::at_version(object, object_api_version));
  return event_json(event_type,
                    to_table(*type, {object}, table_objects,
                             std::string(fields::str(fields::meta(*object), "resourceVersion"))));
}

std::string WatchPlan::bookmark_line(std::uint64_t rv) const {
  json::object o{
      {"kind", type->kind},
      {"apiVersion", object_api_version.empty() ? api_version(*type) : object_api_version},
      {"metadata", {{"resourceVersion", std::to_string(rv)}}}};
  return event_json("BOOKMARK", o);
}

ApiResult ApiHandler::list_or_watch(const ResourcePath& rp, const Query& q, bool watch,
                                    bool table) {
  auto labels = wire::LabelSelector::parse(q.get("labelSelector"));
  if (!labels)
    return {error_response(labels.error()), nullptr};
  auto field_selector = wire::FieldSelector::parse(q.get("fieldSelector"));
  if (!field_selector)
    return {error_response(field_selector.error()), nullptr};
  if (watch)
    return open_watch(rp, q, table, std::move(*labels), std::move(*field_selector));
  if (table)
    return {list_table(store_, rp, q, *labels, *field_selector), nullptr};
  return {list_json(store_, rp, q, *labels, *field_selector), nullptr};
}

ApiResult ApiHandler::open_watch(const ResourcePath& rp, const Query& q, bool table,
                                 wire::LabelSelector labels, wire::FieldSelector field_selector) {
  auto plan = std::make_shared<WatchPlan>();
  plan->type = rp.type;
  plan->ns = rp.ns;
  plan->labels = std::move(labels);
  plan->fields = std::move(field_selector);
  plan->bookmarks = q.flag("allowWatchBookmarks");
  plan->table = table;
  plan->table_objects = table_objects(q);
  if (rp.type->custom)
    plan->object_api_version = requested_api_version(rp);
  if (auto t = q.get("timeoutSeconds"); !t.empty())
    plan->timeout = std::chrono::seconds(std::atol(t.c_str()));
  const auto rv = q.get("resourceVersion");
  if (rv.empty() || rv == "0") {
    // Every object of the namespace, selected or not: what this did before
    // api_handler.cpp was split (it read the selectors after moving them into
    // the plan). Kept so the split changes no behaviour, and reported as a
    // bug: the fix is to filter with plan->labels and plan->fields.
    for (const auto& o : candidates(store_, rp, wire::FieldSelector{}, {}))
      plan->initial.push_back(plan->render("ADDED", o));
  } else if (auto refused = resume(*plan, rv)) {
    return {std::move(*refused), nullptr};
  }
  ++watches_opened_;
  ApiResult r;
  r.watch = std::move(plan);
  return r;
}

// A watch from a resourceVersion replays the changes since then; one too old
// (or any, under the gone-on-resume fault) ends with 410 Gone. The answer
// when the resourceVersion is not a number, else nullopt.
std::optional<ApiResponse> ApiHandler::resume(WatchPlan& plan, const std::string& rv) {
  std::uint64_t from = 0;
  try {
    from = std::stoull(rv);
  } catch (const std::exception&) {
    return error_response(bad_request("invalid resourceVersion " + rv));
  }
  auto changes = faults_.gone_on_resume
                     ? Result<std::vector<Change>>(gone_error(from, store_.resource_version()))
                     : history_.since(from);
  if (!changes) {
    // Like the watch cache: 200, then one ERROR event carrying the 410 Status.
    plan.initial.push_back("{\"type\":\"ERROR\",\"object\":" + status_json(changes.error()) + "}");
    plan.finish_after_initial = true;
    return std::nullopt;
  }
  for (const auto& c : *changes) {
    if (auto line = plan.event_line(c))
      plan.initial.push_back(std::move(*line));
  }
  return std::nullopt;
}

}  // namespace cnimig::sim
