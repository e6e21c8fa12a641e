// Host name → IPv4 address without glibc's resolver (a static binary cannot load the NSS modules
// of another glibc): an IPv4 literal, /etc/hosts, then an A query to each nameserver of
// /etc/resolv.conf (UDP, the way Lambda's VPC resolver is reached).
import CKitsuneSys

/// Resolve `host` to an IPv4 address (4 bytes), or nil.
func resolveIPv4(_ host: Bytes, timeoutMs: Int) -> Bytes? {
    if let ip = parseIPv4(host) { return ip }
    let name = host.lowercasedASCII()
    if name == Bytes(literal: "localhost") { return [127, 0, 0, 1] }
    if let hosts = readFile(Bytes(literal: "/etc/hosts"), limit: 1 << 20).0 {
        for line in hosts.split(separator: 10) {
            let content = line.firstIndex(of: 35).map { Bytes(line[..<$0]) } ?? line
            let words = content.split(separator: 32).flatMap { $0.split(separator: 9) }.filter { !$0.isEmpty }
            guard words.count >= 2, let ip = parseIPv4(words[0]) else { continue }
            for alias in words.dropFirst() where alias.lowercasedASCII() == name { return ip }
        }
    }
    guard let conf = readFile(Bytes(literal: "/etc/resolv.conf"), limit: 1 << 16).0 else { return nil }
    for line in conf.split(separator: 10) {
        let words = line.split(separator: 32).flatMap { $0.split(separator: 9) }.filter { !$0.isEmpty }
        guard words.count >= 2, words[0] == Bytes(literal: "nameserver"), let server = parseIPv4(words[1]) else { continue }
        if let ip = queryA(name, server: server, timeoutMs: timeoutMs) { return ip }
    }
    return nil
}

/// `a.b.c.d` → 4 bytes.
func parseIPv4(_ text: Bytes) -> Bytes? {
    let parts = text.split(separator: 46)
    guard parts.count == 4 else { return nil }
    var out: Bytes = []
    for p in parts {
        guard !p.isEmpty, p.count <= 3, let v = p.decimalValue(), v <= 255 else { return nil }
        out.append(UInt8(v))
    }
    return out
}

/// One DNS A query (recursion desired); the first A record of the answer.
func queryA(_ name: Bytes, server: Bytes, timeoutMs: Int) -> Bytes? {
    var id: [UInt8] = [0, 0]
    _ = id.withUnsafeMutableBufferPointer { ks_getrandom($0.baseAddress, 2) }
    var q: Bytes = id + [1, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    for label in name.split(separator: 46) {
        guard !label.isEmpty, label.count < 64 else { return nil }
        q.append(UInt8(label.count))
        q += label
    }
    q += [0, 0, 1, 0, 1]
    var answer = Bytes(repeating: 0, count: 1500)
    let n = server.withUnsafeBufferPointer { s in q.withUnsafeBufferPointer { qb in answer.withUnsafeMutableBufferPointer { a in
        ks_udp_exchange(s.baseAddress, 53, qb.baseAddress, qb.count, a.baseAddress, a.count, Int32(timeoutMs))
    } } }
    guard n >= 12 else { return nil }
    let msg = Bytes(answer[0..<Int(n)])
    guard msg[0] == id[0], msg[1] == id[1], msg[3] & 0x0F == 0 else { return nil }
    let questions = Int(msg[4]) << 8 | Int(msg[5])
    let answers = Int(msg[6]) << 8 | Int(msg[7])
    var i = 12
    func skipName() -> Bool {
        while i < msg.count {
            let len = Int(msg[i])
            if len == 0 { i += 1; return true }
            if len & 0xC0 == 0xC0 { i += 2; return true }
            i += len + 1
        }
        return false
    }
    for _ in 0..<questions { guard skipName() else { return nil }; i += 4 }
    for _ in 0..<answers {
        guard skipName(), i + 10 <= msg.count else { return nil }
        let type = Int(msg[i]) << 8 | Int(msg[i + 1])
        let length = Int(msg[i + 8]) << 8 | Int(msg[i + 9])
        i += 10
        guard i + length <= msg.count else { return nil }
        if type == 1 && length == 4 { return Bytes(msg[i..<(i + 4)]) }
        i += length
    }
    return nil
}
