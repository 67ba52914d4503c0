#pragma once
// For tests that drive agent code against an in-process cnimig-sim: start it,
// write its kubeconfig to a scratch file, and connect a kube::Client to it.
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include "cnimig/kube/client.hpp"
#include "cnimig/kube/client_config.hpp"
#include "cnimig/sim/simulator.hpp"

namespace cnimig::test {

struct SimulatorClient {
  std::filesystem::path kubeconfig;  // removed by the destructor
  std::unique_ptr<kube::Client> client;

  SimulatorClient(sim::Simulator& simulator, boost::asio::io_context& io)
      : kubeconfig(std::filesystem::temp_directory_path() /
                   ("cnimig-agent-test-" + std::to_string(std::random_device{}()))) {
    BOOST_TEST_REQUIRE(simulator.start().has_value());
    BOOST_TEST_REQUIRE(simulator.write_kubeconfig(kubeconfig.string()).has_value());
    kube::LoadOptions load;
    load.kubeconfig = kubeconfig;
    auto config = kube::load_client_config(load);
    BOOST_TEST_REQUIRE(config.has_value());
    auto created = kube::Client::create(io.get_executor(), std::move(*config));
    BOOST_TEST_REQUIRE(created.has_value());
    client = std::move(*created);
  }
  ~SimulatorClient() {
    std::error_code ignored;
    std::filesystem::remove(kubeconfig, ignored);
  }
  SimulatorClient(const SimulatorClient&) = delete;
  SimulatorClient& operator=(const SimulatorClient&) = delete;
};

}  // namespace cnimig::test
