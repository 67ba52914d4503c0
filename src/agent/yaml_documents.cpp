#include "cnimig/agent/yaml_documents.hpp"

#include <charconv>
#include <cmath>
#include <regex>
#include <set>

#include <yaml-cpp/yaml.h>

namespace cnimig::agent {
namespace {

std::string where(const std::string& source, const YAML::Mark& mark) {
  if (mark.is_null())
    return source;
  return source + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

// YAML 1.2 core schema resolution of a plain scalar.
boost::json::value resolve_plain(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL")
    return nullptr;
  if (s == "true" || s == "True" || s == "TRUE")
    return true;
  if (s == "false" || s == "False" || s == "FALSE")
    return false;
  static const std::regex kInt(R"([-+]?[0-9]+)");
  static const std::regex kOct(R"(0o[0-7]+)");
  static const std::regex kHex(R"(0x[0-9a-fA-F]+)");
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (std::regex_match(s, kInt)) {
    std::int64_t v = 0;
    const char* begin = s.data() + (s.front() == '+' ? 1 : 0);
    auto [end, ec] = std::from_chars(begin, s.data() + s.size(), v);
    if (ec == std::errc{} && end == s.data() + s.size())
      return v;
    return boost::json::string(s);  // out of range: keep the text rather than lose digits
  }
  if (std::regex_match(s, kOct) || std::regex_match(s, kHex)) {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data() + 2, s.data() + s.size(), v, s[1] == 'o' ? 8 : 16);
    if (ec == std::errc{} && end == s.data() + s.size())
      return v;
    return boost::json::string(s);
  }
  if (std::regex_match(s, kFloat))
    return std::stod(s);
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf")
    return HUGE_VAL;
  if (s == "-.inf" || s == "-.Inf" || s == "-.INF")
    return -HUGE_VAL;
  return boost::json::string(s);
}

Result<boost::json::value> convert(const YAML::Node& node, const std::string& source, int depth) {
  if (depth > 64)
    return make_error(Errc::config, where(source, node.Mark()) + ": nesting too deep");
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return boost::json::value(nullptr);
    case YAML::NodeType::Scalar: {
      const auto& tag = node.Tag();
      if (tag == "!" || tag == "tag:yaml.org,2002:str")
        return boost::json::value(node.Scalar());
      if (tag == "?" || tag.empty())
        return resolve_plain(node.Scalar());
      // Other explicit tags (!!int, !!bool, ...): resolve the text as plain.
      return resolve_plain(node.Scalar());
    }
    case YAML::NodeType::Sequence: {
      boost::json::array out;
      for (const auto& item : node) {
        auto v = convert(item, source, depth + 1);
        if (!v)
          return v.error();
        out.push_back(std::move(*v));
      }
      return boost::json::value(std::move(out));
    }
    case YAML::NodeType::Map: {
      boost::json::object out;
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) {
          return make_error(Errc::config,
                            where(source, entry.first.Mark()) + ": mapping keys must be scalars");
        }
        const auto& key = entry.first.Scalar();
        if (out.contains(key)) {
          return make_error(Errc::config,
                            where(source, entry.first.Mark()) + ": duplicate key '" + key + "'");
        }
        auto v = convert(entry.second, source, depth + 1);
        if (!v)
          return v.error();
        out[key] = std::move(*v);
      }
      return boost::json::value(std::move(out));
    }
  }
  return boost::json::value(nullptr);
}

Result<void> check_object(const boost::json::object& o, const std::string& at) {
  for (const char* field : {"apiVersion", "kind"}) {
    const auto* v = o.if_contains(field);
    if (v == nullptr || !v->is_string() || v->get_string().empty()) {
      return make_error(Errc::config, at + ": object has no " + field);
    }
  }
  const auto* meta = o.if_contains("metadata");
  const auto* name =
      meta != nullptr && meta->is_object() ? meta->get_object().if_contains("name") : nullptr;
  if (name == nullptr || !name->is_string() || name->get_string().empty()) {
    return make_error(Errc::config, at + ": object has no metadata.name");
  }
  return {};
}

}  // namespace

Result<std::vector<boost::json::object>> parse_yaml_documents(std::string_view text,
                                                              const std::string& source) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    return make_error(Errc::config, where(source, e.mark) + ": invalid YAML: " + e.msg);
  }
  std::vector<boost::json::object> out;
  for (const auto& doc : documents) {
    if (doc.IsNull() || !doc.IsDefined())
      continue;  // "---" separators with nothing between
    const auto at = where(source, doc.Mark());
    if (!doc.IsMap())
      return make_error(Errc::config, at + ": a manifest document must be a mapping");
    auto value = convert(doc, source, 0);
    if (!value)
      return value.error();
    auto& object = value->as_object();
    const auto* kind = object.if_contains("kind");
    if (kind != nullptr && kind->is_string() && kind->get_string() == "List") {
      const auto* items = object.if_contains("items");
      if (items == nullptr || !items->is_array())
        return make_error(Errc::config, at + ": List without items");
      for (const auto& item : items->get_array()) {
        if (!item.is_object())
          return make_error(Errc::config, at + ": List item is not an object");
        if (auto ok = check_object(item.get_object(), at); !ok)
          return ok.error();
        out.push_back(item.get_object());
      }
      continue;
    }
    if (auto ok = check_object(object, at); !ok)
      return ok.error();
    out.push_back(std::move(object));
  }
  return out;
}

}  // namespace cnimig::agent
