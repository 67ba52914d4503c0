// The CNI stack preflight's reads and reports. Every read is optional: a
// cluster without Calico has no IPPools (404), a cluster before Kubernetes
// 1.33 may have no ServiceCIDRs; a fact that cannot be read is not judged,
// and the log says which.

#include "cnimig/agent/cni_stack_preflight.hpp"

#include <boost/json/parse.hpp>
#include <spdlog/spdlog.h>

#include "cnimig/events/event_catalogue.hpp"

namespace cnimig::agent {
namespace {

namespace asio = boost::asio;

// A list, or nothing when the resource does not exist here (404) or cannot
// be read (logged: the checks that need it are skipped).
asio::awaitable<std::vector<boost::json::object>> optional_list(kube::Client& client,
                                                                const kube::ResourcePath& path,
                                                                const std::string& what,
                                                                const kube::ListOptions& options) {
  auto list = co_await client.list(path, options);
  if (list)
    co_return std::move(list->items);
  if (list.error().code != Errc::not_found) {
    spdlog::warn("preflight: cannot read {} ({}); the checks that need it are skipped", what,
                 list.error().describe());
  }
  co_return std::vector<boost::json::object>{};
}

asio::awaitable<std::optional<boost::json::object>> optional_get(
    kube::Client& client, const kube::ResourcePath& path, const std::string& what,
    const kube::RequestOptions& options) {
  auto object = co_await client.get(path, options);
  if (object)
    co_return std::move(*object);
  if (object.error().code != Errc::not_found) {
    spdlog::warn("preflight: cannot read {} ({}); the checks that need it are skipped", what,
                 object.error().describe());
  }
  co_return std::nullopt;
}

// Whether the server serves `resource` in `group_version` ("crd.projectcalico.org/v1"):
// asked through discovery, so an absent API costs no failing request.
asio::awaitable<bool> serves(kube::Client& client, const std::string& group_version,
                             const std::string& resource, const kube::RequestOptions& options) {
  kube::HttpRequest request;
  request.target = "/apis/" + group_version;
  request.options = options;
  const auto group = group_version.substr(0, group_version.find('/'));
  kube::HttpRequest groups_request;
  groups_request.target = "/apis";
  groups_request.options = options;
  auto groups = co_await client.request(groups_request);
  if (!groups || groups->body.find("\"" + group + "\"") == std::string::npos)
    co_return false;
  auto resources = co_await client.request(request);
  if (!resources)
    co_return false;
  boost::system::error_code ec;
  const auto list = boost::json::parse(resources->body, ec);
  const auto* items =
      !ec && list.is_object() ? list.get_object().if_contains("resources") : nullptr;
  if (items == nullptr || !items->is_array())
    co_return false;
  for (const auto& r : items->get_array()) {
    const auto* name = r.is_object() ? r.get_object().if_contains("name") : nullptr;
    if (name != nullptr && name->is_string() && name->get_string() == resource)
      co_return true;
  }
  co_return false;
}

// A resource the server may not serve (a CRD, an API newer than the
// server) whose items add facts.
struct OptionalResource {
  std::string group;
  std::string version;
  std::string resource;
  std::string what;  // for the log
  void (*add_facts)(const boost::json::object& item, migrate::CniStackFacts& facts);
};

// Lists `r` only where discovery shows it, adding each item's facts.
asio::awaitable<void> add_facts_if_served(kube::Client& client, const OptionalResource& r,
                                          const kube::ListOptions& options,
                                          migrate::CniStackFacts& facts) {
  // Locals, not temporaries, in the co_awaits' arguments (GCC 12).
  const auto group_version = r.group + "/" + r.version;
  const bool served = co_await serves(client, group_version, r.resource, options.request);
  if (!served)
    co_return;
  const auto path = kube::ResourcePath::of(r.group, r.version, r.resource);
  const auto items = co_await optional_list(client, path, r.what, options);
  for (const auto& item : items)
    r.add_facts(item, facts);
}

std::string overlay_warning(const migrate::Overlay& overlay) {
  const auto name = overlay.protocol == "geneve"  ? std::string("Geneve")
                    : overlay.protocol == "vxlan" ? std::string("VXLAN")
                                                  : overlay.protocol;
  return "UDP " + std::to_string(overlay.port) + " (" + name + ") must be open between all nodes";
}

// Flannel's net-conf.json: flannel's own manifest, the same in kube-system,
// and Canal's.
asio::awaitable<void> add_net_conf_facts(kube::Client& client, const kube::RequestOptions& options,
                                         migrate::CniStackFacts& facts) {
  const std::pair<const char*, const char*> net_confs[] = {{"kube-flannel", "kube-flannel-cfg"},
                                                           {"kube-system", "kube-flannel-cfg"},
                                                           {"kube-system", "canal-config"}};
  for (const auto& [ns, name] : net_confs) {
    const std::string owner = std::string("ConfigMap ") + ns + "/" + name;
    const auto cm_path = kube::ResourcePath::core("configmaps").in(ns).named(name);
    const auto cm = co_await optional_get(client, cm_path, owner, options);
    const auto* data = cm ? cm->if_contains("data") : nullptr;
    const auto* conf = data != nullptr && data->is_object()
                           ? data->get_object().if_contains("net-conf.json")
                           : nullptr;
    if (conf != nullptr && conf->is_string())
      add_flannel_net_conf_facts(owner, std::string(conf->get_string()), facts);
  }
}

// What the cluster says: nodes, the source CNI's DaemonSet, Calico's IPPools
// and FelixConfigurations, flannel's net-conf, the ServiceCIDRs.
asio::awaitable<void> add_cluster_facts(kube::Client& client, const config::Config& config,
                                        migrate::CniStackFacts& facts) {
  // Paths and results are locals: GCC 12 destroys temporaries in a
  // co_await's arguments twice.
  kube::ListOptions list;
  list.request.timeout = config.timeouts.api_request;
  const auto nodes_path = kube::ResourcePath::core("nodes");
  const auto nodes = co_await optional_list(client, nodes_path, "nodes", list);
  for (const auto& node : nodes)
    add_node_facts(node, facts);
  const auto& source = config.source_cni;
  const auto ds_path = kube::ResourcePath::of("apps", "v1", "daemonsets")
                           .in(source.namespace_)
                           .named(source.daemonset);
  const auto ds =
      co_await optional_get(client, ds_path, "the source CNI's DaemonSet", list.request);
  if (ds)
    add_source_daemon_set_facts(*ds, facts);
  const OptionalResource ip_pools{"crd.projectcalico.org", "v1", "ippools", "Calico IPPools",
                                  add_ip_pool_facts};
  co_await add_facts_if_served(client, ip_pools, list, facts);
  const OptionalResource felix{"crd.projectcalico.org", "v1", "felixconfigurations",
                               "Calico FelixConfigurations", add_felix_configuration_facts};
  co_await add_facts_if_served(client, felix, list, facts);
  co_await add_net_conf_facts(client, list.request, facts);
  const OptionalResource service_cidrs{"networking.k8s.io", "v1", "servicecidrs", "ServiceCIDRs",
                                       add_service_cidr_facts};
  co_await add_facts_if_served(client, service_cidrs, list, facts);
}

void report_failure(const std::string& check, const std::string& message,
                    events::EventSink& events) {
  spdlog::error("preflight ({}): {}", check, message);
  events.emit(events::Event(events::catalogued("preflight.failed")).error(message));
}

void report_warning(const std::string& check, const std::string& message, events::EventSink& events,
                    std::vector<std::string>& warnings) {
  spdlog::warn("preflight ({}): {}", check, message);
  events.emit(events::Event(events::catalogued("preflight.warning")).field("warning", message));
  warnings.push_back(message);
}

// Each problem as preflight.failed or preflight.warning; false on a refusal.
bool report_problems(const std::vector<migrate::PreflightProblem>& problems,
                     events::EventSink& events, std::vector<std::string>& warnings) {
  bool passed = true;
  for (const auto& p : problems) {
    if (p.fatal) {
      report_failure(p.check, p.message, events);
      passed = false;
    } else {
      report_warning(p.check, p.message, events, warnings);
    }
  }
  return passed;
}

}  // namespace

asio::awaitable<bool> cni_stack_preflight(kube::Client& client, const config::Config& config,
                                          const std::map<std::string, ManifestBundle>& bundles,
                                          const std::optional<kube::ServerVersion>& server,
                                          events::EventSink& events,
                                          std::vector<std::string>& warnings) {
  migrate::CniStackFacts facts;
  add_bundle_facts(bundles, facts);
  if (server && server->major == 1) {
    facts.server_minor = static_cast<unsigned>(server->minor);
    facts.server_version = server->git_version;
  }
  co_await add_cluster_facts(client, config, facts);

  if (facts.cilium_overlay && facts.cilium_overlay->port != 0) {
    const auto warning = overlay_warning(*facts.cilium_overlay);
    spdlog::warn("Cilium's overlay: {} before the migration", warning);
    events.emit(events::Event(events::catalogued("preflight.warning")).field("warning", warning));
    warnings.push_back(warning);
  }
  // The release's requirements, from the image the bundle will run.
  const auto cilium = migrate::cilium_requirements(applied_cilium_image(bundles, config),
                                                   config.cilium_requirements);
  if (!cilium) {
    report_failure("cilium-requirements", cilium.error().message, events);
    co_return false;
  }
  const bool passed = report_problems(migrate::check_cni_stack(facts, *cilium), events, warnings);
  if (passed) {
    spdlog::info(
        "preflight: the CNI stack passed (pod CIDRs: {} Cilium, {} source, {} service; {} "
        "node kernel(s); Kubernetes {}; Cilium {})",
        facts.cilium_cidrs.size(), facts.source_cidrs.size(), facts.service_cidrs.size(),
        facts.kernels.size(), facts.server_version.empty() ? "unknown" : facts.server_version,
        cilium->version);
  }
  co_return passed;
}

}  // namespace cnimig::agent
