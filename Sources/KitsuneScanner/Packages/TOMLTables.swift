/// A reader for the TOML subset lockfiles use (`poetry.lock`, `uv.lock`, `Cargo.lock`): the string
/// and simple values of each `[[package]]` array-of-tables entry. Multi-line arrays and inline tables
/// are skipped (their raw text is kept); sub-tables (`[package.extras]`) are ignored.
struct LockTOML {
    struct Table {
        var line: Int
        var values: [String: String] = [:]
    }

    /// The `[[name]]` tables, in order.
    var tables: [Table] = []
    /// Syntax problems with their lines.
    var problems: [(line: Int, message: String)] = []

    init(bytes: [UInt8], arrayName: String) {
        var current: Table?
        var inWanted = false
        var depth = 0            // open brackets/braces of a multi-line value being skipped
        var inMultilineString = false
        var prefix = ""          // key prefix inside a sub-table of the entry
        for (i, raw) in CatalogContext.lines(bytes).enumerated() {
            let n = i + 1
            if inMultilineString {
                if raw.contains("\"\"\"") { inMultilineString = false }
                continue
            }
            if depth > 0 { depth += Self.bracketBalance(raw); continue }
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[[") {
                guard line.hasSuffix("]]") else { problems.append((n, "unterminated table header")); continue }
                if let c = current { tables.append(c) }
                current = nil
                let name = line.dropFirst(2).dropLast(2).trimmingCharacters(in: .whitespaces)
                inWanted = name == arrayName
                prefix = ""
                if inWanted { current = Table(line: n) }
                continue
            }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else { problems.append((n, "unterminated table header")); continue }
                let name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                // A sub-table of the current entry (`[package.source]`): its keys are kept as `source.type`…
                if current != nil, name.hasPrefix(arrayName + ".") {
                    prefix = String(name.dropFirst(arrayName.count + 1)) + "."
                    inWanted = true
                    continue
                }
                if let c = current { tables.append(c) }
                current = nil
                inWanted = false
                continue
            }
            guard let eq = line.firstIndex(of: "=") else {
                problems.append((n, "expected `key = value`")); continue
            }
            let key = pkgUnquote(line[..<eq])
            let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, !value.isEmpty else { problems.append((n, "expected `key = value`")); continue }
            if value.hasPrefix("\"\"\"") {
                if !(value.count >= 6 && value.dropFirst(3).contains("\"\"\"")) { inMultilineString = true }
                continue
            }
            if value.hasPrefix("\"") || value.hasPrefix("'") {
                guard let s = Self.string(value) else { problems.append((n, "unterminated string for \(key)")); continue }
                if inWanted { current?.values[prefix + key] = s }
                continue
            }
            if value.hasPrefix("[") || value.hasPrefix("{") {
                let balance = Self.bracketBalance(Substring(value))
                if balance > 0 { depth = balance }
                if inWanted { current?.values[prefix + key] = value }
                continue
            }
            if inWanted { current?.values[prefix + key] = value }
        }
        if depth > 0 { problems.append((CatalogContext.lines(bytes).count, "unterminated array or inline table")) }
        if let c = current { tables.append(c) }
    }

    /// A basic or literal string at the start of `value` (escapes kept minimal: `\"` and `\\`).
    static func string(_ value: String) -> String? {
        guard let q = value.first else { return nil }
        var out = ""
        var escaped = false
        for c in value.dropFirst() {
            if escaped { out.append(c); escaped = false; continue }
            if c == "\\" && q == "\"" { escaped = true; continue }
            if c == q { return out }
            out.append(c)
        }
        return nil
    }

    /// Opening minus closing brackets and braces outside strings.
    static func bracketBalance(_ s: Substring) -> Int {
        var balance = 0
        var quote: Character?
        var escaped = false
        for c in s {
            if let q = quote {
                if escaped { escaped = false } else if c == "\\" && q == "\"" { escaped = true } else if c == q { quote = nil }
                continue
            }
            switch c {
            case "\"", "'": quote = c
            case "[", "{": balance += 1
            case "]", "}": balance -= 1
            case "#": return balance
            default: break
            }
        }
        return balance
    }
}
