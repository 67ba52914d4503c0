// cilium-native's preflight: the apiVersion the CiliumNodeConfig will be
// created at, and whether it exists already (a resumed run).

#include <algorithm>

#include <boost/json/parse.hpp>
#include <spdlog/spdlog.h>

#include "cnimig/agent/cilium_native_bundle.hpp"
#include "cnimig/agent/cni_stack_preflight.hpp"
#include "cnimig/events/event_catalogue.hpp"
#include "cnimig/migrate/cilium_node_config.hpp"
#include "cnimig/migrate/migration_settings.hpp"
#include "cnimig/wire/object_fields.hpp"

#include "agent_run_state.hpp"

namespace cnimig::agent::detail {

namespace asio = boost::asio;

namespace {

// The versions of cilium.io the API serves now; nullopt when it serves none
// (no Cilium CRD registered yet). From the group list, which is always
// served (/apis/cilium.io is a 404 until then).
asio::awaitable<Result<std::optional<std::vector<std::string>>>> served_cilium_versions(
    kube::Client& client) {
  kube::HttpRequest request;
  request.target = "/apis";
  auto answer = co_await client.request(request);
  if (!answer)
    co_return answer.error();
  boost::system::error_code ec;
  const auto groups = boost::json::parse(answer->body, ec);
  if (ec || !groups.is_object())
    co_return make_error(Errc::protocol, "/apis: not an APIGroupList");
  co_return api_group_versions(groups.get_object(), migrate::kCiliumGroup);
}

}  // namespace

asio::awaitable<bool> Run::discover_cilium_node_config() {
  auto it = bundles.find(migrate::BundleIds{}.cilium_node_config);
  if (it == bundles.end())
    co_return true;  // the multus strategy
  const auto* cnc = cilium_node_config(it->second);
  const auto fail = [&](const std::string& why) {
    events.emit(events::Event(events::catalogued("preflight.failed")).error(why));
    spdlog::error("{}", why);
  };
  auto served = co_await served_cilium_versions(*client);
  if (!served) {
    fail("discovering " + std::string(migrate::kCiliumGroup) + ": " + served.error().describe());
    exit_code = kExitUnreachable;
    co_return false;
  }
  const auto image = applied_cilium_image(bundles, options.config);
  const auto api_version = migrate::cilium_node_config_api_version(
      *served, image, std::string(wire::str(&cnc->body, "apiVersion")));
  if (!api_version) {
    fail("paths.cilium-native: " + api_version.error().message);
    exit_code = kExitUsage;
    co_return false;
  }
  set_cilium_node_config_version(it->second, *api_version);
  cnc = cilium_node_config(it->second);
  spdlog::info("the CiliumNodeConfig {} will be created at {} ({})", cnc->name, *api_version,
               *served ? "served by the API server" : "what the bundle's Cilium will serve");
  node_config_served = served->has_value() && std::find((*served)->begin(), (*served)->end(),
                                                        cnc->info.version) != (*served)->end();
  if (!node_config_served)
    co_return true;
  // A resumed run: does it exist already?
  const auto path = kube::ResourcePath::of(cnc->info.group, cnc->info.version, cnc->info.plural)
                        .in(cnc->namespace_)
                        .named(cnc->name);
  auto existing = co_await client->get(path, kube::RequestOptions());
  if (existing) {
    existing_node_config = std::move(*existing);
  } else if (existing.error().code != Errc::not_found) {
    fail("reading " + cnc->describe() + ": " + existing.error().describe());
    exit_code = kExitUnreachable;
    co_return false;
  }
  co_return true;
}

}  // namespace cnimig::agent::detail
