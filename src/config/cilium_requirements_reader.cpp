#include "cilium_requirements_reader.hpp"

#include <charconv>
#include <string>
#include <string_view>
#include <utility>

namespace cnimig::config::detail {
namespace {

// "M.N" exactly (digits, one dot).
std::optional<std::pair<unsigned, unsigned>> major_minor(std::string_view text) {
  unsigned major = 0, minor = 0;
  const char* end = text.data() + text.size();
  auto [dot, ec1] = std::from_chars(text.data(), end, major);
  if (ec1 != std::errc{} || dot == end || *dot != '.')
    return std::nullopt;
  auto [last, ec2] = std::from_chars(dot + 1, end, minor);
  if (ec2 != std::errc{} || last != end)
    return std::nullopt;
  return std::pair{major, minor};
}

// A scalar `key` inside the section (and where it is), or a problem naming it.
std::optional<std::string> scalar(Reader& r, const YAML::Node& node, std::string_view name,
                                  YAML::Mark& at) {
  const auto value = r.child(node, name, at);
  const auto key = Reader::join("ciliumRequirements", name);
  if (!value.IsDefined()) {
    r.problem(at, key,
              "is required in ciliumRequirements (kubernetes: \"1.A-1.B\", kernel: \"M.N\")");
    return std::nullopt;
  }
  std::string text;
  if (!r.string(value, key, at, text))
    return std::nullopt;
  return text;
}

}  // namespace

void read_cilium_requirements(Reader& r, const YAML::Node& node, const YAML::Mark& mark,
                              std::optional<CiliumRequirements>& out) {
  if (!node.IsDefined() || node.IsNull() ||
      !r.mapping(node, "ciliumRequirements", {"kubernetes", "kernel"}, mark))
    return;
  CiliumRequirements req;
  bool valid = true;
  YAML::Mark at;
  if (const auto range = scalar(r, node, "kubernetes", at)) {
    // "1.30-1.33": the Kubernetes minors Cilium's compatibility table lists.
    const auto dash = range->find('-');
    const auto from = major_minor(std::string_view(*range).substr(0, dash));
    const auto to = dash == std::string::npos
                        ? std::nullopt
                        : major_minor(std::string_view(*range).substr(dash + 1));
    if (!from || !to || from->first != 1 || to->first != 1 || from->second > to->second) {
      r.problem(at, "ciliumRequirements.kubernetes",
                "expected a range of Kubernetes releases such as \"1.30-1.33\" (oldest first), "
                "found '" +
                    *range + "'");
      valid = false;
    } else {
      req.kubernetes_min_minor = from->second;
      req.kubernetes_max_minor = to->second;
    }
  } else {
    valid = false;
  }
  if (const auto kernel = scalar(r, node, "kernel", at)) {
    if (const auto release = major_minor(*kernel)) {
      req.kernel_major = release->first;
      req.kernel_minor = release->second;
    } else {
      r.problem(at, "ciliumRequirements.kernel",
                "expected the oldest Linux release such as \"5.10\", found '" + *kernel + "'");
      valid = false;
    }
  } else {
    valid = false;
  }
  if (valid)
    out = req;
}

}  // namespace cnimig::config::detail
