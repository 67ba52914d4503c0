#!/usr/bin/env bash
# Scale check (label `scale`): cnimig-sim with 5,000 nodes and 150,000 pods
# starts, answers an indexed list (pods on one node) and a full list, and
# reports its resident memory. Usage: scale_check.sh PATH/TO/cnimig-sim
set -u
SIM=${1:?usage: scale_check.sh PATH/TO/cnimig-sim}
KUBECTL=${KUBECTL:-$(command -v kubectl || true)}
[[ -n "$KUBECTL" ]] || { echo "SKIP: kubectl not found"; exit 77; }
WORK=$(mktemp -d)
export KUBECONFIG=$WORK/kubeconfig HOME=$WORK
"$SIM" --cluster static --nodes 5000 --pods-per-node 29 --kubeconfig-out "$KUBECONFIG" >"$WORK/out" 2>"$WORK/err" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WORK"' EXIT
start=$SECONDS
until grep -q sim.ready "$WORK/out"; do
  ((SECONDS - start > 120)) && { echo "FAIL: not ready in 120 s"; cat "$WORK/err"; exit 1; }
  sleep 0.2
done
echo "ready after $((SECONDS - start)) s"
t0=$(date +%s%N)
n=$("$KUBECTL" get pods -A --field-selector spec.nodeName=node-4321 -o name | wc -l)
t1=$(date +%s%N)
echo "pods on node-4321: $n in $(((t1 - t0) / 1000000)) ms"
[[ $n -eq 30 ]] || { echo "FAIL: expected 30 pods on the node"; exit 1; }
total=$("$KUBECTL" get --raw /api/v1/pods | grep -o '"kind":"Pod"' | wc -l)
t2=$(date +%s%N)
echo "full list: $total pods in $(((t2 - t1) / 1000000)) ms"
[[ $total -eq 150000 ]] || { echo "FAIL: expected 150000 pods"; exit 1; }
grep -E 'VmRSS|VmHWM' /proc/$PID/status
echo "scale check passed"
