#pragma once
// The NamespaceLifecycle admission plugin of kube-apiserver
// (k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle): a create or
// update of a namespaced object, dry runs and server-side apply included, is
// refused when its namespace does not exist (404 NotFound, the Status of a
// failed `get namespace`), and a create when the namespace is being
// terminated (403 Forbidden). Deletes, Namespaces themselves, cluster-scoped
// kinds and access reviews are always admitted.

#include <optional>
#include <string_view>

#include "api_handler.hpp"
#include "object_store.hpp"

namespace cnimig::sim {

enum class AdmissionOperation { create, update };

// The refusal to send, or nullopt when the write is admitted. `name` is the
// object's name (empty for a create with generateName).
std::optional<ApiResponse> admit_namespace_lifecycle(const ObjectStore& store,
                                                     const ResourceType& type, std::string_view ns,
                                                     std::string_view name,
                                                     AdmissionOperation operation);

}  // namespace cnimig::sim
