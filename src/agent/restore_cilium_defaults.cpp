// Cleanup's first write: Cilium's own defaults back in its ConfigMap, and a
// restart of the operator (it reads the ConfigMap only at start). With the
// multus strategy the agents restart in the rollout that follows (cleanup's
// node selector patch changes cilium-migrated's template); cilium-native
// names its agent DaemonSet to restart here (restart_daemon_sets).

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include "cnimig/agent/action_executor.hpp"

namespace cnimig::agent {

boost::asio::awaitable<Result<void>> ActionExecutor::restore_cilium_defaults(
    const migrate::RestoreCiliumDefaults& restore) {
  boost::json::object data;
  for (const auto& [key, value] : restore.data)
    data[key] = value;
  const auto config_map =
      kube::ResourcePath::core("configmaps").in(restore.ns).named(restore.config_map);
  boost::json::object patch;
  patch["data"] = std::move(data);
  auto patched = co_await merge_patch("ConfigMap", config_map, std::move(patch));
  if (!patched)
    co_return patched;
  // The same annotation `kubectl rollout restart` sets; its value only has to
  // change the template once, so a rerun's repeat changes nothing.
  auto restart = boost::json::parse(R"({"spec":{"template":{"metadata":{"annotations":{
      "cnimig.io/restarted-for":"cilium-defaults-restored"}}}}})")
                     .as_object();
  for (const auto& name : restore.restart_daemon_sets) {
    const auto daemon_set =
        kube::ResourcePath::of("apps", "v1", "daemonsets").in(restore.ns).named(name);
    if (auto r = co_await merge_patch(migrate::kDaemonSet, daemon_set, restart); !r)
      co_return r;
  }
  const auto deployment = kube::ResourcePath::of("apps", "v1", "deployments")
                              .in(restore.ns)
                              .named(restore.operator_deployment);
  auto restarted = co_await merge_patch(migrate::kDeployment, deployment, std::move(restart));
  // A Cilium bundle without its own operator (managed elsewhere) is no error.
  if (!restarted && restarted.error().code == Errc::not_found)
    co_return Result<void>{};
  co_return restarted;
}

}  // namespace cnimig::agent
