#!/usr/bin/env bash
# A real Kubernetes control plane on loopback for bgrender's end-to-end tests.
#
#   e2e/control-plane.sh build        build (or reuse) etcd, kube-apiserver,
#                                     kube-controller-manager, kube-scheduler, kwok (the
#                                     simulated node) and gatewaysim; prints the directory
#   e2e/control-plane.sh start DIR    start them with state, logs and DIR/kubeconfig in DIR;
#                                     returns once a Node is Ready and the vendored CRDs
#                                     are Established
#   e2e/control-plane.sh stop DIR     stop every process that `start DIR` started
#
# Everything is built from the Go module proxy (see go.mod); nothing is downloaded at
# run time. Binaries are cached under ${BGRENDER_E2E_CACHE:-$HOME/.cache/bgrender-e2e}.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE="${BGRENDER_E2E_CACHE:-$HOME/.cache/bgrender-e2e}"
version_of() { awk -v m="$1" '$1 == m && $2 ~ /^v/ {print $2; exit}' "$HERE/go.mod"; }
K8S_VERSION="$(version_of k8s.io/kubernetes)"           # v1.37.2
ETCD_VERSION="$(version_of go.etcd.io/etcd/server/v3)"  # v3.7.0
KWOK_VERSION="$(version_of sigs.k8s.io/kwok)"           # v0.8.0
# kwok's own stages (its module's kustomize/stage/): a Node becomes Ready and renews its Lease;
# a pod bound to it is Running and Ready, a Job's pod then Succeeded, a deleted pod goes.
# The "fast" ones: no delay, so that tests wait only on the controllers. The chaos one fails a
# running pod labelled pod-container-running-failed.stage.kwok.x-k8s.io: "true" (its weight
# wins over pod-complete's): a hook Job whose command fails, as a test marks it.
KWOK_STAGES=(node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
  pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml
  pod/chaos/pod-container-running-failed.yaml)
START_TIMEOUT="${BGRENDER_E2E_START_TIMEOUT:-180}"

log() { printf 'control-plane: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

hash_of() { cat "$@" | sha256sum | cut -c1-12; }

upstream_dir() {  # the binaries, built from the modules go.sum pins
  printf '%s/k8s-%s-etcd-%s-kwok-%s-%s' "$CACHE" "$K8S_VERSION" "$ETCD_VERSION" "$KWOK_VERSION" \
    "$(hash_of "$HERE/go.sum")"
}

stages_dir() {  # the kwok stages, copied from its module: a change of the list rebuilds nothing
  printf '%s/kwok-stages-%s' "$CACHE" "$(hash_of "$HERE/go.sum" <(printf '%s\n' "${KWOK_STAGES[@]}"))"
}

gatewaysim_dir() {
  # Ours, and changed more often than the pinned upstream binaries.
  printf '%s/gatewaysim-%s' "$CACHE" "$(hash_of "$HERE/go.mod" "$HERE/go.sum" "$HERE"/cmd/gatewaysim/*.go)"
}

go_build() { # OUT PACKAGE
  (cd "$HERE" && GOFLAGS="${GOFLAGS:-} -trimpath -mod=readonly -buildvcs=false" go build -ldflags='-s -w' -o "$1" "$2")
}

cmd_build() {
  command -v go >/dev/null || die "go is not on PATH"
  local up sim stages tmp
  up="$(upstream_dir)"
  sim="$(gatewaysim_dir)"
  stages="$(stages_dir)"
  if [[ ! -f "$up/.complete" ]]; then
    tmp="$up.tmp.$$"
    rm -rf "$tmp" && mkdir -p "$tmp"
    log "building Kubernetes $K8S_VERSION, etcd $ETCD_VERSION and kwok $KWOK_VERSION into $up (cold: tens of minutes)"
    local pkg
    for pkg in k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
               k8s.io/kubernetes/cmd/kube-scheduler sigs.k8s.io/kwok/cmd/kwok ./cmd/etcd; do
      log "go build $pkg"
      go_build "$tmp/$(basename "$pkg")" "$pkg"
    done
    touch "$tmp/.complete"
    rm -rf "$up" && mv "$tmp" "$up"
  fi
  if [[ ! -f "$stages/.complete" ]]; then
    local stage kwok_dir
    tmp="$stages.tmp.$$"
    rm -rf "$tmp" && mkdir -p "$tmp"
    kwok_dir="$(cd "$HERE" && go list -mod=readonly -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
    for stage in "${KWOK_STAGES[@]}"; do
      cp "$kwok_dir/kustomize/stage/$stage" "$tmp/"
    done
    touch "$tmp/.complete"
    rm -rf "$stages" && mv "$tmp" "$stages"
  fi
  if [[ ! -f "$sim/.complete" ]]; then
    tmp="$sim.tmp.$$"
    rm -rf "$tmp" && mkdir -p "$tmp"
    go_build "$tmp/gatewaysim" ./cmd/gatewaysim
    touch "$tmp/.complete"
    rm -rf "$sim" && mv "$tmp" "$sim"
  fi
  printf '%s\n' "$up"
}

# ---------------------------------------------------------------------------------------------
# start / stop

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_until SECONDS WHAT COMMAND...: poll COMMAND (every 0.2 s) until it succeeds; fail after SECONDS.
wait_until() {
  local limit="$1" what="$2" deadline
  shift 2
  deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "timed out after ${limit}s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}

gen_certs() { # PKI
  local pki="$1" ext
  mkdir -p "$pki"
  (
    cd "$pki"
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
      -keyout ca.key -out ca.crt -subj "/CN=bgrender-e2e-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -addext "subjectKeyIdentifier=hash" 2>/dev/null
    leaf() { # NAME SUBJECT EXTENSIONS
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" -out "$1.csr" \
        -subj "$2" 2>/dev/null
      printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
        "authorityKeyIdentifier=keyid" "subjectKeyIdentifier=hash" "$3" > "$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
        -out "$1.crt" -extfile "$1.ext" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    leaf apiserver "/CN=kube-apiserver" \
      "$(printf '%s\n' 'extendedKeyUsage=serverAuth' 'subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.96.0.1,DNS:kubernetes.default.svc')"
    leaf admin "/O=system:masters/CN=bgrender-e2e-admin" "extendedKeyUsage=clientAuth"
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  )
}

# launch DIR NAME COMMAND...: run COMMAND in a process group of its own, logging to DIR/logs/NAME.log
launch() {
  local dir="$1" name="$2"
  shift 2
  setsid "$@" >"$dir/logs/$name.log" 2>&1 < /dev/null &
  printf '%s %s\n' "$name" "$!" >> "$dir/pids"
}

node_ready() { # KUBECONFIG: a Node is Ready and carries no taint (the node controller removed not-ready)
  local out
  out="$(kubectl --kubeconfig "$1" get nodes -o \
    'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{" "}{.spec.taints}{"\n"}{end}')"
  grep -qx 'True ' <<<"$out"
}

cmd_start() {
  [[ $# -eq 1 ]] || die "usage: $0 start DIR"
  local dir bin sim
  mkdir -p "$1"
  dir="$(cd "$1" && pwd)"
  [[ ! -s "$dir/pids" ]] || die "$dir/pids exists: stop $dir first"
  bin="$(upstream_dir)"
  sim="$(gatewaysim_dir)"
  [[ -f "$bin/.complete" && -f "$sim/.complete" && -f "$(stages_dir)/.complete" ]] || die "binaries not built: run $0 build"
  command -v kubectl >/dev/null || die "kubectl is not on PATH"
  mkdir -p "$dir/logs" "$dir/etcd"
  : > "$dir/pids"
  trap 'log "start failed; logs in $dir/logs"; tail -n 20 "$dir"/logs/*.log >&2 || true; cmd_stop "$dir"' ERR

  local pki="$dir/pki" etcd_port peer_port api_port kubeconfig="$dir/kubeconfig"
  gen_certs "$pki"
  etcd_port="$(free_port)"; peer_port="$(free_port)"; api_port="$(free_port)"

  launch "$dir" etcd "$bin/etcd" --name e2e --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "e2e=http://127.0.0.1:$peer_port" --unsafe-no-fsync --log-level warn

  launch "$dir" kube-apiserver "$bin/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --cert-dir "$pki" --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --client-ca-file "$pki/ca.crt" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --service-cluster-ip-range 10.96.0.0/16 --authorization-mode Node,RBAC \
    --endpoint-reconciler-type none --allow-privileged=false --profiling=false --v 1

  kubectl config --kubeconfig "$kubeconfig" set-cluster e2e --server "https://127.0.0.1:$api_port" \
    --certificate-authority "$pki/ca.crt" --embed-certs >/dev/null
  kubectl config --kubeconfig "$kubeconfig" set-credentials admin \
    --client-certificate "$pki/admin.crt" --client-key "$pki/admin.key" --embed-certs >/dev/null
  kubectl config --kubeconfig "$kubeconfig" set-context e2e --cluster e2e --user admin >/dev/null
  kubectl config --kubeconfig "$kubeconfig" use-context e2e >/dev/null

  wait_until "$START_TIMEOUT" "the API server to be ready (/readyz)" \
    kubectl --kubeconfig "$kubeconfig" get --raw /readyz

  launch "$dir" kube-controller-manager "$bin/kube-controller-manager" \
    --kubeconfig "$kubeconfig" --authentication-kubeconfig "$kubeconfig" --authorization-kubeconfig "$kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --service-cluster-ip-range 10.96.0.0/16 --horizontal-pod-autoscaler-sync-period 5s --v 1
  launch "$dir" kube-scheduler "$bin/kube-scheduler" \
    --kubeconfig "$kubeconfig" --authentication-kubeconfig "$kubeconfig" --authorization-kubeconfig "$kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false --v 1
  # The simulated node: a Node object kwok manages (by its annotation), as kwokctl makes them.
  kubectl --kubeconfig "$kubeconfig" apply --server-side --field-manager bgrender-e2e -f - >/dev/null <<YAML
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-0
  annotations:
    kwok.x-k8s.io/node: fake
  labels:
    kubernetes.io/hostname: kwok-node-0
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
YAML
  local configs=() stage
  for stage in "$(stages_dir)"/*.yaml; do configs+=(--config "$stage"); done
  launch "$dir" kwok "$bin/kwok" --kubeconfig "$kubeconfig" "${configs[@]}" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --cidr 10.244.0.0/16 --node-ip 127.0.0.1 --node-lease-duration-seconds 40
  launch "$dir" gatewaysim "$sim/gatewaysim" --kubeconfig "$kubeconfig"

  wait_until "$START_TIMEOUT" "a Ready, untainted Node" node_ready "$kubeconfig"
  wait_until "$START_TIMEOUT" "the default ServiceAccount" \
    kubectl --kubeconfig "$kubeconfig" -n default get serviceaccount default

  kubectl --kubeconfig "$kubeconfig" apply --server-side --field-manager bgrender-e2e -f "$HERE/crds/" >/dev/null
  kubectl --kubeconfig "$kubeconfig" wait --for condition=Established --timeout "${START_TIMEOUT}s" \
    customresourcedefinitions --all >/dev/null
  trap - ERR
  log "ready: KUBECONFIG=$kubeconfig"
}

cmd_stop() {
  [[ $# -eq 1 ]] || die "usage: $0 stop DIR"
  local dir="$1" name pid lines=() i
  [[ -f "$dir/pids" ]] || return 0
  mapfile -t lines < "$dir/pids"
  # Last started first: the node simulator and the controllers before the API server, etcd last.
  for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
    read -r name pid <<<"${lines[i]}"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    if ! wait_until 20 "$name (pid $pid) to stop" bash -c "! kill -0 -- -$pid 2>/dev/null && ! kill -0 $pid 2>/dev/null"; then
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -f "$dir/pids"
}

case "${1:-}" in
  build) cmd_build ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) die "usage: $0 build | start DIR | stop DIR" ;;
esac
