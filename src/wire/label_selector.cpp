#include "cnimig/wire/label_selector.hpp"

#include <algorithm>

#include <boost/json.hpp>

#include "cnimig/common/split.hpp"

namespace cnimig::wire {
namespace json = boost::json;

namespace {

Error invalid(std::string message) {
  return make_error(Errc::bad_request, 400, "BadRequest", std::move(message));
}

// Splits on commas that are not inside parentheses.
std::vector<std::string_view> split_terms(std::string_view text) {
  std::vector<std::string_view> out;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '(')
      ++depth;
    else if (text[i] == ')')
      --depth;
    else if (text[i] == ',' && depth == 0) {
      out.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(text.substr(start));
  return out;
}

std::vector<std::string> split_values(std::string_view inner) {
  std::vector<std::string> values;
  for (const auto field : split(inner, ',')) {
    if (const auto v = trim(field); !v.empty())
      values.emplace_back(v);
  }
  return values;
}

}  // namespace

Result<LabelSelector> LabelSelector::parse(std::string_view text) {
  LabelSelector sel;
  if (trim(text).empty())
    return sel;
  for (auto term : split_terms(text)) {
    term = trim(term);
    if (term.empty())
      return invalid("unable to parse requirement: empty term in label selector");
    Requirement req;
    if (term.front() == '!') {
      req.key = std::string(trim(term.substr(1)));
      req.op = Op::does_not_exist;
    } else if (auto p = term.find("!="); p != term.npos) {
      req.key = std::string(trim(term.substr(0, p)));
      req.op = Op::not_equals;
      req.values.emplace_back(trim(term.substr(p + 2)));
    } else if (auto p2 = term.find("=="); p2 != term.npos) {
      req.key = std::string(trim(term.substr(0, p2)));
      req.op = Op::equals;
      req.values.emplace_back(trim(term.substr(p2 + 2)));
    } else if (auto p3 = term.find('='); p3 != term.npos) {
      req.key = std::string(trim(term.substr(0, p3)));
      req.op = Op::equals;
      req.values.emplace_back(trim(term.substr(p3 + 1)));
    } else if (auto open = term.find('('); open != term.npos) {
      auto close = term.rfind(')');
      if (close == term.npos || close < open)
        return invalid("unable to parse requirement: missing ')' in \"" + std::string(term) + "\"");
      auto head = trim(term.substr(0, open));
      auto sp = head.find_last_of(" \t");
      if (sp == head.npos)
        return invalid("unable to parse requirement: \"" + std::string(term) + "\"");
      auto op = trim(head.substr(sp + 1));
      req.key = std::string(trim(head.substr(0, sp)));
      if (op == "in")
        req.op = Op::in;
      else if (op == "notin")
        req.op = Op::not_in;
      else
        return invalid("unable to parse requirement: unknown operator \"" + std::string(op) + "\"");
      req.values = split_values(term.substr(open + 1, close - open - 1));
    } else {
      req.key = std::string(term);
      req.op = Op::exists;
    }
    if (req.key.empty() || req.key.find_first_of(" \t") != std::string::npos)
      return invalid("unable to parse requirement: invalid label key in \"" + std::string(term) +
                     "\"");
    sel.requirements_.push_back(std::move(req));
  }
  return sel;
}

Result<LabelSelector> LabelSelector::from_json(const json::object& selector) {
  LabelSelector sel;
  if (const auto* ml = selector.if_contains("matchLabels"); ml && ml->is_object()) {
    for (const auto& [k, v] : ml->get_object()) {
      if (!v.is_string())
        return invalid("matchLabels values must be strings");
      sel.requirements_.push_back({std::string(k), Op::equals, {std::string(v.get_string())}});
    }
  }
  if (const auto* me = selector.if_contains("matchExpressions"); me && me->is_array()) {
    for (const auto& ev : me->get_array()) {
      const auto* e = ev.if_object();
      if (!e)
        return invalid("matchExpressions entries must be objects");
      Requirement req;
      const auto* key = e->if_contains("key");
      const auto* op = e->if_contains("operator");
      if (!key || !key->is_string() || !op || !op->is_string())
        return invalid("matchExpressions entries need key and operator");
      req.key = std::string(key->get_string());
      const std::string_view o = op->get_string();
      if (o == "In")
        req.op = Op::in;
      else if (o == "NotIn")
        req.op = Op::not_in;
      else if (o == "Exists")
        req.op = Op::exists;
      else if (o == "DoesNotExist")
        req.op = Op::does_not_exist;
      else
        return invalid("unknown matchExpressions operator " + std::string(o));
      if (const auto* vals = e->if_contains("values"); vals && vals->is_array()) {
        for (const auto& v : vals->get_array()) {
          if (v.is_string())
            req.values.emplace_back(v.get_string());
        }
      }
      sel.requirements_.push_back(std::move(req));
    }
  }
  return sel;
}

bool LabelSelector::matches(const json::object* labels) const {
  for (const auto& r : requirements_) {
    const json::value* v = labels ? labels->if_contains(r.key) : nullptr;
    const bool present = v && v->is_string();
    const std::string_view value = present ? std::string_view(v->get_string()) : std::string_view{};
    const auto in_values = [&] {
      return present && std::find(r.values.begin(), r.values.end(), value) != r.values.end();
    };
    switch (r.op) {
      case Op::equals:
      case Op::in:
        if (!in_values())
          return false;
        break;
      case Op::not_equals:
      case Op::not_in:
        if (in_values())
          return false;
        break;
      case Op::exists:
        if (!present)
          return false;
        break;
      case Op::does_not_exist:
        if (present)
          return false;
        break;
    }
  }
  return true;
}

Result<FieldSelector> FieldSelector::parse(std::string_view text) {
  FieldSelector sel;
  if (trim(text).empty())
    return sel;
  for (auto term : split_terms(text)) {
    term = trim(term);
    Requirement req;
    std::string_view field, value;
    if (auto p = term.find("!="); p != term.npos) {
      req.equals = false;
      field = term.substr(0, p);
      value = term.substr(p + 2);
    } else if (auto p2 = term.find("=="); p2 != term.npos) {
      req.equals = true;
      field = term.substr(0, p2);
      value = term.substr(p2 + 2);
    } else if (auto p3 = term.find('='); p3 != term.npos) {
      req.equals = true;
      field = term.substr(0, p3);
      value = term.substr(p3 + 1);
    } else {
      return invalid("invalid field selector: \"" + std::string(term) + "\"");
    }
    field = trim(field);
    if (field.empty())
      return invalid("invalid field selector: empty field");
    std::size_t start = 0;
    while (true) {
      auto dot = field.find('.', start);
      req.path.emplace_back(field.substr(start, dot == field.npos ? field.npos : dot - start));
      if (dot == field.npos)
        break;
      start = dot + 1;
    }
    req.value = std::string(trim(value));
    sel.requirements_.push_back(std::move(req));
  }
  return sel;
}

bool FieldSelector::matches(const json::object& obj) const {
  for (const auto& r : requirements_) {
    const json::value* v = nullptr;
    const json::object* cur = &obj;
    for (std::size_t i = 0; i < r.path.size() && cur; ++i) {
      v = cur->if_contains(r.path[i]);
      if (!v)
        break;
      cur = i + 1 < r.path.size() ? v->if_object() : nullptr;
      if (i + 1 < r.path.size() && !cur)
        v = nullptr;
    }
    std::string actual;
    if (v) {
      if (v->is_string())
        actual = std::string(v->get_string());
      else if (v->is_bool())
        actual = v->get_bool() ? "true" : "false";
      else if (v->is_number())
        actual = json::serialize(*v);
    }
    if ((actual == r.value) != r.equals)
      return false;
  }
  return true;
}

const std::string* FieldSelector::node_name() const {
  for (const auto& r : requirements_) {
    if (r.equals && r.path.size() == 2 && r.path[0] == "spec" && r.path[1] == "nodeName")
      return &r.value;
  }
  return nullptr;
}

}  // namespace cnimig::wire
