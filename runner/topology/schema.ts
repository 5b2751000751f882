// JSON Schema of infra/cluster.yaml. Structural rules live here; rules that relate
// fields to each other (an address inside the network, unique names) live in validate.ts.

export const NODE_NAME_PATTERN = "^[a-z][a-z0-9-]{0,11}$";

export const topologySchema = {
  type: "object",
  additionalProperties: false,
  required: ["network", "nodes"],
  properties: {
    network: {
      type: "object",
      additionalProperties: false,
      required: ["cidr", "gateway"],
      properties: {
        cidr: { type: "string", description: "the nodes' LAN, e.g. 192.168.0.0/24" },
        gateway: { type: "string", description: "the LAN bridge's address" },
        internet: { type: "string", description: "a stand-in internet host behind the gateway, at a documentation address" },
      },
    },
    kubernetes: {
      description: "run Kubernetes on the cluster (as labbook up --kubernetes): true, or its settings",
      oneOf: [
        { type: "boolean" },
        {
          type: "object",
          additionalProperties: false,
          properties: {
            version: { type: "string", description: "the release; labbook builds one (runner/kubernetes/versions.ts)" },
            kubelet: { type: "object", description: "KubeletConfiguration fields that override labbook's, e.g. maxPods" },
            defer: { type: "array", uniqueItems: true, items: { enum: ["flanneld", "kube-proxy"] }, description: "parts a lab starts itself (labbook-kubernetes on a node), after building the same by hand" },
          },
        },
      ],
    },
    nodes: {
      type: "array",
      minItems: 1,
      maxItems: 64,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name", "ip"],
        properties: {
          // Short because interface names derived from it must fit Linux's 15 characters.
          name: { type: "string", pattern: NODE_NAME_PATTERN },
          ip: { type: "string" },
          roles: { type: "array", items: { type: "string", minLength: 1 }, uniqueItems: true },
          memory: { type: "integer", minimum: 256 },
          cpus: { type: "integer", minimum: 1 },
        },
      },
    },
  },
} as const;
