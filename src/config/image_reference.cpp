#include "cnimig/config/image_reference.hpp"

#include <regex>

namespace cnimig::config {
namespace {

// distribution/reference's grammar (reference/regexp.go), anchored piecewise
// so the error can say which part is wrong.
const std::regex& domain_re() {
  static const std::regex re(
      R"(^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?$)");
  return re;
}
const std::regex& path_component_re() {
  static const std::regex re(R"(^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$)");
  return re;
}
const std::regex& tag_re() {
  static const std::regex re(R"(^[\w][\w.-]{0,127}$)");
  return re;
}
const std::regex& digest_re() {
  static const std::regex re(R"(^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$)");
  return re;
}

// The name's end: the tag's ':' is the last one after the last '/'.
std::size_t name_end(std::string_view ref) {
  const auto at = ref.find('@');
  const auto name = ref.substr(0, at);
  const auto slash = name.rfind('/');
  const auto colon = name.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash))
    return colon;
  return name.size();
}

}  // namespace

std::string check_image_reference(std::string_view ref) {
  if (ref.empty())
    return "must not be empty";
  const auto at = ref.find('@');
  if (at != std::string_view::npos) {
    const std::string digest(ref.substr(at + 1));
    if (!std::regex_match(digest, digest_re()))
      return "invalid digest '" + digest + "' (expected e.g. sha256:<64 hex digits>)";
    if (digest.starts_with("sha256:") && digest.size() != 7 + 64)
      return "a sha256 digest has 64 hex digits";
  }
  const auto end = name_end(ref);
  const auto name = ref.substr(0, end);
  if (end < ref.substr(0, at).size()) {
    const std::string tag(ref.substr(end + 1, at == std::string_view::npos ? at : at - end - 1));
    if (!std::regex_match(tag, tag_re()))
      return "invalid tag '" + tag + "' (letters, digits, '_', '.' and '-', at most 128)";
  }
  if (name.empty())
    return "no repository name";
  if (name.size() > 255)
    return "the repository name is longer than 255 characters";
  // The first component is a registry when it looks like a host: it has a
  // '.' or a ':' or is localhost (as the runtimes decide).
  std::string_view rest = name;
  const auto slash = name.find('/');
  if (slash != std::string_view::npos) {
    const auto first = name.substr(0, slash);
    if (first.find_first_of(".:") != std::string_view::npos || first == "localhost") {
      if (!std::regex_match(std::string(first), domain_re()))
        return "invalid registry '" + std::string(first) + "'";
      rest = name.substr(slash + 1);
    }
  }
  if (rest.empty())
    return "no repository path after the registry";
  std::size_t begin = 0;
  while (begin <= rest.size()) {
    const auto next = rest.find('/', begin);
    const std::string component(rest.substr(begin, next - begin));
    if (!std::regex_match(component, path_component_re())) {
      return "invalid path component '" + component +
             "' (lowercase letters and digits, separated by '.', '_', '__' or '-')";
    }
    if (next == std::string_view::npos)
      break;
    begin = next + 1;
  }
  return {};
}

std::string image_repository(std::string_view ref) {
  return std::string(ref.substr(0, name_end(ref)));
}

}  // namespace cnimig::config
