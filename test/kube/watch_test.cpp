#define BOOST_TEST_MODULE kube_watch
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <spdlog/spdlog.h>

#include "cnimig/kube/informer.hpp"
#include "cnimig/kube/watch_event_decoder.hpp"
#include "cnimig/kube/watch_stream.hpp"
#include "cnimig/wire/object_key.hpp"

#include "errc_print.hpp"
#include "tls_test_server.hpp"

using namespace cnimig;
using namespace cnimig::kube;
using namespace cnimig::kube::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

std::string pod(const std::string& name, const std::string& rv) {
  return R"({"kind":"Pod","metadata":{"namespace":"ns","name":")" + name +
         R"(","resourceVersion":")" + rv + R"(","labels":{"x":"é€😀"}}})";
}
std::string event(const std::string& type, const std::string& object) {
  return R"({"type":")" + type + R"(","object":)" + object + "}\n";
}
std::string bookmark(const std::string& rv) {
  return event("BOOKMARK", R"({"kind":"Pod","metadata":{"resourceVersion":")" + rv + R"("}})");
}
std::string gone_event() {
  return event(
      "ERROR",
      R"({"kind":"Status","status":"Failure","reason":"Expired","code":410,"message":"too old resource version"})");
}

std::string describe(const std::vector<RawWatchEvent>& evs) {
  std::string out;
  for (const auto& e : evs)
    out += std::to_string(static_cast<int>(e.type)) + json::serialize(e.object) + ";";
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(decoder_handles_every_split_point) {
  const std::string text = event("ADDED", pod("a", "1")) + bookmark("5") +
                           event("MODIFIED", pod("a", "6")) + gone_event() +
                           event("DELETED", pod("a", "7"));
  std::vector<RawWatchEvent> whole;
  WatchEventDecoder d0;
  BOOST_TEST_REQUIRE(d0.feed(text, whole).has_value());
  BOOST_TEST_REQUIRE(whole.size() == 5u);
  BOOST_TEST((whole[1].type == RawWatchEventType::bookmark));
  BOOST_TEST((whole[3].type == RawWatchEventType::error));
  BOOST_TEST(whole[3].object.at("code").as_int64() == 410);
  BOOST_TEST(d0.idle());
  const std::string expected = describe(whole);

  // Split the stream in two at every byte (inside keys, strings, multi-byte UTF-8, between events).
  for (std::size_t i = 0; i <= text.size(); ++i) {
    WatchEventDecoder d;
    std::vector<RawWatchEvent> out;
    BOOST_TEST_REQUIRE(d.feed(std::string_view(text).substr(0, i), out).has_value());
    BOOST_TEST_REQUIRE(d.feed(std::string_view(text).substr(i), out).has_value());
    BOOST_TEST_REQUIRE(describe(out) == expected, "split at " << i);
  }
  // And one byte at a time.
  WatchEventDecoder d;
  std::vector<RawWatchEvent> out;
  for (char c : text)
    BOOST_TEST_REQUIRE(d.feed(std::string_view(&c, 1), out).has_value());
  BOOST_TEST(describe(out) == expected);
}

BOOST_AUTO_TEST_CASE(decoder_without_newlines_and_with_garbage) {
  WatchEventDecoder d;
  std::vector<RawWatchEvent> out;
  std::string two =
      R"({"type":"ADDED","object":{"metadata":{"name":"a"}}}{"type":"ADDED","object":{"metadata":{"name":"b"}}})";
  BOOST_TEST_REQUIRE(d.feed(two, out).has_value());
  BOOST_TEST(out.size() == 2u);
  BOOST_TEST(d.feed("\r\n  \n", out).has_value());
  BOOST_TEST(d.idle());
  BOOST_TEST(d.feed(R"({"type":"ADD)", out).has_value());
  BOOST_TEST(!d.idle());

  WatchEventDecoder bad;
  BOOST_TEST(!bad.feed("{\"type\":]", out).has_value());
  WatchEventDecoder unknown;
  BOOST_TEST(!unknown.feed(R"({"type":"WHAT","object":{}})", out).has_value());
  WatchEventDecoder no_object;
  BOOST_TEST(!no_object.feed(R"({"type":"ADDED"})", out).has_value());
}

namespace {

asio::awaitable<bool> start_chunked(Stream& s) {
  http::response<http::empty_body> res{http::status::ok, 11};
  res.set(http::field::content_type, "application/json");
  res.chunked(true);
  http::response_serializer<http::empty_body> sr{res};
  auto [ec, n] = co_await http::async_write_header(s, sr, nothrow);
  co_return !ec;
}
asio::awaitable<void> chunk(Stream& s, std::string data) {
  co_await asio::async_write(s, http::make_chunk(asio::buffer(data)), nothrow);
}
asio::awaitable<void> last_chunk(Stream& s) {
  co_await asio::async_write(s, http::make_chunk_last(), nothrow);
}
asio::awaitable<void> hold(Stream&) {
  asio::steady_timer t(co_await asio::this_coro::executor, 60s);
  co_await t.async_wait(nothrow);
}
std::string list_body(const std::string& rv, const std::string& cont,
                      const std::vector<std::string>& names) {
  std::string items;
  for (const auto& n : names)
    items += (items.empty() ? "" : ",") + pod(n, "1");
  return R"({"kind":"PodList","metadata":{"resourceVersion":")" + rv + R"(","continue":")" + cont +
         R"("},"items":[)" + items + "]}";
}

// The scripted API server of the watch tests; see the comments per step.
struct ScriptedApi {
  int lists = 0;
  int watches = 0;
  std::vector<std::string> watch_rvs;

  asio::awaitable<bool> handle(Request& r, Stream& s) {
    std::string t(r.target());
    if (t.find("watch=1") == std::string::npos) {
      std::string body;
      if (t.find("continue=x") != std::string::npos) {
        body = list_body("100", "", {"b"});
      } else {
        ++lists;
        if (lists == 1)
          body = list_body("99", "x", {"a"});  // paged: page 1 of 2
        else if (lists == 2)
          body = list_body("200", "", {"a", "b", "c"});
        else
          body = list_body("300", "", {"b", "c"});
      }
      co_return co_await respond(s, 200, std::move(body));
    }
    BOOST_TEST(t.find("allowWatchBookmarks=true") != std::string::npos);
    auto p = t.find("resourceVersion=");
    watch_rvs.push_back(t.substr(p + 16, t.find('&', p) - p - 16));
    ++watches;
    if (watches == 4) {
      // HTTP 410: the resume point was compacted.
      std::string gone = status_body(410, "Expired");
      co_return co_await respond(s, 410, std::move(gone));
    }
    if (!co_await start_chunked(s))
      co_return false;
    if (watches == 1) {
      std::string added = event("ADDED", pod("c", "101"));
      std::string mark = bookmark("105");
      std::string c1 = added.substr(0, 17);  // a chunk boundary inside the event
      std::string c2 = added.substr(17) + mark.substr(0, 5);
      std::string c3 = mark.substr(5);
      co_await chunk(s, c1);
      co_await chunk(s, c2);
      co_await chunk(s, c3);
      co_return false;  // dropped without the last chunk
    }
    if (watches == 2) {
      std::string data = event("MODIFIED", pod("c", "106")) + gone_event();
      co_await chunk(s, data);
      co_await hold(s);
      co_return false;
    }
    if (watches == 3) {
      std::string data = event("DELETED", pod("a", "201"));
      co_await chunk(s, data);
      co_await last_chunk(s);  // the server's timeoutSeconds ended the stream cleanly
      co_return true;
    }
    co_await hold(s);
    co_return false;
  }
};

struct Fixture {
  asio::io_context ioc;
  net::CertificateAuthority ca;
  TlsTestServer server{ioc, ca.issue_server("localhost", {"localhost"}, {"127.0.0.1"})};
  ScriptedApi api;
  std::unique_ptr<Client> client;
  WatchOptions options;

  Fixture() {
    if (std::getenv("CNIMIG_TEST_DEBUG"))
      spdlog::set_level(spdlog::level::debug);
    server.start([this](Request& r, Stream& s) { return api.handle(r, s); });
    ClientConfig c;
    c.server = server.url();
    c.ca_pem = ca.ca_pem();
    c.token = "t";
    client = std::move(Client::create(ioc.get_executor(), c).value());
    options.page_size = 1;
    options.reconnect.base = 5ms;
    options.reconnect.cap = 20ms;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(list_watch_bookmarks_410_relist_and_resume_without_gaps, Fixture) {
  std::vector<std::string> seen;
  WatchStream stream(*client, ResourcePath::core("pods"), options);
  run(ioc, [&]() -> asio::awaitable<void> {
    int synced = 0;
    while (synced < 3) {
      auto ev = co_await stream.next();
      BOOST_TEST_REQUIRE(ev.has_value());
      std::string name = ev->object.empty() ? "" : cnimig::wire::object_key(ev->object);
      seen.push_back(std::string(to_string(ev->type)) + " " + name + " " + ev->resource_version);
      if (ev->type == WatchEventType::synced)
        ++synced;
    }
    stream.close();
  });
  std::vector<std::string> expected{"RELISTING  ",       "LISTED ns/a 99",  "LISTED ns/b 100",
                                    "SYNCED  100",       "ADDED ns/c 101",  "BOOKMARK  105",
                                    "MODIFIED ns/c 106", "RELISTING  106",  "LISTED ns/a 200",
                                    "LISTED ns/b 200",   "LISTED ns/c 200", "SYNCED  200",
                                    "DELETED ns/a 201",  "RELISTING  201",  "LISTED ns/b 300",
                                    "LISTED ns/c 300",   "SYNCED  300"};
  BOOST_TEST(seen == expected, boost::test_tools::per_element());
  // Resumed from the list, then from the bookmark, the fresh list and the last event (then 410).
  BOOST_TEST(api.watch_rvs == (std::vector<std::string>{"100", "105", "200", "201"}),
             boost::test_tools::per_element());
  BOOST_TEST(stream.stats().lists == 3u);
}

namespace {
struct PodInfo {
  std::string name;
  std::string resource_version;
};
PodInfo project(const json::object& o) {
  const auto& m = o.at("metadata").as_object();
  return {std::string(m.at("name").as_string()), std::string(m.at("resourceVersion").as_string())};
}
}  // namespace

BOOST_FIXTURE_TEST_CASE(informer_reconciles_relists_and_wakes_waiters, Fixture) {
  Informer<PodInfo> pods(*client, ResourcePath::core("pods"), project, options);
  std::vector<std::string> deleted;
  pods.on_change([&](const std::string& key, const PodInfo*, const PodInfo* now) {
    if (!now)
      deleted.push_back(key);
  });
  bool run_ended = false;
  asio::co_spawn(ioc, pods.run(), [&](std::exception_ptr, Result<void> r) {
    run_ended = true;
    BOOST_TEST(r.error().code == Errc::cancelled);
  });
  run(ioc, [&]() -> asio::awaitable<void> {
    bool first =
        co_await pods.wait_until([](const Informer<PodInfo>& c) { return c.synced(); }, 10s);
    BOOST_TEST(first);
    bool done = co_await pods.wait_until(
        [](const Informer<PodInfo>& c) {
          return c.stream().resource_version() == "300" && c.size() == 2;
        },
        10s);
    BOOST_TEST(done);
    BOOST_TEST(pods.find("ns/a") == nullptr);
    BOOST_TEST_REQUIRE(pods.find("ns/c") != nullptr);
    BOOST_TEST(pods.find("ns/c")->resource_version == "1");  // from the last list
    auto started = std::chrono::steady_clock::now();
    bool never =
        co_await pods.wait_until([](const Informer<PodInfo>& c) { return c.size() == 7; }, 100ms);
    BOOST_TEST(!never);
    BOOST_TEST((std::chrono::steady_clock::now() - started) >= 100ms);
    pods.stop();
    asio::steady_timer t(co_await asio::this_coro::executor, 1ms);
    co_await t.async_wait(nothrow);
  });
  BOOST_TEST(deleted == (std::vector<std::string>{"ns/a"}), boost::test_tools::per_element());
  BOOST_TEST(run_ended);
}
