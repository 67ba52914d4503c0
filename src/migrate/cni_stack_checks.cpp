#include "cnimig/migrate/cni_stack_checks.hpp"

#include <charconv>

#include <boost/asio/ip/network_v4.hpp>

namespace cnimig::migrate {
namespace {

using boost::asio::ip::network_v4;

std::optional<network_v4> parse_cidr(const std::string& text) {
  boost::system::error_code ec;
  auto n = boost::asio::ip::make_network_v4(text, ec);
  if (ec)
    return std::nullopt;
  return n.canonical();
}

bool overlap(const network_v4& a, const network_v4& b) {
  return a == b || a.is_subnet_of(b) || b.is_subnet_of(a);
}

std::string describe(const OwnedCidr& c) {
  return c.owner + " (" + c.cidr + ")";
}

// Problems for CIDRs that cannot be parsed, and the parsed ones.
std::vector<std::pair<OwnedCidr, network_v4>> parsed(const std::vector<OwnedCidr>& cidrs,
                                                     std::vector<PreflightProblem>& out) {
  std::vector<std::pair<OwnedCidr, network_v4>> r;
  for (const auto& c : cidrs) {
    if (auto n = parse_cidr(c.cidr)) {
      r.emplace_back(c, *n);
    } else if (c.cidr.find(':') == std::string::npos) {  // IPv6 is not migrated
      out.push_back({"pod-cidr", c.owner + ": '" + c.cidr + "' is not an IPv4 CIDR"});
    }
  }
  return r;
}

}  // namespace

std::vector<PreflightProblem> check_pod_cidrs(const CniStackFacts& facts) {
  std::vector<PreflightProblem> out;
  const auto cilium = parsed(facts.cilium_cidrs, out);
  const auto source = parsed(facts.source_cidrs, out);
  const auto services = parsed(facts.service_cidrs, out);
  for (const auto& [c, cn] : cilium) {
    for (const auto& [s, sn] : source) {
      if (overlap(cn, sn)) {
        out.push_back(
            {"pod-cidr", "Cilium's pod CIDR " + describe(c) + " overlaps the source CNI's " +
                             describe(s) +
                             ": routes between the two networks would be ambiguous; give Cilium "
                             "a free range (cluster-pool-ipv4-cidr in paths.cilium)"});
      }
    }
    for (const auto& [s, sn] : services) {
      if (overlap(cn, sn)) {
        out.push_back({"pod-cidr", "Cilium's pod CIDR " + describe(c) +
                                       " overlaps the service CIDR " + describe(s) +
                                       "; give Cilium a free range"});
      }
    }
  }
  // The source's own pools against the services: a cluster that already
  // routes them ambiguously cannot be told apart from Cilium's doing.
  for (const auto& [s, sn] : source) {
    for (const auto& [v, vn] : services) {
      if (overlap(sn, vn)) {
        out.push_back({"pod-cidr", "the source CNI's " + describe(s) +
                                       " overlaps the service CIDR " + describe(v)});
      }
    }
  }
  return out;
}

PortSetting calico_vxlan_port(const CniStackFacts& facts) {
  if (facts.felix_vxlan_port_env)
    return *facts.felix_vxlan_port_env;
  if (facts.felix_vxlan_port_config)
    return *facts.felix_vxlan_port_config;
  return {"Calico's default vxlanPort", 4789};  // IANA's VXLAN port
}

std::vector<PreflightProblem> check_tunnels(const CniStackFacts& facts) {
  std::vector<PreflightProblem> out;
  if (!facts.cilium_overlay || facts.cilium_overlay->port == 0)
    return out;
  const auto& c = *facts.cilium_overlay;
  const auto calico_port = calico_vxlan_port(facts);
  for (const auto& s : facts.source_overlays) {
    const auto port = s.calico_vxlan ? calico_port.port : s.port;
    const auto owner = s.calico_vxlan ? s.owner + " on " + calico_port.owner : s.owner;
    if (port == c.port) {
      out.push_back(
          {"tunnel", "Cilium's " + c.protocol + " tunnel (" + c.owner + ") and the source CNI's " +
                         s.protocol + " (" + owner + ") both use UDP port " +
                         std::to_string(c.port) +
                         ": two overlays on one port break both; use Geneve (6081) or VXLAN on "
                         "another port (tunnel-port, e.g. 8473) for Cilium"});
    }
  }
  return out;
}

std::vector<PreflightProblem> check_cni_exclusive(const CniStackFacts& facts) {
  if (!facts.multus || !facts.cilium_cni_exclusive)
    return {};
  return {{"cni-exclusive",
           "cilium-config has cni-exclusive: \"true\": the Cilium agent would rename every other "
           "CNI config on its node, multus's 00-multus.conflist included, to *.cilium_bak; set "
           "cni-exclusive: \"false\" (Helm cni.exclusive=false) for the migration"}};
}

std::vector<PreflightProblem> check_calico_autodetection(const CniStackFacts& facts) {
  if (!facts.calico_autodetection)
    return {};
  const auto& method = *facts.calico_autodetection;
  if (!method.empty() && method != "first-found")
    return {};
  return {{"calico-autodetection",
           facts.calico_daemon_set + " detects its node IP with " +
               (method.empty() ? std::string("the default method (first-found)")
                               : "IP_AUTODETECTION_METHOD=first-found") +
               ": once Cilium runs on a node, first-found can pick Cilium's cilium_host "
               "interface and calico-node turns NotReady there; set "
               "IP_AUTODETECTION_METHOD=kubernetes-internal-ip on " +
               facts.calico_daemon_set +
               " (Tigera operator: nodeAddressAutodetectionV4 {firstFound: false, kubernetes: "
               "NodeInternalIP})"}};
}

std::vector<PreflightProblem> check_kubernetes_version(const CniStackFacts& facts,
                                                       const CiliumRequirements& cilium) {
  if (!facts.server_minor)
    return {};
  const auto minor = *facts.server_minor;
  const auto range = "1." + std::to_string(cilium.kubernetes_min_minor) + " to 1." +
                     std::to_string(cilium.kubernetes_max_minor);
  if (minor < cilium.kubernetes_min_minor) {
    return {{"kubernetes", "the API server runs Kubernetes " + facts.server_version +
                               ", older than Cilium " + cilium.version + " supports (" + range +
                               "): pin an older Cilium (images.cilium and paths.cilium) or "
                               "upgrade the cluster first"}};
  }
  if (minor > cilium.kubernetes_max_minor) {
    return {{"kubernetes",
             "the API server runs Kubernetes " + facts.server_version + ", newer than Cilium " +
                 cilium.version + " is e2e tested on (" + range +
                 "); it relies on Kubernetes' compatibility: prefer a Cilium release that lists "
                 "it (images.cilium and paths.cilium)",
             false}};
  }
  return {};
}

std::optional<std::pair<unsigned, unsigned>> kernel_release(const std::string& version) {
  unsigned major = 0, minor = 0;
  const char* p = version.data();
  const char* end = p + version.size();
  auto [after_major, ec1] = std::from_chars(p, end, major);
  if (ec1 != std::errc{} || after_major == end || *after_major != '.')
    return std::nullopt;
  auto [after_minor, ec2] = std::from_chars(after_major + 1, end, minor);
  if (ec2 != std::errc{})
    return std::nullopt;
  return std::pair{major, minor};
}

std::vector<PreflightProblem> check_kernel_versions(const CniStackFacts& facts,
                                                    const CiliumRequirements& cilium) {
  std::vector<PreflightProblem> out;
  const auto minimum = std::pair{cilium.kernel_major, cilium.kernel_minor};
  const auto wanted =
      std::to_string(cilium.kernel_major) + "." + std::to_string(cilium.kernel_minor);
  for (const auto& k : facts.kernels) {
    const auto release = kernel_release(k.kernel_version);
    // Cilium names RHEL 8.10's 4.18 kernel as an equivalent (backports).
    const bool rhel_8_10 = k.kernel_version.starts_with("4.18.") &&
                           k.kernel_version.find(".el8_10") != std::string::npos;
    if (release && (*release >= minimum || rhel_8_10))
      continue;
    out.push_back({"kernel", "node " + k.node + " runs Linux '" + k.kernel_version +
                                 "' (status.nodeInfo.kernelVersion); Cilium " + cilium.version +
                                 " needs " + wanted + " or newer"});
  }
  return out;
}

std::vector<PreflightProblem> check_cni_stack(const CniStackFacts& facts,
                                              const CiliumRequirements& cilium) {
  std::vector<PreflightProblem> out;
  for (auto part : {check_pod_cidrs(facts), check_tunnels(facts), check_cni_exclusive(facts),
                    check_calico_autodetection(facts), check_kubernetes_version(facts, cilium),
                    check_kernel_versions(facts, cilium)}) {
    for (auto& p : part)
      out.push_back(std::move(p));
  }
  return out;
}

}  // namespace cnimig::migrate
