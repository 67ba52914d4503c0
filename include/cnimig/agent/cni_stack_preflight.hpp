#pragma once
// Preflight of the CNI stack (migrate/cni_stack_checks.hpp) in the driver:
// the facts come from the manifest bundles (cilium-config) and from reads of
// the cluster (nodes, the source CNI's DaemonSet, Calico IPPools, flannel's
// net-conf, ServiceCIDRs). Runs in plan and apply mode before the first write.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "cnimig/agent/manifest_bundle.hpp"
#include "cnimig/config/config.hpp"
#include "cnimig/events/event_sink.hpp"
#include "cnimig/kube/client.hpp"
#include "cnimig/kube/server_version.hpp"
#include "cnimig/migrate/cni_stack_checks.hpp"

namespace cnimig::agent {

// What the bundles say about Cilium (its cilium-config) and whether multus
// runs beside it.
void add_bundle_facts(const std::map<std::string, ManifestBundle>& bundles,
                      migrate::CniStackFacts& facts);

// The Cilium image the agent applies: the cilium-agent container of
// DaemonSet kube-system/cilium in the Cilium bundle (after `images:`), or
// the configured images.cilium when the bundle has none.
std::string applied_cilium_image(const std::map<std::string, ManifestBundle>& bundles,
                                 const config::Config& config);

// Pure readers of cluster objects, one per source of facts.
void add_node_facts(const boost::json::object& node, migrate::CniStackFacts& facts);
void add_source_daemon_set_facts(const boost::json::object& daemon_set,
                                 migrate::CniStackFacts& facts);
void add_ip_pool_facts(const boost::json::object& pool, migrate::CniStackFacts& facts);
void add_felix_configuration_facts(const boost::json::object& felix_configuration,
                                   migrate::CniStackFacts& facts);
void add_flannel_net_conf_facts(const std::string& owner, const std::string& net_conf_json,
                                migrate::CniStackFacts& facts);
void add_service_cidr_facts(const boost::json::object& service_cidr, migrate::CniStackFacts& facts);

// Gathers the facts, runs the checks, reports each problem (preflight.failed
// or preflight.warning) and the overlay's firewall requirement (appended to
// `warnings`). False when a check refuses the migration.
boost::asio::awaitable<bool> cni_stack_preflight(
    kube::Client& client, const config::Config& config,
    const std::map<std::string, ManifestBundle>& bundles,
    const std::optional<kube::ServerVersion>& server, events::EventSink& events,
    std::vector<std::string>& warnings);

}  // namespace cnimig::agent
