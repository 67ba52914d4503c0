#!/usr/bin/env bash
# Installs everything cnimig-agent needs to build and test on Debian 12.
# Idempotent; run as root (or with sudo available).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  g++ cmake ninja-build pkg-config ca-certificates \
  libboost1.81-dev libboost-json1.81-dev libboost-test1.81-dev \
  libyaml-cpp-dev libspdlog-dev libssl-dev \
  openssl curl iproute2
# openssl, curl and ss (iproute2): the realcluster launcher's certificates,
# health checks and free ports. Go (the realcluster control plane's build)
# comes with the machine image; without it those tests are not registered.
# kubectl is the simulator's outside referee; Debian ships it as kubernetes-client.
if ! command -v kubectl >/dev/null 2>&1; then
  $SUDO apt-get install -y -qq --no-install-recommends kubernetes-client || \
    echo "install-deps: kubectl not available; the kubectl suites will be skipped" >&2
fi
