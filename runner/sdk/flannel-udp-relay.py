#!/usr/bin/env python3
"""flannel's udp backend, in userspace, the way flanneld's proxy does it (lab 05).

usage: flannel-udp-relay.py TUN PORT PIDFILE SUBNET=PEER_IP ...
  e.g. flannel-udp-relay.py flannel0 8285 /run/flannel/udp-relay.pid 10.244.2.0/24=192.168.0.12

It attaches to the TUN device TUN (created beforehand with `ip tuntap add TUN mode tun`).
Every packet the kernel routes into TUN is an IP packet with no other header. The relay reads
its destination address, finds the peer node whose pod subnet holds it (the table built from
the leases in etcd), and sends the whole packet as the payload of one UDP datagram to
PEER_IP:PORT. What arrives on UDP PORT from a peer is written to TUN: the kernel receives it as
if flannel0 were a wire, and routes it on to cni0 and the pod.
"""
import fcntl, ipaddress, os, select, socket, struct, sys

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000


def main() -> None:
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    device, port, pidfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    table = []  # (network, mask, peer) for each other node's subnet
    for entry in sys.argv[4:]:
        subnet, peer = entry.split("=")
        net = ipaddress.IPv4Network(subnet)
        table.append((int(net.network_address), int(net.netmask), peer))

    tun = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(tun, TUNSETIFF, struct.pack("16sH", device.encode(), IFF_TUN | IFF_NO_PI))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    udp.bind(("0.0.0.0", port))
    with open(pidfile, "w") as f:
        f.write(f"{os.getpid()}\n")
    print(f"relay: {device} <-> udp/{port}; " + ", ".join(sys.argv[4:]), flush=True)

    while True:
        ready, _, _ = select.select([tun, udp], [], [])
        if tun in ready:
            packet = os.read(tun, 65535)
            if len(packet) >= 20 and packet[0] >> 4 == 4:
                dst = struct.unpack("!I", packet[16:20])[0]
                peer = next((p for n, m, p in table if dst & m == n), None)
                if peer is not None:
                    udp.sendto(packet, (peer, port))
        if udp in ready:
            packet, _ = udp.recvfrom(65535)
            os.write(tun, packet)


if __name__ == "__main__":
    main()
