// `ciliumRequirements:` states what a Cilium release outside the agent's
// table needs; a malformed one is refused at its file:line:col.
#include <filesystem>
#include <fstream>
#include <random>

#include <boost/test/unit_test.hpp>

#include "cnimig/config/config_loader.hpp"

using namespace cnimig::config;
namespace fs = std::filesystem;

namespace {

struct Dir {
  fs::path path = fs::temp_directory_path() /
                  ("cnimig-cilium-req-test-" + std::to_string(std::random_device{}()));
  Dir() {
    fs::create_directories(path);
    for (const char* name : {"cilium.yaml", "multus.yaml", "knet-stress.yaml", "node-cleanup.yaml"})
      std::ofstream(path / name) << "# manifest\n";
  }
  ~Dir() { fs::remove_all(path); }
};

const std::string kPaths =
    "paths:\n  cilium: cilium.yaml\n  multus: multus.yaml\n  knet-stress: knet-stress.yaml\n"
    "  node-cleanup: node-cleanup.yaml\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(cilium_requirements_config)

BOOST_AUTO_TEST_CASE(absent_means_the_agents_table) {
  Dir d;
  auto c = parse_config(kPaths, d.path / "config.yaml");
  BOOST_TEST_REQUIRE(c.has_value(), (c ? "" : c.error().message));
  BOOST_TEST(!c->cilium_requirements.has_value());
}

BOOST_AUTO_TEST_CASE(a_stated_range_and_kernel_are_read) {
  Dir d;
  auto c =
      parse_config(kPaths + "ciliumRequirements:\n  kubernetes: \"1.29-1.32\"\n  kernel: 5.4\n",
                   d.path / "config.yaml");
  BOOST_TEST_REQUIRE(c.has_value(), (c ? "" : c.error().message));
  BOOST_TEST_REQUIRE(c->cilium_requirements.has_value());
  BOOST_TEST((*c->cilium_requirements == CiliumRequirements{29, 32, 5, 4}));
}

BOOST_AUTO_TEST_CASE(malformed_requirements_name_file_line_and_column) {
  Dir d;
  const auto file = (d.path / "config.yaml").string();
  auto bad = parse_config(kPaths +
                              "ciliumRequirements:\n  kubernetes: \"1.33-1.30\"\n"
                              "  kernel: five\n  docs: x\n",
                          d.path / "config.yaml");
  BOOST_TEST_REQUIRE(!bad.has_value());
  const auto& m = bad.error().message;
  BOOST_TEST(m.find(file + ":7:15: ciliumRequirements.kubernetes: expected a range of Kubernetes "
                           "releases such as \"1.30-1.33\" (oldest first), found '1.33-1.30'") !=
                 std::string::npos,
             m);
  BOOST_TEST(m.find(file + ":8:11: ciliumRequirements.kernel: expected the oldest Linux release "
                           "such as \"5.10\", found 'five'") != std::string::npos,
             m);
  BOOST_TEST(m.find(file + ":9:3: ciliumRequirements.docs: unknown key") != std::string::npos, m);

  auto missing =
      parse_config(kPaths + "ciliumRequirements:\n  kernel: \"5.10\"\n", d.path / "config.yaml");
  BOOST_TEST_REQUIRE(!missing.has_value());
  BOOST_TEST(missing.error().message.find(file + ":7:3: ciliumRequirements.kubernetes: is "
                                                 "required") != std::string::npos,
             missing.error().message);
  for (const char* range : {"\"1.30\"", "\"2.30-2.31\"", "\"1.x-1.31\""}) {
    auto r = parse_config(
        kPaths + "ciliumRequirements:\n  kubernetes: " + range + "\n  kernel: \"5.10\"\n",
        d.path / "config.yaml");
    BOOST_TEST(!r.has_value(), range);
  }
}

BOOST_AUTO_TEST_SUITE_END()
