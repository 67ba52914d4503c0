// plan.action's `kind` is "the event name the action would emit when
// applied": it must be an event of the catalogue, for every kind of action.
#include <utility>

#include <boost/test/unit_test.hpp>

#include "cnimig/events/event_catalogue.hpp"
#include "cnimig/migrate/action.hpp"

using namespace cnimig;

namespace {

template <std::size_t... I>
void check_every_kind(std::index_sequence<I...>) {
  const auto check = [](migrate::ActionKind kind) {
    const migrate::Action action{migrate::StepId::roll, "node-1", std::move(kind)};
    const auto name = migrate::event_name(action);
    BOOST_TEST(events::in_catalogue(name), "the action \"" << migrate::describe(action)
                                                           << "\" names the event \"" << name
                                                           << "\", which is not in the catalogue");
  };
  (check(migrate::ActionKind(std::in_place_index<I>)), ...);
  check(migrate::SetCordon{"node-1", false});
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_action_kind_names_a_catalogued_event) {
  check_every_kind(std::make_index_sequence<std::variant_size_v<migrate::ActionKind>>{});
}
