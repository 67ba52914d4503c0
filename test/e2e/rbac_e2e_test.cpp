// Least privilege (resources/agent-job.yaml): the agent's ClusterRole grants
// exactly what the agent uses. The simulator counts every request by client
// (User-Agent product token) and "verb resource"; after a plan and a full
// migration with each strategy, every request the agent made must be allowed
// by a rule, and every verb a rule grants must have been used.
#define BOOST_TEST_MODULE e2e_rbac
#include <map>
#include <set>
#include <tuple>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <yaml-cpp/yaml.h>

#include "sim_cluster.hpp"

using namespace cnimig::test;

namespace {

// (group, resource[/subresource], verb); core group is "".
using Permission = std::tuple<std::string, std::string, std::string>;

std::string describe(const Permission& p) {
  const auto& [group, resource, verb] = p;
  return verb + " " + (group.empty() ? "" : group + "/") + resource;
}

struct Rule {
  std::set<std::string> groups, resources, verbs, names;
};

std::set<std::string> strings(const YAML::Node& n) {
  std::set<std::string> out;
  if (n)
    for (const auto& item : n)
      out.insert(item.as<std::string>());
  return out;
}

std::vector<Rule> agent_rules() {
  std::vector<Rule> rules;
  for (const auto& doc : YAML::LoadAllFromFile(CNIMIG_SOURCE_DIR "/resources/agent-job.yaml")) {
    const auto kind = doc["kind"].as<std::string>("");
    if ((kind != "ClusterRole" && kind != "Role") ||
        doc["metadata"]["name"].as<std::string>("") != "cnimig-agent")
      continue;
    for (const auto& r : doc["rules"]) {
      rules.push_back({strings(r["apiGroups"]), strings(r["resources"]), strings(r["verbs"]),
                       strings(r["resourceNames"])});
    }
  }
  return rules;
}

bool allows(const std::vector<Rule>& rules, const Permission& p) {
  const auto& [group, resource, verb] = p;
  return std::any_of(rules.begin(), rules.end(), [&](const Rule& r) {
    return r.names.empty() && r.groups.contains(group) && r.resources.contains(resource) &&
           r.verbs.contains(verb);
  });
}

// The simulator's "verb plural[.group][/subresource]" as a Permission; nullopt
// for non-resource paths (discovery, /version, OpenAPI: granted to every
// authenticated user by the default system:discovery ClusterRole).
std::optional<Permission> parse_request(std::string key) {
  // A dryRun=All request (plan mode's check) is authorized exactly as the
  // write it rehearses.
  if (key.starts_with("dryrun "))
    key.erase(0, 7);
  const auto space = key.find(' ');
  const auto verb = key.substr(0, space);
  auto rest = key.substr(space + 1);
  if (rest == "discovery" || rest == "openapi")
    return std::nullopt;
  std::string sub;
  if (const auto slash = rest.find('/'); slash != std::string::npos) {
    sub = rest.substr(slash);
    rest = rest.substr(0, slash);
  }
  std::string group;
  if (const auto dot = rest.find('.'); dot != std::string::npos) {
    group = rest.substr(dot + 1);
    rest = rest.substr(0, dot);
  }
  return Permission{group, rest + sub, verb};
}

// Granted but never visible in the simulator's counts, each for a reason.
const std::set<Permission> kUnobservable = {
    // A WebSocket exec is a GET, authorized as `get pods/exec`; from
    // Kubernetes 1.35 also as `create` (AuthorizePodWebsocketUpgradeCreate-
    // Permission), a check, not a request of its own. The simulator serves
    // 1.32 here.
    {"", "pods/exec", "create"},
    // The CNI stack preflight reads Calico's IPPools and FelixConfigurations
    // and the ServiceCIDRs where discovery shows them; the simulator serves
    // none (no Calico CRDs, and ServiceCIDRs are not part of the API it
    // models).
    {"crd.projectcalico.org", "ippools", "list"},
    {"crd.projectcalico.org", "felixconfigurations", "list"},
    {"networking.k8s.io", "servicecidrs", "list"},
};

// The agent's requests on `cluster` (the simulator counts them by client),
// each checked against the role; returns the permissions they used.
std::set<Permission> used_by_agent(const SimCluster& cluster, const std::vector<Rule>& rules) {
  const auto report = cluster.report();
  const auto* by_client = report.at("requests_by_client").as_object().if_contains("cnimig-agent");
  BOOST_TEST_REQUIRE(by_client != nullptr, boost::json::serialize(report));
  BOOST_TEST_MESSAGE("the agent's requests: " << boost::json::serialize(*by_client));
  std::set<Permission> used;
  for (const auto& [key, count] : by_client->as_object()) {
    BOOST_TEST_REQUIRE(std::string_view(key).find(" unknown") == std::string_view::npos,
                       "the agent asked for a path the API does not serve: " << key);
    auto p = parse_request(std::string(key));
    if (!p)
      continue;
    used.insert(*p);
    BOOST_TEST(allows(rules, *p), "the agent made " << count << " request(s) '" << describe(*p)
                                                    << "' that no rule allows");
    // Server-side apply creates what does not exist yet, and the API server
    // authorizes that as `create`. The agent's only non-apply patches are
    // node merge patches.
    if (std::get<2>(*p) == "patch" && std::get<1>(*p) != "nodes")
      used.insert({std::get<0>(*p), std::get<1>(*p), "create"});
  }
  return used;
}

void settle(const SimCluster& cluster) {
  for (const char* ds : {"canal", "kube-proxy"}) {
    auto settled =
        cluster.kubectl({"wait", "--for=jsonpath={.status.numberReady}=4", "-n", "kube-system",
                         std::string("daemonset/") + ds, "--timeout=120s"});
    BOOST_TEST_REQUIRE(settled.exit_code == 0, settled.stderr_text);
  }
}

}  // namespace

// Both strategies: a plan and a full migration each; cilium-native's run
// stops after prepare and resumes, so that preflight reads the
// CiliumNodeConfig it finds.
BOOST_AUTO_TEST_CASE(the_role_grants_exactly_what_the_agent_uses) {
  const auto rules = agent_rules();
  BOOST_TEST_REQUIRE(!rules.empty(), "no cnimig-agent ClusterRole in agent-job.yaml");
  std::set<Permission> used;
  for (const auto& strategy : kStrategies) {
    SimCluster cluster(4);
    cluster.use_strategy(strategy);
    settle(cluster);
    auto plan = cluster.agent({});
    BOOST_TEST_REQUIRE(plan.exit_code == 0, plan.stderr_text);
    if (strategy == "cilium-native") {
      auto prepared = cluster.agent({"--apply", "--steps", "preflight-prepare"});
      BOOST_TEST_REQUIRE(prepared.exit_code == 0, prepared.stderr_text);
    }
    auto apply = cluster.agent({"--apply"});
    BOOST_TEST_REQUIRE(apply.exit_code == 0, apply.stderr_text);
    used.merge(used_by_agent(cluster, rules));
  }
  for (const auto& r : rules) {
    if (!r.names.empty())
      continue;  // named grants (RBAC escalate/bind) are authorization checks, not requests
    for (const auto& g : r.groups)
      for (const auto& res : r.resources)
        for (const auto& v : r.verbs) {
          const Permission p{g, res, v};
          BOOST_TEST((used.contains(p) || kUnobservable.contains(p)),
                     "agent-job.yaml grants '" << describe(p) << "', which the agent never used");
        }
  }
}
