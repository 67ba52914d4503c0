#pragma once
// Drives a ClusterModel on a store without the API server: edit objects the
// way kubectl/the agent would, run the io_context until the cluster settles.

#include <chrono>
#include <functional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "cnimig/wire/object_fields.hpp"

#include "cluster_model.hpp"
#include "object_store.hpp"
#include "resource_type.hpp"

namespace cnimig::sim::test {

namespace json = boost::json;

struct Harness {
  explicit Harness(ClusterOptions options = zero_delays()) : model(io, store, std::move(options)) {}

  static ClusterOptions zero_delays() {
    ClusterOptions o;
    o.time_scale = 0;  // every delay elapses at once: the order of events still holds
    return o;
  }

  boost::asio::io_context io;
  ObjectStore store;
  ClusterModel model;
  const ResourceType& pods = resource_type("", "pods");
  const ResourceType& nodes = resource_type("", "nodes");
  const ResourceType& namespaces = resource_type("", "namespaces");
  const ResourceType& daemonsets = resource_type("apps", "daemonsets");
  const ResourceType& deployments = resource_type("apps", "deployments");
  const ResourceType& statefulsets = resource_type("apps", "statefulsets");
  const ResourceType& pdbs = resource_type("policy", "poddisruptionbudgets");

  bool settled() const { return model.controllers_idle() && model.kubelet_queue() == 0; }

  // Runs handlers until `done` holds; bounded, never sleeps.
  bool run_until(const std::function<bool()>& done, std::size_t max_handlers = 2'000'000) {
    for (std::size_t i = 0; i < max_handlers; ++i) {
      if (done())
        return true;
      io.restart();
      if (io.poll_one() == 0) {
        if (done())
          return true;
        if (settled())
          return done();
        io.restart();
        io.run_one_for(std::chrono::milliseconds(20));  // a timer due "now" that has not fired yet
      }
    }
    return done();
  }
  bool settle() {
    return run_until([this] { return settled(); });
  }

  json::object get(const ResourceType& t, std::string_view ns, std::string_view name) {
    auto p = store.get(t, ns, name);
    return p ? *p : json::object{};
  }
  // Read-modify-write like `kubectl edit`.
  void edit(const ResourceType& t, std::string_view ns, std::string_view name,
            const std::function<void(json::object&)>& change) {
    auto o = get(t, ns, name);
    change(o);
    auto r = store.update(t, std::move(o));
    if (!r)
      throw std::runtime_error(r.error().message);
  }
  void label_node(std::string_view node, const std::string& key, const char* value) {
    edit(nodes, "", node, [&](json::object& n) {
      auto& labels = n["metadata"].as_object()["labels"].as_object();
      if (value)
        labels[key] = value;
      else
        labels.erase(key);
    });
  }
  void cordon(std::string_view node, bool on) {
    edit(nodes, "", node, [&](json::object& n) {
      auto& spec = n["spec"].as_object();
      if (on)
        spec["unschedulable"] = true;
      else
        spec.erase("unschedulable");
    });
  }
  void taint(std::string_view node, const std::string& key, const char* effect) {
    edit(nodes, "", node, [&](json::object& n) {
      auto& spec = n["spec"].as_object();
      json::array taints;
      if (auto* t = spec.if_contains("taints"))
        for (auto& x : t->as_array())
          if (x.at("key").as_string() != key)
            taints.push_back(x);
      if (effect)
        taints.push_back(json::object{{"key", key}, {"value", "true"}, {"effect", effect}});
      if (taints.empty())
        spec.erase("taints");
      else
        spec["taints"] = std::move(taints);
    });
  }
  // Graceful delete, as the API server does it.
  void delete_pod(const json::object& pod) {
    json::object next = pod;
    auto& meta = next["metadata"].as_object();
    meta["deletionTimestamp"] = rfc3339_now();
    meta["deletionGracePeriodSeconds"] = 30;
    meta.erase("resourceVersion");
    (void)store.update(pods, std::move(next));
  }
  std::vector<ObjectPtr> pods_of(std::string_view ns) { return store.list(pods, ns); }
  static bool ready(const json::object& pod) { return wire::pod_ready(pod); }
  static std::string node_of(const json::object& pod) { return std::string(wire::node_name(pod)); }
  std::size_t count_ready(std::string_view ns) {
    std::size_t n = 0;
    for (auto& p : pods_of(ns))
      if (ready(*p))
        ++n;
    return n;
  }
};

// The migration's node labels, under the role prefix the seed used.
inline const std::string kRolePrefix = "node-role.kubernetes.io/";
inline const std::vector<std::string> kFourNodes{"node-0", "node-1", "node-2", "node-3"};

// A DaemonSet like the ones the migration installs: one pod a node, selected
// by `selector_label` under kRolePrefix (none: every node), tolerating all.
inline json::object agent_ds(std::string_view ns, std::string_view name,
                             std::string_view selector_label, bool host_network = true) {
  json::object labels{{"k8s-app", name}};
  json::object pod_spec{
      {"containers", json::array{json::object{{"name", name},
                                              {"image", "quay.io/example/" + std::string(name)}}}},
      {"hostNetwork", host_network},
      {"terminationGracePeriodSeconds", 1},
      {"tolerations", json::array{json::object{{"operator", "Exists"}}}}};
  if (!selector_label.empty())
    pod_spec["nodeSelector"] = json::object{{kRolePrefix + std::string(selector_label), "true"}};
  return json::object{
      {"metadata", json::object{{"name", name}, {"namespace", ns}, {"labels", labels}}},
      {"spec",
       json::object{{"selector", json::object{{"matchLabels", labels}}},
                    {"updateStrategy", json::object{{"type", "RollingUpdate"}}},
                    {"template", json::object{{"metadata", json::object{{"labels", labels}}},
                                              {"spec", std::move(pod_spec)}}}}}};
}

// knet-stress as the agent's preflight installs it: two DaemonSets on the
// ordinary pod network, tolerating everything. False if a create failed.
inline bool install_knet_stress(Harness& h) {
  (void)h.store.create(h.namespaces,
                       json::object{{"metadata", json::object{{"name", "knet-stress"}}}});
  for (const char* n : {"knet-stress", "knet-stress-2"})
    if (!h.store.create(h.daemonsets, agent_ds("knet-stress", n, "", false)).has_value())
      return false;
  return true;
}

}  // namespace cnimig::sim::test
