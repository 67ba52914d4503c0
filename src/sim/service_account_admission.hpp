#pragma once
// The ServiceAccount admission plugin of kube-apiserver
// (plugin/pkg/admission/serviceaccount), as far as clients can tell: a pod
// without spec.serviceAccountName gets "default", and a pod whose
// ServiceAccount does not exist in its namespace is refused with 403
// Forbidden (`error looking up service account NS/NAME: serviceaccount
// "NAME" not found`). Controllers retry such pods once the account exists.
// Found against a real API server: the simulator used to accept them.

#include <boost/json/object.hpp>

#include "cnimig/common/result.hpp"

#include "object_store.hpp"

namespace cnimig::sim {

// For a pod about to be created; other kinds are admitted unchanged.
Result<void> admit_service_account(const ObjectStore& store, const ResourceType& type,
                                   boost::json::object& pod);

}  // namespace cnimig::sim
