#include "source_cni.hpp"

#include "cni_hazards.hpp"

namespace cnimig::sim {

namespace json = boost::json;

namespace {

json::object env(std::string_view name, std::string_view value) {
  return json::object{{"name", name}, {"value", value}};
}
json::object env_from(std::string_view name, json::object source) {
  return json::object{{"name", name}, {"valueFrom", std::move(source)}};
}
json::object field_ref(std::string_view path) {
  return json::object{{"fieldRef", json::object{{"fieldPath", path}}}};
}
json::object config_map_ref(std::string_view name, std::string_view key) {
  return json::object{{"configMapKeyRef", json::object{{"name", name}, {"key", key}}}};
}

json::object container(std::string_view name, std::string_view image, json::array env_vars) {
  return json::object{
      {"name", name},
      {"image", image},
      {"imagePullPolicy", "IfNotPresent"},
      {"env", std::move(env_vars)},
      {"securityContext", json::object{{"privileged", true}}},
      {"resources", json::object{{"requests", json::object{{"cpu", "10m"}, {"memory", "16Mi"}}}}}};
}

// Calico's and Canal's tolerations: every taint (they stay through drains).
json::array every_taint() {
  return json::array{json::object{{"effect", "NoSchedule"}, {"operator", "Exists"}},
                     json::object{{"key", "CriticalAddonsOnly"}, {"operator", "Exists"}},
                     json::object{{"effect", "NoExecute"}, {"operator", "Exists"}}};
}

json::object daemonset(std::string_view ns, std::string_view name, json::object labels,
                       json::array containers, json::array tolerations,
                       std::string_view service_account) {
  json::object pod_spec{{"containers", std::move(containers)},
                        {"hostNetwork", true},
                        {"dnsPolicy", "ClusterFirstWithHostNet"},
                        {"priorityClassName", "system-node-critical"},
                        {"nodeSelector", json::object{{"kubernetes.io/os", "linux"}}},
                        {"tolerations", std::move(tolerations)},
                        {"serviceAccountName", service_account},
                        {"terminationGracePeriodSeconds", 0}};
  return json::object{
      {"apiVersion", "apps/v1"},
      {"kind", "DaemonSet"},
      {"metadata", json::object{{"name", name}, {"namespace", ns}, {"labels", labels}}},
      {"spec",
       json::object{{"selector", json::object{{"matchLabels", labels}}},
                    // 10%, not the manifests' 1: the migrator's nodeSelector patch restarts
                    // every agent, and one at a time would take hours at 5,000 nodes.
                    {"updateStrategy",
                     json::object{{"type", "RollingUpdate"},
                                  {"rollingUpdate", json::object{{"maxUnavailable", "10%"}}}}},
                    {"template", json::object{{"metadata", json::object{{"labels", labels}}},
                                              {"spec", std::move(pod_spec)}}}}}};
}

json::object config_map(std::string_view ns, std::string_view name, json::object data,
                        json::object labels = {}) {
  return json::object{
      {"apiVersion", "v1"},
      {"kind", "ConfigMap"},
      {"metadata", json::object{{"name", name}, {"namespace", ns}, {"labels", std::move(labels)}}},
      {"data", std::move(data)}};
}

std::string net_conf(const ClusterOptions& o, bool nftables_key) {
  json::object conf{{"Network", o.source_pod_cidr}};
  if (nftables_key)
    conf["EnableNFTables"] = false;
  conf["Backend"] = json::object{{"Type", "vxlan"}};
  return json::serialize(conf);
}

void create_canal(ControllerContext& ctx, const ResourceType& config_maps) {
  const auto& o = ctx.options;
  (void)ctx.create(config_maps, config_map(o.source_cni_namespace, "canal-config",
                                           json::object{{"typha_service_name", "none"},
                                                        {"calico_backend", "none"},
                                                        {"veth_mtu", "0"},
                                                        {"canal_iface", ""},
                                                        {"masquerade", "true"},
                                                        {"net-conf.json", net_conf(o, false)}}));
  // As Canal's manifest: Calico does policy only, flannel the networking.
  auto calico = container(
      "calico-node", "docker.io/calico/node:v3.29.1",
      json::array{env("DATASTORE_TYPE", "kubernetes"), env("WAIT_FOR_DATASTORE", "true"),
                  env_from("NODENAME", field_ref("spec.nodeName")),
                  env("CALICO_NETWORKING_BACKEND", "none"), env("CLUSTER_TYPE", "k8s,canal"),
                  env("FELIX_IPTABLESREFRESHINTERVAL", "60"), env("IP", ""),
                  env("CALICO_DISABLE_FILE_LOGGING", "true"),
                  env("FELIX_DEFAULTENDPOINTTOHOSTACTION", "ACCEPT"),
                  env("FELIX_IPV6SUPPORT", "false"), env("FELIX_HEALTHENABLED", "true")});
  auto flannel = container(
      "kube-flannel", "docker.io/flannel/flannel:v0.26.1",
      json::array{env_from("POD_NAME", field_ref("metadata.name")),
                  env_from("POD_NAMESPACE", field_ref("metadata.namespace")),
                  env_from("FLANNELD_IFACE", config_map_ref("canal-config", "canal_iface")),
                  env_from("FLANNELD_IP_MASQ", config_map_ref("canal-config", "masquerade"))});
  (void)ctx.create(ctx.daemonsets, daemonset(o.source_cni_namespace, o.source_cni_daemonset,
                                             json::object{{"k8s-app", o.source_cni_daemonset}},
                                             json::array{std::move(calico), std::move(flannel)},
                                             every_taint(), o.source_cni_daemonset));
}

void create_calico(ControllerContext& ctx, const ResourceType& config_maps) {
  const auto& o = ctx.options;
  (void)ctx.create(config_maps, config_map(o.source_cni_namespace, "calico-config",
                                           json::object{{"typha_service_name", "none"},
                                                        {"calico_backend", "bird"},
                                                        {"veth_mtu", "0"}}));
  // calico.yaml (v3.29): BGP with IP-in-IP, its pool from CALICO_IPV4POOL_CIDR
  // (commented out in the manifest: set, as operators do).
  json::array vars{
      env("DATASTORE_TYPE", "kubernetes"),
      env("WAIT_FOR_DATASTORE", "true"),
      env_from("NODENAME", field_ref("spec.nodeName")),
      env_from("CALICO_NETWORKING_BACKEND", config_map_ref("calico-config", "calico_backend")),
      env("CLUSTER_TYPE", "k8s,bgp"),
      env("IP", "autodetect")};
  if (!o.calico_autodetection.empty())
    vars.push_back(env("IP_AUTODETECTION_METHOD", o.calico_autodetection));
  // calico.yaml's IP-in-IP, or VXLAN on a port (--calico-vxlan-port).
  const bool vxlan = o.calico_vxlan_port != 0;
  vars.push_back(env("CALICO_IPV4POOL_IPIP", vxlan ? "Never" : "Always"));
  vars.push_back(env("CALICO_IPV4POOL_VXLAN", vxlan ? "Always" : "Never"));
  if (vxlan)
    vars.push_back(env("FELIX_VXLANPORT", std::to_string(o.calico_vxlan_port)));
  for (auto& e :
       {env("CALICO_IPV6POOL_VXLAN", "Never"),
        env_from("FELIX_IPINIPMTU", config_map_ref("calico-config", "veth_mtu")),
        env_from("FELIX_VXLANMTU", config_map_ref("calico-config", "veth_mtu")),
        env_from("FELIX_WIREGUARDMTU", config_map_ref("calico-config", "veth_mtu")),
        env("CALICO_IPV4POOL_CIDR", o.source_pod_cidr), env("CALICO_DISABLE_FILE_LOGGING", "true"),
        env("FELIX_DEFAULTENDPOINTTOHOSTACTION", "ACCEPT"), env("FELIX_IPV6SUPPORT", "false"),
        env("FELIX_HEALTHENABLED", "true")})
    vars.push_back(e);
  (void)ctx.create(ctx.daemonsets,
                   daemonset(o.source_cni_namespace, o.source_cni_daemonset,
                             json::object{{"k8s-app", o.source_cni_daemonset}},
                             json::array{container("calico-node", "docker.io/calico/node:v3.29.1",
                                                   std::move(vars))},
                             every_taint(), o.source_cni_daemonset));
}

void create_flannel(ControllerContext& ctx, const ResourceType& config_maps) {
  const auto& o = ctx.options;
  if (o.source_cni_namespace != "kube-system")
    (void)ctx.create(
        ctx.namespaces,
        json::object{
            {"metadata",
             json::object{
                 {"name", o.source_cni_namespace},
                 {"labels", json::object{{"kubernetes.io/metadata.name", o.source_cni_namespace},
                                         {"pod-security.kubernetes.io/enforce", "privileged"}}}}},
            {"spec", json::object{{"finalizers", json::array{"kubernetes"}}}},
            {"status", json::object{{"phase", "Active"}}}});
  const json::object labels{{"tier", "node"}, {"app", "flannel"}, {"k8s-app", "flannel"}};
  (void)ctx.create(config_maps,
                   config_map(o.source_cni_namespace, "kube-flannel-cfg",
                              json::object{{"cni-conf.json",
                                            R"({"name":"cbr0","cniVersion":"0.3.1","plugins":[)"
                                            R"({"type":"flannel","delegate":{"hairpinMode":true,)"
                                            R"("isDefaultGateway":true}},{"type":"portmap",)"
                                            R"("capabilities":{"portMappings":true}}]})"},
                                           {"net-conf.json", net_conf(o, true)}},
                              labels));
  auto flannel = container("kube-flannel", "ghcr.io/flannel-io/flannel:v0.26.1",
                           json::array{env_from("POD_NAME", field_ref("metadata.name")),
                                       env_from("POD_NAMESPACE", field_ref("metadata.namespace")),
                                       env("EVENT_QUEUE_DEPTH", "5000")});
  flannel["command"] = json::array{"/opt/bin/flanneld"};
  flannel["args"] = json::array{"--ip-masq", "--kube-subnet-mgr"};
  // kube-flannel.yml tolerates NoSchedule taints only: a NoExecute taint
  // evicts flannel from the node.
  (void)ctx.create(
      ctx.daemonsets,
      daemonset(
          o.source_cni_namespace, o.source_cni_daemonset, labels, json::array{std::move(flannel)},
          json::array{json::object{{"effect", "NoSchedule"}, {"operator", "Exists"}}}, "flannel"));
}

}  // namespace

bool set_source_cni(ClusterOptions& options, std::string_view name) {
  if (name == "canal") {
    options.source_cni_namespace = "kube-system";
    options.source_cni_daemonset = "canal";
    options.source_cni_config = "10-canal.conflist";
  } else if (name == "calico") {
    options.source_cni_namespace = "kube-system";
    options.source_cni_daemonset = "calico-node";
    options.source_cni_config = "10-calico.conflist";
  } else if (name == "flannel") {
    options.source_cni_namespace = "kube-flannel";
    options.source_cni_daemonset = "kube-flannel-ds";
    options.source_cni_config = "10-flannel.conflist";
  } else {
    return false;
  }
  options.source_cni = std::string(name);
  return true;
}

std::string node_pod_cidr(const ClusterOptions& options, std::size_t index) {
  auto pool = parse_cidr(options.source_pod_cidr);
  if (!pool)
    pool = parse_cidr("10.64.0.0/10");
  return block_of(*pool, 24, index).to_string();
}

void create_source_cni(ControllerContext& ctx) {
  const auto& config_maps = resource_type("", "configmaps");
  if (ctx.options.source_cni == "calico")
    create_calico(ctx, config_maps);
  else if (ctx.options.source_cni == "flannel")
    create_flannel(ctx, config_maps);
  else
    create_canal(ctx, config_maps);
}

}  // namespace cnimig::sim
