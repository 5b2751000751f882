// `vagrant ssh-config` as Vagrant 2.3 prints it for libvirt and VirtualBox machines.
import assert from "node:assert/strict";
import { parseSshConfig } from "../../../runner/backend/vagrant/ssh-config.ts";

const LIBVIRT = `Host node1
  HostName 192.168.121.23
  User vagrant
  Port 22
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
  PasswordAuthentication no
  IdentityFile /home/me/labbook/.vagrant/machines/node1/libvirt/private_key
  IdentitiesOnly yes
  LogLevel FATAL
  PubkeyAcceptedKeyTypes +ssh-rsa
  HostKeyAlgorithms +ssh-rsa

Host node2
  HostName 192.168.121.87
  User vagrant
  Port 22
  IdentityFile "/home/me/my labs/.vagrant/machines/node2/libvirt/private_key"
  IdentityFile /home/me/.vagrant.d/insecure_private_key
`;

describe("vagrant ssh-config", () => {
  it("reads each machine's address, port, user and keys, quoted paths included", () => {
    const endpoints = parseSshConfig(LIBVIRT);
    assert.deepEqual([...endpoints.keys()], ["node1", "node2"]);
    assert.deepEqual(endpoints.get("node1"), { host: "192.168.121.23", port: 22, user: "vagrant", identityFiles: ["/home/me/labbook/.vagrant/machines/node1/libvirt/private_key"] });
    assert.deepEqual(endpoints.get("node2")?.identityFiles, ["/home/me/my labs/.vagrant/machines/node2/libvirt/private_key", "/home/me/.vagrant.d/insecure_private_key"]);
  });

  it("reads VirtualBox's forwarded port and a ProxyCommand", () => {
    const endpoints = parseSshConfig("Host node1\n  HostName 127.0.0.1\n  Port 2222\n  User vagrant\n  ProxyCommand ip netns exec lab socat - TCP:%h:%p\n");
    assert.deepEqual(endpoints.get("node1"), { host: "127.0.0.1", port: 2222, user: "vagrant", identityFiles: [], proxyCommand: "ip netns exec lab socat - TCP:%h:%p" });
  });

  it("names the machine or line it cannot use", () => {
    assert.throws(() => parseSshConfig("Host node3\n  User vagrant\n"), /machine "node3" has no HostName/);
    assert.throws(() => parseSshConfig("HostName 1.2.3.4\n"), /line 1: "HostName" comes before any Host/);
    assert.throws(() => parseSshConfig("Host node1\n  HostName h\n  Port 99999\n"), /machine "node1" has port "99999"/);
    assert.throws(() => parseSshConfig(""), /printed no machine/);
  });
});
