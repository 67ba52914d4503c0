#define BOOST_TEST_MODULE agent peak RSS at scale
// Issue 7 (e), test/bench/README.md: the agent's peak RSS against a cnimig-sim
// of 5,000 nodes and 150,000 application pods (30 per node; override with
// CNIMIG_BENCH_RSS_NODES / CNIMIG_BENCH_RSS_PODS_PER_NODE). The simulator runs
// as its own process (it needs ~1.5 GB and minutes to settle); the agent runs
// in plan mode (all its watches synced, one node's plan computed) and, with
// CNIMIG_BENCH_RSS_APPLY=1, with --apply --steps preflight-prepare as well.
// Peak RSS is the kernel's: VmHWM from /proc/<pid>/status while the agent runs,
// and ru_maxrss from wait4() when it exits.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <thread>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "support/background_process.hpp"
#include "support/process.hpp"
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

using namespace cnimig::test;
namespace fs = std::filesystem;

namespace {

// A cnimig-sim child at scale (sim_cluster.hpp's fixture allows 60 s to
// start; 5,000 nodes take minutes).
struct ScaleSim {
  fs::path dir =
      fs::temp_directory_path() / ("cnimig-rss-" + std::to_string(std::random_device{}()));
  fs::path kubeconfig = dir / "kubeconfig";
  std::unique_ptr<BackgroundProcess> sim;

  ScaleSim(int nodes, int per_node) {
    fs::create_directories(dir);
    sim = std::make_unique<BackgroundProcess>(std::vector<std::string>{
        CNIMIG_SIM_BIN, "--nodes", std::to_string(nodes), "--pods-per-node",
        std::to_string(per_node), "--time-scale", "0.05", "--kubeconfig-out", kubeconfig.string()});
    auto ready = sim->wait_for_line(
        [](const std::string& l) { return l.find("\"sim.ready\"") != std::string::npos; },
        std::chrono::minutes(30));
    BOOST_TEST_REQUIRE(ready.has_value(), "cnimig-sim did not start: " << sim->stderr_text());
  }
  ~ScaleSim() {
    sim.reset();
    fs::remove_all(dir);
  }
  // Empty while the simulator is too busy settling to answer in time
  // (kubectl's TLS handshake gives up after 10 s).
  std::optional<boost::json::object> report() const {
    auto r = run_process({"kubectl", "get", "--raw", "/sim/v1/report"},
                         {"KUBECONFIG=" + kubeconfig.string()}, std::chrono::minutes(2));
    if (r.exit_code != 0)
      return std::nullopt;
    return boost::json::parse(r.stdout_text).as_object();
  }
  // CNIMIG_BENCH_RSS_AGENT and CNIMIG_BENCH_RSS_CONFIG: another agent binary
  // and its config (an earlier build, for a before/after comparison).
  std::vector<std::string> agent_argv(std::vector<std::string> args) const {
    const char* agent = std::getenv("CNIMIG_BENCH_RSS_AGENT");
    const char* config = std::getenv("CNIMIG_BENCH_RSS_CONFIG");
    args.insert(args.begin(), {agent != nullptr ? agent : CNIMIG_AGENT_BIN, "--config",
                               config != nullptr ? config : CNIMIG_SOURCE_DIR "/config/config.yaml",
                               "--kubeconfig", kubeconfig.string()});
    return args;
  }
};

double env_double(const char* name, double dflt) {
  const char* v = std::getenv(name);
  return v ? std::atof(v) : dflt;
}
void figure(const std::string& name, double value, const std::string& unit) {
  std::cout << name << ' ' << value << ' ' << unit << std::endl;
}

// The simulator's peaks so far (connections open at once, requests held at
// once): monotonic over its life, so each figure covers every run before it.
void connection_figures(const ScaleSim& cluster, const std::string& prefix) {
  const auto r = cluster.report();
  if (!r || !r->contains("connections"))
    return;
  const auto& c = r->at("connections").as_object();
  figure(prefix + "_sim_peak_connections", c.at("peak_open").to_number<double>(), "connections");
  figure(prefix + "_sim_connections_accepted", c.at("accepted").to_number<double>(), "connections");
  figure(prefix + "_sim_peak_requests_in_progress",
         c.at("peak_requests_in_progress").to_number<double>(), "requests");
}

long vm_hwm_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::atol(line.c_str() + 6);
  return -1;
}

struct Measured {
  int exit_code = -1;
  long vm_hwm_kib = -1;
  long ru_maxrss_kib = -1;
  double seconds = 0;
  std::size_t stdout_lines = 0;
};

// Runs the agent with stdout to `out`, sampling VmHWM until it exits.
Measured run_measured(const std::vector<std::string>& argv, const fs::path& out) {
  SpawnArguments args(argv, {});
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = posix_spawnp(&pid, args.argv[0], &fa, nullptr, args.argv.data(), args.envp.data());
  posix_spawn_file_actions_destroy(&fa);
  BOOST_TEST_REQUIRE(rc == 0);
  Measured m;
  for (;;) {
    // Read before reaping: a reaped (or zombie) process has no VmHWM.
    if (auto hwm = vm_hwm_kib(pid); hwm > m.vm_hwm_kib)
      m.vm_hwm_kib = hwm;
    int status = 0;
    rusage ru{};
    const pid_t r = wait4(pid, &status, WNOHANG, &ru);
    if (r == pid) {
      m.ru_maxrss_kib = ru.ru_maxrss;
      m.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    BOOST_TEST_REQUIRE(r == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // sampling period, not a sync
  }
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::ifstream in(out);
  std::string line, last;
  while (std::getline(in, line)) {
    ++m.stdout_lines;
    last = line;
  }
  if (m.exit_code != 0)
    std::cerr << "agent exited " << m.exit_code << "; last event: " << last.substr(0, 600) << "\n";
  return m;
}

}  // namespace

BOOST_AUTO_TEST_CASE(agent_peak_rss_at_5000_nodes) {
  const auto nodes = static_cast<int>(env_double("CNIMIG_BENCH_RSS_NODES", 5000));
  const auto per_node = static_cast<int>(env_double("CNIMIG_BENCH_RSS_PODS_PER_NODE", 30));
  const auto t0 = std::chrono::steady_clock::now();
  ScaleSim cluster(nodes, per_node);
  // Settled: every pod Ready (the report is cheap next to a 150,000-pod list).
  for (;;) {
    const auto r = cluster.report();
    const auto* pods_value = r ? r->if_contains("pods") : nullptr;
    const auto pods = pods_value ? pods_value->as_object() : boost::json::object{{"total", 0}};
    if (pods.at("total").to_number<std::int64_t>() > 0 &&
        pods.at("ready").to_number<std::int64_t>() == pods.at("total").to_number<std::int64_t>()) {
      figure("rss_sim_pods", pods.at("total").to_number<double>(), "pods");
      break;
    }
    const bool in_time = std::chrono::steady_clock::now() - t0 < std::chrono::minutes(40);
    BOOST_TEST_REQUIRE(in_time, "the simulated cluster did not settle");
    std::this_thread::sleep_for(std::chrono::seconds(5));
  }
  figure("rss_nodes", nodes, "nodes");
  figure("rss_sim_settle_s",
         std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), "s");

  // The watches alone: a plan of preflight only (no migration planned).
  const auto sync =
      run_measured(cluster.agent_argv({"--steps", "preflight"}), cluster.dir / "sync.out");
  figure("rss_agent_sync_exit_code", sync.exit_code, "code");
  figure("rss_agent_sync_vmhwm_mib", static_cast<double>(sync.vm_hwm_kib) / 1024, "MiB");
  figure("rss_agent_sync_s", sync.seconds, "s");
  connection_figures(cluster, "rss_agent_sync");

  // Plan mode syncs every watch and plans from the whole snapshot; --nodes
  // keeps the plan itself to one node's actions (a plan of all 5,000 nodes
  // re-evaluates the cluster once per simulated action and takes hours).
  const auto plan =
      run_measured(cluster.agent_argv({"--nodes", "node-1"}), cluster.dir / "plan.out");
  // 0: plan printed; 1: the plan halts (reason on stderr). Either way the
  // agent synced every watch and planned, which is what is measured.
  BOOST_TEST((plan.exit_code == 0 || plan.exit_code == 1));
  figure("rss_agent_plan_exit_code", plan.exit_code, "code");
  figure("rss_agent_plan_vmhwm_mib", static_cast<double>(plan.vm_hwm_kib) / 1024, "MiB");
  figure("rss_agent_plan_maxrss_mib", static_cast<double>(plan.ru_maxrss_kib) / 1024, "MiB");
  figure("rss_agent_plan_s", plan.seconds, "s");
  figure("rss_agent_plan_events", static_cast<double>(plan.stdout_lines), "lines");
  connection_figures(cluster, "rss_agent_plan");

  if (env_double("CNIMIG_BENCH_RSS_APPLY", 0) != 0) {
    const auto apply = run_measured(cluster.agent_argv({"--apply", "--steps", "preflight-prepare"}),
                                    cluster.dir / "apply.out");
    figure("rss_agent_apply_exit_code", apply.exit_code, "code");
    figure("rss_agent_apply_vmhwm_mib", static_cast<double>(apply.vm_hwm_kib) / 1024, "MiB");
    figure("rss_agent_apply_maxrss_mib", static_cast<double>(apply.ru_maxrss_kib) / 1024, "MiB");
    figure("rss_agent_apply_s", apply.seconds, "s");
    connection_figures(cluster, "rss_agent_apply");
  }
}
