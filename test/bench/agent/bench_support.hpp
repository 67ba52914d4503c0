#pragma once
// Shared by the in-process agent benchmarks: an in-process cnimig-sim (its
// own thread, real HTTPS on loopback), its report read on the simulator's
// thread, the default config and an EventSink that keeps events. The figure
// format is bench_figures.hpp's.

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "cnimig/config/config_loader.hpp"
#include "cnimig/events/event_sink.hpp"
#include "cnimig/sim/cluster_model_factory.hpp"
#include "cnimig/sim/simulator.hpp"

#include "bench_figures.hpp"

namespace cnimig::bench {

namespace fs = std::filesystem;

// Keeps every event the agent emits, as the JSON lines it would print.
struct CaptureSink final : events::EventSink {
  std::vector<boost::json::object> events;
  void emit(const events::Event& e) override {
    boost::json::object o = e.fields();
    o["event"] = e.name();
    events.push_back(std::move(o));
  }
  const boost::json::object* find(std::string_view name) const {
    for (const auto& e : events)
      if (e.at("event").as_string() == name)
        return &e;
    return nullptr;
  }
};

// A cnimig-sim in this process, with its kubeconfig in a scratch directory.
struct InProcessSim {
  fs::path dir =
      fs::temp_directory_path() / ("cnimig-bench-" + std::to_string(std::random_device{}()));
  fs::path kubeconfig = dir / "kubeconfig";
  sim::Simulator sim;

  static sim::SimulatorOptions options(std::size_t nodes, std::size_t pods_per_node,
                                       double time_scale, const std::string& faults) {
    sim::SimulatorOptions o;
    o.nodes = nodes;
    o.pods_per_node = pods_per_node;
    o.time_scale = time_scale;
    // CNIMIG_BENCH_SERVER_VERSION=1.35: the Kubernetes version the simulator
    // reports (from 1.35 the agent places cut-offs in the pods' order).
    if (const char* v = std::getenv("CNIMIG_BENCH_SERVER_VERSION"))
      BOOST_TEST_REQUIRE(sim::parse_version(v, o.server_major, o.server_minor), v);
    if (!faults.empty()) {
      auto f = sim::FaultSpec::parse(faults);
      BOOST_TEST_REQUIRE(f.has_value());
      o.faults = *f;
    }
    return o;
  }
  InProcessSim(std::size_t nodes, std::size_t pods_per_node, double time_scale,
               const std::string& faults = "")
      : sim(options(nodes, pods_per_node, time_scale, faults), sim::cluster_model_factory()) {
    fs::create_directories(dir);
    BOOST_TEST_REQUIRE(sim.start().has_value());
    BOOST_TEST_REQUIRE(sim.write_kubeconfig(kubeconfig.string()).has_value());
  }
  ~InProcessSim() {
    sim.stop();
    fs::remove_all(dir);
  }

  // /sim/v1/report, computed on the simulator's thread.
  boost::json::object report() {
    std::promise<boost::json::object> p;
    auto f = p.get_future();
    boost::asio::post(sim.io(), [&] { p.set_value(sim.report()); });
    return f.get();
  }

  // Until every pod is Ready (the cluster an operator would start from). A
  // condition checked with a deadline, not a fixed sleep.
  void wait_settled(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      const auto r = report();
      const auto& pods = r.at("pods").as_object();
      if (number(pods.at("total")) > 0 && number(pods.at("ready")) == number(pods.at("total")))
        return;
      const bool in_time = std::chrono::steady_clock::now() < deadline;
      BOOST_TEST_REQUIRE(in_time, "cluster did not settle: " << boost::json::serialize(pods));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
};

// API requests in a report: reads (get, list, watch) and writes (the rest),
// leaving out the benchmark's own report reads.
struct RequestCounts {
  std::int64_t reads = 0;
  std::int64_t writes = 0;
  std::int64_t total() const { return reads + writes; }

  static RequestCounts of(const boost::json::object& report) {
    RequestCounts c;
    for (const auto& [key, value] : report.at("requests").as_object()) {
      const std::string_view k(key);
      if (k.ends_with(" sim/report"))
        continue;
      const auto verb = k.substr(0, k.find(' '));
      if (verb == "get" || verb == "list" || verb == "watch")
        c.reads += number(value);
      else
        c.writes += number(value);
    }
    return c;
  }
  RequestCounts operator-(const RequestCounts& o) const {
    return {reads - o.reads, writes - o.writes};
  }
};

inline config::Config default_config() {
  auto c = config::load_config(CNIMIG_SOURCE_DIR "/config/config.yaml");
  BOOST_TEST_REQUIRE(c.has_value());
  return *c;
}

}  // namespace cnimig::bench
