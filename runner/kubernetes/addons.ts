// What `kubeadm init` and kube-flannel.yml add to a new cluster, and one thing of labbook's own:
// CoreDNS as the cluster's DNS, flanneld's permissions, and a policy that refuses images no node has.
import { CLUSTER_DOMAIN, DNS_SERVICE_IP } from "./layout.ts";
import { FLANNEL_USER } from "./pki.ts";

/** CoreDNS as kubeadm deploys it, from labbook's image, with no upstream: the LAN has no resolver to forward to. */
function coreDns(image: string): string {
  return `apiVersion: v1
kind: ServiceAccount
metadata: {name: coredns, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:coredns"}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}
subjects:
- {kind: ServiceAccount, name: coredns, namespace: kube-system}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns, namespace: kube-system}
data:
  Corefile: |
    .:53 {
        errors
        health {
           lameduck 5s
        }
        ready
        kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {
           pods insecure
           fallthrough in-addr.arpa ip6.arpa
           ttl 30
        }
        prometheus :9153
        cache 30
        reload
        loadbalance
    }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
  namespace: kube-system
  labels: {k8s-app: kube-dns}
spec:
  replicas: 2
  selector:
    matchLabels: {k8s-app: kube-dns}
  template:
    metadata:
      labels: {k8s-app: kube-dns}
    spec:
      priorityClassName: system-cluster-critical
      serviceAccountName: coredns
      tolerations:
      - {key: CriticalAddonsOnly, operator: Exists}
      - {key: node-role.kubernetes.io/control-plane, effect: NoSchedule}
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            podAffinityTerm:
              labelSelector: {matchLabels: {k8s-app: kube-dns}}
              topologyKey: kubernetes.io/hostname
      containers:
      - name: coredns
        image: ${image}
        args: ["-conf", "/etc/coredns/Corefile"]
        volumeMounts:
        - {name: config-volume, mountPath: /etc/coredns, readOnly: true}
        ports:
        - {containerPort: 53, name: dns, protocol: UDP}
        - {containerPort: 53, name: dns-tcp, protocol: TCP}
        - {containerPort: 9153, name: metrics, protocol: TCP}
        livenessProbe:
          httpGet: {path: /health, port: 8080}
          initialDelaySeconds: 60
          timeoutSeconds: 5
          failureThreshold: 5
        # Every second, not kubeadm's ten: a just-started kubelet waits a random part of the period
        # before its first probe, and the cluster is not ready until DNS is.
        readinessProbe:
          httpGet: {path: /ready, port: 8181}
          periodSeconds: 1
        securityContext:
          allowPrivilegeEscalation: false
          capabilities: {add: [NET_BIND_SERVICE], drop: [ALL]}
          readOnlyRootFilesystem: true
      dnsPolicy: Default
      volumes:
      - name: config-volume
        configMap:
          name: coredns
          items: [{key: Corefile, path: Corefile}]
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns, kubernetes.io/name: CoreDNS}
spec:
  selector: {k8s-app: kube-dns}
  clusterIP: ${DNS_SERVICE_IP}
  ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, protocol: TCP}
  - {name: metrics, port: 9153, protocol: TCP}
`;
}

/** What kube-flannel.yml grants flanneld's service account, here bound to flanneld's client certificate. */
const FLANNEL_RBAC = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: flannel}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get]
- apiGroups: [""]
  resources: [nodes]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [nodes/status]
  verbs: [patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: flannel}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: flannel}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: "${FLANNEL_USER}"}
`;

/**
 * No registry is reachable, so a pod whose image no node has can never start. Kubernetes' own
 * ValidatingAdmissionPolicy refuses it when it is created, with a message that names the images that
 * exist: a Pod at `kubectl apply`, a Deployment's (or Job's...) template likewise, instead of an
 * ImagePullBackOff minutes later.
 */
export function imagePolicy(images: string[]): string {
  const local = `[${images.map((i) => `'${i}', 'docker.io/${i}'`).join(", ")}]`;
  const shown = images.filter((i) => !i.includes("pause")).join(", ");
  const policy = (name: string, rules: string, spec: string) => `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: ${name}}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
${rules}
  variables:
  - {name: local, expression: "${local}"}
  - name: images
    expression: "${spec}.containers.map(c, c.image) + (has(${spec}.initContainers) ? ${spec}.initContainers.map(c, c.image) : [])"
  - {name: missing, expression: "variables.images.filter(i, !(i in variables.local))"}
  validations:
  - expression: "size(variables.missing) == 0"
    messageExpression: "'image ' + variables.missing.join(', ') + ' is not on this cluster (labbook builds its images and no registry is reachable); local images: ${shown}'"
    reason: Invalid
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: ${name}}
spec:
  policyName: ${name}
  validationActions: [Deny]
`;
  const rule = (group: string, version: string, resources: string) =>
    `    - {apiGroups: ["${group}"], apiVersions: ["${version}"], operations: [CREATE, UPDATE], resources: [${resources}]}`;
  return [
    policy("labbook-local-images-pods", rule("", "v1", "pods"), "object.spec"),
    policy("labbook-local-images-templates", [rule("apps", "v1", "deployments, replicasets, statefulsets, daemonsets"), rule("batch", "v1", "jobs")].join("\n"), "object.spec.template.spec"),
    policy("labbook-local-images-cronjobs", rule("batch", "v1", "cronjobs"), "object.spec.jobTemplate.spec.template.spec"),
  ].join("---\n");
}

/** What `kubeadm init` binds so that admin.conf's user (group kubeadm:cluster-admins) is a cluster admin. */
const CLUSTER_ADMINS = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "kubeadm:cluster-admins"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: "kubeadm:cluster-admins"}
`;

/** The manifests the control plane applies once it is up (with super-admin.conf), as one multi-document YAML. */
export function addonManifests(images: string[], coreDnsImage: string): string {
  return [CLUSTER_ADMINS, FLANNEL_RBAC, coreDns(coreDnsImage), imagePolicy(images)].join("---\n");
}
