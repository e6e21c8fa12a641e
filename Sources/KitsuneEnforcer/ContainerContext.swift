// The container an enforcer runs in, for its events: the image it was protected from
// (KITSUNE_IMAGE_DIGEST, set by `kitsune image protect`), the container id (KITSUNE_CONTAINER_ID, set
// by kitsune-oci-runtime, else a 64-hex id in /proc/self/cgroup as podman, Docker, containerd and
// CRI-O name their cgroups) and the host name. Nothing is written outside a container.
import CKitsuneSys

/// Add a `container` object to an event when the enforcer runs in a container; on `started`, also
/// whether the enforcer is the container's PID 1 (it is not when a runtime override put another
/// program in front of it).
func containerFields(_ w: inout JSONObjectWriter, started: Bool) {
    let image = environment("KITSUNE_IMAGE_DIGEST")
    let id = environment("KITSUNE_CONTAINER_ID") ?? cgroupContainerID()
    guard image != nil || id != nil else { return }
    let (host, _) = readFile(Bytes(literal: "/proc/sys/kernel/hostname"), limit: 256)
    w.object("container") { c in
        if let v = image, !v.isEmpty { c.string("image_digest", v) }
        if let v = id, !v.isEmpty { c.string("id", v) }
        if let h = host?.trimmed(), !h.isEmpty { c.string("hostname", h) }
        if started { c.bool("enforcer_is_pid1", ks_getpid() == 1) }
    }
}

/// The first run of 64 hexadecimal digits in /proc/self/cgroup, if any.
func cgroupContainerID() -> Bytes? {
    let (text, _) = readFile(Bytes(literal: "/proc/self/cgroup"), limit: 16 << 10)
    guard let t = text else { return nil }
    var run = 0
    for (i, b) in t.enumerated() {
        let hex = (b >= 48 && b <= 57) || (b >= 97 && b <= 102)
        run = hex ? run + 1 : 0
        if run == 64 && (i + 1 == t.count || !((t[i + 1] >= 48 && t[i + 1] <= 57) || (t[i + 1] >= 97 && t[i + 1] <= 102))) {
            return Bytes(t[(i - 63)...i])
        }
    }
    return nil
}
