#include "static_cluster.hpp"

#include <boost/asio.hpp>
#include <boost/json.hpp>

#include "api_defaults.hpp"
#include "api_server.hpp"

namespace cnimig::sim {
namespace asio = boost::asio;
namespace json = boost::json;

struct StaticCluster::State : std::enable_shared_from_this<StaticCluster::State> {
  State(asio::io_context& io, ObjectStore& store, double time_scale)
      : io(io), store(store), time_scale(time_scale) {}
  asio::io_context& io;
  ObjectStore& store;
  double time_scale;
  std::size_t observer = 0;
  std::uint64_t pods_finished = 0;
  bool alive = true;

  void finish_later(std::string ns, std::string name) {
    // A kubelet stops the containers, then removes the pod: 1 s, time-scaled.
    auto timer = std::make_shared<asio::steady_timer>(
        io, std::chrono::milliseconds(static_cast<long>(1000 * time_scale)));
    timer->async_wait([self = shared_from_this(), timer, ns, name](boost::system::error_code ec) {
      if (ec || !self->alive)
        return;
      const auto& pods = resource_type("", "pods");
      auto pod = self->store.get(pods, ns, name);
      if (pod && pod->at("metadata").as_object().contains("deletionTimestamp")) {
        if (self->store.remove(pods, ns, name))
          ++self->pods_finished;
      }
    });
  }
};

StaticCluster::StaticCluster(asio::io_context& io, ObjectStore& store, double time_scale)
    : state_(std::make_shared<State>(io, store, time_scale)) {
  std::weak_ptr<State> weak = state_;
  state_->observer = store.observe([weak](const Change& c) {
    auto s = weak.lock();
    if (!s || c.type != ChangeType::modified || c.resource->plural != "pods" ||
        !c.resource->group.empty())
      return;
    const auto& meta = c.object->at("metadata").as_object();
    const bool was =
        c.old_object && c.old_object->at("metadata").as_object().contains("deletionTimestamp");
    if (meta.contains("deletionTimestamp") && !was)
      s->finish_later(std::string(object_namespace(*c.object)),
                      std::string(object_name(*c.object)));
  });
}

StaticCluster::~StaticCluster() {
  state_->alive = false;
  state_->store.unobserve(state_->observer);
}

void StaticCluster::bootstrap(std::size_t nodes, std::size_t pods_per_node) {
  auto& store = state_->store;
  const auto& ns_type = resource_type("", "namespaces");
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    (void)store.create(ns_type, json::object{{"metadata", {{"name", ns}}},
                                             {"spec", {{"finalizers", json::array{"kubernetes"}}}},
                                             {"status", {{"phase", "Active"}}}});
  }
  const auto now = rfc3339_now();
  const auto ready = json::array{json::object{{"type", "Ready"},
                                              {"status", "True"},
                                              {"reason", "KubeletReady"},
                                              {"lastTransitionTime", now}}};
  // Owners, so kubectl drain sees controlled pods (DaemonSet pods are skipped
  // with --ignore-daemonsets; ReplicaSet pods are evicted).
  const auto owner = [&](const char* group, const char* plural, const char* name,
                         const char* app) -> json::object {
    const auto& type = resource_type(group, plural);
    json::object labels{{"app", app}};
    json::object container{{"name", app}, {"image", std::string(app) + ":latest"}};
    json::object pod_spec{{"containers", json::array{container}}};
    json::object tmpl{{"metadata", json::object{{"labels", labels}}}, {"spec", pod_spec}};
    json::object spec{{"selector", json::object{{"matchLabels", labels}}}, {"template", tmpl}};
    json::object o{{"metadata", json::object{{"name", name}, {"namespace", "default"}}},
                   {"spec", spec}};
    apply_defaults(type, o);
    auto created = store.create(type, std::move(o));
    if (!created)
      return {};
    return json::object{{"apiVersion", api_version(type)},
                        {"kind", type.kind},
                        {"name", name},
                        {"uid", (*created)->at("metadata").at("uid")},
                        {"controller", true},
                        {"blockOwnerDeletion", true}};
  };
  const auto ds_ref = owner("apps", "daemonsets", "knet-stress", "knet-stress");
  const auto rs_ref = owner("apps", "replicasets", "app", "app");
  for (std::size_t i = 0; i < nodes; ++i) {
    const auto name = "node-" + std::to_string(i);
    json::object node{
        {"metadata",
         {{"name", name},
          {"labels", {{"kubernetes.io/hostname", name}, {"kubernetes.io/os", "linux"}}}}},
        {"spec", {{"podCIDR", "10.244." + std::to_string(i % 256) + ".0/24"}}},
        {"status",
         {{"conditions", ready},
          {"addresses", json::array{{{"type", "InternalIP"},
                                     {"address", "10.0." + std::to_string(i / 256) + "." +
                                                     std::to_string(i % 256)}}}},
          {"capacity", {{"cpu", "4"}, {"memory", "16Gi"}, {"pods", "110"}}},
          {"allocatable", {{"cpu", "4"}, {"memory", "16Gi"}, {"pods", "110"}}},
          {"nodeInfo",
           {{"kubeletVersion", "v1.32.0"}, {"containerRuntimeVersion", "containerd://1.7"}}}}}};
    (void)store.create(resource_type("", "nodes"), std::move(node));
    const auto make_pod = [&](std::string pod_name, std::string ns, std::string app,
                              const json::object& ref) {
      json::object pod{{"metadata",
                        {{"name", pod_name},
                         {"namespace", ns},
                         {"labels", {{"app", app}}},
                         {"ownerReferences", json::array{ref}}}},
                       {"spec",
                        {{"nodeName", name},
                         {"containers", json::array{{{"name", app}, {"image", app + ":latest"}}}}}},
                       {"status",
                        {{"phase", "Running"},
                         {"conditions", json::array{{{"type", "Ready"}, {"status", "True"}}}},
                         {"podIP", "10.244." + std::to_string(i % 256) + "." +
                                       std::to_string(pod_name.size())}}}};
      apply_defaults(resource_type("", "pods"), pod);
      (void)store.create(resource_type("", "pods"), std::move(pod));
    };
    make_pod("knet-stress-" + name, "default", "knet-stress", ds_ref);
    for (std::size_t k = 0; k < pods_per_node; ++k)
      make_pod("app-" + name + "-" + std::to_string(k), "default", "app", rs_ref);
  }
}

ExecResult StaticCluster::exec(const json::object& pod, const std::vector<std::string>& command) {
  return default_exec(pod, command);
}

json::object StaticCluster::report() const {
  return json::object{{"model", "static"},
                      {"violations", 0},
                      {"pods_finished", state_->pods_finished},
                      {"nodes", state_->store.count(resource_type("", "nodes"))},
                      {"pods", state_->store.count(resource_type("", "pods"))}};
}

}  // namespace cnimig::sim
