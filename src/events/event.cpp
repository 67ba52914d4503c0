#include "cnimig/events/event.hpp"

namespace cnimig::events {

Event::Event(std::string_view name) : name_(name) {
  fields_["step"] = nullptr;
}

Event& Event::step(std::string_view step) {
  fields_["step"] = step;
  return *this;
}

Event& Event::node(std::string_view node) {
  fields_["node"] = node;
  return *this;
}

Event& Event::resource(std::string_view resource) {
  fields_["resource"] = resource;
  return *this;
}

Event& Event::duration(std::chrono::milliseconds d) {
  fields_["duration_ms"] = d.count();
  return *this;
}

Event& Event::error(std::string_view message) {
  fields_["error"] = message;
  return *this;
}

Event& Event::field(std::string_view key, boost::json::value value) {
  fields_[key] = std::move(value);
  return *this;
}

Event& Event::field(std::string_view key, std::string_view value) {
  fields_[key] = value;
  return *this;
}

}  // namespace cnimig::events
