#!/usr/bin/env bash
# Starts a real control plane on loopback: etcd, kube-apiserver,
# kube-controller-manager and kube-scheduler (built by
# build-control-plane.sh), and stops all of them when it exits.
#
#   launch-control-plane.sh --bin BIN_DIR --dir STATE_DIR [-- COMMAND ARGS...]
#
# STATE_DIR is made anew (it must not exist or be empty) and receives:
#   admin.kubeconfig    system:masters (a client certificate)
#   agent.kubeconfig    the ServiceAccount cnimig-system/cnimig-agent, bound to
#                       the ClusterRole cnimig-agent exactly as
#                       resources/agent-job.yaml ships it (a bound token)
#   ca.crt ca.key       the CA made at start: it signs every certificate here
#                       (the apiserver verifies kubelets against it too)
#   kubelet-client.crt/.key  what the apiserver presents to kubelets
#   kubelet.crt/.key    a kubelet serving certificate for 127.0.1.1-254
#   env                 shell assignments: APISERVER, ETCD, PIDs, ...
#   logs/*.log          one per component
#   ready               written last, when every component is healthy
# With COMMAND it runs it once ready (KUBECONFIG=admin.kubeconfig and
# REALCLUSTER_DIR exported) and exits with its status; without, it waits for
# SIGTERM/SIGINT. Either way every component is stopped on exit, and each dies
# with the launcher even if the launcher is killed (see diewithparent).
#
# Extra flags per component (e.g. --feature-gates=...) come from
# REALCLUSTER_APISERVER_FLAGS, REALCLUSTER_CONTROLLER_MANAGER_FLAGS,
# REALCLUSTER_SCHEDULER_FLAGS (split on whitespace).
set -euo pipefail

src_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(cd "$src_dir/../.." && pwd)
ready_timeout=${REALCLUSTER_READY_TIMEOUT:-180}

usage() {
  echo "usage: $0 --bin BIN_DIR --dir STATE_DIR [-- COMMAND ARGS...]" >&2
  exit 2
}
bin_dir= state_dir=
while [[ $# -gt 0 ]]; do
  case $1 in
    --bin) bin_dir=${2:?}; shift 2 ;;
    --dir) state_dir=${2:?}; shift 2 ;;
    --) shift; break ;;
    *) usage ;;
  esac
done
[[ -n $bin_dir && -n $state_dir ]] || usage
for b in etcd kube-apiserver kube-controller-manager kube-scheduler; do
  [[ -x $bin_dir/$b ]] || { echo "launch: $bin_dir/$b missing: run build-control-plane.sh" >&2; exit 1; }
done
for tool in openssl curl kubectl; do
  command -v "$tool" > /dev/null || { echo "launch: $tool not on PATH" >&2; exit 1; }
done
if [[ -e $state_dir && -n $(ls -A "$state_dir") ]]; then
  echo "launch: $state_dir is not empty" >&2
  exit 1
fi
mkdir -p "$state_dir/logs" "$state_dir/etcd"
caller_dir=$PWD
state_dir=$(cd "$state_dir" && pwd)
bin_dir=$(cd "$bin_dir" && pwd)
cd "$state_dir"

log() { echo "launch: $*" >&2; }

# --- processes ---------------------------------------------------------------
pids=() names=()
stop_all() {
  # In reverse start order, each after the one that depends on it is gone:
  # the apiserver still has etcd while it shuts down. Each stops in about a
  # second; one that has not after 10 s is killed.
  local i deadline
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2> /dev/null || continue
    deadline=$((SECONDS + 10))
    while kill -0 "${pids[i]}" 2> /dev/null && ((SECONDS < deadline)); do
      sleep 0.1
    done
    kill -KILL "${pids[i]}" 2> /dev/null || true
    wait "${pids[i]}" 2> /dev/null || true
  done
  pids=()
}
on_exit() {
  local rc=$?
  trap - EXIT INT TERM
  stop_all
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# start NAME BINARY ARGS...: in the background, output to logs/NAME.log.
start() {
  local name=$1 binary=$2
  shift 2
  REALCLUSTER_PARENT_PID=$$ "$bin_dir/$binary" "$@" > "logs/$name.log" 2>&1 &
  pids+=($!)
  names+=("$name")
}

# Fails with the component's log tail when one has exited.
check_alive() {
  local i
  for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[i]}" 2> /dev/null; then
      log "${names[i]} exited; last lines of logs/${names[i]}.log:"
      tail -n 30 "logs/${names[i]}.log" >&2
      return 1
    fi
  done
}

# wait_healthy NAME URL EXPECTED [CURL ARGS...]: polls until URL's body
# contains EXPECTED.
wait_healthy() {
  local name=$1 url=$2 expected=$3
  shift 3
  local deadline=$((SECONDS + ready_timeout))
  until [[ $(curl -s --max-time 5 "$@" "$url" 2> /dev/null) == *"$expected"* ]]; do
    check_alive || return 1
    if ((SECONDS >= deadline)); then
      log "$name not healthy at $url after ${ready_timeout}s"
      return 1
    fi
    sleep 0.2
  done
}

# free_port VAR: a free TCP port on 127.0.0.1 into VAR, below the ephemeral
# range (32768+) so that no outgoing connection holds it, and not one given
# out before (no subshell: taken_ports must persist).
taken_ports=" "
free_port() {
  local port listening
  listening=$(ss -Htln | awk '{ n = split($4, a, ":"); print a[n] }' | tr '\n' ' ')
  while :; do
    port=$((20000 + RANDOM % 12000))
    [[ " $listening $taken_ports " == *" $port "* ]] && continue
    taken_ports+="$port "
    printf -v "$1" '%s' "$port"
    return
  done
}

# --- certificates ------------------------------------------------------------
# ECDSA P-256 throughout: fast to generate, accepted by every component.
new_key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2> /dev/null; }

# issue_with CA NAME SUBJECT EXTENSIONS: NAME.key and NAME.crt signed by CA.
issue_with() {
  local ca=$1 name=$2 subject=$3 ext=$4
  new_key "$name.key"
  openssl req -new -key "$name.key" -subj "$subject" -out "$name.csr" 2> /dev/null
  openssl x509 -req -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial \
    -days 7 -sha256 -extfile <(printf '%s\n' "$ext") -out "$name.crt" 2> /dev/null
  rm -f "$name.csr"
}
issue() { issue_with ca "$@"; }

make_certificates() {
  new_key ca.key
  openssl req -x509 -new -key ca.key -subj "/CN=cnimig-realcluster-ca" -days 7 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" -out ca.crt 2> /dev/null
  local client="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
  local server="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:${service_cidr%.0/*}.1"
  issue apiserver "/CN=kube-apiserver" "$server"
  issue admin "/O=system:masters/CN=cnimig-realcluster-admin" "$client"
  # The default RBAC binds these names (system:kube-controller-manager, ...).
  issue controller-manager "/CN=system:kube-controller-manager" "$client"
  issue scheduler "/CN=system:kube-scheduler" "$client"
  issue kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "$client"
  # One serving certificate for every fake kubelet, on 127.0.1.1-254: the
  # apiserver dials a node's InternalIP and verifies it against the CA.
  local ips
  ips=$(printf 'IP:127.0.1.%d,' {1..254})
  issue kubelet "/O=system:nodes/CN=system:node:realcluster" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=${ips%,}"
  # The front proxy (aggregated APIs): its own CA, as kubeadm sets it up;
  # without it every component's authentication config misses a CA bundle.
  new_key front-proxy-ca.key
  openssl req -x509 -new -key front-proxy-ca.key -subj "/CN=cnimig-realcluster-front-proxy-ca" -days 7 \
    -sha256 -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" -out front-proxy-ca.crt 2> /dev/null
  issue_with front-proxy-ca front-proxy-client "/CN=front-proxy-client" "$client"
  # Service-account token signing: private key for the apiserver and the
  # token controller, public key for verification.
  new_key sa.key
  openssl ec -in sa.key -pubout -out sa.pub 2> /dev/null
  chmod 600 ./*.key
}

# write_kubeconfig FILE USER CREDENTIAL-ARGS...
write_kubeconfig() {
  local file=$1 user=$2
  shift 2
  kubectl config --kubeconfig "$file" set-cluster realcluster --server "$apiserver_url" \
    --certificate-authority "$state_dir/ca.crt" --embed-certs > /dev/null
  kubectl config --kubeconfig "$file" set-credentials "$user" "$@" > /dev/null
  kubectl config --kubeconfig "$file" set-context realcluster --cluster realcluster --user "$user" > /dev/null
  kubectl config --kubeconfig "$file" use-context realcluster > /dev/null
}

cert_kubeconfig() {
  write_kubeconfig "$1.kubeconfig" "$1" --client-certificate "$state_dir/$1.crt" \
    --client-key "$state_dir/$1.key" --embed-certs
}

# The documents of resources/agent-job.yaml that give the agent its
# permissions (Namespace, ServiceAccount, ClusterRole, ClusterRoleBinding),
# without the Job and its ConfigMap.
agent_rbac() {
  awk 'function flush() { if (doc ~ /\nkind: (Namespace|ServiceAccount|ClusterRole|ClusterRoleBinding)\n/) printf "---%s", doc; doc = "\n" }
       BEGIN { doc = "\n" }
       /^---/ { flush(); next }
       { doc = doc $0 "\n" }
       END { flush() }' "$repo_dir/resources/agent-job.yaml"
}

# --- start -------------------------------------------------------------------
begin=$SECONDS
service_cidr=10.96.0.0/16
free_port etcd_port
free_port etcd_peer_port
free_port apiserver_port
free_port controller_manager_port
free_port scheduler_port
apiserver_url=https://127.0.0.1:$apiserver_port
make_certificates
cert_kubeconfig admin
cert_kubeconfig controller-manager
cert_kubeconfig scheduler

# etcd: one member, plain HTTP on loopback (nothing else can reach it), no
# fsync (a test cluster's data dies with it).
start etcd etcd --name realcluster --data-dir "$state_dir/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
  --initial-cluster "realcluster=http://127.0.0.1:$etcd_peer_port" \
  --unsafe-no-fsync --log-level warn
wait_healthy etcd "http://127.0.0.1:$etcd_port/health" '"health":"true"' || exit 1

# The apiserver with default admission plugins and Node,RBAC authorization.
# --allow-privileged: CNI DaemonSets (Cilium, multus) run privileged pods.
# --kubelet-preferred-address-types: fake kubelets are reached on their
#   InternalIP (127.0.1.x); their hostnames resolve nowhere.
# --endpoint-reconciler-type=none: the "kubernetes" Service's endpoints may
#   not be a loopback address, and nothing here uses them.
# shellcheck disable=SC2086  # the extra flags are whitespace-separated
start kube-apiserver kube-apiserver \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$apiserver_port" \
  --etcd-servers "http://127.0.0.1:$etcd_port" \
  --tls-cert-file apiserver.crt --tls-private-key-file apiserver.key --client-ca-file ca.crt \
  --authorization-mode Node,RBAC \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file sa.pub --service-account-signing-key-file sa.key \
  --service-cluster-ip-range "$service_cidr" --allow-privileged=true \
  --kubelet-certificate-authority ca.crt \
  --kubelet-client-certificate kubelet-client.crt --kubelet-client-key kubelet-client.key \
  --kubelet-preferred-address-types InternalIP,ExternalIP,Hostname \
  --requestheader-client-ca-file front-proxy-ca.crt --requestheader-allowed-names front-proxy-client \
  --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
  --requestheader-extra-headers-prefix X-Remote-Extra- \
  --proxy-client-cert-file front-proxy-client.crt --proxy-client-key-file front-proxy-client.key \
  --endpoint-reconciler-type none --profiling=false \
  ${REALCLUSTER_APISERVER_FLAGS:-}
wait_healthy kube-apiserver "$apiserver_url/readyz" ok --cacert ca.crt --cert admin.crt --key admin.key || exit 1
# /readyz is ok once the bootstrap RBAC is written, but the authorizer's
# cache may not hold it yet: the controller manager and the scheduler would
# get a 403 on their first read and exit. Wait until both are authorized.
for identity in controller-manager scheduler; do
  wait_healthy "RBAC for $identity" \
    "$apiserver_url/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication" \
    '"kind": "ConfigMap"' --cacert ca.crt --cert "$identity.crt" --key "$identity.key" || exit 1
done

# Every controller enabled by default ('*', as a cluster runs them), each with
# its own ServiceAccount's credentials (as kubeadm sets it up), node CIDRs
# allocated from a cluster CIDR (as a canal cluster has), no leader election.
# shellcheck disable=SC2086
start kube-controller-manager kube-controller-manager \
  --kubeconfig controller-manager.kubeconfig \
  --authentication-kubeconfig controller-manager.kubeconfig --authorization-kubeconfig controller-manager.kubeconfig \
  --bind-address 127.0.0.1 --secure-port "$controller_manager_port" --leader-elect=false \
  --controllers '*' --use-service-account-credentials=true \
  --service-account-private-key-file sa.key --root-ca-file ca.crt \
  --cluster-signing-cert-file ca.crt --cluster-signing-key-file ca.key \
  --allocate-node-cidrs=true --cluster-cidr 10.244.0.0/16 --service-cluster-ip-range "$service_cidr" \
  --profiling=false \
  ${REALCLUSTER_CONTROLLER_MANAGER_FLAGS:-}
# shellcheck disable=SC2086
start kube-scheduler kube-scheduler \
  --kubeconfig scheduler.kubeconfig \
  --authentication-kubeconfig scheduler.kubeconfig --authorization-kubeconfig scheduler.kubeconfig \
  --bind-address 127.0.0.1 --secure-port "$scheduler_port" --leader-elect=false --profiling=false \
  ${REALCLUSTER_SCHEDULER_FLAGS:-}
wait_healthy kube-controller-manager "https://127.0.0.1:$controller_manager_port/healthz" ok -k || exit 1
wait_healthy kube-scheduler "https://127.0.0.1:$scheduler_port/healthz" ok -k || exit 1

# The agent's least-privilege identity, from the shipped manifest.
agent_rbac | kubectl --kubeconfig admin.kubeconfig apply -f - > logs/agent-rbac.log
agent_token=$(kubectl --kubeconfig admin.kubeconfig -n cnimig-system create token cnimig-agent --duration 48h)
write_kubeconfig agent.kubeconfig cnimig-agent --token "$agent_token"
chmod 600 ./*.kubeconfig

cat > env << EOF
APISERVER=$apiserver_url
ETCD=http://127.0.0.1:$etcd_port
CONTROLLER_MANAGER=https://127.0.0.1:$controller_manager_port
SCHEDULER=https://127.0.0.1:$scheduler_port
ADMIN_KUBECONFIG=$state_dir/admin.kubeconfig
AGENT_KUBECONFIG=$state_dir/agent.kubeconfig
LAUNCHER_PID=$$
EOF
log "control plane ready at $apiserver_url in $((SECONDS - begin)) s (state in $state_dir)"
echo "$((SECONDS - begin))" > ready

if [[ $# -gt 0 ]]; then
  # In the background, so that a SIGTERM to the launcher is handled at once
  # (bash runs traps only between foreground commands); stop_all ends it first.
  (cd "$caller_dir" && KUBECONFIG=$state_dir/admin.kubeconfig REALCLUSTER_DIR=$state_dir exec "$@") &
  pids+=($!)
  names+=(command)
  set +e
  wait "$!"
  exit $?
fi
# Wait for a signal (the traps exit) or for a component to die.
while check_alive; do
  wait -n "${pids[@]}" 2> /dev/null || true
done
exit 1
