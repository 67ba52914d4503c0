#include "multus_delegates.hpp"

#include <boost/json/parse.hpp>

#include "json_fields.hpp"

namespace cnimig::sim {

namespace json = boost::json;
using namespace fields;

std::string delegate_cni(const json::value& delegate) {
  const auto* conf = delegate.if_object();
  const auto* plugins = arr(conf, "plugins");
  const json::object* first = plugins != nullptr && !plugins->empty()
                                  ? plugins->front().if_object()
                                  : conf;  // a single-plugin .conf
  const auto type = std::string(str(first, "type"));
  if (type == "calico")
    return str(obj(first, "ipam"), "type") == "calico-ipam" ? "calico" : "canal";
  if (type == "cilium-cni")
    return "cilium";
  return type;
}

std::string multus_delegate_problem(std::string_view source_cni, const json::object& config_map) {
  const auto* data = obj(config_map, "data");
  if (data == nullptr)
    return {};
  for (const auto& [key, value] : *data) {
    if (!value.is_string())
      continue;
    boost::system::error_code ec;
    const auto conf = json::parse(value.get_string(), ec);
    const auto* plugins = ec ? nullptr : arr(conf.if_object(), "plugins");
    const auto* shim =
        plugins != nullptr && !plugins->empty() ? plugins->front().if_object() : nullptr;
    if (str(shim, "type") != "multus-shim")
      continue;
    const auto* delegates = arr(shim, "delegates");
    static const json::array none;
    for (const auto& d : delegates != nullptr ? *delegates : none) {
      const auto cni = delegate_cni(d);
      if (cni != "cilium" && cni != source_cni)
        return "plugin type=\"multus-shim\" name=\"multus-cni-network\" failed (add): " +
               std::string(key) + ": delegate " + std::string(str(d.if_object(), "name")) + " is " +
               cni + "'s config, but the node runs " + std::string(source_cni);
    }
  }
  return {};
}

}  // namespace cnimig::sim
