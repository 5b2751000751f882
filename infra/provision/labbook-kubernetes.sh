#!/bin/sh
# `labbook-kubernetes` on a Vagrant VM that kubeadm set up (installed by kubernetes.sh): the verbs of the
# embedded node's command (runner/kubernetes/node-kubernetes.sh), over the DaemonSets that run kube-proxy and
# flanneld here. Each DaemonSet runs on a node while the node has the label labbook.dev/PART=run (their
# nodeSelector, set by kubernetes.sh), so a part is started or stopped one node at a time, as on the embedded
# cluster, where each is a process of its node.
#   labbook-kubernetes kube-proxy|flanneld         start it on this node; returns once its pod runs and, for
#                                                  kube-proxy, its chains are written; for flanneld, its lease
#   labbook-kubernetes stop kube-proxy|flanneld    stop it here and leave what it wrote (a stopped kube-proxy's
#                                                  chains stay, stale, as when its process dies)
#   labbook-kubernetes defer kube-proxy|flanneld   stop it here and undo what it set up, as on a node that never
#                                                  ran it: for a lab that builds the same by hand first
set -eu
if [ -r /etc/kubernetes/admin.conf ]; then export KUBECONFIG=/etc/kubernetes/admin.conf; fi
node=$(hostname)

usage() {
  echo "usage: labbook-kubernetes [stop|defer] kube-proxy|flanneld" >&2
  exit 2
}

verb=start
case "${1:-}" in stop | defer) verb=$1; shift ;; esac
part=${1:-}
case "$part" in
  kube-proxy) namespace=kube-system selector=k8s-app=kube-proxy ;;
  flanneld) namespace=kube-flannel selector=app=flannel ;;
  *) usage ;;
esac

pod_here() {
  kubectl -n "$namespace" get pods -l "$selector" --field-selector "spec.nodeName=$node" -o name
}

# `wait_until SECONDS WHAT TEST...`: by the clock, since each try asks the apiserver, which takes seconds under
# software emulation.
wait_until() {
  limit=$1 deadline=$(($(date +%s) + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "$node: $part: $what did not happen within $limit s" >&2
      kubectl -n "$namespace" get pods -l "$selector" -o wide >&2 || true
      exit 1
    fi
    sleep 0.5
  done
}

# Asked of the apiserver: an error (it times out now and then under software emulation) is no answer, not "none".
no_pod_here() {
  pods=$(pod_here) || return 1
  [ -z "$pods" ]
}

# A label, until the apiserver takes it.
label() {
  wait_until 120 "the node's label $1" kubectl label node "$node" "$1" --overwrite
}
# The embedded cluster's nodes carry this taint until their flanneld has leased a subnet (its FLANNEL_TAINT in
# runner/kubernetes/node-files.ts): a pod scheduled before would fail its CNI ADD. The same here, so that labs
# that lift it by hand (`kubectl taint node NODE labbook.dev/flannel-`) run alike on both.
FLANNEL_TAINT=labbook.dev/flannel
tainted() {
  kubectl get node "$node" -o jsonpath='{.spec.taints[*].key}' | tr ' ' '\n' | grep -qx "$FLANNEL_TAINT"
}
untaint() {
  kubectl taint node "$node" "$FLANNEL_TAINT-" >/dev/null 2>&1 || ! tainted
}
pod_ready_here() {
  pod=$(pod_here)
  [ -n "$pod" ] && [ "$(kubectl -n "$namespace" get "$pod" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]
}

# `drop_chains TABLE PREFIX`: every rule that jumps to a chain named PREFIX*, then the chains themselves.
drop_chains() {
  iptables -t "$1" -S | grep -E "^-A .* -j $2" | sed 's/^-A /-D /' | while read -r rule; do
    eval "iptables -t $1 $rule" || true
  done
  for chain in $(iptables -t "$1" -S | sed -n "s/^-N \($2[^ ]*\)$/\1/p"); do iptables -t "$1" -F "$chain"; done
  for chain in $(iptables -t "$1" -S | sed -n "s/^-N \($2[^ ]*\)$/\1/p"); do iptables -t "$1" -X "$chain" || true; done
}

# Running here already: its process and what it wrote (the apiserver is slow to ask under software emulation).
running_here() {
  case "$part" in
    kube-proxy) pgrep -x kube-proxy && iptables -t nat -S KUBE-SERVICES ;;
    flanneld) pgrep -x flanneld && test -s /run/flannel/subnet.env ;;
  esac
}

case "$verb" in
start)
  if running_here >/dev/null 2>&1; then
    echo "$node: $part runs"
    exit 0
  fi
  label "labbook.dev/$part=run"
  wait_until 300 "its pod becoming Ready" pod_ready_here
  # Each wait ends as soon as its condition holds; the limits are for VMs under software emulation, where a
  # flanneld pod Running for minutes had not leased its subnet within 60 s (lab 07 in a full run on VMs,
  # 2026-12-04: it reaches the apiserver through 10.96.0.1, whose rules kube-proxy had only just written).
  case "$part" in
    kube-proxy) wait_until 240 "kube-proxy's first sync (the KUBE-SERVICES chain)" iptables -t nat -S KUBE-SERVICES ;;
    flanneld)
      wait_until 240 "flanneld's subnet lease" test -s /run/flannel/subnet.env
      wait_until 240 "the taint $FLANNEL_TAINT lifted" untaint
      ;;
  esac
  echo "$node: $part runs ($(pod_here))"
  ;;
stop | defer)
  label "labbook.dev/$part-"
  wait_until 120 "its pod going away" no_pod_here
  if [ "$verb" = defer ]; then
    case "$part" in
      kube-proxy)
        # kube-proxy's own clean-up of its iptables and nftables rules.
        kube-proxy --cleanup >/dev/null 2>&1 || true
        ;;
      flanneld)
        # What flanneld and its CNI plugin set up: the VXLAN device and its routes, the pods' bridge, the
        # lease file, and its NAT and forwarding rules. Pods on the pod network lose their network with cni0:
        # they are deleted, and wait for flanneld to come back. The CNI configuration stays, as on the embedded
        # cluster's nodes: it is the first in /etc/cni/net.d, so new pods wait for flanneld's subnet.env
        # rather than take a lab's own configuration (lab 03 writes 10-mynet.conf), and labs read it.
        wait_until 60 "the taint $FLANNEL_TAINT" kubectl taint node "$node" "$FLANNEL_TAINT=starting:NoSchedule" --overwrite
        ip link del flannel.1 2>/dev/null || true
        ip link del cni0 2>/dev/null || true
        rm -f /run/flannel/subnet.env
        rm -rf /var/lib/cni/networks/cbr0 /var/lib/cni/flannel
        drop_chains nat FLANNEL
        drop_chains filter FLANNEL
        kubectl get pods -A --field-selector "spec.nodeName=$node" \
          -o jsonpath='{range .items[*]}{.metadata.namespace} {.metadata.name} {.spec.hostNetwork}{"\n"}{end}' |
          while read -r ns name host_network; do
            [ -z "$name" ] || [ "$host_network" = true ] || kubectl -n "$ns" delete pod "$name" --wait=false >/dev/null
          done
        ;;
    esac
  fi
  echo "$node: $part stopped"
  ;;
esac
