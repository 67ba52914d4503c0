#pragma once
// One entry of the agent's event stream (README.md "Event stream"): a dotted name
// plus fields. `ts`, `v` and `event` are added by the writer; `step` is always
// present (null outside a step) so consumers can rely on it.

#include <chrono>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace cnimig::events {

// Version of the event schema; bumped on any incompatible change.
inline constexpr int kSchemaVersion = 1;

class Event {
 public:
  explicit Event(std::string_view name);

  Event& step(std::string_view step);
  Event& node(std::string_view node);
  Event& resource(std::string_view resource);  // "kind/namespace/name" or "kind/name"
  Event& duration(std::chrono::milliseconds d);
  Event& error(std::string_view message);
  Event& field(std::string_view key, boost::json::value value);
  Event& field(std::string_view key, std::string_view value);
  Event& field(std::string_view key, const char* value) {
    return field(key, std::string_view(value));
  }

  const std::string& name() const noexcept { return name_; }
  const boost::json::object& fields() const noexcept { return fields_; }

 private:
  std::string name_;
  boost::json::object fields_;
};

}  // namespace cnimig::events
