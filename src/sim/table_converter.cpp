#include "cnimig/sim/table_converter.hpp"

#include <chrono>
#include <ctime>

#include <boost/json.hpp>

namespace cnimig::sim {
namespace json = boost::json;

namespace {

const json::object* obj_at(const json::object* o, std::string_view k) {
  if (!o)
    return nullptr;
  const auto* v = o->if_contains(k);
  return v ? v->if_object() : nullptr;
}

std::string str_at(const json::object* o, std::string_view k) {
  if (!o)
    return {};
  const auto* v = o->if_contains(k);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// kubectl's duration.HumanDuration, abridged.
std::string age(const json::object& obj) {
  const auto ts = str_at(obj_at(&obj, "metadata"), "creationTimestamp");
  std::tm tm{};
  if (ts.empty() || !strptime(ts.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm))
    return "<unknown>";
  const auto created = timegm(&tm);
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  const long s = std::max<long>(0, static_cast<long>(now - created));
  if (s < 120)
    return std::to_string(s) + "s";
  if (s < 3600 * 3)
    return std::to_string(s / 60) + "m";
  if (s < 86400 * 2)
    return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

bool condition_true(const json::object* status, std::string_view type) {
  const auto* conds = status ? status->if_contains("conditions") : nullptr;
  if (!conds || !conds->is_array())
    return false;
  for (const auto& c : conds->get_array()) {
    const auto* co = c.if_object();
    if (co && str_at(co, "type") == type)
      return str_at(co, "status") == "True";
  }
  return false;
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

}  // namespace

bool wants_table(std::string_view accept) {
  return accept.find("as=Table") != std::string_view::npos;
}

json::object to_table(const ResourceType& type, const std::vector<ObjectPtr>& objects,
                      TableObjects include, const std::string& rv) {
  json::array columns;
  const bool pods = type.group.empty() && type.plural == "pods";
  const bool nodes = type.group.empty() && type.plural == "nodes";
  const bool daemonsets = type.group == "apps" && type.plural == "daemonsets";
  columns.push_back(column("Name", "string", 0, "name"));
  if (pods) {
    columns.push_back(column("Ready"));
    columns.push_back(column("Status"));
    columns.push_back(column("Restarts", "string"));
    columns.push_back(column("Age"));
    columns.push_back(column("IP", "string", 1));
    columns.push_back(column("Node", "string", 1));
  } else if (nodes) {
    columns.push_back(column("Status"));
    columns.push_back(column("Roles"));
    columns.push_back(column("Age"));
    columns.push_back(column("Version"));
    columns.push_back(column("Internal-IP", "string", 1));
  } else if (daemonsets) {
    for (const char* c : {"Desired", "Current", "Ready", "Up-to-date", "Available"})
      columns.push_back(column(c, "integer"));
    columns.push_back(column("Node Selector", "string"));
    columns.push_back(column("Age"));
  } else {
    columns.push_back(column("Age"));
  }
  json::array rows;
  for (const auto& p : objects) {
    const auto& o = *p;
    const auto* meta = obj_at(&o, "metadata");
    const auto* spec = obj_at(&o, "spec");
    const auto* status = obj_at(&o, "status");
    json::array cells{json::string(str_at(meta, "name"))};
    if (pods) {
      std::size_t total = 0, ready = 0;
      if (const auto* cs = spec ? spec->if_contains("containers") : nullptr; cs && cs->is_array())
        total = cs->get_array().size();
      if (const auto* st = status ? status->if_contains("containerStatuses") : nullptr;
          st && st->is_array()) {
        for (const auto& c : st->get_array())
          if (const auto* co = c.if_object();
              co && co->contains("ready") && co->at("ready") == json::value(true))
            ++ready;
      } else if (condition_true(status, "Ready")) {
        ready = total;
      }
      std::string phase = str_at(status, "phase");
      if (meta && meta->contains("deletionTimestamp"))
        phase = "Terminating";
      cells.push_back(json::string(std::to_string(ready) + "/" + std::to_string(total)));
      cells.push_back(json::string(phase.empty() ? "Pending" : phase));
      cells.push_back(json::string("0"));
      cells.push_back(json::string(age(o)));
      const auto ip = str_at(status, "podIP");
      const auto node = str_at(spec, "nodeName");
      cells.push_back(json::string(ip.empty() ? "<none>" : ip));
      cells.push_back(json::string(node.empty() ? "<none>" : node));
    } else if (nodes) {
      std::string s = condition_true(status, "Ready") ? "Ready" : "NotReady";
      if (spec && spec->contains("unschedulable") && spec->at("unschedulable") == json::value(true))
        s += ",SchedulingDisabled";
      std::string roles;
      if (const auto* labels = obj_at(meta, "labels")) {
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
          if (str_at(a.if_object(), "type") == "InternalIP")
            ip = str_at(a.if_object(), "address");
      cells.push_back(json::string(s));
      cells.push_back(json::string(roles.empty() ? "<none>" : roles));
      cells.push_back(json::string(age(o)));
      cells.push_back(json::string(str_at(obj_at(status, "nodeInfo"), "kubeletVersion")));
      cells.push_back(json::string(ip));
    } else if (daemonsets) {
      for (const char* f : {"desiredNumberScheduled", "currentNumberScheduled", "numberReady",
                            "updatedNumberScheduled", "numberAvailable"})
        cells.push_back(std::atoll(number_at(status, f).c_str()));
      std::string selector;
      if (const auto* ns = obj_at(obj_at(obj_at(spec, "template"), "spec"), "nodeSelector"))
        for (const auto& [k, v] : *ns)
          selector += (selector.empty() ? "" : ",") + std::string(k) + "=" +
                      (v.is_string() ? std::string(v.get_string()) : std::string());
      cells.push_back(json::string(selector.empty() ? "<none>" : selector));
      cells.push_back(json::string(age(o)));
    } else {
      cells.push_back(json::string(age(o)));
    }
    json::object row{{"cells", std::move(cells)}};
    if (include == TableObjects::full) {
      row["object"] = o;
    } else if (include == TableObjects::metadata) {
      row["object"] =
          json::object{{"kind", "PartialObjectMetadata"},
                       {"apiVersion", "meta.k8s.io/v1"},
                       {"metadata", meta ? json::value(*meta) : json::value(json::object())}};
    }
    rows.push_back(std::move(row));
  }
  return json::object{{"kind", "Table"},
                      {"apiVersion", "meta.k8s.io/v1"},
                      {"metadata", {{"resourceVersion", rv}}},
                      {"columnDefinitions", std::move(columns)},
                      {"rows", std::move(rows)}};
}

}  // namespace cnimig::sim
