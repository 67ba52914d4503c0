#include "yaml_reader.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <sstream>

#include "cnimig/config/duration.hpp"

namespace cnimig::config::detail {

void Reader::problem(const YAML::Mark& mark, const std::string& key, const std::string& text) {
  std::ostringstream out;
  out << file_.string();
  if (!mark.is_null())
    out << ':' << mark.line + 1 << ':' << mark.column + 1;
  out << ": ";
  if (!key.empty())
    out << key << ": ";
  out << text;
  problems_.push_back(out.str());
}

bool Reader::mapping(const YAML::Node& node, const std::string& key,
                     std::initializer_list<std::string_view> allowed,
                     const YAML::Mark& parent_mark) {
  if (!node || node.IsNull())
    return false;
  if (!node.IsMap()) {
    problem(mark_of(node, parent_mark), key, "expected a mapping, found " + kind_of(node));
    return false;
  }
  std::set<std::string> seen;
  for (const auto& entry : node) {
    const auto name = entry.first.Scalar();
    const auto child = join(key, name);
    if (!seen.insert(name).second) {
      problem(entry.first.Mark(), child, "duplicate key");
    } else if (allowed.size() != 0 &&
               std::find(allowed.begin(), allowed.end(), std::string_view(name)) == allowed.end()) {
      std::string known;
      for (auto a : allowed)
        known += (known.empty() ? "" : ", ") + std::string(a);
      problem(entry.first.Mark(), child, "unknown key (expected one of: " + known + ")");
    }
  }
  return true;
}

YAML::Node Reader::child(const YAML::Node& node, std::string_view name, YAML::Mark& mark) {
  for (const auto& entry : node) {
    if (entry.first.Scalar() == name) {
      mark = entry.second.Mark().is_null() ? entry.first.Mark() : entry.second.Mark();
      return entry.second;
    }
  }
  mark = node.Mark();
  return YAML::Node(YAML::NodeType::Undefined);
}

bool Reader::string(const YAML::Node& node, const std::string& key, const YAML::Mark& mark,
                    std::string& out, bool allow_empty) {
  if (!node.IsDefined())
    return false;
  if (node.IsNull() && allow_empty) {
    out.clear();
    return true;
  }
  if (!node.IsScalar()) {
    problem(mark, key, "expected a string, found " + kind_of(node));
    return false;
  }
  if (node.Scalar().empty() && !allow_empty) {
    problem(mark, key, "must not be empty");
    return false;
  }
  out = node.Scalar();
  return true;
}

void Reader::positive(const YAML::Node& node, const std::string& key, const YAML::Mark& mark,
                      unsigned& out, unsigned max) {
  if (!node.IsDefined())
    return;
  unsigned value = 0;
  const std::string text = node.IsScalar() ? node.Scalar() : std::string();
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (!node.IsScalar() || ec != std::errc{} || end != text.data() + text.size() || value == 0 ||
      value > max) {
    problem(mark, key,
            "expected an integer from 1 to " + std::to_string(max) + ", found " + describe(node));
    return;
  }
  out = value;
}

void Reader::boolean(const YAML::Node& node, const std::string& key, const YAML::Mark& mark,
                     bool& out) {
  if (!node.IsDefined())
    return;
  const std::string text = node.IsScalar() ? node.Scalar() : std::string();
  if (text == "true" || text == "True" || text == "TRUE") {
    out = true;
  } else if (text == "false" || text == "False" || text == "FALSE") {
    out = false;
  } else {
    problem(
        mark, key,
        "expected true or false, found " + (node.IsScalar() ? "'" + text + "'" : describe(node)));
  }
}

bool Reader::duration(const YAML::Node& node, const std::string& key, const YAML::Mark& mark,
                      std::chrono::milliseconds& out) {
  if (!node.IsDefined())
    return false;
  if (!node.IsScalar()) {
    problem(mark, key, "expected a duration such as 30s or 15m, found " + kind_of(node));
    return false;
  }
  auto parsed = parse_duration(node.Scalar());
  if (!parsed) {
    problem(mark, key, parsed.error().message);
    return false;
  }
  out = *parsed;
  return true;
}

std::string Reader::join(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string Reader::kind_of(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    case YAML::NodeType::Null:
      return "nothing";
    default:
      return "nothing";
  }
}

}  // namespace cnimig::config::detail
