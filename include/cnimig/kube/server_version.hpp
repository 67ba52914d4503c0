#pragma once
// The API server's version as GET /version reports it (version.Info:
// "major", "minor", "gitVersion"), and what that version means for the
// agent's own requests.

#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

namespace cnimig::kube {

struct ServerVersion {
  int major = 0;
  int minor = 0;
  std::string git_version;  // e.g. "v1.32.0", "v1.30.4-gke.1348000"

  bool at_least(int want_major, int want_minor) const noexcept {
    return major > want_major || (major == want_major && minor >= want_minor);
  }
};

// Reads "major" and "minor" (providers append to them, e.g. "30+"), else
// "gitVersion" ("v1.30.4-..."). nullopt when neither holds a version.
std::optional<ServerVersion> parse_server_version(const boost::json::object& info);

// The verbs a WebSocket pod exec (the only exec the client speaks) is
// authorized as. The upgrade is an HTTP GET, authorized as `get pods/exec`;
// from Kubernetes 1.35 the AuthorizePodWebsocketUpgradeCreatePermission
// feature gate (beta, on by default) also asks `create pods/exec`, as SPDY's
// POST always did (kubernetes/kubernetes#133515). An unknown version: both.
std::vector<std::string> websocket_exec_verbs(const std::optional<ServerVersion>& version);

// Whether clients may order two resourceVersions of one resource: promised
// from Kubernetes 1.35 (KEP-5504, comparable resource versions, GA). Before
// it, and with an unknown version, only equality is.
bool resource_versions_compare(const std::optional<ServerVersion>& version);

}  // namespace cnimig::kube
