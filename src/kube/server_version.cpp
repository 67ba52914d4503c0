#include "cnimig/kube/server_version.hpp"

#include <cctype>
#include <charconv>
#include <string_view>

#include "cnimig/wire/object_fields.hpp"

namespace cnimig::kube {
namespace {

// The leading decimal digits of `text`.
std::optional<int> leading_number(std::string_view text) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data())
    return std::nullopt;
  return value;
}

}  // namespace

std::optional<ServerVersion> parse_server_version(const boost::json::object& info) {
  ServerVersion v;
  v.git_version = std::string(wire::str(&info, "gitVersion"));
  const auto major = leading_number(wire::str(&info, "major"));
  const auto minor = leading_number(wire::str(&info, "minor"));
  if (major && minor) {
    v.major = *major;
    v.minor = *minor;
    return v;
  }
  // "v1.30.4-gke.1348000"
  std::string_view git = v.git_version;
  if (git.starts_with('v'))
    git.remove_prefix(1);
  const auto dot = git.find('.');
  if (dot == std::string_view::npos)
    return std::nullopt;
  const auto git_major = leading_number(git.substr(0, dot));
  const auto git_minor = leading_number(git.substr(dot + 1));
  if (!git_major || !git_minor)
    return std::nullopt;
  v.major = *git_major;
  v.minor = *git_minor;
  return v;
}

std::vector<std::string> websocket_exec_verbs(const std::optional<ServerVersion>& version) {
  if (version && !version->at_least(1, 35))
    return {"get"};
  return {"get", "create"};
}

bool resource_versions_compare(const std::optional<ServerVersion>& version) {
  return version && version->at_least(1, 35);
}

}  // namespace cnimig::kube
