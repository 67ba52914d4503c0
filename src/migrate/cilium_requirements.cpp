#include "cnimig/migrate/cilium_requirements.hpp"

#include <charconv>

namespace cnimig::migrate {
namespace {

// Cilium's system requirements (kernel) and its Kubernetes compatibility
// table (the minors each release is e2e tested on), per release line.
struct KnownRelease {
  unsigned minor;  // Cilium 1.<minor>
  unsigned kubernetes_min_minor;
  unsigned kubernetes_max_minor;
  unsigned kernel_major;
  unsigned kernel_minor;
};
constexpr KnownRelease kKnown[] = {
    {18, 30, 33, 5, 10},
    {19, 32, 35, 5, 10},
};

std::string known_lines() {
  std::string out;
  for (const auto& k : kKnown)
    out += (out.empty() ? "1." : ", 1.") + std::to_string(k.minor);
  return out;
}

}  // namespace

std::optional<unsigned> cilium_minor(std::string_view release) {
  if (!release.starts_with("1."))
    return std::nullopt;
  unsigned minor = 0;
  const char* begin = release.data() + 2;
  const char* end = release.data() + release.size();
  auto [after, ec] = std::from_chars(begin, end, minor);
  if (ec != std::errc{} || (after != end && *after != '.' && *after != '-'))
    return std::nullopt;
  return minor;
}

std::optional<std::string> cilium_release(std::string_view image) {
  if (const auto at = image.find('@'); at != std::string_view::npos)
    image = image.substr(0, at);
  const auto colon = image.rfind(':');
  // A colon before the last slash is a registry's port, not a tag.
  if (colon == std::string_view::npos ||
      (image.rfind('/') != std::string_view::npos && colon < image.rfind('/')))
    return std::nullopt;
  auto tag = image.substr(colon + 1);
  if (!tag.starts_with('v'))
    return std::nullopt;
  tag.remove_prefix(1);
  if (!cilium_minor(tag))
    return std::nullopt;
  return std::string(tag);
}

std::optional<CiliumRequirements> known_cilium_requirements(std::string_view release) {
  const auto minor = cilium_minor(release);
  if (!minor)
    return std::nullopt;
  for (const auto& k : kKnown) {
    if (k.minor == *minor)
      return CiliumRequirements{std::string(release), k.kubernetes_min_minor,
                                k.kubernetes_max_minor, k.kernel_major, k.kernel_minor};
  }
  return std::nullopt;
}

Result<CiliumRequirements> cilium_requirements(
    std::string_view image, const std::optional<config::CiliumRequirements>& configured) {
  const auto release = cilium_release(image);
  if (configured) {
    return CiliumRequirements{release ? *release : std::string(image),
                              configured->kubernetes_min_minor, configured->kubernetes_max_minor,
                              configured->kernel_major, configured->kernel_minor};
  }
  if (release) {
    if (auto known = known_cilium_requirements(*release))
      return *known;
  }
  return make_error(
      Errc::config,
      "cannot tell what Cilium image '" + std::string(image) +
          "' requires: the agent knows the requirements of Cilium " + known_lines() +
          " (from the image tag vM.N...); state this release's in the configuration, e.g. "
          "ciliumRequirements: {kubernetes: \"1.30-1.33\", kernel: \"5.10\"}, from its system "
          "requirements and Kubernetes compatibility pages");
}

}  // namespace cnimig::migrate
