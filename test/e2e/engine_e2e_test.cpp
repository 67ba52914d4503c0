// The engine against cnimig-sim, beyond the happy path: a broken engine
// variant must be caught by the oracle (so the suite can fail), and plan mode
// checks its writes with dryRun=All on a settled cluster and halts at the
// first gate on one whose CNI is still starting, writing nothing either way.
#define BOOST_TEST_MODULE e2e_engine
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>

#include "cnimig/agent/agent_run.hpp"
#include "cnimig/agent/manifest_bundle.hpp"
#include "cnimig/config/config_loader.hpp"
#include "cnimig/events/json_lines_writer.hpp"

#include "sim_cluster.hpp"

using namespace cnimig::test;

namespace {

constexpr const char* kWriteVerbs[] = {"create", "patch", "update", "delete"};

void wait_settled(const SimCluster& cluster) {
  for (const char* ds : {"canal", "kube-proxy"}) {
    auto settled =
        cluster.kubectl({"wait", "--for=jsonpath={.status.numberReady}=4", "-n", "kube-system",
                         std::string("daemonset/") + ds, "--timeout=120s"});
    BOOST_TEST_REQUIRE(settled.exit_code == 0, settled.stderr_text);
  }
}

const boost::json::object* find_event(const std::vector<boost::json::object>& events,
                                      std::string_view name) {
  for (const auto& e : events) {
    if (e.at("event").as_string() == name)
      return &e;
  }
  return nullptr;
}

}  // namespace

namespace {

struct AgentRun {
  int code = 0;
  std::vector<boost::json::object> events;
};

// One in-process --apply run against `cluster` with `config`, its events
// read back.
AgentRun run_in_process(const SimCluster& cluster, const cnimig::config::Config& config,
                        bool skip_roll) {
  cnimig::agent::AgentRunOptions options;
  options.config = config;
  options.apply = true;
  options.kubeconfig = cluster.kubeconfig;
  options.skip_roll_for_tests = skip_roll;
  const auto events_path = cluster.dir / "events.jsonl";
  std::FILE* out = std::fopen(events_path.c_str(), "w");
  BOOST_TEST_REQUIRE(out != nullptr);
  AgentRun run;
  {
    cnimig::events::JsonLinesWriter writer(out);
    run.code = cnimig::agent::run_agent(options, writer);
  }
  std::fclose(out);
  std::ifstream in(events_path);
  for (std::string line; std::getline(in, line);) {
    if (line.find("halted") != std::string::npos)
      BOOST_TEST_MESSAGE(line);
    run.events.push_back(boost::json::parse(line).as_object());
  }
  return run;
}

// A failing check halts in seconds, not after the production timeouts.
cnimig::config::Config quick_config(std::optional<unsigned> sample_nodes) {
  auto config = cnimig::config::load_config(CNIMIG_SOURCE_DIR "/config/config.yaml");
  BOOST_TEST_REQUIRE(config.has_value());
  config->timeouts.connectivity = std::chrono::seconds(15);
  config->timeouts.gate = std::chrono::seconds(60);
  config->connectivity.sample_nodes = sample_nodes;
  return *config;
}

// The engine variant that labels nodes rolled without re-creating their pods
// (MigrationSettings::skip_roll_for_tests, reachable only in-process): pods
// without a Cilium interface lose the pods that take their IP from Cilium,
// and the simulator's oracle must see it. So must the agent's own gates,
// full or sampled (connectivity.sampleNodes): the run halts.
void skip_the_roll(std::optional<unsigned> sample_nodes) {
  SimCluster cluster(4);
  wait_settled(cluster);  // the preflight's check must pass: the failure comes later
  const auto run = run_in_process(cluster, quick_config(sample_nodes), true);
  BOOST_TEST_MESSAGE("skip-roll agent exit code " << run.code);
  const auto report = cluster.report();
  const auto& violations = report.at("violations").as_object();
  BOOST_TEST(violations.at("max_concurrent").as_int64() > 0, boost::json::serialize(violations));
  BOOST_TEST(violations.at("episodes").as_int64() > 0);
  BOOST_TEST_MESSAGE(boost::json::serialize(violations));
  // The agent's own gate sees it too: the run halts instead of going on.
  BOOST_TEST(run.code == 1);
}

}  // namespace

BOOST_AUTO_TEST_CASE(skipping_the_roll_produces_violations) {
  skip_the_roll(std::nullopt);
}

BOOST_AUTO_TEST_CASE(skipping_the_roll_is_caught_by_sampled_checks) {
  skip_the_roll(1u);
}

// connectivity.sampleNodes: 1 at two nodes at a time: the migration
// completes with zero violations, some checks exec fewer pods than the
// cluster has, and every step still ends with a full one.
BOOST_AUTO_TEST_CASE(sampled_checks_migrate_without_violations) {
  SimCluster cluster(4);
  wait_settled(cluster);
  auto config = quick_config(1u);
  config.parallelism.max_parallel_nodes = 2;
  config.parallelism.max_unavailable = cnimig::config::MaxUnavailable{2, false};
  const auto run = run_in_process(cluster, config, false);
  BOOST_TEST_REQUIRE(run.code == 0);
  const auto report = cluster.report();
  BOOST_TEST(report.at("violations").at("max_concurrent").as_int64() == 0,
             boost::json::serialize(report.at("violations")));
  std::size_t sampled = 0, full = 0;
  std::map<std::string, std::int64_t> last_check_pods;  // per step
  std::string sequence;  // step:pods of every passing check, for a failure's message
  for (const auto& e : run.events) {
    if (e.at("event").as_string() != "probe.passed")
      continue;
    const auto pods = e.at("pods").as_int64();
    (pods < 8 ? sampled : full) += 1;
    last_check_pods[std::string(e.at("step").as_string())] = pods;
    sequence += std::string(e.at("step").as_string()) + ":" + std::to_string(pods) + " ";
  }
  for (const char* step : {"roll", "priority", "migrate", "cleanup"})
    BOOST_TEST(last_check_pods[step] == 8, step << " ends with a full check: " << sequence);
  BOOST_TEST(sampled > 0u);
  BOOST_TEST(full > 0u);
}

// The normal first run: the cluster has no knet-stress yet. The plan's
// dry run of the knet-stress bundle creates no Namespace, so the server
// would refuse the bundle's namespaced objects (404 namespaces "knet-stress"
// not found): they are skipped, as writes on what the plan creates are.
BOOST_AUTO_TEST_CASE(plan_checks_its_writes_with_dry_run) {
  SimCluster cluster(4);
  wait_settled(cluster);
  BOOST_TEST_REQUIRE(cluster.kubectl({"get", "namespace", "knet-stress"}).exit_code != 0);
  const auto before = cluster.report();
  auto r = cluster.agent({});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
  const auto events = events_of(r);
  BOOST_TEST(has_event(events, "plan.completed"));
  BOOST_TEST(!has_event(events, "plan.check_failed"));
  const auto* checked = find_event(events, "plan.checked");
  BOOST_TEST_REQUIRE(checked != nullptr);
  BOOST_TEST(checked->at("checked").as_int64() > 0);
  BOOST_TEST(checked->at("failed").as_int64() == 0);
  // At least the knet-stress bundle's namespaced objects.
  auto knet = cnimig::agent::ManifestBundle::load(
      "knet-stress", CNIMIG_SOURCE_DIR "/resources/knet-stress.yaml", {});
  BOOST_TEST_REQUIRE(knet.has_value());
  const auto in_namespace = std::count_if(
      knet->objects().begin(), knet->objects().end(),
      [](const cnimig::agent::ManifestObject& o) { return o.namespace_ == "knet-stress"; });
  BOOST_TEST(in_namespace > 0);
  BOOST_TEST(checked->at("skipped").as_int64() >= in_namespace, boost::json::serialize(*checked));
  BOOST_TEST(cluster.kubectl({"get", "namespace", "knet-stress"}).exit_code != 0);
  const auto after = cluster.report();
  BOOST_TEST(request_count(after, "dryrun") > request_count(before, "dryrun"));
  BOOST_TEST(request_count(after, "dryrun patch nodes") > 0);
  for (const char* verb : kWriteVerbs) {
    BOOST_TEST(request_count(after, verb) == request_count(before, verb),
               verb << " requests during plan mode");
  }
  BOOST_TEST(after.at("writes").as_int64() >= before.at("writes").as_int64());
}

// Right after sim.ready, at real time scale, canal is still starting: the plan
// stops at its first gate, says why, and writes nothing.
BOOST_AUTO_TEST_CASE(plan_on_an_unsettled_cluster_halts_at_the_first_gate) {
  SimCluster cluster(4, {"--time-scale", "1"});
  const auto before = cluster.report();
  auto r = cluster.agent({});
  BOOST_TEST(r.exit_code == 1, r.stderr_text);
  const auto events = events_of(r);
  BOOST_TEST(!has_event(events, "plan.completed"));
  const auto* halted = find_event(events, "plan.halted");
  BOOST_TEST_REQUIRE(halted != nullptr);
  const auto reason = std::string(halted->at("error").as_string());
  BOOST_TEST(reason.find("resources-ready") != std::string::npos, reason);
  BOOST_TEST(reason.find("canal") != std::string::npos, reason);
  const auto after = cluster.report();
  for (const char* verb : kWriteVerbs) {
    BOOST_TEST(request_count(after, verb) == request_count(before, verb),
               verb << " requests during plan mode");
  }
}

// A write the API server refuses (every PATCH answered 403 Forbidden here)
// fails the plan's check: the plan names it and exits 1, writing nothing.
BOOST_AUTO_TEST_CASE(plan_reports_a_write_the_server_refuses) {
  SimCluster cluster(4, {"--faults", "error-rate=1,error-verbs=patch,error-status=403"});
  wait_settled(cluster);
  const auto before = cluster.report();
  auto r = cluster.agent({});
  BOOST_TEST(r.exit_code == 1, r.stderr_text);
  const auto events = events_of(r);
  const auto* refused = find_event(events, "plan.check_failed");
  BOOST_TEST_REQUIRE(refused != nullptr);
  BOOST_TEST(std::string(refused->at("error").as_string()).find("forbidden") != std::string::npos,
             boost::json::serialize(*refused));
  const auto* checked = find_event(events, "plan.checked");
  BOOST_TEST_REQUIRE(checked != nullptr);
  BOOST_TEST(checked->at("failed").as_int64() > 0);
  BOOST_TEST(has_event(events, "plan.halted"));
  const auto after = cluster.report();
  for (const char* verb : kWriteVerbs) {
    BOOST_TEST(request_count(after, verb) == request_count(before, verb),
               verb << " requests during plan mode");
  }
}
