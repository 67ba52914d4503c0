// Drives the real cnimig-agent binary: exit codes, stdout discipline, errors.
#include <filesystem>
#include <fstream>
#include <random>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "support/process.hpp"

using cnimig::test::lines;
using cnimig::test::run_process;
namespace fs = std::filesystem;

namespace {

cnimig::test::ProcessResult agent(std::vector<std::string> args) {
  args.insert(args.begin(), CNIMIG_AGENT_BIN);
  return run_process(args);
}

// A valid config (default parallelism: 1 node, 1 unavailable) with stand-in manifests.
struct ScratchConfig {
  fs::path dir =
      fs::temp_directory_path() / ("cnimig-cli-" + std::to_string(std::random_device{}()));
  fs::path file = dir / "config.yaml";
  ScratchConfig() {
    fs::create_directories(dir);
    for (const char* name : {"cilium.yaml", "multus.yaml", "knet-stress.yaml", "node-cleanup.yaml"})
      std::ofstream(dir / name) << "\n";
    std::ofstream(file) << "paths:\n  cilium: cilium.yaml\n  multus: multus.yaml\n  knet-stress: "
                           "knet-stress.yaml\n  node-cleanup: node-cleanup.yaml\n";
  }
  ~ScratchConfig() { fs::remove_all(dir); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(agent_binary)

BOOST_AUTO_TEST_CASE(help_and_version_exit_zero) {
  auto help = agent({"--help"});
  BOOST_TEST(help.exit_code == 0);
  BOOST_TEST(help.stdout_text.find("Usage: cnimig-agent") != std::string::npos);
  auto version = agent({"--version"});
  BOOST_TEST(version.exit_code == 0);
  BOOST_TEST(version.stdout_text.rfind("cnimig-agent ", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(bad_flag_exits_2_with_one_line_reason_and_empty_stdout) {
  auto r = agent({"--max-parallel-nodes", "zero", "--config", "x"});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(r.stdout_text.empty());
  BOOST_TEST(lines(r.stderr_text).front() ==
             "cnimig-agent: --max-parallel-nodes: expected an integer from 1 to 10000, got 'zero'");
}

BOOST_AUTO_TEST_CASE(broken_config_exits_2_with_file_line_column) {
  ScratchConfig scratch;
  const fs::path file = scratch.dir / "broken.yaml";
  std::ofstream(file) << "labels:\n  rolled: \"not a key\"\n";
  auto r = agent({"--config", file.string()});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(r.stdout_text.empty());
  BOOST_TEST(r.stderr_text.find(file.string() + ":2:11: labels.rolled: invalid label key") !=
                 std::string::npos,
             r.stderr_text);
}

BOOST_AUTO_TEST_CASE(flags_that_break_the_config_budget_exit_2) {
  ScratchConfig scratch;
  auto r = agent({"--config", scratch.file.string(), "--max-parallel-nodes", "3"});
  BOOST_TEST(r.exit_code == 2);
  // The flag and the config key (with its file) that conflict, by name.
  BOOST_TEST(r.stderr_text.find("--max-parallel-nodes (3) exceeds parallelism.maxUnavailable in " +
                                scratch.file.string() + " (1)") != std::string::npos,
             r.stderr_text);

  std::ofstream(scratch.file, std::ios::app)
      << "parallelism:\n  maxParallelNodes: 2\n  maxUnavailable: 2\n";
  auto lowered = agent({"--config", scratch.file.string(), "--max-unavailable", "1"});
  BOOST_TEST(lowered.exit_code == 2);
  BOOST_TEST(lowered.stderr_text.find("parallelism.maxParallelNodes in " + scratch.file.string() +
                                      " (2) exceeds --max-unavailable (1)") != std::string::npos,
             lowered.stderr_text);
}

// cilium-native has no roll or priority step: naming one is a usage error,
// before anything is read from a cluster.
BOOST_AUTO_TEST_CASE(steps_the_strategy_lacks_exit_2) {
  ScratchConfig scratch;
  std::ofstream(scratch.dir / "cilium-native.yaml") << "\n";
  std::ofstream(scratch.file, std::ios::trunc)
      << "strategy: cilium-native\npaths:\n  cilium-native: cilium-native.yaml\n  knet-stress: "
         "knet-stress.yaml\n  node-cleanup: node-cleanup.yaml\n";
  for (const char* steps : {"roll", "priority", "prepare-priority"}) {
    auto r = agent({"--config", scratch.file.string(), "--steps", steps});
    BOOST_TEST(r.exit_code == 2, steps);
    BOOST_TEST(r.stdout_text.empty());
    BOOST_TEST(r.stderr_text.find("strategy cilium-native has no") != std::string::npos,
               r.stderr_text);
  }
}

BOOST_AUTO_TEST_CASE(unreachable_cluster_exits_3_with_only_json_lines_on_stdout) {
  ScratchConfig scratch;
  auto r = agent({"--config", scratch.file.string(), "--kubeconfig",
                  (scratch.dir / "missing-kubeconfig").string(), "--log-level", "debug"});
  BOOST_TEST(r.exit_code == 3, r.stderr_text);
  BOOST_TEST(r.stderr_text.find("missing-kubeconfig") != std::string::npos, r.stderr_text);
  const auto out = lines(r.stdout_text);
  BOOST_TEST_REQUIRE(!out.empty());
  for (const auto& line : out) {
    const auto v = boost::json::parse(line).as_object();
    BOOST_TEST(v.contains("ts"));
    BOOST_TEST(v.at("v").as_int64() == 1);
    BOOST_TEST(v.contains("step"));
  }
  BOOST_TEST(boost::json::parse(out.front()).at("event").as_string() == "config.loaded");
}

BOOST_AUTO_TEST_SUITE_END()
