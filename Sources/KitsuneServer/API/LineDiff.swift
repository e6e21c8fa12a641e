/// A line diff of two documents in unified style (`-` removed, `+` added, ` ` kept, with up to
/// `context` kept lines around changes), from their longest common subsequence. Policies are small;
/// beyond `maxLines` lines a side the diff falls back to "all removed, all added".
enum LineDiff {
    static let maxLines = 4000

    static func unified(_ old: String, _ new: String, context: Int = 3) -> String {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if a == b { return "" }
        var ops: [(Character, String)] = []
        if a.count > maxLines || b.count > maxLines {
            ops = a.map { ("-", $0) } + b.map { ("+", $0) }
        } else {
            // lcs[i][j]: the longest common subsequence of a[i...] and b[j...].
            var lcs = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
            for i in stride(from: a.count - 1, through: 0, by: -1) {
                for j in stride(from: b.count - 1, through: 0, by: -1) {
                    lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
                }
            }
            var i = 0, j = 0
            while i < a.count || j < b.count {
                if i < a.count, j < b.count, a[i] == b[j] { ops.append((" ", a[i])); i += 1; j += 1 }
                else if j < b.count, i == a.count || lcs[i][j + 1] >= lcs[i + 1][j] { ops.append(("+", b[j])); j += 1 }
                else { ops.append(("-", a[i])); i += 1 }
            }
        }
        let changed = ops.indices.filter { ops[$0].0 != " " }
        var keep = Set<Int>()
        for index in changed { for k in max(0, index - context)...min(ops.count - 1, index + context) { keep.insert(k) } }
        var out: [String] = []
        var last = -1
        for index in keep.sorted() {
            if last >= 0, index != last + 1 { out.append("…") }
            out.append("\(ops[index].0)\(ops[index].1)")
            last = index
        }
        return out.joined(separator: "\n")
    }
}
