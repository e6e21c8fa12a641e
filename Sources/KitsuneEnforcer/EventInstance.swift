// Identity of one enforcer run on every event, so a collector can deduplicate retried batches
// (docs/events.md): a random instance id chosen once per start, a sequence number per event
// (shared by the supervisor, the audit standby and the sidecar through one shared page), and the
// account id the relay learns from the first invocation.
import CKitsuneSys

/// The instance id, the shared event counter and the published account id.
struct EventInstance {
    /// 32 lowercase hex characters (128 random bits from getrandom).
    let id: Bytes
    /// Word 0: the next sequence number for events other than `started` (which is always 1).
    /// From word 64 on: the account id, as a ``SharedText``.
    let page: UnsafeMutablePointer<UInt64>

    /// A new instance; nil when the kernel gives no randomness or no shared page.
    static func start() -> EventInstance? {
        var random = Bytes(repeating: 0, count: 16)
        guard random.withUnsafeMutableBufferPointer({ ks_getrandom($0.baseAddress, $0.count) }) == 0,
              let p = ks_shared_words() else { return nil }
        let instance = EventInstance(id: hexBytes(random), page: UnsafeMutablePointer(mutating: UnsafePointer(p)))
        instance.page.pointee = 2
        if let given = environment("KITSUNE_ACCOUNT_ID"), isAccountID(given) { instance.account.write(given) }
        return instance
    }

    /// Where the account id is published.
    var account: SharedText { SharedText(page: page + 64) }

    /// The sequence number of the next event written (2, 3, …; 1 is the `started` event's).
    func nextSeq() -> Int { Int(ks_shared_next(page)) }

    /// The account id, when known.
    func accountID() -> Bytes? {
        let a = account.read()
        return a.isEmpty ? nil : a
    }

    /// The 12-digit account of `arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`.
    static func accountID(fromARN arn: Bytes) -> Bytes? {
        let parts = arn.split(separator: 58, omittingEmptySubsequences: false)
        guard parts.count >= 7, Bytes(parts[0]) == Bytes(literal: "arn"), Bytes(parts[2]) == Bytes(literal: "lambda"),
              Bytes(parts[5]) == Bytes(literal: "function") else { return nil }
        let account = Bytes(parts[4])
        return isAccountID(account) ? account : nil
    }

    static func isAccountID(_ v: Bytes) -> Bool { v.count == 12 && v.allSatisfy { (48...57).contains($0) } }
}

extension EventSink {
    /// The line of an event: its fields, then the account id (when known), the instance id and the
    /// sequence number (`seq`; given for `started`, else the next one).
    func finalLine(_ w: JSONObjectWriter, seq: Int? = nil) -> Bytes {
        guard let i = instance else { return w.line() }
        var out = w
        if let a = i.accountID() { out.string("account_id", a) }
        out.string("instance_id", i.id)
        out.int("seq", seq ?? i.nextSeq())
        return out.line()
    }
}

/// The `seq` of an event line written by ``EventSink/finalLine(_:seq:)`` (its last `"seq":` key:
/// inside JSON strings every quote is escaped, so the bytes `"seq":` only occur as a key).
func eventSeq(_ line: Bytes) -> Int? {
    let key = Bytes(literal: "\"seq\":")
    guard line.count > key.count else { return nil }
    var i = line.count - key.count
    while i >= 0 {
        if line[i] == 34 && Bytes(line[i..<(i + key.count)]) == key {
            var j = i + key.count
            var v = 0
            var digits = 0
            while j < line.count, (48...57).contains(line[j]), digits < 18 { v = v * 10 + Int(line[j] - 48); j += 1; digits += 1 }
            return digits > 0 ? v : nil
        }
        i -= 1
    }
    return nil
}
