#include "cnimig/agent/node_write_batch.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

using namespace cnimig;
using namespace cnimig::agent;
using migrate::Action;
using migrate::StepId;

namespace {

Action on(const std::string& node, migrate::ActionKind kind) {
  return Action{StepId::roll, node, std::move(kind)};
}

const migrate::Taint kTaint{"node-role.kubernetes.io/cilium", "true", "NoExecute"};

boost::json::object json(const char* text) {
  return boost::json::parse(text).as_object();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(node_write_batch)

// The roll's start: intent, drain-since and cordon of one node, then its
// evictions: one patch, then each eviction by itself.
BOOST_AUTO_TEST_CASE(consecutive_writes_to_one_node_form_one_batch) {
  const std::vector<Action> group = {
      on("n1", migrate::AnnotateNode{"n1", {{"cnimig.io/roll", "started"}}, {}}),
      on("n1", migrate::AnnotateNode{"n1", {{"cnimig.io/drain-since", "100"}}, {}}),
      on("n1", migrate::SetCordon{"n1", true}),
      on("n1", migrate::EvictPod{"default", "p1", "u1", false}),
      on("n1", migrate::EvictPod{"default", "p2", "u2", false}),
      on("n1", migrate::LabelNode{"n1", {{"a", "true"}}, {}}),
  };
  const auto batches = batch_node_writes(group);
  BOOST_TEST_REQUIRE(batches.size() == 4u);
  BOOST_TEST(batches[0].size() == 3u);
  BOOST_TEST(batches[1].size() == 1u);
  BOOST_TEST(batches[2].size() == 1u);
  BOOST_TEST(batches[3].size() == 1u);
  std::vector<Action> flat;
  for (const auto& b : batches)
    flat.insert(flat.end(), b.begin(), b.end());
  BOOST_TEST((flat == group), "order kept");
}

BOOST_AUTO_TEST_CASE(writes_to_different_nodes_are_not_batched) {
  const std::vector<Action> group = {
      on("n1", migrate::LabelNode{"n1", {{"a", "true"}}, {}}),
      on("n2", migrate::LabelNode{"n2", {{"a", "true"}}, {}}),
  };
  BOOST_TEST(batch_node_writes(group).size() == 2u);
  BOOST_TEST(!is_node_object_write(on("n1", migrate::DeletePod{"default", "p", "u", false})));
}

BOOST_AUTO_TEST_CASE(one_patch_carries_labels_annotations_and_cordon) {
  const std::vector<Action> writes = {
      on("n1", migrate::AnnotateNode{"n1", {{"cnimig.io/roll", "pods-deleted"}}, {}}),
      on("n1", migrate::SetCordon{"n1", false}),
  };
  const auto patch = node_merge_patch(writes, {});
  BOOST_TEST(!patch.replaces_taints);
  BOOST_TEST((patch.body == json(R"({"metadata":{"annotations":{"cnimig.io/roll":
                 "pods-deleted"}},"spec":{"unschedulable":null}})")));
}

// The patch leaves the node as the writes one by one would: a later write
// to the same key wins.
BOOST_AUTO_TEST_CASE(later_writes_to_a_key_win) {
  const std::vector<Action> writes = {
      on("n1", migrate::LabelNode{"n1", {{"rolled", "true"}, {"x", "1"}}, {}}),
      on("n1", migrate::AnnotateNode{"n1", {{"cnimig.io/roll", "started"}}, {}}),
      on("n1", migrate::AnnotateNode{"n1", {}, {"cnimig.io/roll"}}),
      on("n1", migrate::LabelNode{"n1", {{"x", "2"}}, {"rolled"}}),
      on("n1", migrate::SetCordon{"n1", false}),
      on("n1", migrate::SetCordon{"n1", true}),
  };
  const auto patch = node_merge_patch(writes, {});
  const auto& meta = patch.body.at("metadata").as_object();
  BOOST_TEST(meta.at("labels").at("rolled").is_null());
  BOOST_TEST(meta.at("labels").at("x").as_string() == "2");
  BOOST_TEST(meta.at("annotations").at("cnimig.io/roll").is_null());
  BOOST_TEST(patch.body.at("spec").at("unschedulable").as_bool());
}

// spec.taints is replaced whole: the patch lists the node's other taints too.
BOOST_AUTO_TEST_CASE(taints_are_written_as_the_whole_list) {
  const auto current =
      boost::json::parse(R"([{"key":"node.kubernetes.io/unschedulable","effect":"NoSchedule"}])")
          .as_array();
  const std::vector<Action> add = {
      on("n1", migrate::AddTaint{"n1", kTaint}),
      on("n1", migrate::LabelNode{"n1", {{"cilium", "true"}}, {"calico-cilium"}}),
  };
  BOOST_TEST(edits_taints(add));
  const auto added = node_merge_patch(add, current);
  BOOST_TEST(added.replaces_taints);
  const auto& taints = added.body.at("spec").at("taints").as_array();
  BOOST_TEST_REQUIRE(taints.size() == 2u);
  BOOST_TEST(taints[0] == current[0]);
  BOOST_TEST(taints[1].at("key").as_string() == kTaint.key);
  BOOST_TEST(taints[1].at("effect").as_string() == "NoExecute");
  BOOST_TEST(added.body.at("metadata").at("labels").at("calico-cilium").is_null());

  const std::vector<Action> remove = {on("n1", migrate::RemoveTaint{"n1", kTaint})};
  const auto removed = node_merge_patch(remove, taints);
  BOOST_TEST(removed.body.at("spec").at("taints").as_array() == current);
  // The last taint removed: the field goes (null), as kubectl taint leaves it.
  const auto none = node_merge_patch(
      remove,
      boost::json::parse(R"([{"key":")" + kTaint.key + R"(","effect":"NoExecute"}])").as_array());
  BOOST_TEST(none.body.at("spec").at("taints").is_null());
}

// A taint already as wanted changes nothing: no patch at all, or one without
// spec.taints (and so without a resourceVersion precondition).
BOOST_AUTO_TEST_CASE(taints_already_as_wanted_are_left_out) {
  boost::json::array current;
  current.push_back(
      boost::json::parse(R"({"key":")" + kTaint.key + R"(","value":"true","effect":"NoExecute"})"));
  const std::vector<Action> only = {on("n1", migrate::AddTaint{"n1", kTaint})};
  BOOST_TEST(node_merge_patch(only, current).body.empty());
  const std::vector<Action> with_label = {
      on("n1", migrate::AddTaint{"n1", kTaint}),
      on("n1", migrate::LabelNode{"n1", {{"cilium", "true"}}, {}}),
  };
  const auto patch = node_merge_patch(with_label, current);
  BOOST_TEST(!patch.replaces_taints);
  BOOST_TEST(!patch.body.contains("spec"));
  BOOST_TEST(patch.body.at("metadata").at("labels").at("cilium").as_string() == "true");
}

BOOST_AUTO_TEST_SUITE_END()
