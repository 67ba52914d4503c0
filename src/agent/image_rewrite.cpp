#include "cnimig/agent/image_rewrite.hpp"

#include "cnimig/config/image_reference.hpp"

namespace cnimig::agent {

ImageRewrite ImageRewrite::from(const config::Images& configured) {
  const config::Images shipped;
  ImageRewrite r;
  const std::pair<const std::string*, const std::string*> pairs[] = {
      {&shipped.cilium, &configured.cilium},
      {&shipped.cilium_operator, &configured.cilium_operator},
      {&shipped.multus, &configured.multus},
      {&shipped.knet_stress, &configured.knet_stress},
  };
  for (const auto& [from, to] : pairs) {
    if (*from != *to)
      r.by_repository[config::image_repository(*from)] = *to;
  }
  return r;
}

void ImageRewrite::apply(boost::json::object& object) const {
  if (by_repository.empty())
    return;
  auto* spec = object.if_contains("spec");
  auto* tmpl =
      spec != nullptr && spec->is_object() ? spec->get_object().if_contains("template") : nullptr;
  auto* pod =
      tmpl != nullptr && tmpl->is_object() ? tmpl->get_object().if_contains("spec") : nullptr;
  if (pod == nullptr || !pod->is_object())
    return;
  for (const char* list : {"initContainers", "containers"}) {
    auto* containers = pod->get_object().if_contains(list);
    if (containers == nullptr || !containers->is_array())
      continue;
    for (auto& c : containers->get_array()) {
      auto* image = c.is_object() ? c.get_object().if_contains("image") : nullptr;
      if (image == nullptr || !image->is_string())
        continue;
      auto it = by_repository.find(config::image_repository(image->get_string()));
      if (it != by_repository.end())
        *image = it->second;
    }
  }
}

}  // namespace cnimig::agent
