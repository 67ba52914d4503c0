// The checks before anything is read in bulk or written: the API server
// answers (and which Kubernetes it runs), the manifests load, the
// credentials hold every permission the migration uses, and the first
// watches succeed.

#include <boost/json/parse.hpp>
#include <spdlog/spdlog.h>

#include "cnimig/agent/migration_inputs.hpp"
#include "cnimig/agent/permission_check.hpp"
#include "cnimig/events/event_catalogue.hpp"

#include "agent_run_state.hpp"

namespace cnimig::agent::detail {

namespace asio = boost::asio;

// GET /version: reachability and credentials first, nothing else matters
// without them. The version decides the authorization rules checked.
asio::awaitable<bool> Run::connect() {
  // (Requests are built before co_await: GCC 12 destroys braced temporaries
  // in a co_await's arguments twice.)
  kube::HttpRequest version_request;
  version_request.target = "/version";
  auto version = co_await client->request(version_request);
  if (!version) {
    events.emit(
        events::Event(events::catalogued("cluster.unreachable")).error(version.error().describe()));
    spdlog::error("cannot reach the cluster at {}: {}", client->config().server,
                  version.error().describe());
    exit_code = kExitUnreachable;
    co_return false;
  }
  events.emit(events::Event(events::catalogued("cluster.connected"))
                  .field("server", client->config().server));
  boost::system::error_code ec;
  const auto info = boost::json::parse(version->body, ec);
  if (!ec && info.is_object())
    server_version = kube::parse_server_version(info.get_object());
  if (server_version) {
    spdlog::info("the API server runs Kubernetes {}.{} ({})", server_version->major,
                 server_version->minor, server_version->git_version);
  } else {
    spdlog::warn(
        "the API server's /version names no Kubernetes version; assuming the newest "
        "authorization rules");
  }
  co_return true;
}

// Every manifest bundle the configuration names, rewritten for its labels
// and images.
bool Run::load_bundles() {
  auto loaded = agent::load_bundles(options.config);
  if (!loaded) {
    spdlog::error("{}", loaded.error().message);
    exit_code = kExitUsage;
    return false;
  }
  bundles = std::move(*loaded);
  return true;
}

// SelfSubjectAccessReviews for every permission the migration will use on
// this server; false (exit_code set, event emitted) when one is missing.
asio::awaitable<bool> Run::check_permissions() {
  auto denied = co_await missing_permissions(
      *client, required_permissions(server_version, options.config.strategy));
  if (!denied) {
    spdlog::error("permission check failed: {}", denied.error().describe());
    events.emit(
        events::Event(events::catalogued("cluster.unreachable")).error(denied.error().describe()));
    exit_code = kExitUnreachable;
    co_return false;
  }
  if (denied->empty())
    co_return true;
  std::string list;
  for (const auto& d : *denied)
    list += (list.empty() ? "" : ", ") + d;
  events.emit(
      events::Event(events::catalogued("preflight.failed")).error("missing permissions: " + list));
  spdlog::error("the agent's credentials lack permissions the migration needs: {}", list);
  exit_code = kExitUsage;
  co_return false;
}

// The first list or watch of a resource failed for good (the informers
// retry everything transient). A 403 is a permission the credentials lack,
// like a denied access review; anything else (a 401, a timeout) means the
// cluster cannot be used.
int Run::watches_failed(const Error& error) {
  if (error.code == Errc::forbidden) {
    events.emit(events::Event(events::catalogued("preflight.failed"))
                    .error("missing permissions: " + error.message));
    spdlog::error("the agent's credentials lack permissions the migration needs: {}",
                  error.message);
    return kExitUsage;
  }
  events.emit(events::Event(events::catalogued("cluster.unreachable")).error(error.describe()));
  spdlog::error("watching the cluster failed: {}", error.describe());
  return kExitUnreachable;
}

}  // namespace cnimig::agent::detail
