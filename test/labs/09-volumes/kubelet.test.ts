// parseMountinfo: the lab compares a real pod's mounts with runPod's by reading /proc/self/mountinfo.
import assert from "node:assert/strict";
import { parseMountinfo } from "../../../labs/09-volumes/kubelet.ts";

describe("lab 09's mountinfo reader", () => {
  it("gives each mount point its root, options and filesystem type, the last mount at a point winning", () => {
    const mounts = parseMountinfo(
      [
        "893 782 0:209 / / rw,relatime master:256 - overlay overlay rw,lowerdir=/a",
        "910 893 0:87 /root/data /data ro,relatime - overlay labbook-root rw,lowerdir=/",
        "911 893 0:87 /root/data/logs /logs rw,relatime - overlay labbook-root rw",
        "913 893 0:194 / /etc/secret ro,relatime - tmpfs tmpfs rw,size=1k",
        "914 893 0:195 / /etc/secret rw,relatime - tmpfs tmpfs rw,size=2k",
        "not a mountinfo line",
        "",
      ].join("\n"),
    );
    assert.deepEqual(mounts.get("/data"), { root: "/root/data", options: "ro,relatime", fstype: "overlay" });
    assert.deepEqual(mounts.get("/logs"), { root: "/root/data/logs", options: "rw,relatime", fstype: "overlay" });
    assert.equal(mounts.get("/etc/secret")?.options, "rw,relatime");
    assert.equal(mounts.size, 4);
  });
});
