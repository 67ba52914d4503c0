#include "cluster_bootstrap.hpp"

#include <algorithm>

#include "source_cni.hpp"

namespace cnimig::sim {

namespace json = boost::json;

namespace {

json::object container(std::string_view name, std::string_view image) {
  return json::object{
      {"name", name},
      {"image", image},
      {"imagePullPolicy", "IfNotPresent"},
      {"resources", json::object{{"requests", json::object{{"cpu", "10m"}, {"memory", "16Mi"}}}}}};
}

json::object daemonset(std::string_view ns, std::string_view name, std::string_view app_label,
                       json::array containers, bool host_network, json::array tolerations) {
  json::object labels{{"k8s-app", app_label}};
  json::object pod_spec{{"containers", std::move(containers)},
                        {"hostNetwork", host_network},
                        {"priorityClassName", "system-node-critical"},
                        {"nodeSelector", json::object{{"kubernetes.io/os", "linux"}}},
                        {"tolerations", std::move(tolerations)},
                        {"serviceAccountName", name},
                        {"terminationGracePeriodSeconds", 0}};
  if (host_network)
    pod_spec["dnsPolicy"] = "ClusterFirstWithHostNet";
  return json::object{
      {"apiVersion", "apps/v1"},
      {"kind", "DaemonSet"},
      {"metadata", json::object{{"name", name}, {"namespace", ns}, {"labels", labels}}},
      {"spec",
       json::object{
           // 10%, not canal's stock 1: a template change (the migrator's nodeSelector patch)
           // restarts every agent, and one at a time would take hours at 5,000 nodes.
           {"selector", json::object{{"matchLabels", labels}}},
           {"updateStrategy",
            json::object{{"type", "RollingUpdate"},
                         {"rollingUpdate", json::object{{"maxUnavailable", "10%"}}}}},
           {"template", json::object{{"metadata", json::object{{"labels", labels}}},
                                     {"spec", std::move(pod_spec)}}}}}};
}

json::object workload(std::string_view kind, std::string_view ns, std::string_view name,
                      std::int64_t replicas, std::string_view image) {
  json::object labels{{"app.kubernetes.io/name", name}, {"app.kubernetes.io/part-of", "sim-apps"}};
  json::object pod_spec{{"containers", json::array{container(name, image)}},
                        {"terminationGracePeriodSeconds", 30}};
  json::object spec{{"replicas", replicas},
                    {"selector", json::object{{"matchLabels", labels}}},
                    {"template", json::object{{"metadata", json::object{{"labels", labels}}},
                                              {"spec", pod_spec}}}};
  if (kind == "StatefulSet") {
    spec["serviceName"] = name;
    spec["podManagementPolicy"] = "Parallel";
    spec["updateStrategy"] = json::object{{"type", "RollingUpdate"}};
  } else {
    spec["strategy"] = json::object{
        {"type", "RollingUpdate"},
        {"rollingUpdate", json::object{{"maxUnavailable", "25%"}, {"maxSurge", "25%"}}}};
  }
  return json::object{
      {"apiVersion", "apps/v1"},
      {"kind", kind},
      {"metadata", json::object{{"name", name}, {"namespace", ns}, {"labels", labels}}},
      {"spec", std::move(spec)}};
}

json::object pdb(std::string_view ns, std::string_view name, const json::object& match_labels,
                 std::string_view field, json::value value) {
  return json::object{
      {"apiVersion", "policy/v1"},
      {"kind", "PodDisruptionBudget"},
      {"metadata", json::object{{"name", name}, {"namespace", ns}}},
      {"spec", json::object{{"selector", json::object{{"matchLabels", match_labels}}},
                            {field, std::move(value)}}}};
}

}  // namespace

json::object node_status(std::string_view name, std::string_view ip, std::string_view kernel) {
  const auto now = rfc3339_now();
  auto cond = [&](std::string_view type, bool value, std::string_view reason) {
    return json::object{
        {"type", type},  {"status", value ? "True" : "False"}, {"reason", reason},
        {"message", ""}, {"lastHeartbeatTime", now},           {"lastTransitionTime", now}};
  };
  json::object capacity{
      {"cpu", "8"}, {"memory", "32863392Ki"}, {"pods", "110"}, {"ephemeral-storage", "102350Mi"}};
  return json::object{
      {"capacity", capacity},
      {"allocatable", capacity},
      {"conditions", json::array{cond("MemoryPressure", false, "KubeletHasSufficientMemory"),
                                 cond("DiskPressure", false, "KubeletHasNoDiskPressure"),
                                 cond("PIDPressure", false, "KubeletHasSufficientPID"),
                                 cond("Ready", true, "KubeletReady")}},
      {"addresses", json::array{json::object{{"type", "InternalIP"}, {"address", ip}},
                                json::object{{"type", "Hostname"}, {"address", name}}}},
      {"nodeInfo", json::object{{"kubeletVersion", "v1.32.0"},
                                {"kubeProxyVersion", "v1.32.0"},
                                {"containerRuntimeVersion", "containerd://1.7.24"},
                                {"osImage", "Debian GNU/Linux 12 (bookworm)"},
                                {"kernelVersion", kernel},
                                {"operatingSystem", "linux"},
                                {"architecture", "amd64"}}}};
}

json::object make_node(const ClusterOptions& options, std::size_t i) {
  const auto name = options.node_name_prefix + std::to_string(i);
  const auto ip = "172." + std::to_string(16 + i / 65536 % 16) + "." +
                  std::to_string(i / 256 % 256) + "." +
                  std::to_string(i % 256 == 255 ? 254 : i % 256 + 1);
  return json::object{
      {"apiVersion", "v1"},
      {"kind", "Node"},
      {"metadata",
       json::object{{"name", name},
                    {"labels", json::object{{"kubernetes.io/hostname", name},
                                            {"kubernetes.io/os", "linux"},
                                            {"kubernetes.io/arch", "amd64"},
                                            {"beta.kubernetes.io/os", "linux"},
                                            {"beta.kubernetes.io/arch", "amd64"}}},
                    {"annotations", json::object{{"node.alpha.kubernetes.io/ttl", "0"}}}}},
      {"spec", json::object{{"podCIDR", node_pod_cidr(options, i)}}},
      {"status", node_status(name, ip, options.kernel_version_of(name))}};
}

namespace {

void create_namespaces(ControllerContext& ctx) {
  for (const char* n : {"default", "kube-system", "kube-public", "kube-node-lease", "apps"})
    (void)ctx.create(
        ctx.namespaces,
        json::object{{"metadata",
                      json::object{{"name", n},
                                   {"labels", json::object{{"kubernetes.io/metadata.name", n}}}}},
                     {"spec", json::object{{"finalizers", json::array{"kubernetes"}}}},
                     {"status", json::object{{"phase", "Active"}}}});
}

// The source CNI (canal, calico or flannel, as its manifest has it),
// kube-proxy and CoreDNS with its PDB.
void create_system_workloads(ControllerContext& ctx) {
  create_source_cni(ctx);
  (void)ctx.create(
      ctx.daemonsets,
      daemonset("kube-system", "kube-proxy", "kube-proxy",
                json::array{container("kube-proxy", "registry.k8s.io/kube-proxy:v1.32.0")}, true,
                json::array{json::object{{"operator", "Exists"}}}));
  auto dns = workload("Deployment", "kube-system", "coredns", 2,
                      "registry.k8s.io/coredns/coredns:v1.11.3");
  dns["metadata"].as_object()["labels"] = json::object{{"k8s-app", "kube-dns"}};
  auto& dns_spec = dns["spec"].as_object();
  dns_spec["selector"] = json::object{{"matchLabels", json::object{{"k8s-app", "kube-dns"}}}};
  auto& dns_tmpl = dns_spec["template"].as_object();
  dns_tmpl["metadata"] = json::object{{"labels", json::object{{"k8s-app", "kube-dns"}}}};
  auto& dns_pod = dns_tmpl["spec"].as_object();
  dns_pod["priorityClassName"] = "system-cluster-critical";
  dns_pod["tolerations"] = json::array{
      json::object{{"key", "CriticalAddonsOnly"}, {"operator", "Exists"}},
      json::object{{"key", "node-role.kubernetes.io/control-plane"}, {"effect", "NoSchedule"}}};
  (void)ctx.create(ctx.deployments, std::move(dns));
  (void)ctx.create(ctx.pdbs, pdb("kube-system", "coredns", json::object{{"k8s-app", "kube-dns"}},
                                 "maxUnavailable", 1));
}

// The applications in namespace apps: `total` pods split 40/30/20/10 over
// web, api, worker and db, each with a PodDisruptionBudget.
void create_applications(ControllerContext& ctx, std::int64_t total) {
  const std::int64_t web = std::max<std::int64_t>(1, total * 4 / 10);
  const std::int64_t api = std::max<std::int64_t>(1, total * 3 / 10);
  const std::int64_t db = std::max<std::int64_t>(1, total / 10);
  const std::int64_t worker = std::max<std::int64_t>(1, total - web - api - db);
  struct App {
    const char* kind;
    const char* name;
    std::int64_t replicas;
    const char* image;
    const char* pdb_field;
    json::value pdb_value;
  };
  const App apps[] = {
      {"Deployment", "web", web, "docker.io/library/nginx:1.27", "maxUnavailable",
       json::value("10%")},
      {"Deployment", "api", api, "ghcr.io/example/api:2.4.1", "minAvailable", json::value("50%")},
      {"Deployment", "worker", worker, "ghcr.io/example/worker:2.4.1", "maxUnavailable",
       json::value(1)},
      {"StatefulSet", "db", db, "docker.io/library/postgres:16", "maxUnavailable", json::value(1)},
  };
  for (const auto& a : apps) {
    auto w = workload(a.kind, "apps", a.name, a.replicas, a.image);
    (void)ctx.create(a.kind == std::string_view("StatefulSet") ? ctx.statefulsets : ctx.deployments,
                     std::move(w));
    (void)ctx.create(ctx.pdbs, pdb("apps", a.name,
                                   json::object{{"app.kubernetes.io/name", a.name},
                                                {"app.kubernetes.io/part-of", "sim-apps"}},
                                   a.pdb_field, a.pdb_value));
  }
}

// The ServiceAccounts the workloads' pods name (other than each namespace's
// `default`, which the ServiceAccount controller makes): without them the
// API server refuses the pods.
void create_service_accounts(ControllerContext& ctx) {
  const auto& accounts = resource_type("", "serviceaccounts");
  for (const auto* type : {&ctx.daemonsets, &ctx.deployments, &ctx.statefulsets})
    for (const auto& workload : ctx.store.list(*type, "")) {
      const auto account =
          fields::str(fields::obj(fields::obj(fields::spec(*workload), "template"), "spec"),
                      "serviceAccountName");
      const auto account_ns = fields::ns(*workload);
      if (account.empty() || account == "default" || ctx.store.get(accounts, account_ns, account))
        continue;
      (void)ctx.create(
          accounts,
          json::object{{"apiVersion", "v1"},
                       {"kind", "ServiceAccount"},
                       {"metadata", json::object{{"name", account}, {"namespace", account_ns}}}});
    }
}

}  // namespace

void populate_cluster(ControllerContext& ctx, std::size_t nodes, std::size_t pods_per_node) {
  create_namespaces(ctx);
  for (std::size_t i = 0; i < nodes; ++i)
    (void)ctx.create(ctx.nodes, make_node(ctx.options, i));
  create_system_workloads(ctx);
  // Applications: about pods_per_node per node in total.
  const auto total = static_cast<std::int64_t>(nodes * pods_per_node);
  if (total > 0)
    create_applications(ctx, total);
  create_service_accounts(ctx);
}

}  // namespace cnimig::sim
