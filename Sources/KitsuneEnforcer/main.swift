import CKitsuneSys

func run() -> Int32 {
    var d: [[UInt8]: Int] = [:]
    d[Array("a".utf8)] = Int(ks_argc())
    let s = "hello \(d[Array("a".utf8)]!)\n"
    var u = Array(s.utf8)
    _ = ks_write(1, &u, u.count)
    var r: [UInt8] = []
    for b in PackageResources.default_policy_yaml { r.append(b) }
    _ = ks_write(1, &r, r.count)
    return 0
}
_ = run()
