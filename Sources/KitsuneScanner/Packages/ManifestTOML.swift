/// A reader for the TOML that Python manifests use (`Pipfile`, `pyproject.toml`): every `key = value`
/// with the table it belongs to (`[tool.poetry.dependencies]`, dotted keys folded in), the value kept as
/// raw text; multi-line arrays and inline tables are joined into one value. No recursion: nesting depth
/// costs nothing, and a value left open at the end of the file is a problem, not a hang.
struct ManifestTOML {
    struct Entry {
        /// The table the key lives in, dotted (`tool.poetry.dependencies`; "" for the root).
        var table: String
        var key: String
        /// Raw value text (`"==1.2"`, `{version = "1.2"}`, `["a==1", "b>=2"]`).
        var value: String
        var line: Int
    }

    var entries: [Entry] = []
    var problems: [(line: Int, message: String)] = []

    init(bytes: [UInt8]) {
        var table = ""
        var open: (entry: Entry, balance: Int)?
        var inMultilineString: String?
        for (i, raw) in CatalogContext.lines(bytes).enumerated() {
            let n = i + 1
            if let delimiter = inMultilineString {
                if raw.contains(delimiter) { inMultilineString = nil }
                continue
            }
            if var pending = open {
                pending.entry.value += "\n" + raw
                pending.balance += LockTOML.bracketBalance(raw)
                if pending.balance <= 0 { entries.append(pending.entry); open = nil } else { open = pending }
                continue
            }
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") {
                let body = line.hasPrefix("[[") ? line.dropFirst(2) : line.dropFirst()
                guard let close = body.firstIndex(of: "]") else { problems.append((n, "unterminated table header")); continue }
                table = Self.dotted(String(body[..<close]))
                continue
            }
            guard let eq = Self.equalsSign(in: line) else { problems.append((n, "expected `key = value`")); continue }
            let keyPath = Self.dotted(String(line[..<eq]))
            let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            guard !keyPath.isEmpty, !value.isEmpty else { problems.append((n, "expected `key = value`")); continue }
            var parts = keyPath.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            let key = parts.removeLast()
            let fullTable = ([table] + parts).filter { !$0.isEmpty }.joined(separator: ".")
            let entry = Entry(table: fullTable, key: key, value: value, line: n)
            for delimiter in ["\"\"\"", "'''"] where value.hasPrefix(delimiter) {
                if !value.dropFirst(3).contains(delimiter) { inMultilineString = delimiter }
            }
            if inMultilineString != nil { continue }
            let balance = (value.hasPrefix("[") || value.hasPrefix("{")) ? LockTOML.bracketBalance(Substring(value)) : 0
            if balance > 0 { open = (entry, balance) } else { entries.append(entry) }
        }
        if let pending = open { problems.append((pending.entry.line, "unterminated array or inline table for \(pending.entry.key)")) }
        if inMultilineString != nil { problems.append((CatalogContext.lines(bytes).count, "unterminated multi-line string")) }
    }

    /// The entries of one table.
    func table(_ name: String) -> [Entry] { entries.filter { $0.table == name } }

    /// A dotted key or table name with each part unquoted (`tool . "poetry"` → `tool.poetry`). A dot inside
    /// a quoted part also splits: manifests quote names with dashes, not with dots.
    static func dotted(_ text: String) -> String {
        text.split(separator: ".", omittingEmptySubsequences: false)
            .map { pkgUnquote($0) }
            .joined(separator: ".")
            .trimmingCharacters(in: .whitespaces)
    }

    /// The `=` of `key = value`, outside a quoted key.
    static func equalsSign(in line: String) -> String.Index? {
        var quote: Character?
        for index in line.indices {
            let c = line[index]
            if let q = quote { if c == q { quote = nil }; continue }
            if c == "\"" || c == "'" { quote = c; continue }
            if c == "=" { return index }
        }
        return nil
    }

    /// Every string literal in `text` (array items), in order.
    static func strings(in text: String) -> [String] {
        var out: [String] = []
        var index = text.startIndex
        while index < text.endIndex {
            let c = text[index]
            if c == "#" {   // comment to the end of the line
                index = text[index...].firstIndex(of: "\n") ?? text.endIndex
                continue
            }
            if c == "\"" || c == "'", let s = LockTOML.string(String(text[index...])) {
                out.append(s)
                // Skip past the literal: its text plus the quotes (escapes counted approximately by re-scanning).
                var i = text.index(after: index)
                var escaped = false
                while i < text.endIndex {
                    let d = text[i]
                    if escaped { escaped = false } else if d == "\\" && c == "\"" { escaped = true } else if d == c { break }
                    i = text.index(after: i)
                }
                index = i < text.endIndex ? text.index(after: i) : text.endIndex
                continue
            }
            index = text.index(after: index)
        }
        return out
    }

    /// The string value of `key` inside an inline table (`{version = "1.2", extras = ["x"]}`).
    static func inlineString(_ key: String, in text: String) -> String? {
        guard text.hasPrefix("{") else { return nil }
        var rest = Substring(text.dropFirst())
        while let range = rest.range(of: key) {
            let before = rest[..<range.lowerBound].last
            var after = rest[range.upperBound...].drop { $0 == " " || $0 == "\t" }
            if before == nil || before == "{" || before == "," || before == " " || before == "\t", after.first == "=" {
                after = after.dropFirst().drop { $0 == " " || $0 == "\t" }
                return LockTOML.string(String(after))
            }
            rest = rest[range.upperBound...]
        }
        return nil
    }
}
