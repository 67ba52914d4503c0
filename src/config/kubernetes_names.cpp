#include "cnimig/config/kubernetes_names.hpp"

#include <cctype>

namespace cnimig::config {
namespace {

bool alnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}
bool lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])? : the "name" part of a qualified
// name and the whole of a label value.
bool is_qualified_name_part(std::string_view s) {
  if (s.empty() || !alnum(s.front()) || !alnum(s.back()))
    return false;
  for (char c : s) {
    if (!alnum(c) && c != '-' && c != '_' && c != '.')
      return false;
  }
  return true;
}

bool is_dns1123_label(std::string_view s) {
  if (s.empty() || s.size() > 63 || !lower_alnum(s.front()) || !lower_alnum(s.back()))
    return false;
  for (char c : s) {
    if (!lower_alnum(c) && c != '-')
      return false;
  }
  return true;
}

bool is_dns1123_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253)
    return false;
  std::size_t start = 0;
  while (true) {
    const auto dot = s.find('.', start);
    if (!is_dns1123_label(s.substr(start, dot == std::string_view::npos ? s.npos : dot - start))) {
      return false;
    }
    if (dot == std::string_view::npos)
      return true;
    start = dot + 1;
  }
}

}  // namespace

std::string check_qualified_name(std::string_view key) {
  if (key.empty())
    return "must not be empty";
  std::string_view name = key;
  if (const auto slash = key.find('/'); slash != std::string_view::npos) {
    const auto prefix = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (prefix.empty())
      return "prefix part must not be empty";
    if (!is_dns1123_subdomain(prefix)) {
      return "prefix part must be a lowercase RFC 1123 subdomain of at most 253 characters";
    }
    if (name.find('/') != std::string_view::npos)
      return "must contain at most one '/'";
  }
  if (name.empty())
    return "name part must not be empty";
  if (name.size() > 63)
    return "name part must be no more than 63 characters";
  if (!is_qualified_name_part(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
           "end "
           "with an alphanumeric character";
  }
  return {};
}

std::string check_label_value(std::string_view value) {
  if (value.empty())
    return {};
  if (value.size() > 63)
    return "must be no more than 63 characters";
  if (!is_qualified_name_part(value)) {
    return "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
           "an "
           "alphanumeric character";
  }
  return {};
}

std::string check_dns1123_label(std::string_view name) {
  if (is_dns1123_label(name))
    return {};
  return "must be a lowercase RFC 1123 label of at most 63 characters (a-z, 0-9 and '-', starting "
         "and "
         "ending with an alphanumeric character)";
}

std::string check_dns1123_subdomain(std::string_view name) {
  if (is_dns1123_subdomain(name))
    return {};
  return "must be a lowercase RFC 1123 subdomain of at most 253 characters (a-z, 0-9, '-' and '.', "
         "starting and ending with an alphanumeric character)";
}

}  // namespace cnimig::config
