#include "cnimig/wire/object_key.hpp"

#include "cnimig/wire/object_fields.hpp"

namespace cnimig::wire {

std::string object_key(std::string_view namespace_, std::string_view name) {
  if (namespace_.empty())
    return std::string(name);
  std::string key;
  key.reserve(namespace_.size() + 1 + name.size());
  key.append(namespace_).append(1, '/').append(name);
  return key;
}

std::string object_key(const boost::json::object& object) {
  return object_key(ns(object), name(object));
}

ObjectKey split_object_key(std::string_view key) {
  const auto slash = key.find('/');
  if (slash == std::string_view::npos)
    return {{}, key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

}  // namespace cnimig::wire
