// What a request asks for: its query string and its REST path.
#include <cctype>
#include <string>

#include "cnimig/common/split.hpp"

#include "api_handler.hpp"

namespace cnimig::sim {

namespace {

std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() &&
               std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

std::string Query::get(const std::string& key, std::string fallback) const {
  auto it = values.find(key);
  return it == values.end() ? fallback : it->second;
}

std::vector<std::string> Query::all(const std::string& key) const {
  std::vector<std::string> out;
  auto [b, e] = values.equal_range(key);
  for (; b != e; ++b)
    out.push_back(b->second);
  return out;
}

bool Query::flag(const std::string& key) const {
  const auto v = get(key);
  return v == "true" || v == "1";
}

Query Query::parse(std::string_view qs) {
  Query q;
  for (const auto item : split(qs, '&')) {
    if (item.empty())
      continue;
    const auto [key, value] = split_once(item, '=');
    q.values.emplace(url_decode(key), url_decode(value));
  }
  return q;
}

std::optional<ResourcePath> ApiHandler::parse_path(std::string_view path) {
  std::vector<std::string_view> seg;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    auto s = path.substr(start, slash == path.npos ? path.npos : slash - start);
    if (!s.empty())
      seg.push_back(s);
    if (slash == path.npos)
      break;
    start = slash + 1;
  }
  std::string group;
  std::string version;
  std::size_t i = 0;
  if (seg.size() >= 2 && seg[0] == "api" && seg[1] == "v1") {
    version = "v1";
    i = 2;
  } else if (seg.size() >= 3 && seg[0] == "apis") {
    group = std::string(seg[1]);
    version = std::string(seg[2]);
    i = 3;
  } else {
    return std::nullopt;
  }
  std::vector<std::string_view> rest(seg.begin() + static_cast<std::ptrdiff_t>(i), seg.end());
  if (rest.empty())
    return std::nullopt;
  ResourcePath rp;
  rp.version = std::move(version);
  std::string_view plural;
  if (rest[0] == "namespaces" && rest.size() >= 3 && rest[2] != "status" && rest[2] != "finalize") {
    rp.ns = std::string(rest[1]);
    plural = rest[2];
    rest.erase(rest.begin(), rest.begin() + 3);
  } else {
    plural = rest[0];
    rest.erase(rest.begin());
  }
  rp.type = find_resource_type(group, plural);
  if (!rp.type)
    return rp;  // type null: caller answers 404
  if (!rest.empty())
    rp.name = std::string(rest[0]);
  if (rest.size() >= 2)
    rp.subresource = std::string(rest[1]);
  if (rest.size() > 2)
    rp.type = nullptr;
  return rp;
}

}  // namespace cnimig::sim
