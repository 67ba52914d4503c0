#pragma once
// The three PATCH bodies the API server accepts (plus server-side apply, which
// the API layer builds on the strategic merge):
//  - JSON merge patch (RFC 7386, application/merge-patch+json)
//  - JSON patch (RFC 6902, application/json-patch+json)
//  - strategic merge patch (application/strategic-merge-patch+json): like a
//    merge patch, but lists with a merge key (containers by name, ports by
//    containerPort, conditions by type...) merge element-wise, and the
//    directives kubectl emits ($patch, $retainKeys, $deleteFromPrimitiveList,
//    $setElementOrder) are honoured.

#include <boost/json/value.hpp>

#include "cnimig/common/result.hpp"

namespace cnimig::sim {

boost::json::value json_merge_patch(boost::json::value target, const boost::json::value& patch);

Result<boost::json::value> json_patch(boost::json::value target, const boost::json::value& patch);

Result<boost::json::value> strategic_merge_patch(boost::json::value target,
                                                 const boost::json::value& patch);

}  // namespace cnimig::sim
