#include "table_converter.hpp"

#include <algorithm>
#include <chrono>

#include <boost/json.hpp>

#include "cnimig/common/rfc3339.hpp"

#include "json_fields.hpp"

namespace cnimig::sim {
namespace json = boost::json;

namespace {

// kubectl's duration.HumanDuration, abridged.
std::string age(const json::object& obj) {
  const auto created = parse_rfc3339(fields::str(fields::meta(obj), "creationTimestamp"));
  if (!created)
    return "<unknown>";
  const long s =
      std::max<long>(0, static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(
                                              std::chrono::system_clock::now() - *created)
                                              .count()));
  if (s < 120)
    return std::to_string(s) + "s";
  if (s < 3600 * 3)
    return std::to_string(s / 60) + "m";
  if (s < 86400 * 2)
    return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

std::string number_at(const json::object* o, std::string_view k) {
  if (!o)
    return "0";
  const auto* v = o->if_contains(k);
  return v && v->is_number() ? json::serialize(*v) : std::string("0");
}

json::object column(std::string name, std::string type = "string", int priority = 0,
                    std::string format = {}) {
  return json::object{{"name", std::move(name)},
                      {"type", std::move(type)},
                      {"format", std::move(format)},
                      {"description", ""},
                      {"priority", priority}};
}

// The kinds kubectl prints with their own columns; the rest get Name and Age.
enum class TableKind { pods, nodes, daemonsets, other };

TableKind table_kind(const ResourceType& type) {
  if (type.group.empty() && type.plural == "pods")
    return TableKind::pods;
  if (type.group.empty() && type.plural == "nodes")
    return TableKind::nodes;
  if (type.group == "apps" && type.plural == "daemonsets")
    return TableKind::daemonsets;
  return TableKind::other;
}

json::array column_definitions(TableKind kind) {
  json::array columns;
  columns.push_back(column("Name", "string", 0, "name"));
  if (kind == TableKind::pods) {
    columns.push_back(column("Ready"));
    columns.push_back(column("Status"));
    columns.push_back(column("Restarts", "string"));
    columns.push_back(column("Age"));
    columns.push_back(column("IP", "string", 1));
    columns.push_back(column("Node", "string", 1));
  } else if (kind == TableKind::nodes) {
    columns.push_back(column("Status"));
    columns.push_back(column("Roles"));
    columns.push_back(column("Age"));
    columns.push_back(column("Version"));
    columns.push_back(column("Internal-IP", "string", 1));
  } else if (kind == TableKind::daemonsets) {
    for (const char* c : {"Desired", "Current", "Ready", "Up-to-date", "Available"})
      columns.push_back(column(c, "integer"));
    columns.push_back(column("Node Selector", "string"));
    columns.push_back(column("Age"));
  } else {
    columns.push_back(column("Age"));
  }
  return columns;
}

// kubectl get pods: Ready, Status, Restarts, Age, IP, Node.
void append_pod_cells(const json::object& o, json::array& cells) {
  const auto* meta = fields::obj(o, "metadata");
  const auto* spec = fields::obj(o, "spec");
  const auto* status = fields::obj(o, "status");
  std::size_t total = 0, ready = 0;
  if (const auto* cs = spec ? spec->if_contains("containers") : nullptr; cs && cs->is_array())
    total = cs->get_array().size();
  if (const auto* st = status ? status->if_contains("containerStatuses") : nullptr;
      st && st->is_array()) {
    for (const auto& c : st->get_array())
      if (const auto* co = c.if_object();
          co && co->contains("ready") && co->at("ready") == json::value(true))
        ++ready;
  } else if (fields::condition_true(o, "Ready")) {
    ready = total;
  }
  std::string phase(fields::str(status, "phase"));
  if (meta && meta->contains("deletionTimestamp"))
    phase = "Terminating";
  cells.push_back(json::string(std::to_string(ready) + "/" + std::to_string(total)));
  cells.push_back(json::string(phase.empty() ? "Pending" : phase));
  cells.push_back(json::string("0"));
  cells.push_back(json::string(age(o)));
  const auto ip = fields::str(status, "podIP");
  const auto node = fields::str(spec, "nodeName");
  cells.push_back(json::string(ip.empty() ? "<none>" : ip));
  cells.push_back(json::string(node.empty() ? "<none>" : node));
}

// kubectl get nodes: Status, Roles, Age, Version, Internal-IP.
void append_node_cells(const json::object& o, json::array& cells) {
  const auto* meta = fields::obj(o, "metadata");
  const auto* spec = fields::obj(o, "spec");
  const auto* status = fields::obj(o, "status");
  std::string s = fields::condition_true(o, "Ready") ? "Ready" : "NotReady";
  if (spec && spec->contains("unschedulable") && spec->at("unschedulable") == json::value(true))
    s += ",SchedulingDisabled";
  std::string roles;
  if (const auto* labels = fields::obj(meta, "labels")) {
    for (const auto& [k, v] : *labels) {
      constexpr std::string_view prefix = "node-role.kubernetes.io/";
      if (std::string_view(k).starts_with(prefix))
        roles +=
            (roles.empty() ? "" : ",") + std::string(std::string_view(k).substr(prefix.size()));
    }
  }
  std::string ip = "<none>";
  if (const auto* addrs = status ? status->if_contains("addresses") : nullptr;
      addrs && addrs->is_array())
    for (const auto& a : addrs->get_array())
      if (fields::str(a.if_object(), "type") == "InternalIP")
        ip = fields::str(a.if_object(), "address");
  cells.push_back(json::string(s));
  cells.push_back(json::string(roles.empty() ? "<none>" : roles));
  cells.push_back(json::string(age(o)));
  cells.push_back(json::string(fields::str(fields::obj(status, "nodeInfo"), "kubeletVersion")));
  cells.push_back(json::string(ip));
}

// kubectl get daemonsets: the five counts, Node Selector, Age.
void append_daemonset_cells(const json::object& o, json::array& cells) {
  const auto* spec = fields::obj(o, "spec");
  const auto* status = fields::obj(o, "status");
  for (const char* f : {"desiredNumberScheduled", "currentNumberScheduled", "numberReady",
                        "updatedNumberScheduled", "numberAvailable"})
    cells.push_back(std::atoll(number_at(status, f).c_str()));
  std::string selector;
  if (const auto* ns =
          fields::obj(fields::obj(fields::obj(spec, "template"), "spec"), "nodeSelector"))
    for (const auto& [k, v] : *ns)
      selector += (selector.empty() ? "" : ",") + std::string(k) + "=" +
                  (v.is_string() ? std::string(v.get_string()) : std::string());
  cells.push_back(json::string(selector.empty() ? "<none>" : selector));
  cells.push_back(json::string(age(o)));
}

json::object table_row(TableKind kind, const json::object& o, TableObjects include) {
  const auto* meta = fields::obj(o, "metadata");
  json::array cells{json::string(fields::str(meta, "name"))};
  if (kind == TableKind::pods)
    append_pod_cells(o, cells);
  else if (kind == TableKind::nodes)
    append_node_cells(o, cells);
  else if (kind == TableKind::daemonsets)
    append_daemonset_cells(o, cells);
  else
    cells.push_back(json::string(age(o)));
  json::object row{{"cells", std::move(cells)}};
  if (include == TableObjects::full) {
    row["object"] = o;
  } else if (include == TableObjects::metadata) {
    row["object"] =
        json::object{{"kind", "PartialObjectMetadata"},
                     {"apiVersion", "meta.k8s.io/v1"},
                     {"metadata", meta ? json::value(*meta) : json::value(json::object())}};
  }
  return row;
}

}  // namespace

bool wants_table(std::string_view accept) {
  return accept.find("as=Table") != std::string_view::npos;
}

json::object to_table(const ResourceType& type, const std::vector<ObjectPtr>& objects,
                      TableObjects include, const std::string& rv) {
  const auto kind = table_kind(type);
  json::array rows;
  for (const auto& p : objects)
    rows.push_back(table_row(kind, *p, include));
  return json::object{{"kind", "Table"},
                      {"apiVersion", "meta.k8s.io/v1"},
                      {"metadata", {{"resourceVersion", rv}}},
                      {"columnDefinitions", column_definitions(kind)},
                      {"rows", std::move(rows)}};
}

}  // namespace cnimig::sim
