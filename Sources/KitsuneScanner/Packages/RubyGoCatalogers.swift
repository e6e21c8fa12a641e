import Foundation
import KitsuneFindings

/// `Gemfile.lock`: the `specs:` of the `GEM` section (`    name (version[-platform])`).
struct GemfileLockCataloger: PackageCataloger {
    func accepts(path: String, header: [UInt8]) -> Bool { pkgBaseName(path) == "Gemfile.lock" || pkgBaseName(path) == "gems.locked" }

    func packages(in entry: ScanEntry) -> CatalogResult {
        var ctx = CatalogContext(entry.path)
        var section = ""
        var inSpecs = false
        for (i, line) in CatalogContext.lines(entry.bytes).enumerated() {
            if line.isEmpty { inSpecs = false; continue }
            if !line.hasPrefix(" ") { section = String(line); inSpecs = false; continue }
            if line == "  specs:" { inSpecs = true; continue }
            guard section == "GEM", inSpecs, line.hasPrefix("    "), !line.hasPrefix("     ") else { continue }
            let t = line.trimmingCharacters(in: .whitespaces)
            guard let open = t.firstIndex(of: "("), t.hasSuffix(")") else {
                ctx.problem(line: i + 1, "expected `name (version)` in specs, got \"\(t.prefix(80))\""); continue
            }
            let name = t[..<open].trimmingCharacters(in: .whitespaces)
            var version = t[t.index(after: open)..<t.index(before: t.endIndex)]
            if let dash = version.firstIndex(of: "-") { version = version[..<dash] } // platform suffix
            guard !name.isEmpty, !version.isEmpty else { ctx.problem(line: i + 1, "empty gem name or version"); continue }
            ctx.add("RubyGems", name, String(version))
        }
        return ctx.result
    }
}

/// `go.mod`: `require` lines and blocks, with `replace` directives applied (a module replaced by a
/// local directory is dropped: its code is in the bundle, not a published version).
struct GoModCataloger: PackageCataloger {
    func accepts(path: String, header: [UInt8]) -> Bool { pkgBaseName(path) == "go.mod" }

    func packages(in entry: ScanEntry) -> CatalogResult {
        var ctx = CatalogContext(entry.path)
        var requires: [(path: String, version: String)] = []
        var replaces: [String: (path: String, version: String?)] = [:]
        var block = ""
        var blockLine = 0
        for (i, raw) in CatalogContext.lines(entry.bytes).enumerated() {
            var line = raw
            if let c = line.range(of: "//") { line = line[..<c.lowerBound] }
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            if !block.isEmpty {
                if t == ")" { block = ""; continue }
                parse(directive: block, t, line: i + 1, &requires, &replaces, &ctx)
                continue
            }
            let words = t.split(separator: " ", maxSplits: 1).map(String.init)
            guard let verb = words.first else { continue }
            if words.count == 2 && words[1] == "(" { block = verb; blockLine = i + 1; continue }
            if words.count == 2 { parse(directive: verb, words[1], line: i + 1, &requires, &replaces, &ctx) }
        }
        if !block.isEmpty { ctx.problem(line: blockLine, "unterminated \(block) ( … ) block") }
        for r in requires {
            if let rep = replaces[r.path] ?? replaces["\(r.path)@\(r.version)"] {
                guard let v = rep.version else { continue }
                ctx.add("Go", rep.path, v)
            } else {
                ctx.add("Go", r.path, r.version)
            }
        }
        return ctx.result
    }

    private func parse(directive: String, _ text: String, line: Int, _ requires: inout [(path: String, version: String)],
                       _ replaces: inout [String: (path: String, version: String?)], _ ctx: inout CatalogContext) {
        let f = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { pkgUnquote($0) }
        switch directive {
        case "require":
            guard f.count == 2, f[1].hasPrefix("v") else { ctx.problem(line: line, "expected `module vX.Y.Z` in require"); return }
            requires.append((f[0], f[1]))
        case "replace":
            guard let arrow = f.firstIndex(of: "=>"), arrow >= 1, arrow + 1 < f.count else {
                ctx.problem(line: line, "expected `old [version] => new [version]` in replace"); return
            }
            let old = arrow == 2 ? "\(f[0])@\(f[1])" : f[0]
            let new = f[arrow + 1]
            let local = new.hasPrefix(".") || new.hasPrefix("/")
            replaces[old] = (new, local ? nil : (arrow + 2 < f.count ? f[arrow + 2] : nil))
        default: break
        }
    }
}
