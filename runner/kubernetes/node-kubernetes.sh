#!/bin/sh
# Kubernetes in one embedded node: run by the netns backend in the node's own namespaces (nsenter), one
# phase per call, as runner/kubernetes/start.ts orders them. Every daemon is the real program, started
# detached inside the node's PID namespace: it dies with the node. Logs go to the node's own /var/log.
# Inputs: $1 the phase; NODE_NAME, NODE_IP, KUBE_BIN (the build's bin folder), CONTAINERD_TEMPLATE,
# CLUSTER_NAME, and for `prepare` the node's files as a tar archive on stdin.
# In the node it is also `labbook-kubernetes PHASE` (with those settings from /etc/kubernetes/labbook-node.env):
# a lab that defers flanneld or kube-proxy starts them itself with `labbook-kubernetes flanneld|kube-proxy`,
# and `labbook-kubernetes stop kube-proxy|flanneld` stops one (a fault). On VMs, infra/provision/labbook-kubernetes.sh.
set -eu
phase=$1
LOGS=/var/log/kubernetes
PKI=/etc/kubernetes/pki
export KUBECONFIG=/etc/kubernetes/admin.conf

# `start NAME COMMAND...`: a daemon of the node, in a session of its own, its output in $LOGS/NAME.log,
# with the node's environment rather than the host's: a TMPDIR of labbook's (its tests set one) does not
# exist in a node, and runc's `kubectl exec` would fail on it. LABBOOK_OWNER is the marker that finds a
# cluster's processes after a crash (host/procfs.ts): it stays.
start() {
  name=$1
  shift
  setsid -f env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    LABBOOK_OWNER="${LABBOOK_OWNER:-}" "$@" </dev/null >"$LOGS/$name.log" 2>&1
}

# `fail WHAT LOG`: the reason, with the tail of the log that says why.
fail() {
  echo "$NODE_NAME: $1; the end of $2:" >&2
  tail -n 15 "$2" >&2 || true
  exit 1
}

# `wait_for WHAT LOG SECONDS TEST...`: polls TEST every 50 ms.
wait_for() {
  what=$1 log=$2 tries=$(($3 * 20))
  shift 3
  until "$@" >/dev/null 2>&1; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || fail "$what did not come up" "$log"
    sleep 0.05
  done
}

# `ports_free PORT...`: as kubeadm's preflight, a port another program of the node already listens on
# is named with that program, instead of a component failing later on "address already in use".
ports_free() {
  for port in "$@"; do
    holder=$(ss -Hltnp "sport = :$port" 2>/dev/null | head -n 1)
    if [ -n "$holder" ]; then
      echo "$NODE_NAME: port $port is already in use there (${holder##* }); Kubernetes needs it: stop what listens on it, or start Kubernetes on a fresh cluster" >&2
      exit 1
    fi
  done
}

case "$phase" in
prepare)
  tar -x -C / --no-same-owner
  mkdir -p "$LOGS" /etc/kubernetes/manifests /opt/cni/bin /run/flannel /var/lib/etcd
  for component in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl kubeadm; do
    ln -sf "$KUBE_BIN/kube" "/usr/local/bin/$component"
  done
  ln -sf /etc/kubernetes/labbook-kubernetes /usr/local/bin/labbook-kubernetes
  ln -sf "$KUBE_BIN/flanneld" /usr/local/bin/flanneld
  # The CNI plugins: Debian's reference plugins (bridge, host-local, portmap...) and flannel's.
  for plugin in /usr/lib/cni/*; do ln -sf "$plugin" /opt/cni/bin/; done
  ln -sf "$KUBE_BIN/flannel" /opt/cni/bin/flannel

  # Mounts that kubelet makes for pods (secrets, emptyDirs) must reach containerd's containers.
  mount --make-rshared /
  # The node's cgroups (cgroup v1), each the root of its cgroup namespace: kubelet's kubepods tree and
  # runc's containers go below them, and are gone with the node (see host/cgroups.ts).
  mount -t tmpfs -o mode=755,nosuid,nodev,noexec cgroup /sys/fs/cgroup
  while IFS=: read -r _ controllers _; do
    [ -n "$controllers" ] || continue
    dir=/sys/fs/cgroup/${controllers#name=}
    mkdir -p "$dir"
    mount -t cgroup -o "$controllers" cgroup "$dir"
  done </proc/self/cgroup
  # kubelet writes these machine-wide settings at start (vm.overcommit_memory=1, kernel.panic=10...).
  # They are the whole machine's, so in a node each is a file of the node's own, bound over the setting:
  # kubelet reads and writes it there, and the kernel's value is never touched (the host invariant test
  # checks). /proc/sys itself is read-only in a node, and kubelet will not start if it cannot write them.
  mkdir -p /run/labbook/sysctl
  for key in vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys kernel/keys/root_maxbytes; do
    copy=/run/labbook/sysctl/$(echo "$key" | tr / .)
    cat "/proc/sys/$key" >"$copy"
    mount --bind "$copy" "/proc/sys/$key"
  done
  # kubelet's OOM watcher reads the kernel log.
  [ -e /dev/kmsg ] || mknod -m 600 /dev/kmsg c 1 11
  # What kubeadm's preflight asks of a node, in the node's own network namespace.
  echo 1 >/proc/sys/net/ipv4/ip_forward
  echo 1 >/proc/sys/net/bridge/bridge-nf-call-iptables
  ;;

runtime)
  # The images, imported once per build into a containerd root that each node copies (there is no
  # registry to pull from; see containerd-template.ts).
  cp -a "$CONTAINERD_TEMPLATE/." /var/lib/containerd/
  start containerd containerd --config /etc/containerd/config.toml
  wait_for containerd "$LOGS/containerd.log" 20 ctr version
  # kubelet gives up at once on a containerd whose CRI service is not there yet ("unknown service
  # runtime.v1.RuntimeService"): wait for the plugin too.
  wait_for "containerd's CRI plugin" "$LOGS/containerd.log" 20 sh -c 'ctr plugins ls | grep -q "io.containerd.grpc.v1 *cri .* ok"'
  ;;

control-plane)
  ports_free 2379 2380 2381 6443 10257 10259
  start etcd etcd --name "$NODE_NAME" --data-dir /var/lib/etcd \
    --listen-client-urls https://127.0.0.1:2379 --advertise-client-urls https://127.0.0.1:2379 \
    --listen-peer-urls https://127.0.0.1:2380 --initial-advertise-peer-urls https://127.0.0.1:2380 \
    --initial-cluster "$NODE_NAME=https://127.0.0.1:2380" --listen-metrics-urls http://127.0.0.1:2381 \
    --cert-file $PKI/etcd/server.crt --key-file $PKI/etcd/server.key --client-cert-auth --trusted-ca-file $PKI/etcd/ca.crt \
    --peer-cert-file $PKI/etcd/peer.crt --peer-key-file $PKI/etcd/peer.key --peer-client-cert-auth --peer-trusted-ca-file $PKI/etcd/ca.crt \
    --snapshot-count 10000
  start kube-apiserver kube-apiserver --advertise-address="$NODE_IP" --allow-privileged=true \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction --enable-bootstrap-token-auth=true \
    --client-ca-file=$PKI/ca.crt --tls-cert-file=$PKI/apiserver.crt --tls-private-key-file=$PKI/apiserver.key \
    --etcd-servers=https://127.0.0.1:2379 --etcd-cafile=$PKI/etcd/ca.crt \
    --etcd-certfile=$PKI/apiserver-etcd-client.crt --etcd-keyfile=$PKI/apiserver-etcd-client.key \
    --kubelet-client-certificate=$PKI/apiserver-kubelet-client.crt --kubelet-client-key=$PKI/apiserver-kubelet-client.key \
    --kubelet-preferred-address-types=InternalIP,Hostname \
    --proxy-client-cert-file=$PKI/front-proxy-client.crt --proxy-client-key-file=$PKI/front-proxy-client.key \
    --requestheader-client-ca-file=$PKI/front-proxy-ca.crt --requestheader-allowed-names=front-proxy-client \
    --requestheader-extra-headers-prefix=X-Remote-Extra- --requestheader-group-headers=X-Remote-Group \
    --requestheader-username-headers=X-Remote-User --secure-port=6443 \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file=$PKI/sa.pub --service-account-signing-key-file=$PKI/sa.key \
    --service-cluster-ip-range="$SERVICE_CIDR"
  wait_for "kube-apiserver" "$LOGS/kube-apiserver.log" 60 kubectl get --raw /readyz
  # --enable-hostpath-provisioner: dynamic provisioning (StorageClass provisioner kubernetes.io/host-path) for
  # the volumes lab, as Kubernetes' own tests use it: directories under /tmp/hostpath_pv on node1 (one node only).
  # Without leader election: one of each, and no wait for a lease at start. A higher client rate than the
  # default 20 requests/s: at start the controller manager builds some 40 controllers, each asking the
  # apiserver for its own service account's token, and the default throttles that to about 5 s.
  start kube-controller-manager kube-controller-manager --kube-api-qps=200 --kube-api-burst=400 --allocate-node-cidrs=true --cluster-cidr="$POD_CIDR" \
    --node-cidr-mask-size=24 --service-cluster-ip-range="$SERVICE_CIDR" --cluster-name="$CLUSTER_NAME" \
    --kubeconfig=/etc/kubernetes/controller-manager.conf \
    --authentication-kubeconfig=/etc/kubernetes/controller-manager.conf \
    --authorization-kubeconfig=/etc/kubernetes/controller-manager.conf \
    --bind-address=127.0.0.1 --client-ca-file=$PKI/ca.crt --requestheader-client-ca-file=$PKI/front-proxy-ca.crt \
    --cluster-signing-cert-file=$PKI/ca.crt --cluster-signing-key-file=$PKI/ca.key --root-ca-file=$PKI/ca.crt \
    --service-account-private-key-file=$PKI/sa.key --use-service-account-credentials=true \
    --controllers='*,bootstrapsigner,tokencleaner' --leader-elect=false --enable-hostpath-provisioner=true
  start kube-scheduler kube-scheduler --kubeconfig=/etc/kubernetes/scheduler.conf \
    --authentication-kubeconfig=/etc/kubernetes/scheduler.conf --authorization-kubeconfig=/etc/kubernetes/scheduler.conf \
    --bind-address=127.0.0.1 --leader-elect=false --kube-api-qps=200 --kube-api-burst=400
  kubectl --kubeconfig /etc/kubernetes/super-admin.conf apply --server-side -f /etc/kubernetes/addons.yaml >"$LOGS/addons.log" 2>&1 || fail "the add-ons (CoreDNS, flannel's RBAC, the image policy) were not applied" "$LOGS/addons.log"
  ;;

kubelet)
  ports_free 10248 10250
  start kubelet kubelet --config=/var/lib/kubelet/config.yaml --kubeconfig=/etc/kubernetes/kubelet.conf \
    --node-ip="$NODE_IP" --hostname-override="$NODE_NAME"
  ;;

kube-proxy)
  ports_free 10249 10256
  start kube-proxy kube-proxy --config=/var/lib/kube-proxy/config.yaml
  # Its first sync writes the chains: until then a Service has no rule anywhere.
  wait_for "kube-proxy's first sync (the KUBE-SERVICES chain)" "$LOGS/kube-proxy.log" 30 iptables -t nat -S KUBE-SERVICES
  ;;

flanneld)
  # Once the controller manager has given the node its pod CIDR: flanneld leases exactly that subnet
  # and exits if there is none yet.
  start flanneld env NODE_NAME="$NODE_NAME" flanneld --kube-subnet-mgr --kubeconfig-file=/etc/kubernetes/flannel.conf \
    --iface=eth0 --ip-masq
  wait_for "flanneld's subnet lease" "$LOGS/flanneld.log" 30 test -s /run/flannel/subnet.env
  # Pods may come now (the taint is node-files.ts's FLANNEL_TAINT).
  kubectl taint node "$NODE_NAME" labbook.dev/flannel- >/dev/null
  ;;

stop)
  # `labbook-kubernetes stop kube-proxy|flanneld`: the process ends, and what it wrote stays (a stopped
  # kube-proxy's chains go stale). By name inside the node's own PID namespace, which holds only the node's.
  part=${2:-}
  case "$part" in kube-proxy | flanneld) ;; *) echo "usage: labbook-kubernetes stop kube-proxy|flanneld" >&2; exit 2 ;; esac
  pkill -x "$part" || true
  wait_for "$part's exit" "$LOGS/$part.log" 10 sh -c "! pgrep -x $part"
  echo "$NODE_NAME: $part stopped"
  ;;

*)
  echo "node-kubernetes.sh: unknown phase $phase" >&2
  exit 2
  ;;
esac
