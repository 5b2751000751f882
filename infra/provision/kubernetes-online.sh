#!/bin/sh
# The online alternative to kubernetes.sh (LABBOOK_KUBERNETES=1 LABBOOK_KUBERNETES_ONLINE=1), for users with a
# box of their own and internet access from the VMs: containerd from Debian; kubeadm, kubelet and kubectl from
# pkgs.k8s.io; flannel's upstream manifest. The first node runs `kubeadm init`, the others join it. It is NOT
# tested here (this machine has no internet); kubernetes.sh, the offline path from labbook's box, is.
# Usage: kubernetes-online.sh init|join NODE_IP CONTROL_PLANE_IP TOKEN POD_CIDR
set -eu
role="$1" node_ip="$2" control_plane="$3" token="$4" pod_cidr="$5"
version="${LABBOOK_KUBERNETES_VERSION:-v1.30}"
export DEBIAN_FRONTEND=noninteractive

if [ -e /etc/kubernetes/kubelet.conf ]; then
  echo "labbook: $(hostname) is already part of the cluster"
  exit 0
fi

# What kubeadm's preflight checks want.
swapoff -a
sed -i '/\sswap\s/ s/^/#/' /etc/fstab
printf 'overlay\nbr_netfilter\n' > /etc/modules-load.d/kubernetes.conf
modprobe overlay
modprobe br_netfilter
printf 'net.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\nnet.ipv4.ip_forward = 1\n' > /etc/sysctl.d/90-kubernetes.conf
sysctl --system >/dev/null

apt-get update -q
apt-get install -y -q --no-install-recommends containerd apt-transport-https ca-certificates curl gpg
mkdir -p /etc/containerd
containerd config default | sed 's/SystemdCgroup = false/SystemdCgroup = true/' > /etc/containerd/config.toml
systemctl restart containerd

install -d -m 755 /etc/apt/keyrings
curl -fsSL "https://pkgs.k8s.io/core:/stable:/${version}/deb/Release.key" | gpg --dearmor --yes -o /etc/apt/keyrings/kubernetes.gpg
echo "deb [signed-by=/etc/apt/keyrings/kubernetes.gpg] https://pkgs.k8s.io/core:/stable:/${version}/deb/ /" > /etc/apt/sources.list.d/kubernetes.list
apt-get update -q
apt-get install -y -q kubelet kubeadm kubectl
apt-mark hold kubelet kubeadm kubectl
# The private network's address, not the NAT address Vagrant's first interface has on every VM.
echo "KUBELET_EXTRA_ARGS=--node-ip=${node_ip}" > /etc/default/kubelet
systemctl restart kubelet

case "$role" in
  init)
    kubeadm init --apiserver-advertise-address "$control_plane" --pod-network-cidr "$pod_cidr" --token "$token" --token-ttl 0
    for home in /root /home/vagrant; do
      install -d -m 700 "$home/.kube"
      cp /etc/kubernetes/admin.conf "$home/.kube/config"
    done
    chown -R vagrant: /home/vagrant/.kube 2>/dev/null || true
    # A pod network, so that nodes become Ready. The labs build Flannel and Calico by hand on the embedded
    # cluster; here one runs for the Kubernetes steps.
    kubectl --kubeconfig /etc/kubernetes/admin.conf apply -f https://github.com/flannel-io/flannel/releases/latest/download/kube-flannel.yml
    # Flannel would pick the interface of the default route: Vagrant's NAT, the same address on every VM.
    kubectl --kubeconfig /etc/kubernetes/admin.conf -n kube-flannel patch daemonset kube-flannel-ds --type json \
      -p "[{\"op\": \"add\", \"path\": \"/spec/template/spec/containers/0/args/-\", \"value\": \"--iface-can-reach=${control_plane}\"}]"
    ;;
  join)
    # The token is shared through the Vagrantfile; the CA is not checked: a lab's private network,
    # reachable only from its own VMs.
    timeout 600 sh -c "until curl -ksf https://${control_plane}:6443/healthz >/dev/null; do sleep 5; done"
    kubeadm join "${control_plane}:6443" --token "$token" --discovery-token-unsafe-skip-ca-verification
    ;;
  *)
    echo "labbook: role must be init or join, got $role" >&2
    exit 2
    ;;
esac
echo "labbook: $(hostname) joined Kubernetes as $role"
