#!/usr/bin/env bash
# Builds the real control plane the `realcluster` tests run against:
# kube-apiserver, kube-controller-manager and kube-scheduler of the Kubernetes
# release pinned in go.mod (consumed as a library from the Go module proxy),
# and etcd at the version that release requires.
#
#   test/realcluster/build-control-plane.sh BIN_DIR
#
# BIN_DIR (e.g. build/realcluster/bin) receives the four binaries and a stamp
# of the pinned inputs; a later run with the same inputs does nothing, so
# .ci/run and the CTest test can call it every time.
#
# Go caches: the caller's GOMODCACHE and GOCACHE, so by default `go env`'s
# (~/go/pkg/mod, ~/.cache/go-build). -trimpath keys the compile cache on
# content, not on the checkout's path, so a fresh clone elsewhere reuses it.
# The go.mod names Go 1.26.0: the machine's go1.26.x builds it with
# GOTOOLCHAIN=local, and -mod=readonly keeps go.mod/go.sum as committed.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 BIN_DIR" >&2
  exit 2
fi
src_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$1"
bin_dir=$(cd "$1" && pwd)
binaries=(etcd kube-apiserver kube-controller-manager kube-scheduler kubelet-probe)

command -v go > /dev/null || {
  echo "build-control-plane: no go on PATH" >&2
  exit 1
}

kube_version=$(awk '$1 == "k8s.io/kubernetes" { print $2; exit }' "$src_dir/go.mod")
[[ $kube_version =~ ^v([0-9]+)\.([0-9]+)\.[0-9]+$ ]] || {
  echo "build-control-plane: no k8s.io/kubernetes vX.Y.Z in $src_dir/go.mod" >&2
  exit 1
}
kube_major=${BASH_REMATCH[1]}
kube_minor=${BASH_REMATCH[2]}

# Everything that decides the binaries' content.
stamp=$(
  {
    go version
    cat "$src_dir/go.mod" "$src_dir/go.sum" "${BASH_SOURCE[0]}"
    find "$src_dir" -name '*.go' -print0 | sort -z | xargs -0 cat
  } | sha256sum | cut -d' ' -f1
)
up_to_date=1
for b in "${binaries[@]}"; do
  [[ -x $bin_dir/$b ]] || up_to_date=0
done
if [[ $up_to_date == 1 && -f $bin_dir/.stamp && $(< "$bin_dir/.stamp") == "$stamp" ]]; then
  echo "build-control-plane: $bin_dir is up to date (Kubernetes $kube_version)"
  exit 0
fi

# The binaries report the release they were built from (GET /version): the
# agent reads it to pick the exec verb, and kubectl prints it. These are the
# variables Kubernetes' own build sets (hack/lib/version.sh).
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=$kube_major"
  ldflags+=" -X $pkg.gitMinor=$kube_minor -X $pkg.gitTreeState=clean"
done

export GOTOOLCHAIN=${GOTOOLCHAIN:-local}
export GOFLAGS="-trimpath -buildvcs=false -mod=readonly"
# Pure Go, as Kubernetes ships its control plane: no C toolchain needed.
export CGO_ENABLED=0

staging=$(mktemp -d "$bin_dir/.build.XXXXXX")
trap 'rm -rf "$staging"' EXIT
echo "build-control-plane: building Kubernetes $kube_version into $bin_dir ($(go version))"
start=$SECONDS
(cd "$src_dir" && nice -n 10 go build -ldflags "$ldflags" -o "$staging/" ./cmd/...)
for b in "${binaries[@]}"; do
  mv -f "$staging/$b" "$bin_dir/$b"
done
echo "$stamp" > "$bin_dir/.stamp"
echo "build-control-plane: built in $((SECONDS - start)) s"
