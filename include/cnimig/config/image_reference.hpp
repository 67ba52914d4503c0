#pragma once
// Container image references as the container runtimes parse them
// (distribution/reference's grammar): [registry[:port]/]path[:tag][@digest].
// A private registry mirror is configured by replacing the shipped images.

#include <string>
#include <string_view>

namespace cnimig::config {

// Empty when `ref` is a valid image reference, else why not.
std::string check_image_reference(std::string_view ref);

// The reference without its tag and digest ("quay.io/cilium/cilium").
std::string image_repository(std::string_view ref);

}  // namespace cnimig::config
