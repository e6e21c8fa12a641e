// Honeypot credentials: decoy AWS keys planted in the command's environment and in a decoy
// credentials file, before the command starts. The function never uses them; an attacker who dumps
// the environment or goes looking for credentials finds them. Uses are reported by the exec judge
// (a decoy in an exec's arguments or environment) and by the sidecar's inotify watch (the file).
import CKitsuneSys

/// What was planted: environment entries for the command, and the files to watch.
struct PlantedHoneypots {
    /// `NAME=value` entries to add to the command's environment.
    var environment: [Bytes] = []
    /// Decoy files to watch (to be planted, or already present).
    var files: [Bytes] = []
    /// Decoy files still to write, with their content: the sidecar writes them (and starts watching)
    /// while the command's sandbox is being set up, and the command is executed only once it has.
    var toWrite: [(path: Bytes, content: Bytes)] = []
}

/// Generate the decoy values, list the decoy files to write (``PlantedHoneypots/toWrite``), and record both in the policy (so the judge
/// recognises the values and ignores the variables it planted itself). Real variables are never
/// replaced: a decoy whose name is already set is skipped.
func plantHoneypots(_ policy: inout Policy) -> PlantedHoneypots {
    var planted = PlantedHoneypots()
    var keyID: Bytes?
    var secret: Bytes?
    for (name, spec) in policy.honeypot.env where environment(bytes: name) == nil {
        let value: Bytes
        if spec == HoneypotConfig.generators[0] {
            value = randomText(prefix: Bytes(literal: "AKIA"), count: 16, alphabet: Bytes(literal: "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"))
            if keyID == nil { keyID = value }
        } else if spec == HoneypotConfig.generators[1] {
            value = randomText(prefix: [], count: 40, alphabet: Bytes(literal: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"))
            if secret == nil { secret = value }
        } else {
            value = spec
        }
        let entry = name + [61] + value
        planted.environment.append(entry)
        policy.honeypot.planted.append(entry)
        if !policy.honeypot.values.contains(value) { policy.honeypot.values.append(value) }
    }
    // A file the function's own AWS SDK reads (HOME=/tmp is common) would be used: not a decoy here.
    let sdkFiles = sdkCredentialFiles()
    for file in policy.honeypot.files where sdkFiles.contains(file) {
        complain(Bytes(literal: "honeypot file ") + file + Bytes(literal: " not planted: the function's AWS SDK reads it (HOME, AWS_SHARED_CREDENTIALS_FILE or AWS_CONFIG_FILE)"))
    }
    policy.honeypot.files.removeAll { sdkFiles.contains($0) }
    if !policy.honeypot.files.isEmpty {
        let id = keyID ?? randomText(prefix: Bytes(literal: "AKIA"), count: 16, alphabet: Bytes(literal: "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"))
        let key = secret ?? randomText(prefix: [], count: 40, alphabet: Bytes(literal: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"))
        for v in [id, key] where !policy.honeypot.values.contains(v) { policy.honeypot.values.append(v) }
        let content = Bytes(literal: "[default]\naws_access_key_id = ") + id + Bytes(literal: "\naws_secret_access_key = ") + key
            + Bytes(literal: "\nregion = ") + (environment("AWS_REGION") ?? Bytes(literal: "us-east-1")) + [10]
        for file in policy.honeypot.files {
            if let present = existingCredentialValues(file) {
                // Already there (an earlier start, or the operator's own decoy): its keys are decoys too.
                for v in present where !policy.honeypot.values.contains(v) { policy.honeypot.values.append(v) }
            } else {
                planted.toWrite.append((file, content))
            }
            planted.files.append(file)
        }
    }
    return planted
}

/// The files an AWS SDK in this environment reads: `$AWS_SHARED_CREDENTIALS_FILE`, `$AWS_CONFIG_FILE`,
/// `$HOME/.aws/credentials` and `$HOME/.aws/config`.
func sdkCredentialFiles() -> [Bytes] {
    var out: [Bytes] = []
    if let f = environment("AWS_SHARED_CREDENTIALS_FILE") { out.append(f) }
    if let f = environment("AWS_CONFIG_FILE") { out.append(f) }
    if var home = environment("HOME"), !home.isEmpty {
        while home.count > 1 && home.last == 47 { home.removeLast() }
        let base = home == [47] ? [] : home
        out += [base + Bytes(literal: "/.aws/credentials"), base + Bytes(literal: "/.aws/config")]
    }
    return out
}

/// The values of `key = value` lines of an AWS credentials file (bounded; never through a symlink).
func credentialValues(_ path: Bytes) -> [Bytes] { existingCredentialValues(path) ?? [] }

/// ``credentialValues(_:)`` of a file that exists (or is a symbolic link: never planted over); nil
/// when there is nothing at `path` (or it cannot be opened).
func existingCredentialValues(_ path: Bytes) -> [Bytes]? {
    let fd = withCPath(path) { ks_open($0, ks_o_rdonly() | ks_o_nofollow() | ks_o_cloexec(), 0) }
    guard fd >= 0 else { return -fd == ks_errno_enoent() ? nil : [] }
    defer { _ = ks_close(fd) }
    var buf = Bytes(repeating: 0, count: 8192)
    let n = buf.withUnsafeMutableBufferPointer { ks_read(fd, $0.baseAddress, $0.count) }
    guard n > 0 else { return [] }
    var out: [Bytes] = []
    for line in Bytes(buf[0..<Int(n)]).split(separator: 10) {
        guard let eq = line.firstIndex(of: 61) else { continue }
        let key = Bytes(line[..<eq]).trimmed().lowercasedASCII()
        let value = Bytes(line[(eq + 1)...]).trimmed()
        if (key == Bytes(literal: "aws_access_key_id") || key == Bytes(literal: "aws_secret_access_key")
            || key == Bytes(literal: "aws_session_token")) && value.count >= 16 {
            out.append(value)
        }
    }
    return out
}

/// Write a decoy file unless something is already there (never through a symlink; parents 0700).
/// Returns whether it was written.
@discardableResult
func plantFile(_ path: Bytes, content: Bytes) -> Bool {
    var parent: Bytes = []
    let parts = path.split(separator: 47).filter { !$0.isEmpty }
    for part in parts.dropLast() {
        parent += [47] + part
        _ = withCPath(parent) { ks_mkdir($0, 0o700) }
    }
    let fd = withCPath(path) { ks_open($0, ks_o_wronly_excl_create() | ks_o_cloexec(), 0o600) }
    guard fd >= 0 else { return false }    // present already (watched as it is) or not writable
    writeAll(fd, content)
    _ = ks_close(fd)
    return true
}

/// Random text from `alphabet` (getrandom; the modulo bias of a 32- or 64-letter alphabet is nil).
func randomText(prefix: Bytes, count: Int, alphabet: Bytes) -> Bytes {
    var raw = Bytes(repeating: 0, count: count)
    _ = raw.withUnsafeMutableBufferPointer { ks_getrandom($0.baseAddress, $0.count) }
    return prefix + raw.map { alphabet[Int($0) % alphabet.count] }
}

/// The inotify watch on the decoy files (in the sidecar, which never opens them itself).
struct HoneypotWatch {
    let fd: Int32
    var watches: [(wd: Int32, path: Bytes)] = []

    init?(files: [Bytes]) {
        guard !files.isEmpty else { return nil }
        let fd = ks_inotify_init()
        guard fd >= 0 else { return nil }
        self.fd = fd
        for f in files {
            let wd = withCPath(f) { ks_inotify_watch(fd, $0) }
            if wd >= 0 { watches.append((wd, f)) }
        }
    }

    /// Read pending inotify events; one honeypot event per open, one per burst of writes.
    mutating func drain(_ report: (Bytes, StaticString) -> Void) {
        var buf = Bytes(repeating: 0, count: 4096)
        var seen: [(Int32, UInt32)] = []          // one event per file and kind per drain (a write is many MODIFYs)
        func once(_ wd: Int32, _ bit: UInt32, _ path: Bytes, _ kind: StaticString) {
            if seen.contains(where: { $0.0 == wd && $0.1 == bit }) { return }
            seen.append((wd, bit))
            report(path, kind)
        }
        while true {
            let n = buf.withUnsafeMutableBufferPointer { ks_read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            var offset = 0
            while true {
                var wd: Int32 = 0
                var mask: UInt32 = 0
                let next = buf.withUnsafeBufferPointer { ks_inotify_next($0.baseAddress, Int(n), offset, &wd, &mask) }
                if next < 0 { break }
                offset = Int(next)
                guard let path = watches.first(where: { $0.wd == wd })?.path else { continue }
                if mask & ks_in_open() != 0 { report(path, "open") }   // every open counts
                if mask & ks_in_modify() != 0 { once(wd, ks_in_modify(), path, "modify") }
                // A removal, a rename or a mode change is not a use of the credentials: functions that
                // sweep /tmp at every invocation do exactly that (the watch ends with the file).
                if mask & ks_in_ignored() != 0 { watches.removeAll { $0.wd == wd } }
            }
        }
    }
}
