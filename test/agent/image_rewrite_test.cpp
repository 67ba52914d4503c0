// The configuration's images replace the shipped ones in every workload of
// the shipped bundles (containers and init containers), and nothing else.
#include "cnimig/agent/image_rewrite.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "cnimig/agent/manifest_bundle.hpp"

using namespace cnimig::agent;

namespace {

std::vector<std::string> images_of(const ManifestBundle& b) {
  std::vector<std::string> out;
  for (const auto& o : b.objects()) {
    const auto* spec = o.body.if_contains("spec");
    if (spec == nullptr || !spec->as_object().contains("template"))
      continue;
    const auto& pod = spec->at("template").at("spec").as_object();
    for (const char* list : {"initContainers", "containers"}) {
      if (const auto* cs = pod.if_contains(list)) {
        for (const auto& c : cs->as_array())
          out.emplace_back(c.at("image").as_string());
      }
    }
  }
  return out;
}

ManifestBundle load(const char* file, const cnimig::config::Images& images) {
  auto rewrite = LabelRewrite::from({});
  rewrite.images = ImageRewrite::from(images);
  auto b = ManifestBundle::load(file, std::string(CNIMIG_RESOURCES_DIR) + "/" + file, rewrite);
  BOOST_TEST_REQUIRE(b.has_value(), (b ? "" : b.error().message));
  return std::move(*b);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(image_rewrite)

BOOST_AUTO_TEST_CASE(default_images_change_nothing) {
  BOOST_TEST(ImageRewrite::from({}).by_repository.empty());
  const auto b = load("cilium.yaml", {});
  for (const auto& image : images_of(b))
    BOOST_TEST((image == cnimig::config::Images{}.cilium ||
                image == cnimig::config::Images{}.cilium_operator),
               image);
}

BOOST_AUTO_TEST_CASE(a_mirror_replaces_every_shipped_image) {
  cnimig::config::Images mirror;
  mirror.cilium = "registry.example.com:5000/cilium/cilium:v1.18.9";
  mirror.cilium_operator = "registry.example.com:5000/cilium/operator-generic:v1.18.9";
  mirror.multus = "registry.example.com:5000/multus-cni:v4.2.2-thick";
  mirror.knet_stress = "registry.example.com:5000/knet-stress:cli";
  std::size_t seen = 0;
  for (const char* file : {"cilium.yaml", "multus.yaml", "knet-stress.yaml", "node-cleanup.yaml"}) {
    const auto b = load(file, mirror);
    for (const auto& image : images_of(b)) {
      ++seen;
      BOOST_TEST(image.starts_with("registry.example.com:5000/"), file << ": " << image);
    }
  }
  // 2 Cilium DaemonSets x 7 containers, the operator, 2 multus x 2, 2 knet-stress,
  // node-cleanup's init container and container (Cilium's image).
  BOOST_TEST(seen == 2u * 7u + 1u + 2u * 2u + 2u + 2u);
}

BOOST_AUTO_TEST_CASE(other_images_are_kept) {
  cnimig::config::Images mirror;
  mirror.cilium = "mirror.example.com/cilium:v1";
  auto r = ImageRewrite::from(mirror);
  boost::json::object ds = boost::json::parse(R"({"spec":{"template":{"spec":{
      "containers":[{"name":"a","image":"quay.io/cilium/cilium:v1.17.0"},
                    {"name":"b","image":"quay.io/cilium/cilium-envoy:v1"}]}}}})")
                               .as_object();
  r.apply(ds);
  const auto& cs = ds.at("spec").at("template").at("spec").at("containers").as_array();
  BOOST_TEST(cs.at(0).at("image").as_string() == "mirror.example.com/cilium:v1");
  BOOST_TEST(cs.at(1).at("image").as_string() == "quay.io/cilium/cilium-envoy:v1");
}

BOOST_AUTO_TEST_SUITE_END()
