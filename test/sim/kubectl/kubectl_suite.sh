#!/usr/bin/env bash
# kubectl v1.32 against cnimig-sim: each check asserts on exit code and output.
# Usage: kubectl_suite.sh PATH/TO/cnimig-sim
set -u
SIM=${1:?usage: kubectl_suite.sh PATH/TO/cnimig-sim}
KUBECTL=${KUBECTL:-$(command -v kubectl || true)}
if [[ -z "$KUBECTL" ]]; then
  echo "SKIP: kubectl not found on PATH (install kubectl v1.32 to run this suite)"
  exit 77
fi
WORK=$(mktemp -d)
export KUBECONFIG=$WORK/kubeconfig
export HOME=$WORK  # kubectl's discovery cache stays inside the test
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
SIM_PID=""
MODEL_PID=""
cleanup() {
  [[ -n "$SIM_PID" ]] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
  [[ -n "$MODEL_PID" ]] && kill "$MODEL_PID" 2>/dev/null && wait "$MODEL_PID" 2>/dev/null
  jobs -p | xargs -r kill 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# Polls (bounded) until a command succeeds.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    ((SECONDS >= deadline)) && return 1
    sleep 0.1
  done
}

"$SIM" --cluster static --nodes 3 --pods-per-node 2 --time-scale 0.1 --kubeconfig-out "$KUBECONFIG" \
  >"$WORK/sim.out" 2>"$WORK/sim.err" &
SIM_PID=$!
if ! wait_for 20 grep -q '"event":"sim.ready"' "$WORK/sim.out"; then
  echo "FAIL: cnimig-sim did not print sim.ready"; cat "$WORK/sim.err"; exit 1
fi
[[ -s "$KUBECONFIG" ]] || { echo "FAIL: no kubeconfig written before sim.ready"; exit 1; }

FAILED=0
PASSED=0
# check NAME EXPECTED_RC GREP_PATTERN -- COMMAND...
check() {
  local name=$1 want_rc=$2 pattern=$3; shift 4
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [[ $rc -ne $want_rc ]] || ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL: $name (rc=$rc, want $want_rc, pattern '$pattern')"; echo "$out" | head -20
    FAILED=$((FAILED + 1))
  else
    echo "ok: $name"; PASSED=$((PASSED + 1))
  fi
}

K() { "$KUBECTL" --request-timeout=20s "$@"; }

check "version" 0 'Server Version: v1\.32' -- K version
check "get nodes -o json" 0 '"name": "node-2"' -- K get nodes -o json
check "get pods -A" 0 'knet-stress-node-0' -- K get pods -A
check "unauthenticated is 401" 1 'Unauthorized|provide credentials' -- \
  "$KUBECTL" --token=wrong get nodes
check "label node" 0 'node/node-0 labeled' -- K label node node-0 cnimig.io/state=pending
check "label selector" 0 '^node/node-0$' -- K get nodes -l 'cnimig.io/state in (pending)' -o name --no-headers
check "field selector spec.nodeName" 0 'app-node-1-0' -- K get pods --field-selector spec.nodeName=node-1 -o name
check "taint node" 0 'node/node-1 tainted' -- K taint node node-1 cnimig.io/migrating=true:NoSchedule
check "taint stored" 0 'cnimig.io/migrating' -- K get node node-1 -o jsonpath='{.spec.taints[*].key}'
check "untaint node" 0 'untainted' -- K taint node node-1 cnimig.io/migrating-
check "cordon" 0 'cordoned' -- K cordon node-2
check "cordon stored" 0 '^true$' -- K get node node-2 -o jsonpath='{.spec.unschedulable}'
check "get nodes table shows cordon" 0 'node-2 +Ready,SchedulingDisabled' -- K get nodes
check "get pods table" 0 'knet-stress-node-0 +1/1 +Running' -- K get pods
check "uncordon" 0 'uncordoned' -- K uncordon node-2
check "auth can-i" 0 '^yes' -- K auth can-i patch nodes
check "exec knet-stress status" 0 '' -- K exec knet-stress-node-0 -- /knet-stress status
check "exec unknown command exits 127" 127 'exit code 127' -- K exec knet-stress-node-0 -- /bin/nope
check "wait pods Ready" 0 'condition met' -- K wait --for=condition=Ready pod -l app=knet-stress --timeout=10s
check "wait node Ready" 0 'condition met' -- K wait --for=condition=Ready node/node-0 --timeout=10s

cat >"$WORK/manifest.yaml" <<'YAML'
apiVersion: v1
kind: Namespace
metadata:
  name: demo
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: demo
data:
  a: "1"
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: demo
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
      - name: agent
        image: agent:1
        env:
        - {name: A, value: "1"}
YAML
check "apply (client-side) creates" 0 'daemonset.apps/agent created' -- K apply -f "$WORK/manifest.yaml"
sed -i 's/image: agent:1/image: agent:2/' "$WORK/manifest.yaml"
check "apply (client-side) configures" 0 'daemonset.apps/agent configured' -- K apply -f "$WORK/manifest.yaml"
check "apply bumped generation" 0 '^agent:2 2$' -- \
  K get ds agent -n demo -o jsonpath='{.spec.template.spec.containers[0].image} {.metadata.generation}'
sed -i 's/image: agent:2/image: agent:3/' "$WORK/manifest.yaml"
check "apply --server-side" 0 'daemonset.apps/agent serverside-applied' -- \
  K apply --server-side -f "$WORK/manifest.yaml"
check "server-side apply stored" 0 '^agent:3$' -- \
  K get ds agent -n demo -o jsonpath='{.spec.template.spec.containers[0].image}'
check "patch ds --type=merge" 0 'patched' -- \
  K patch ds agent -n demo --type=merge -p '{"spec":{"template":{"spec":{"nodeSelector":{"cnimig.io/cni":"cilium"}}}}}'
check "merge patch stored" 0 'cilium' -- K get ds agent -n demo -o jsonpath='{.spec.template.spec.nodeSelector}'
check "patch --type=json" 0 'patched' -- \
  K patch cm cfg -n demo --type=json -p '[{"op":"add","path":"/data/b","value":"2"}]'
check "stale resourceVersion is 409" 1 'Conflict|modified' -- \
  K patch cm cfg -n demo --type=merge -p '{"metadata":{"resourceVersion":"1"},"data":{"c":"3"}}'

# As kube-apiserver: defaults filled in, writes into a missing namespace 404
# (NamespaceLifecycle), a stale resourceVersion 409 on every kind of write.
check "defaulted updateStrategy" 0 '^RollingUpdate 1 0 10$' -- K get ds agent -n demo -o \
  jsonpath='{.spec.updateStrategy.type} {.spec.updateStrategy.rollingUpdate.maxUnavailable} {.spec.updateStrategy.rollingUpdate.maxSurge} {.spec.revisionHistoryLimit}'
check "defaulted pod template" 0 '^Always ClusterFirst 30 default-scheduler IfNotPresent$' -- \
  K get ds agent -n demo -o jsonpath='{.spec.template.spec.restartPolicy} {.spec.template.spec.dnsPolicy} {.spec.template.spec.terminationGracePeriodSeconds} {.spec.template.spec.schedulerName} {.spec.template.spec.containers[0].imagePullPolicy}'
cat >"$WORK/nope.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: nope
data:
  a: "1"
YAML
check "apply into a missing namespace is 404" 1 'namespaces "nope" not found' -- K apply -f "$WORK/nope.yaml"
check "server-side apply into a missing namespace is 404" 1 'namespaces "nope" not found' -- \
  K apply --server-side -f "$WORK/nope.yaml"
check "server dry run into a missing namespace is 404" 1 'namespaces "nope" not found' -- \
  K apply --server-side --dry-run=server -f "$WORK/nope.yaml"
check "nothing created in the missing namespace" 1 'NotFound|not found' -- K get cm cfg -n nope
check "stale resourceVersion on a strategic patch is 409" 1 'Conflict|modified' -- \
  K patch cm cfg -n demo -p '{"metadata":{"resourceVersion":"1"},"data":{"c":"3"}}'
K get cm cfg -n demo -o json | sed 's/"resourceVersion": "[0-9]*"/"resourceVersion": "1"/' >"$WORK/stale.json"
check "stale resourceVersion on replace is 409" 1 'Conflict|modified' -- K replace -f "$WORK/stale.json"
check "stale resourceVersion in a server dry run is 409" 1 'Conflict|modified' -- \
  K replace --dry-run=server -f "$WORK/stale.json"

# get -w sees the MODIFIED event a label change causes.
"$KUBECTL" get pods -A -w --output-watch-events >"$WORK/watch.out" 2>&1 &
WATCH_PID=$!
if wait_for 10 grep -q 'knet-stress-node-2' "$WORK/watch.out"; then
  K label pod app-node-0-0 watched=yes >/dev/null
  if wait_for 10 grep -qE 'MODIFIED +default +app-node-0-0' "$WORK/watch.out"; then
    echo "ok: get pods -A -w sees the label change"; PASSED=$((PASSED + 1))
  else
    echo "FAIL: get -w did not show MODIFIED"; cat "$WORK/watch.out"; FAILED=$((FAILED + 1))
  fi
else
  echo "FAIL: get -w listed nothing"; cat "$WORK/watch.out"; FAILED=$((FAILED + 1))
fi
kill "$WATCH_PID" 2>/dev/null

# drain: blocked by a PDB that allows no disruption, completes once it allows.
cat >"$WORK/pdb.yaml" <<'YAML'
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: app, namespace: default}
spec:
  minAvailable: 5
  selector: {matchLabels: {app: app}}
YAML
check "create pdb" 0 'created' -- K apply -f "$WORK/pdb.yaml"
check "pdb status: no disruptions" 0 'patched' -- K patch pdb app --subresource=status --type=merge \
  -p '{"status":{"disruptionsAllowed":0,"currentHealthy":6,"desiredHealthy":5,"expectedPods":6}}'
"$KUBECTL" drain node-1 --ignore-daemonsets --delete-emptydir-data --timeout=60s >"$WORK/drain.out" 2>&1 &
DRAIN_PID=$!
if wait_for 15 grep -q "violate the pod's disruption budget" "$WORK/drain.out"; then
  echo "ok: drain blocked by the PDB"; PASSED=$((PASSED + 1))
else
  echo "FAIL: drain was not blocked"; cat "$WORK/drain.out"; FAILED=$((FAILED + 1))
fi
K patch pdb app --subresource=status --type=merge -p '{"status":{"disruptionsAllowed":5}}' >/dev/null
wait "$DRAIN_PID"; DRAIN_RC=$?
if [[ $DRAIN_RC -eq 0 ]] && grep -q 'node/node-1 drained' "$WORK/drain.out"; then
  echo "ok: drain completes once the PDB allows"; PASSED=$((PASSED + 1))
else
  echo "FAIL: drain rc=$DRAIN_RC"; cat "$WORK/drain.out"; FAILED=$((FAILED + 1))
fi
check "drained pods gone" 1 '' -- bash -c "'$KUBECTL' get pods -o name | grep app-node-1"
check "report counts requests" 0 '"watches_opened":[1-9]' -- K get --raw /sim/v1/report

# Runtime faults: kubectl's raw PUT replaces them, raw GET reads them back.
printf 'error-rate=1,error-verbs=list,error-status=500\n' >"$WORK/faults"
check "replace --raw sets faults" 0 '"spec":"error-rate=1,error-verbs=list,error-status=500"' -- \
  K replace --raw /sim/v1/faults -f "$WORK/faults"
check "get --raw reads faults" 0 '"spec":"error-rate=1' -- K get --raw /sim/v1/faults
check "injected 500 on list" 1 'error on the server' -- K get nodes
: >"$WORK/no-faults"
check "replace --raw clears faults" 0 '"spec":""' -- K replace --raw /sim/v1/faults -f "$WORK/no-faults"
check "list works again" 0 'node-0' -- K get nodes
printf 'no-such-fault=1' >"$WORK/bad-faults"
check "unknown fault is 400" 1 'unknown fault' -- K replace --raw /sim/v1/faults -f "$WORK/bad-faults"

# The full cluster model (controllers): `kubectl rollout status` reads the
# defaulted updateStrategy and strategy of what the agent installs and of
# what the cluster runs.
"$SIM" --nodes 2 --pods-per-node 1 --time-scale 0.05 --kubeconfig-out "$WORK/model.kubeconfig" \
  >"$WORK/model.out" 2>"$WORK/model.err" &
MODEL_PID=$!
if ! wait_for 30 grep -q '"event":"sim.ready"' "$WORK/model.out"; then
  echo "FAIL: the cluster model did not print sim.ready"; cat "$WORK/model.err"; exit 1
fi
export KUBECONFIG=$WORK/model.kubeconfig
check "apply knet-stress (server-side)" 0 'daemonset.apps/knet-stress serverside-applied' -- \
  K apply --server-side -f "$REPO/resources/knet-stress.yaml"
check "rollout status ds/knet-stress" 0 'successfully rolled out' -- \
  K rollout status ds/knet-stress -n knet-stress --timeout=60s
check "rollout status ds/canal" 0 'successfully rolled out' -- \
  K rollout status ds/canal -n kube-system --timeout=60s
check "rollout status deploy/coredns" 0 'successfully rolled out' -- \
  K rollout status deploy/coredns -n kube-system --timeout=60s
# Cilium's operator registers the CiliumNodeConfig CRD once Ready (v1.18:
# served at v2 and v2alpha1); kubectl finds the kind through discovery.
cat >"$WORK/operator.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: cilium-operator, namespace: kube-system}
spec:
  replicas: 1
  selector: {matchLabels: {name: cilium-operator}}
  template:
    metadata: {labels: {name: cilium-operator}}
    spec:
      hostNetwork: true
      containers:
      - {name: cilium-operator, image: "quay.io/cilium/operator-generic:v1.18.9"}
YAML
cat >"$WORK/cnc.yaml" <<'YAML'
apiVersion: cilium.io/v2
kind: CiliumNodeConfig
metadata: {name: cilium-default, namespace: kube-system}
spec:
  nodeSelector: {matchLabels: {io.cilium.migration/cilium-default: "true"}}
  defaults: {custom-cni-conf: "false", cni-exclusive: "true"}
YAML
check "no ciliumnodeconfigs before the operator" 1 "doesn't have a resource type" -- \
  K get ciliumnodeconfigs -n kube-system
check "apply the operator" 0 'deployment.apps/cilium-operator created' -- K apply -f "$WORK/operator.yaml"
check "wait for the CRD" 0 'condition met' -- \
  K wait --for=create crd/ciliumnodeconfigs.cilium.io --timeout=30s
check "the CRD is Established" 0 'condition met' -- \
  K wait --for condition=Established crd/ciliumnodeconfigs.cilium.io --timeout=10s
check "get ciliumnodeconfigs (none yet)" 0 'No resources found' -- K get ciliumnodeconfigs -n kube-system
check "api-versions lists both" 0 'cilium.io/v2alpha1' -- K api-versions
check "server dry run creates nothing" 0 'created \(server dry run\)' -- \
  K create --dry-run=server -f "$WORK/cnc.yaml"
check "create ciliumnodeconfig" 0 'ciliumnodeconfig.cilium.io/cilium-default created' -- K create -f "$WORK/cnc.yaml"
check "get ciliumnodeconfigs" 0 'cilium-default' -- K get ciliumnodeconfigs -n kube-system
sed -i 's/cni-exclusive: "true"/cni-exclusive: "false"/' "$WORK/cnc.yaml"
check "apply ciliumnodeconfig (client-side)" 0 'configured' -- K apply -f "$WORK/cnc.yaml"
check "apply ciliumnodeconfig --server-side" 0 'serverside-applied' -- K apply --server-side -f "$WORK/cnc.yaml"
check "applied value stored" 0 '^false$' -- \
  K get ciliumnodeconfig cilium-default -n kube-system -o jsonpath='{.spec.defaults.cni-exclusive}'
check "get at v2alpha1" 0 '^cilium.io/v2alpha1$' -- \
  K get ciliumnodeconfigs.v2alpha1.cilium.io cilium-default -n kube-system -o jsonpath='{.apiVersion}'
check "delete ciliumnodeconfig" 0 'deleted' -- K delete ciliumnodeconfig cilium-default -n kube-system
kill "$MODEL_PID" 2>/dev/null; wait "$MODEL_PID" 2>/dev/null
export KUBECONFIG=$WORK/kubeconfig

# Nodes created and deleted at runtime, against the full cluster model: the
# kubelet model registers a new node (Ready), its DaemonSet pods run Ready and
# its CNI is up; a deleted node's pods are removed (the pod garbage
# collector), its DaemonSets stop counting it and so does the oracle.
MODEL_KUBECONFIG=$WORK/churn.kubeconfig
"$SIM" --nodes 3 --pods-per-node 1 --time-scale 0.1 --kubeconfig-out "$MODEL_KUBECONFIG" \
  >"$WORK/churn.out" 2>"$WORK/churn.err" &
MODEL_PID=$!
if ! wait_for 20 grep -q '"event":"sim.ready"' "$WORK/churn.out"; then
  echo "FAIL: the model cnimig-sim did not print sim.ready"; cat "$WORK/churn.err"; exit 1
fi
M() { "$KUBECTL" --kubeconfig "$MODEL_KUBECONFIG" --request-timeout=20s "$@"; }
cat >"$WORK/node.yaml" <<'YAML'
apiVersion: v1
kind: Node
metadata:
  name: node-7
  labels: {kubernetes.io/hostname: node-7, kubernetes.io/os: linux}
YAML
check "create node" 0 'node/node-7 created' -- M create -f "$WORK/node.yaml"
check "new node turns Ready" 0 'condition met' -- M wait --for=condition=Ready node/node-7 --timeout=20s
check "new node gets a pod CIDR" 0 '^10\.[0-9]+\.[0-9]+\.0/24$' -- M get node node-7 -o jsonpath='{.spec.podCIDR}'
node7_pods() { M get pods -n kube-system --field-selector spec.nodeName=node-7 "$@"; }
node7_agents_ready() {
  [[ $(node7_pods -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' |
    grep -c True) -ge 2 ]]
}
if wait_for 20 node7_agents_ready; then
  echo "ok: new node's DaemonSet pods (canal, kube-proxy) are Ready"; PASSED=$((PASSED + 1))
else
  echo "FAIL: DaemonSet pods not Ready on node-7"; node7_pods -o wide; FAILED=$((FAILED + 1))
fi
CANAL7=$(node7_pods -l k8s-app=canal -o name)
check "new node's CNI config is in place" 0 '10-canal.conflist' -- M exec -n kube-system "$CANAL7" -- ls /etc/cni/net.d
check "report counts the new node" 0 '"nodes":4,' -- M get --raw /sim/v1/report
check "delete node" 0 'node "node-7" deleted' -- M delete node node-7
node7_pods_gone() { [[ -z $(M get pods -A --field-selector spec.nodeName=node-7 -o name) ]]; }
if wait_for 20 node7_pods_gone; then
  echo "ok: deleted node's pods are removed"; PASSED=$((PASSED + 1))
else
  echo "FAIL: pods left on node-7"; M get pods -A -o wide | grep node-7; FAILED=$((FAILED + 1))
fi
check "report no longer counts it" 0 '"nodes":3,' -- M get --raw /sim/v1/report
check "kube-proxy desires 3 again" 0 '^3$' -- \
  M get ds kube-proxy -n kube-system -o jsonpath='{.status.desiredNumberScheduled}'
kill "$MODEL_PID" 2>/dev/null; wait "$MODEL_PID" 2>/dev/null

echo "kubectl suite: $PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
