#include "cnimig/agent/multus_delegates.hpp"

#include <algorithm>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace cnimig::agent {
namespace {

namespace json = boost::json;

// Cilium's delegate: one of its plugins is cilium-cni.
bool is_cilium(const json::value& delegate) {
  const auto* plugins =
      delegate.is_object() ? delegate.get_object().if_contains("plugins") : nullptr;
  if (plugins == nullptr || !plugins->is_array())
    return false;
  for (const auto& p : plugins->get_array()) {
    const auto* type = p.is_object() ? p.get_object().if_contains("type") : nullptr;
    if (type != nullptr && type->is_string() && type->get_string() == "cilium-cni")
      return true;
  }
  return false;
}

// The source's conflist attached beside Cilium: chained with sbr, so replies
// leave through the interface the request came in on. The default route is
// the primary network's: flannel's bridge delegate must not claim it
// (isDefaultGateway would fail the ADD on the route Cilium already set).
json::object attached(json::object conflist) {
  conflist["name"] = std::string(conflist["name"].is_string() ? conflist["name"].get_string()
                                                              : json::string("source")) +
                     "-sbr";
  auto& plugins = conflist["plugins"].as_array();
  for (auto& p : plugins) {
    auto* delegate = p.is_object() ? p.get_object().if_contains("delegate") : nullptr;
    if (delegate != nullptr && delegate->is_object() &&
        delegate->get_object().contains("isDefaultGateway"))
      delegate->get_object()["isDefaultGateway"] = false;
  }
  plugins.push_back(json::object{{"type", "sbr"}});
  return conflist;
}

// Replaces the non-Cilium delegate of a multus-shim conflist: primary when it
// comes first, attached otherwise.
Result<std::string> with_source(std::string_view text, const json::object& source,
                                const std::string& what) {
  boost::system::error_code ec;
  auto conf = json::parse(text, ec);
  auto* plugins = !ec && conf.is_object() ? conf.get_object().if_contains("plugins") : nullptr;
  auto* multus = plugins != nullptr && plugins->is_array() && !plugins->get_array().empty()
                     ? &plugins->get_array()[0]
                     : nullptr;
  auto* delegates = multus != nullptr && multus->is_object()
                        ? multus->get_object().if_contains("delegates")
                        : nullptr;
  if (delegates == nullptr || !delegates->is_array())
    return make_error(Errc::config, what + " is no multus conflist with delegates");
  auto& list = delegates->get_array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!is_cilium(list[i]))
      list[i] = i == 0 ? source : attached(source);
  }
  return json::serialize(conf) + "\n";
}

// The conflist the source CNI installs, as a conflist (a single-plugin .conf
// is wrapped as CNI's libcni loads it).
Result<json::object> source_conflist(std::string_view text, const std::string& what) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object())
    return make_error(Errc::config, what + " is not a JSON object");
  auto o = std::move(v.get_object());
  if (!o.contains("plugins")) {
    json::object plugin = o;
    plugin.erase("name");
    plugin.erase("cniVersion");
    o = json::object{{"cniVersion", o["cniVersion"]}, {"name", o["name"]}, {"plugins", {plugin}}};
  }
  if (!o["plugins"].is_array() || o["plugins"].get_array().empty())
    return make_error(Errc::config, what + " has no plugins");
  return o;
}

// The source conflists the bundle carries, sorted, for the error.
std::string variants(const json::object& data) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : data) {
    if (key.starts_with("source-") && key != "source-sbr.conflist")
      keys.emplace_back(key);
  }
  std::sort(keys.begin(), keys.end());
  std::string out;
  for (const auto& k : keys)
    out += (out.empty() ? "" : ", ") + k;
  return out.empty() ? "none" : out;
}

}  // namespace

Result<void> select_multus_delegate(ManifestBundle& multus, const std::string& cni_config,
                                    const std::string& source) {
  auto* cm = multus.find("ConfigMap", "kube-system", kMultusConfigMap);
  auto* data = cm != nullptr ? cm->body.if_contains("data") : nullptr;
  const std::string where = source + ": ConfigMap kube-system/" + kMultusConfigMap;
  if (data == nullptr || !data->is_object())
    return make_error(Errc::config, where + " with the multus conflists is missing");
  auto& d = data->get_object();
  const auto key = "source-" + cni_config;
  const auto* text = d.if_contains(key);
  if (text == nullptr || !text->is_string()) {
    return make_error(Errc::config,
                      where + " has no " + key + " (sourceCNI.cniConfig is " + cni_config +
                          "; it has " + variants(d) +
                          "): add the conflist that source CNI installs on its nodes under that "
                          "key, so multus delegates to it");
  }
  auto conflist = source_conflist(text->get_string(), where + " " + key);
  if (!conflist)
    return conflist.error();
  for (const char* multus_key : {"calico-primary.conflist", "cilium-primary.conflist"}) {
    const auto* current = d.if_contains(multus_key);
    if (current == nullptr || !current->is_string())
      return make_error(Errc::config, where + " has no " + multus_key);
    auto rebuilt = with_source(current->get_string(), *conflist, where + " " + multus_key);
    if (!rebuilt)
      return rebuilt.error();
    d[multus_key] = *rebuilt;
  }
  d["source-sbr.conflist"] = json::serialize(attached(*conflist)) + "\n";
  return {};
}

}  // namespace cnimig::agent
