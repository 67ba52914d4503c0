#include "cnimig/config/image_reference.hpp"

#include <fstream>
#include <random>

#include <boost/test/unit_test.hpp>

#include "cnimig/config/config_loader.hpp"

using namespace cnimig::config;
namespace fs = std::filesystem;

BOOST_AUTO_TEST_SUITE(image_reference)

BOOST_AUTO_TEST_CASE(accepts_what_the_runtimes_accept) {
  for (const char* ref :
       {"quay.io/cilium/cilium:v1.18.9", "cilium/cilium", "busybox",
        "registry.example.com:5000/mirror/cilium/operator-generic:v1.18.9",
        "localhost/knet-stress:cli", "ghcr.io/k8snetworkplumbingwg/multus-cni:v4.2.2-thick",
        "quay.io/cilium/cilium:v1.18.9@sha256:"
        "c9140c2ebcc636ba346a4152fb28d616a4a51586c22c72dcd6f273bed41053c0",
        "quay.io/cilium/cilium@sha256:"
        "c9140c2ebcc636ba346a4152fb28d616a4a51586c22c72dcd6f273bed41053c0",
        "my_registry/a__b/c-d.e:TAG_1.x"}) {
    BOOST_TEST(check_image_reference(ref).empty(), ref << ": " << check_image_reference(ref));
  }
}

BOOST_AUTO_TEST_CASE(refuses_malformed_references_naming_the_part) {
  struct Case {
    const char* ref;
    const char* why;
  };
  for (const auto& c :
       {Case{"", "must not be empty"}, Case{"Quay.io/Cilium/cilium", "'Cilium'"},
        Case{"quay.io/cilium/Cilium:v1", "'Cilium'"},
        Case{"quay.io/cilium/cilium:-bad", "tag '-bad'"},
        Case{"quay.io/cilium/cilium:v1 ", "tag 'v1 '"},
        Case{"quay.io/cilium/cilium@sha256:abc", "digest"},
        Case{"bad_host.io:x/cilium", "registry"}, Case{"quay.io/", "no repository path"},
        Case{"quay.io//cilium", "path component ''"}}) {
    const auto why = check_image_reference(c.ref);
    BOOST_TEST(why.find(c.why) != std::string::npos, "'" << c.ref << "': " << why);
  }
}

BOOST_AUTO_TEST_CASE(repository_drops_tag_and_digest_but_keeps_the_port) {
  BOOST_TEST(image_repository("quay.io/cilium/cilium:v1.18.9") == "quay.io/cilium/cilium");
  BOOST_TEST(image_repository("reg:5000/cilium/cilium") == "reg:5000/cilium/cilium");
  BOOST_TEST(image_repository("reg:5000/cilium/cilium:v1@sha256:00") == "reg:5000/cilium/cilium");
  BOOST_TEST(image_repository("busybox") == "busybox");
}

// The images section of the configuration: a bad reference names the
// configuration file, line and column.
BOOST_AUTO_TEST_CASE(config_images_are_read_and_validated) {
  const auto dir =
      fs::temp_directory_path() / ("cnimig-images-test-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  for (const char* name : {"cilium.yaml", "multus.yaml", "knet-stress.yaml", "node-cleanup.yaml"})
    std::ofstream(dir / name) << "# manifest\n";
  const std::string paths =
      "paths:\n  cilium: cilium.yaml\n  multus: multus.yaml\n  knet-stress: knet-stress.yaml\n"
      "  node-cleanup: node-cleanup.yaml\n";
  auto ok = parse_config(paths + "images:\n  cilium: mirror.example.com/cilium/cilium:v1.18.9\n",
                         dir / "config.yaml");
  BOOST_TEST_REQUIRE(ok.has_value(), (ok ? "" : ok.error().message));
  BOOST_TEST(ok->images.cilium == "mirror.example.com/cilium/cilium:v1.18.9");
  BOOST_TEST(ok->images.multus == Images{}.multus);

  auto bad = parse_config(paths + "images:\n  multus: Mirror/multus:v4\n  operator: x\n",
                          dir / "config.yaml");
  BOOST_TEST_REQUIRE(!bad.has_value());
  const auto& m = bad.error().message;
  BOOST_TEST(
      m.find((dir / "config.yaml").string() + ":7:11: images.multus: invalid image "
                                              "reference 'Mirror/multus:v4'") != std::string::npos,
      m);
  BOOST_TEST(m.find(":8:3: images.operator: unknown key") != std::string::npos, m);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
