// Non-template parts of Informer.
#include "cnimig/kube/informer.hpp"

namespace cnimig::kube {

std::string object_key(const boost::json::object& object) {
  std::string ns, name;
  if (auto* m = object.if_contains("metadata"); m && m->is_object()) {
    const auto& meta = m->get_object();
    if (auto* n = meta.if_contains("namespace"); n && n->is_string())
      ns = n->get_string();
    if (auto* n = meta.if_contains("name"); n && n->is_string())
      name = n->get_string();
  }
  return ns.empty() ? name : ns + "/" + name;
}

}  // namespace cnimig::kube
