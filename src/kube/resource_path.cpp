#include "cnimig/kube/resource_path.hpp"

namespace cnimig::kube {

std::string ResourcePath::path() const {
  std::string p = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (!namespace_.empty())
    p += "/namespaces/" + namespace_;
  p += "/" + resource;
  if (!name.empty()) {
    p += "/" + name;
    if (!subresource.empty())
      p += "/" + subresource;
  }
  return p;
}

std::string url_encode(const std::string& value) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace cnimig::kube
