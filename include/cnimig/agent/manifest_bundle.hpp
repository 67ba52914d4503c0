#pragma once
// A manifest bundle (paths.cilium, paths.multus, paths.knet-stress): its
// objects parsed, mapped to REST resources, rewritten to the configured label
// keys and sorted in the order they can be applied (namespaces and CRDs
// before what lives in them, RBAC before workloads). Loading validates the
// whole file, so preflight rejects a broken manifest before the first write.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "cnimig/agent/image_rewrite.hpp"
#include "cnimig/common/result.hpp"
#include "cnimig/config/config.hpp"

namespace cnimig::agent {

// Where a kind lives in the API (a static RESTMapper for the kinds manifests use).
struct KindInfo {
  std::string group;  // "" for core
  std::string version;
  std::string plural;
  bool namespaced = true;
  int apply_order = 0;  // lower first
};
const KindInfo* find_kind(std::string_view api_version, std::string_view kind);

struct ManifestObject {
  std::string kind;
  std::string namespace_;  // empty for cluster-scoped kinds
  std::string name;
  KindInfo info;
  boost::json::object body;

  // "DaemonSet kube-system/cilium", for events and errors.
  std::string describe() const;
};

// The manifests are written with the default label keys and value "true"; a
// configuration that renames them gets manifests that select its labels
// (and, through `images`, pull the images it names).
struct LabelRewrite {
  std::map<std::string, std::string> keys;  // default key -> configured key
  std::string value = "true";
  ImageRewrite images;

  static LabelRewrite from(const config::LabelKeys& configured);
  void apply(boost::json::value& v) const;
};

class ManifestBundle {
 public:
  static Result<ManifestBundle> load(std::string id, const std::filesystem::path& file,
                                     const LabelRewrite& rewrite);
  static Result<ManifestBundle> parse(std::string id, std::string_view yaml,
                                      const std::string& source, const LabelRewrite& rewrite);
  // A bundle of objects already parsed (in apply order), e.g. part of another.
  static ManifestBundle of(std::string id, std::vector<ManifestObject> objects);

  const std::string& id() const noexcept { return id_; }
  // In apply order; delete in reverse.
  const std::vector<ManifestObject>& objects() const noexcept { return objects_; }
  const ManifestObject* find(std::string_view kind, std::string_view ns,
                             std::string_view name) const;
  // For the rewrites after loading (multus_delegates.hpp).
  ManifestObject* find(std::string_view kind, std::string_view ns, std::string_view name);

 private:
  std::string id_;
  std::vector<ManifestObject> objects_;
};

// Every bundle the configuration names (config::ManifestPaths::bundles), by
// id, with its labels and images rewritten as configured and multus's
// delegates chosen for the source CNI (multus_delegates.hpp); the first file
// that does not load is the error.
Result<std::map<std::string, ManifestBundle>> load_bundles(const config::Config& config);

}  // namespace cnimig::agent
