// Client's reads: get, and list with its `continue` pages.

#include <boost/json.hpp>

#include "cnimig/wire/object_fields.hpp"

#include "client_verbs.hpp"

namespace cnimig::kube {

namespace json = boost::json;

asio::awaitable<Result<json::object>> Client::get(const ResourcePath& object,
                                                  RequestOptions options) {
  auto req = make_request(Method::get, object.path(), {}, {}, true, options);
  co_return co_await request_object(*impl_, std::move(req));
}

namespace {

// The query of one page: `continue` names the page after the first.
std::string list_query(const ListOptions& options, const std::string& cont) {
  QueryParameters q;
  if (options.limit > 0)
    q.emplace_back("limit", std::to_string(options.limit));
  if (!cont.empty())
    q.emplace_back("continue", cont);
  if (!options.label_selector.empty())
    q.emplace_back("labelSelector", options.label_selector);
  if (!options.field_selector.empty())
    q.emplace_back("fieldSelector", options.field_selector);
  return query_join(q);
}

}  // namespace

asio::awaitable<Result<std::string>> Client::list_pages(
    const ResourcePath& collection, const ListOptions& options,
    const std::function<void(std::vector<json::object>&)>& on_page) {
  std::string cont;
  std::string rv;
  do {
    auto req = make_request(Method::get, collection.collection().path() + list_query(options, cont),
                            {}, {}, true, options.request);
    auto obj = co_await request_object(*impl_, std::move(req));
    if (!obj)
      co_return obj.error();
    cont.clear();
    if (auto* meta = obj->if_contains("metadata"); meta && meta->is_object()) {
      if (auto* c = meta->get_object().if_contains("continue"); c && c->is_string())
        cont = c->get_string();
      if (auto* v = meta->get_object().if_contains("resourceVersion"); v && v->is_string())
        rv = v->get_string();
    }
    std::vector<json::object> items;
    if (auto* it = obj->if_contains("items"); it && it->is_array()) {
      items.reserve(it->get_array().size());
      for (auto& v : it->get_array())
        if (v.is_object())
          items.push_back(std::move(v.get_object()));
    }
    on_page(items);
  } while (!cont.empty());
  co_return rv;
}

asio::awaitable<Result<std::string>> Client::current_version(const ResourcePath& collection,
                                                             RequestOptions options) {
  ListOptions one;
  one.limit = 1;
  auto req = make_request(Method::get, collection.collection().path() + list_query(one, {}), {}, {},
                          true, options);
  auto list = co_await request_object(*impl_, std::move(req));
  if (!list)
    co_return list.error();
  const auto rv = wire::resource_version(*list);
  if (rv.empty())
    co_return make_error(Errc::protocol,
                         "list " + collection.collection().path() + " has no resourceVersion");
  co_return std::string(rv);
}

asio::awaitable<Result<ObjectList>> Client::list(const ResourcePath& collection,
                                                 ListOptions options) {
  ObjectList out;
  // A named std::function: GCC 12 mishandles temporaries inside co_await expressions.
  std::function<void(std::vector<json::object>&)> collect = [&](std::vector<json::object>& items) {
    for (auto& item : items)
      out.items.push_back(std::move(item));
  };
  auto rv = co_await list_pages(collection, options, collect);
  if (!rv)
    co_return rv.error();
  out.resource_version = std::move(*rv);
  co_return out;
}

}  // namespace cnimig::kube
