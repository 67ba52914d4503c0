#pragma once
// Kubernetes' name and label syntax rules (apimachinery's validation package:
// IsQualifiedName, IsValidLabelValue, IsDNS1123Label, IsDNS1123Subdomain).
// Each returns an empty string when valid, else the reason, worded like the API server's.

#include <string>
#include <string_view>

namespace cnimig::config {

std::string check_qualified_name(std::string_view key);  // label keys, taint keys
std::string check_label_value(std::string_view value);
std::string check_dns1123_label(std::string_view name);      // namespaces
std::string check_dns1123_subdomain(std::string_view name);  // object names

}  // namespace cnimig::config
