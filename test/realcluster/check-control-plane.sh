#!/usr/bin/env bash
# The realcluster smoke test: launches the control plane and checks, with
# kubectl, that each component does its part and that the agent's shipped
# RBAC is in force.
#
#   check-control-plane.sh BIN_DIR WORK_DIR
#
# WORK_DIR/cluster holds the launcher's state (its logs stay there after a
# failure). Prints "N passed, M failed".
set -uo pipefail

src_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ $# -ne 2 ]]; then
  echo "usage: $0 BIN_DIR WORK_DIR" >&2
  exit 2
fi
if [[ -z ${REALCLUSTER_DIR:-} ]]; then
  # Relaunch this script as the launcher's command.
  rm -rf "$2/cluster"
  mkdir -p "$2"
  exec bash "$src_dir/launch-control-plane.sh" --bin "$1" --dir "$2/cluster" -- bash "$src_dir/check-control-plane.sh" "$@"
fi

bin_dir=$1
admin=(kubectl --kubeconfig "$REALCLUSTER_DIR/admin.kubeconfig")
agent=(kubectl --kubeconfig "$REALCLUSTER_DIR/agent.kubeconfig")
passed=0 failed=0
pass() {
  echo "ok: $1"
  passed=$((passed + 1))
}
fail() {
  echo "FAILED: $1" >&2
  failed=$((failed + 1))
}
# expect DESCRIPTION EXPECTED COMMAND...: COMMAND's stdout equals EXPECTED.
expect() {
  local what=$1 expected=$2 got
  shift 2
  got=$("$@" 2> /dev/null)
  if [[ $got == "$expected" ]]; then pass "$what"; else fail "$what: expected '$expected', got '$got'"; fi
}

# The apiserver serves the pinned release and the admin sees the namespaces.
pinned=$(awk '$1 == "k8s.io/kubernetes" { print $2 }' "$src_dir/go.mod")
if "${admin[@]}" get --raw /version | grep -q "\"gitVersion\": \"$pinned\""; then
  pass "GET /version names $pinned"
else
  fail "GET /version does not name $pinned: $("${admin[@]}" get --raw /version)"
fi
expect "admin lists the system namespaces" "cnimig-system default kube-node-lease kube-public kube-system" \
  "${admin[@]}" get ns -o 'jsonpath={.items[*].metadata.name}'

# A node as a kubelet registers it (the shape a fake kubelet uses), its
# kubelet at a random loopback address that kubelet.crt covers.
node_ip=127.0.1.$((RANDOM % 254 + 1))
kubelet_port=$((20000 + RANDOM % 12000))
"${admin[@]}" apply -f - > /dev/null << 'EOF'
apiVersion: v1
kind: Node
metadata:
  name: realcluster-node-1
  labels: {kubernetes.io/hostname: realcluster-node-1, kubernetes.io/os: linux}
EOF
expect "admin creates a node" "realcluster-node-1" \
  "${admin[@]}" get node realcluster-node-1 -o 'jsonpath={.metadata.name}'
# Its status as a kubelet posts it: the scheduler fits pods only into
# allocatable resources, the apiserver reaches the kubelet at this address.
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
"${admin[@]}" patch node realcluster-node-1 --subresource=status --type=merge -p "$(
  cat << EOF
{"status": {
  "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
  "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
  "addresses": [{"type": "InternalIP", "address": "$node_ip"}, {"type": "Hostname", "address": "realcluster-node-1"}],
  "daemonEndpoints": {"kubeletEndpoint": {"Port": $kubelet_port}},
  "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "fake",
                  "lastHeartbeatTime": "$now", "lastTransitionTime": "$now"}]}}
EOF
)" > /dev/null
expect "the node's status is patched" "$node_ip True" \
  "${admin[@]}" get node realcluster-node-1 -o 'jsonpath={.status.addresses[0].address} {.status.conditions[?(@.type=="Ready")].status}'

# The controller manager runs: it allocates the node's pod CIDR and publishes
# the root CA into every namespace.
if "${admin[@]}" wait --for=jsonpath='{.spec.podCIDR}' node/realcluster-node-1 --timeout=60s > /dev/null 2>&1; then
  pass "node IPAM gave the node a podCIDR ($("${admin[@]}" get node realcluster-node-1 -o 'jsonpath={.spec.podCIDR}'))"
else
  fail "node IPAM gave the node no podCIDR within 60s"
fi
if "${admin[@]}" -n default wait --for=create configmap/kube-root-ca.crt --timeout=60s > /dev/null 2>&1; then
  pass "root CA published into default"
else
  fail "no kube-root-ca.crt in default within 60s"
fi

# The least-privilege identity: exactly the shipped ClusterRole.
expect "agent is the shipped ServiceAccount" "system:serviceaccount:cnimig-system:cnimig-agent" \
  "${agent[@]}" auth whoami -o 'jsonpath={.status.userInfo.username}'
expect "agent can list nodes" yes "${agent[@]}" auth can-i list nodes
expect "agent can patch nodes" yes "${agent[@]}" auth can-i patch nodes
expect "agent can create pods/exec" yes "${agent[@]}" auth can-i create pods --subresource=exec
expect "agent can create pods/eviction" yes "${agent[@]}" auth can-i create pods --subresource=eviction
expect "agent cannot delete namespaces" no "${agent[@]}" auth can-i delete namespaces
expect "agent cannot delete nodes" no "${agent[@]}" auth can-i delete nodes
expect "agent cannot read secrets" no "${agent[@]}" auth can-i get secrets -n kube-system
expect "agent lists the node" "realcluster-node-1" \
  "${agent[@]}" get nodes -o 'jsonpath={.items[*].metadata.name}'
if out=$("${agent[@]}" delete namespace default --dry-run=server 2>&1); then
  fail "agent deleted a namespace (dry run): $out"
elif [[ $out == *Forbidden* || $out == *forbidden* ]]; then
  pass "agent's namespace delete is Forbidden"
else
  fail "agent's namespace delete failed, but not as Forbidden: $out"
fi

# The scheduler runs: a pod that tolerates the new node's taints is bound to
# it (nothing runs it: there is no kubelet).
"${admin[@]}" -n default wait --for=create serviceaccount/default --timeout=60s > /dev/null 2>&1
"${admin[@]}" -n default apply -f - > /dev/null << 'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: realcluster-probe
spec:
  tolerations: [{operator: Exists}]
  containers: [{name: c, image: none.invalid/pause:0}]
EOF
if "${admin[@]}" -n default wait --for=jsonpath='{.spec.nodeName}'=realcluster-node-1 pod/realcluster-probe --timeout=60s > /dev/null 2>&1; then
  pass "scheduler bound the pod to realcluster-node-1"
else
  fail "scheduler did not bind the pod within 60s: $("${admin[@]}" -n default get pod realcluster-probe -o 'jsonpath={.status.conditions}')"
fi

# What the apiserver sends to a node's kubelet, which a fake kubelet must
# speak: kubelet-probe listens at the node's address and records requests.
probe_log=$REALCLUSTER_DIR/kubelet-probe.jsonl
: > "$probe_log"
REALCLUSTER_PARENT_PID=$$ "$bin_dir/kubelet-probe" --listen "$node_ip:$kubelet_port" \
  --cert "$REALCLUSTER_DIR/kubelet.crt" --key "$REALCLUSTER_DIR/kubelet.key" --ca "$REALCLUSTER_DIR/ca.crt" \
  --out "$probe_log" 2> "$REALCLUSTER_DIR/logs/kubelet-probe.log" &
probe_pid=$!
trap 'kill "$probe_pid" 2> /dev/null' EXIT
for _ in $(seq 100); do
  curl -s --cacert "$REALCLUSTER_DIR/ca.crt" "https://$node_ip:$kubelet_port/" > /dev/null 2>&1 && break
  sleep 0.1
done
# first_request PATH-PREFIX: the first recorded request under that path.
first_request() { grep -m1 -F "\"path\":\"$1" "$probe_log"; }
# expect_request WHAT PATH-PREFIX FRAGMENT...: that request has every fragment.
expect_request() {
  local what=$1 path=$2 request fragment
  shift 2
  request=$(first_request "$path")
  for fragment in "$@"; do
    if [[ $request != *"$fragment"* ]]; then
      fail "$what: no $fragment in '${request:-no request}'"
      return
    fi
  done
  pass "$what"
}
exec_path=/exec/default/realcluster-probe/c
client='"clientCN":"kube-apiserver-kubelet-client"'
# kubectl v1.30+ asks for WebSocket v5.channel.k8s.io: the apiserver
# translates it to SPDY/3.1 for a node that declares no WebSocket support.
"${admin[@]}" -n default exec realcluster-probe -c c -- echo hi > /dev/null 2>&1
expect_request "a WebSocket exec reaches the kubelet as SPDY/3.1" "$exec_path" \
  '"method":"POST"' '"upgrade":"SPDY/3.1"' '"streamProtocols":["v5.channel.k8s.io"' "$client"
"${admin[@]}" -n default logs realcluster-probe -c c > /dev/null 2>&1
expect_request "logs reach the kubelet as GET /containerLogs" /containerLogs/default/realcluster-probe/c \
  '"method":"GET"' "$client"
# A node that declares ExtendWebSocketsToKubelet gets the WebSocket as is.
: > "$probe_log"
"${admin[@]}" patch node realcluster-node-1 --subresource=status --type=merge \
  -p '{"status": {"declaredFeatures": ["ExtendWebSocketsToKubelet"]}}' > /dev/null
"${admin[@]}" -n default exec realcluster-probe -c c -- echo hi > /dev/null 2>&1
expect_request "with declaredFeatures [ExtendWebSocketsToKubelet] the kubelet gets the WebSocket" "$exec_path" \
  '"method":"GET"' '"upgrade":"websocket"' '"webSocketProtocol":"v5.channel.k8s.io"' "$client"

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
