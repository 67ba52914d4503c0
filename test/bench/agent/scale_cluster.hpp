#pragma once
// The benchmarks that run the agent as its own process against a cnimig-sim
// child at scale (bench_agent_peak_rss, bench_agent_scale_run): the e2e
// fixture (test/e2e/sim_cluster.hpp) launched with the benchmark's shape and
// a start-up allowance of minutes, and the agent run with its peak RSS
// measured by the kernel: VmHWM sampled from /proc/<pid>/status while it
// runs, ru_maxrss from wait4() when it exits.
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "bench_figures.hpp"
#include "sim_cluster.hpp"
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

namespace cnimig::bench {

namespace fs = std::filesystem;

struct ScaleCluster : test::SimCluster {
  // 5,000 nodes take minutes to boot before `sim.ready` (the e2e fixture
  // allows 60 s).
  ScaleCluster(int node_count, int pods_per_node, double time_scale)
      : SimCluster(node_count, Deferred{}) {
    std::vector<std::string> argv{CNIMIG_SIM_BIN,
                                  "--nodes",
                                  std::to_string(node_count),
                                  "--pods-per-node",
                                  std::to_string(pods_per_node),
                                  "--time-scale",
                                  std::to_string(time_scale),
                                  "--kubeconfig-out",
                                  kubeconfig.string()};
    // CNIMIG_BENCH_SERVER_VERSION=1.35: the Kubernetes version the simulator
    // reports (from 1.35 the agent places cut-offs in the pods' order).
    if (const char* v = std::getenv("CNIMIG_BENCH_SERVER_VERSION")) {
      argv.push_back("--server-version");
      argv.push_back(v);
    }
    launch(argv, "\"sim.ready\"", std::chrono::minutes(30));
  }

  // Empty while the simulator is too busy settling to answer in time
  // (kubectl's TLS handshake gives up after 10 s).
  std::optional<boost::json::object> try_report() const {
    auto r = test::run_process({"kubectl", "get", "--raw", "/sim/v1/report"},
                               {"KUBECONFIG=" + sim_kubeconfig.string()}, std::chrono::minutes(2));
    if (r.exit_code != 0)
      return std::nullopt;
    return boost::json::parse(r.stdout_text).as_object();
  }

  // Until every pod is Ready (the report is cheap next to a 150,000-pod
  // list); returns the number of pods. A condition polled with a deadline.
  std::int64_t wait_pods_ready(std::chrono::minutes limit) const {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      const auto r = try_report();
      const auto* pods_value = r ? r->if_contains("pods") : nullptr;
      if (pods_value != nullptr) {
        const auto& pods = pods_value->as_object();
        const auto total = number(pods.at("total"));
        if (total > 0 && number(pods.at("ready")) == total)
          return total;
      }
      const bool in_time = std::chrono::steady_clock::now() < deadline;
      BOOST_TEST_REQUIRE(in_time, "the simulated cluster did not settle");
      std::this_thread::sleep_for(std::chrono::seconds(5));
    }
  }
};

inline long vm_hwm_kib(pid_t pid) {
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
  bool stopped_at_limit = false;  // SIGTERM after `limit`
  std::size_t stdout_lines = 0;   // events, one JSON object per line
};

// Runs the agent with stdout to `out`, sampling VmHWM until it exits. Past
// `limit` it gets SIGTERM (the agent stops at a safe point, exit 143), so a
// run that cannot finish in time still reports how far it got.
inline Measured run_measured(const std::vector<std::string>& argv, const fs::path& out,
                             std::chrono::seconds limit = std::chrono::hours(24)) {
  test::SpawnArguments args(argv, {});
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
    if (!m.stopped_at_limit && std::chrono::steady_clock::now() - t0 > limit) {
      std::cerr << "agent still running after " << limit.count() << " s: SIGTERM\n";
      ::kill(pid, SIGTERM);
      m.stopped_at_limit = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // sampling period, not a sync
  }
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::ifstream in(out);
  std::string line, last;
  while (std::getline(in, line)) {
    ++m.stdout_lines;
    last = std::move(line);
  }
  if (m.exit_code != 0)
    std::cerr << "agent exited " << m.exit_code << "; last event: " << last.substr(0, 600) << "\n";
  return m;
}

}  // namespace cnimig::bench
