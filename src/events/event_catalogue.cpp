#include "cnimig/events/event_catalogue.hpp"

#include <boost/json/serialize.hpp>

#include "cnimig/events/event.hpp"

namespace cnimig::events {
namespace {

bool has_type(const boost::json::value& v, FieldType type) {
  switch (type) {
    case FieldType::string:
      return v.is_string();
    case FieldType::integer:
      return v.is_int64() || v.is_uint64();
    case FieldType::number:
      return v.is_number();
    case FieldType::boolean:
      return v.is_bool();
    case FieldType::string_or_null:
      return v.is_string() || v.is_null();
  }
  return false;
}

bool digits(std::string_view s, std::size_t from, std::size_t count) {
  for (std::size_t i = from; i < from + count; ++i) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9')
      return false;
  }
  return true;
}

// Exactly the writer's form: YYYY-MM-DDTHH:MM:SS.mmmZ.
bool rfc3339_utc_millis(std::string_view s) {
  return s.size() == 24 && digits(s, 0, 4) && s[4] == '-' && digits(s, 5, 2) && s[7] == '-' &&
         digits(s, 8, 2) && s[10] == 'T' && digits(s, 11, 2) && s[13] == ':' && digits(s, 14, 2) &&
         s[16] == ':' && digits(s, 17, 2) && s[19] == '.' && digits(s, 20, 3) && s[23] == 'Z';
}

void check_field(const boost::json::object& line, const FieldSpec& f,
                 std::vector<std::string>& problems) {
  const auto* v = line.if_contains(f.name);
  if (v == nullptr) {
    if (f.required)
      problems.push_back("missing field " + std::string(f.name));
    return;
  }
  if (!has_type(*v, f.type)) {
    problems.push_back("field " + std::string(f.name) + " is not of type " +
                       std::string(to_string(f.type)) + ": " + boost::json::serialize(*v));
  }
}

}  // namespace

std::string_view to_string(FieldType type) noexcept {
  switch (type) {
    case FieldType::string:
      return "string";
    case FieldType::integer:
      return "integer";
    case FieldType::number:
      return "number";
    case FieldType::boolean:
      return "boolean";
    case FieldType::string_or_null:
      return "string or null";
  }
  return "?";
}

std::string render_event_table() {
  std::string out = "| event | when | fields |\n| --- | --- | --- |\n";
  for (const auto& e : kEventCatalogue) {
    std::string fields;
    for (const auto& f : e.fields) {
      if (f.name.empty())
        continue;
      fields += (fields.empty() ? "" : ", ") + std::string("`") + std::string(f.name) + "` " +
                std::string(to_string(f.type)) + (f.required ? "" : " (optional)");
    }
    out += "| `" + std::string(e.name) + "` | " + std::string(e.when) + " | " +
           (fields.empty() ? std::string("-") : fields) + " |\n";
  }
  return out;
}

std::vector<std::string> contract_violations(const boost::json::object& line) {
  std::vector<std::string> problems;
  for (const auto& f : kCommonFields)
    check_field(line, f, problems);
  if (const auto* v = line.if_contains("v");
      v && has_type(*v, FieldType::integer) && v->to_number<std::int64_t>() != kSchemaVersion) {
    problems.push_back("v is " + boost::json::serialize(*v) + ", expected " +
                       std::to_string(kSchemaVersion));
  }
  if (const auto* ts = line.if_contains("ts");
      ts && ts->is_string() && !rfc3339_utc_millis(ts->get_string())) {
    problems.push_back("ts is not RFC 3339 UTC with milliseconds: " +
                       std::string(ts->get_string()));
  }
  const auto* name = line.if_contains("event");
  if (name == nullptr || !name->is_string())
    return problems;
  const auto* spec = find_event(name->get_string());
  if (spec == nullptr) {
    problems.push_back("event " + std::string(name->get_string()) + " is not in the catalogue");
    return problems;
  }
  for (const auto& f : spec->fields) {
    if (!f.name.empty())
      check_field(line, f, problems);
  }
  for (const auto& [key, value] : line) {
    bool known = false;
    for (const auto& f : kCommonFields)
      known = known || f.name == key;
    for (const auto& f : spec->fields)
      known = known || (!f.name.empty() && f.name == key);
    if (!known) {
      problems.push_back("field " + std::string(key) + " is not in the catalogue for " +
                         std::string(spec->name));
    }
  }
  return problems;
}

}  // namespace cnimig::events
