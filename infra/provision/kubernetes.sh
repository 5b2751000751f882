#!/bin/sh
# Kubernetes on a Vagrant VM, offline (LABBOOK_KUBERNETES=1): the real `kubeadm init` on the control-plane node
# and `kubeadm join` on the others, from what `labbook box build` baked into the box: labbook's Kubernetes
# build (/usr/local/bin/kube as kubeadm, kubelet and kubectl), containerd and runc from Debian, and every image
# already in containerd's store (kubeadm's control-plane images, kube-proxy's, CoreDNS's, flannel's and the
# labs' own). No network beyond the VMs' LAN is used. With a box of your own and internet access, set
# LABBOOK_KUBERNETES_ONLINE=1 for kubernetes-online.sh instead.
# Usage: kubernetes.sh init|join NODE_IP CONTROL_PLANE_IP TOKEN POD_CIDR [FLANNEL_MANIFEST [LABBOOK_KUBERNETES]]
set -eu
role="$1" node_ip="$2" control_plane="$3" token="$4" pod_cidr="$5" flannel="${6:-/tmp/labbook-kube-flannel.yaml}"
version_file=/etc/labbook/kubernetes-version

# The node's `labbook-kubernetes` (labbook-kubernetes.sh), as the embedded nodes have it: installed on every
# provisioning run, so that a `vagrant provision` brings it up to date.
install -m 0755 "${7:-/tmp/labbook-kubernetes}" /usr/local/bin/labbook-kubernetes

if [ -e /etc/kubernetes/kubelet.conf ]; then
  echo "labbook: $(hostname) is already part of the cluster"
  exit 0
fi
if [ ! -x /usr/local/bin/kubeadm ] || [ ! -f "$version_file" ]; then
  echo "labbook: this box has no Kubernetes in it (no /usr/local/bin/kubeadm or $version_file)." >&2
  echo "  Build labbook's box, which bakes Kubernetes in: sudo labbook box build (then vagrant up again)," >&2
  echo "  or, with a box of your own and internet access from the VMs: LABBOOK_KUBERNETES_ONLINE=1." >&2
  exit 2
fi
version=$(cat "$version_file")
echo "labbook: Kubernetes $version on $(hostname) ($role), offline, from the box"

# What kubeadm's preflight checks want, in this VM only.
swapoff -a
sed -i '/\sswap\s/ s/^/#/' /etc/fstab
printf 'overlay\nbr_netfilter\n' > /etc/modules-load.d/kubernetes.conf
modprobe overlay
modprobe br_netfilter
printf 'net.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\nnet.ipv4.ip_forward = 1\n' > /etc/sysctl.d/90-kubernetes.conf
sysctl --system >/dev/null

# containerd with systemd's cgroups, and labbook's pause image as every pod's sandbox. The images are in
# its store already (the box holds /var/lib/containerd); kubeadm's preflight also wants the pause image
# under its own tag.
mkdir -p /etc/containerd
containerd config default | sed -e 's/SystemdCgroup = false/SystemdCgroup = true/' \
  -e 's#sandbox_image = .*#sandbox_image = "docker.io/labbook/pause:1"#' > /etc/containerd/config.toml
systemctl restart containerd
pause_tag=$(kubeadm config images list --kubernetes-version "$version" --image-repository labbook 2>/dev/null | sed -n 's#^labbook/pause:##p')
ctr -n k8s.io images tag docker.io/labbook/pause:1 "docker.io/labbook/pause:${pause_tag:-3.10.1}" >/dev/null 2>&1 || true

# The CNI plugins: flannel's from the box, the reference plugins (bridge, host-local, portmap, ...) from Debian.
mkdir -p /opt/cni/bin /etc/cni/net.d
for plugin in /usr/lib/cni/*; do [ -e "/opt/cni/bin/${plugin##*/}" ] || ln -s "$plugin" "/opt/cni/bin/${plugin##*/}"; done

# The LAN address, not the NAT address Vagrant's first NIC has on every VM. Containers' statistics every 30 s
# rather than 10 s: kubelet was node1's busiest process under software emulation (about a quarter of its 2 vCPUs
# while lab 09 ran, 2026-12-03), and these statistics only feed eviction and `kubectl top`.
echo "KUBELET_EXTRA_ARGS=--node-ip=${node_ip} --housekeeping-interval=30s" > /etc/default/kubelet
systemctl enable kubelet >/dev/null 2>&1

config=/etc/kubernetes/labbook-kubeadm.yaml
mkdir -p /etc/kubernetes
# kubeadm probes etcd at /livez and /readyz, which etcd 3.5.11 added; Debian's 3.4 answers 404 there, and
# kubelet would restart a healthy etcd over and over (and the apiserver with it). Its /health says the same.
patches=/etc/kubernetes/labbook-patches
mkdir -p "$patches"
# kubelet's patience with the control plane, for a VM under software emulation. kubeadm's probes restart a
# component whose health check fails for 80 s (liveness) or that is not healthy 240 s after it starts (startup).
# On 2 host cores a booting VM next to node1 starved it that long: its kubelet restarted the apiserver (node2's
# join then met "connection refused" on 192.168.0.11:6443, 2026-12-03), and a restarted apiserver under that load
# failed its start hooks and exited, over and over. A slow control plane recovers by itself; a restarted one may
# not. Now a component is restarted after 10 minutes of failed checks, and has 15 minutes to start. The
# apiserver's, the scheduler's and etcd's readiness (only their mirror pods' Ready) is checked every 10 s, not 1 s:
# over HTTPS, each check is a TLS handshake on both ends, which software emulation makes costly.
patient_probes='- {op: add, path: /spec/containers/0/livenessProbe/timeoutSeconds, value: 30}
- {op: add, path: /spec/containers/0/livenessProbe/failureThreshold, value: 20}
- {op: add, path: /spec/containers/0/livenessProbe/periodSeconds, value: 30}
- {op: add, path: /spec/containers/0/startupProbe/timeoutSeconds, value: 30}
- {op: add, path: /spec/containers/0/startupProbe/failureThreshold, value: 90}'
sparse_readiness='- {op: add, path: /spec/containers/0/readinessProbe/periodSeconds, value: 10}'
printf '%s\n' "$patient_probes" > "$patches/kube-controller-manager+json.yaml"
for component in kube-apiserver kube-scheduler; do
  printf '%s\n%s\n' "$patient_probes" "$sparse_readiness" > "$patches/$component+json.yaml"
done
cat > "$patches/etcd+json.yaml" <<EOF
- {op: replace, path: /spec/containers/0/livenessProbe/httpGet/path, value: /health}
- {op: replace, path: /spec/containers/0/readinessProbe/httpGet/path, value: /health}
- {op: replace, path: /spec/containers/0/startupProbe/httpGet/path, value: /health}
$patient_probes
$sparse_readiness
EOF
# Both roles register the node the same way: by its name, on containerd, offline, at its LAN address.
# taints: [] keeps node1 schedulable: the labs run pods on every node, as in the embedded cluster (kubeadm would
# taint the control-plane node NoSchedule, and a PV pinned to node1 would leave its pod Pending).
node_registration="nodeRegistration:
  name: $(hostname)
  taints: []
  criSocket: unix:///run/containerd/containerd.sock
  imagePullPolicy: Never
  kubeletExtraArgs:
  - {name: node-ip, value: \"${node_ip}\"}
  - {name: node-labels, value: \"labbook.dev/kube-proxy=run,labbook.dev/flanneld=run\"}"
case "$role" in
  init)
    cat > "$config" <<EOF
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
bootstrapTokens:
- token: "${token}"
  ttl: "0s"
localAPIEndpoint:
  advertiseAddress: ${control_plane}
  bindPort: 6443
${node_registration}
patches:
  directory: ${patches}
timeouts:
  controlPlaneComponentHealthCheck: 20m0s
  kubeletHealthCheck: 10m0s
  kubernetesAPICall: 5m0s
  etcdAPICall: 5m0s
  tlsBootstrap: 10m0s
  discovery: 10m0s
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: ${version}
imageRepository: labbook
# ECDSA keys rather than kubeadm's default RSA-2048: the server's signature in each TLS handshake costs a
# fraction of RSA's. Under software emulation on a slow day (2026-12-03) node1's apiserver could no longer reach
# itself ("TLS handshake timeout" on [::1]:6443) once the other nodes joined, exited on its start hooks, and
# restarted over and over: every component re-connecting at once made handshakes the VM's main work.
encryptionAlgorithm: ECDSA-P256
# etcd on the loopback only, as on the embedded cluster: labs 05 and 06 run an etcd of their own for flanneld on
# the node's address (192.168.0.11:2379), where kubeadm's would otherwise listen too.
etcd:
  local:
    imageRepository: labbook
    imageTag: 3.4.23-0
    extraArgs:
    - {name: listen-client-urls, value: "https://127.0.0.1:2379"}
    - {name: advertise-client-urls, value: "https://127.0.0.1:2379"}
    - {name: listen-peer-urls, value: "https://127.0.0.1:2380"}
    - {name: initial-advertise-peer-urls, value: "https://127.0.0.1:2380"}
    - {name: initial-cluster, value: "$(hostname)=https://127.0.0.1:2380"}
    # Under software emulation a busy VM's etcd took over 7 s for a write ("etcdserver: request timed out" at a
    # lab's kubectl apply, once per full run). etcd allows a request 5 s plus two election timeouts: 15 s with
    # these. A single member still elects itself at once (it fast-forwards its election ticks).
    - {name: heartbeat-interval, value: "500"}
    - {name: election-timeout, value: "5000"}
dns: {imageRepository: labbook, imageTag: "1"}
networking: {podSubnet: ${pod_cidr}, serviceSubnet: 10.96.0.0/12, dnsDomain: cluster.local}
# One control-plane node: no leader election, as on the embedded cluster. Under software emulation a lease renewal
# often misses its 10 s deadline while a lab keeps the VM busy; the controller manager and the scheduler then exit,
# and with them the DaemonSets and pods that a lab waits for.
# Dynamic provisioning (StorageClass provisioner kubernetes.io/host-path) for the volumes lab, as on the
# embedded cluster: directories under /tmp/hostpath_pv on the node of the claim's pod.
# The controller manager deletes (reclaim policy Delete) and provisions hostPath volumes itself, under /tmp:
# the node's /tmp, as on the embedded cluster where it is a process of the node, not its container's.
controllerManager:
  extraArgs:
  - {name: leader-elect, value: "false"}
  - {name: enable-hostpath-provisioner, value: "true"}
  # A node is NotReady after 2 minutes without news from its kubelet (kubeadm's default: 40 s). Under software
  # emulation a busy VM's kubelet posted its status late, and nodes flapped to NotReady a minute after "up".
  - {name: node-monitor-grace-period, value: "2m0s"}
  extraVolumes:
  - {name: node-tmp, hostPath: /tmp, mountPath: /tmp, pathType: Directory}
scheduler:
  extraArgs:
  - {name: leader-elect, value: "false"}
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
EOF
    kubeadm init --config "$config" --skip-token-print
    for home in /root /home/vagrant; do
      install -d -m 700 "$home/.kube"
      cp /etc/kubernetes/admin.conf "$home/.kube/config"
    done
    chown -R vagrant: /home/vagrant/.kube 2>/dev/null || true
    export KUBECONFIG=/etc/kubernetes/admin.conf
    # Each step retried: under software emulation the fresh control plane answers "etcdserver: request timed out"
    # now and then for its first minutes. Every step is idempotent (patch, apply, wait).
    retried() {
      for attempt in 1 2 3 4 5 6 7 8 9 10; do
        "$@" && return 0
        echo "labbook: retrying ($attempt of 10): $*" >&2
        sleep 6
      done
      return 1
    }
    # kube-proxy runs on the nodes labelled for it, as flannel does (its manifest): `labbook-kubernetes` starts
    # and stops each on one node, for the labs that build them by hand first.
    retried kubectl -n kube-system patch daemonset kube-proxy --type merge \
      -p '{"spec":{"template":{"spec":{"nodeSelector":{"labbook.dev/kube-proxy":"run"}}}}}' >/dev/null
    retried kubectl apply -f "$flannel"
    # Pods whose images are not in the box are refused when created, with the images there are (no registry).
    if [ -f /etc/labbook/image-policy.yaml ]; then retried kubectl apply -f /etc/labbook/image-policy.yaml >/dev/null; fi
    # Ready once flanneld has leased the node's pod CIDR and the CNI configuration is in place.
    retried kubectl wait --for=condition=Ready "node/$(hostname)" --timeout=15m
    ;;
  join)
    cat > "$config" <<EOF
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: "${control_plane}:6443"
    token: "${token}"
    unsafeSkipCAVerification: true
${node_registration}
timeouts:
  kubeletHealthCheck: 10m0s
  tlsBootstrap: 10m0s
  discovery: 15m0s
EOF
    # The token is shared through the Vagrantfile, and the CA is not checked: a lab's private network,
    # reachable only from its own VMs. The control plane may still be starting: discovery waits for it.
    # kubeadm join has no retry of its own: under software emulation node1's apiserver answered one of its
    # first requests too late (node2's join failed on reading the kube-proxy ConfigMap, 2026-12-03). Each
    # attempt after a failed one starts from `kubeadm reset`, which leaves this configuration in place.
    for attempt in 1 2 3; do
      if kubeadm join --config "$config"; then break; fi
      if [ "$attempt" = 3 ]; then echo "labbook: kubeadm join failed 3 times" >&2; exit 1; fi
      echo "labbook: kubeadm join failed (attempt $attempt of 3): joining again after kubeadm reset" >&2
      kubeadm reset -f >/dev/null 2>&1 || true
      sleep 15
    done
    ;;
  *)
    echo "labbook: role must be init or join, got $role" >&2
    exit 2
    ;;
esac
echo "labbook: $(hostname) joined Kubernetes $version as $role"
