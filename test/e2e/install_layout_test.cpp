// The install layout (README "Install"): `cmake --install --prefix P` puts
// every file under P where the README says, the installed config names the
// installed manifests (the agent loads it), the unit names the installed
// binary and config; and the .deb from CPack holds the same files.
#define BOOST_TEST_MODULE install_layout
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/test/unit_test.hpp>

#include "sim_cluster.hpp"

using namespace cnimig::test;

namespace {

struct Scratch {
  fs::path dir =
      fs::temp_directory_path() / ("cnimig-install-" + std::to_string(std::random_device{}()));
  Scratch() { fs::create_directories(dir); }
  ~Scratch() { fs::remove_all(dir); }
};

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The files the README promises, relative to the prefix (GNUInstallDirs
// defaults for a prefix other than /usr).
const std::vector<std::string> kLayout = {
    "bin/cnimig-agent",
    "bin/cnimig-sim",
    "etc/cnimig-agent/config.yaml",
    "share/cnimig-agent/resources/cilium.yaml",
    "share/cnimig-agent/resources/multus.yaml",
    "share/cnimig-agent/resources/knet-stress.yaml",
    "share/cnimig-agent/resources/node-cleanup.yaml",
    "share/cnimig-agent/resources/agent-job.yaml",
    "lib/systemd/system/cnimig-agent.service",
    "share/doc/cnimig-agent/README.md",
};

bool found(const std::string& program) {
  return run_process({"sh", "-c", "command -v " + program}).exit_code == 0;
}

struct ToolsPresent {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
    boost::test_tools::assertion_result r(found("dpkg-deb") && found(CNIMIG_CPACK_COMMAND));
    if (!r)
      r.message() << "skipped: cpack or dpkg-deb is not installed";
    return r;
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(cmake_install_puts_everything_under_the_prefix) {
  Scratch scratch;
  const auto prefix = scratch.dir / "prefix";
  auto r = run_process(
      {CNIMIG_CMAKE_COMMAND, "--install", CNIMIG_BINARY_DIR, "--prefix", prefix.string()}, {},
      300s);
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.stdout_text << r.stderr_text);
  for (const auto& line : lines(r.stdout_text)) {
    for (const char* verb : {"-- Installing: ", "-- Up-to-date: "}) {
      if (line.starts_with(verb)) {
        BOOST_TEST(line.substr(std::string_view(verb).size()).starts_with(prefix.string()),
                   "installed outside the prefix: " << line);
      }
    }
  }
  for (const auto& file : kLayout)
    BOOST_TEST(fs::is_regular_file(prefix / file), file << " not installed");
  BOOST_TEST(((fs::status(prefix / "bin/cnimig-agent").permissions() & fs::perms::owner_exec) !=
              fs::perms::none));

  // The installed config names the installed manifests, and the agent loads
  // it: config.loaded, then exit 3 for the cluster it cannot reach.
  const auto config = prefix / "etc/cnimig-agent/config.yaml";
  BOOST_TEST(read(config).find((prefix / "share/cnimig-agent/resources/cilium.yaml").string()) !=
             std::string::npos);
  auto agent = run_process({(prefix / "bin/cnimig-agent").string(), "--config", config.string(),
                            "--kubeconfig", (scratch.dir / "missing").string()},
                           {}, 60s);
  BOOST_TEST(agent.exit_code == 3, agent.stderr_text);
  BOOST_TEST(agent.stdout_text.find("\"config.loaded\"") != std::string::npos);

  const auto unit = read(prefix / "lib/systemd/system/cnimig-agent.service");
  BOOST_TEST(unit.find("ExecStart=" + (prefix / "bin/cnimig-agent").string()) != std::string::npos,
             unit);
  BOOST_TEST(unit.find("--config " + config.string()) != std::string::npos);
  BOOST_TEST(unit.find("LoadCredential=kubeconfig:" +
                       (prefix / "etc/cnimig-agent/kubeconfig").string()) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_deb_holds_the_same_layout,
                     *boost::unit_test::precondition(ToolsPresent())) {
  Scratch scratch;
  auto r = run_process({CNIMIG_CPACK_COMMAND, "-G", "DEB", "--config",
                        CNIMIG_BINARY_DIR "/CPackConfig.cmake", "-B", scratch.dir.string()},
                       {}, 600s);
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.stdout_text << r.stderr_text);
  fs::path deb;
  for (const auto& entry : fs::directory_iterator(scratch.dir)) {
    if (entry.path().extension() == ".deb")
      deb = entry.path();
  }
  BOOST_TEST_REQUIRE(!deb.empty(), "no .deb in " << scratch.dir);
  auto contents = run_process({"dpkg-deb", "--contents", deb.string()});
  BOOST_TEST_REQUIRE(contents.exit_code == 0, contents.stderr_text);
  for (const auto& file : kLayout) {
    BOOST_TEST(contents.stdout_text.find("." CNIMIG_INSTALL_PREFIX "/" + file) != std::string::npos,
               file << " missing from the .deb:\n"
                    << contents.stdout_text);
  }
  auto conffiles = run_process({"dpkg-deb", "--info", deb.string(), "conffiles"});
  BOOST_TEST(conffiles.stdout_text.find(CNIMIG_INSTALL_PREFIX "/etc/cnimig-agent/config.yaml") !=
             std::string::npos);
  BOOST_TEST_MESSAGE(deb.filename().string() << ": " << fs::file_size(deb) << " bytes");
}
