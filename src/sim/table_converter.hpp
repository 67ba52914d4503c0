#pragma once
// Server-side printing (meta.k8s.io/v1 Table), what kubectl get asks for with
// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`: the columns the real
// API server prints for pods, nodes and daemonsets, and Name/Age for the rest.

#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "object_store.hpp"

namespace cnimig::sim {

enum class TableObjects { none, metadata, full };  // ?includeObject=None|Metadata|Object

boost::json::object to_table(const ResourceType& type, const std::vector<ObjectPtr>& objects,
                             TableObjects include, const std::string& resource_version);

// True when an Accept header asks for a meta.k8s.io/v1 Table.
bool wants_table(std::string_view accept);

}  // namespace cnimig::sim
