// Reading loader and interpreter command lines the way those programs do, to find the file that
// will really run: `ld.so [--preload X] PROGRAM`, `python3 -W x SCRIPT`, `sh -e SCRIPT`.

extension ExecJudge {
    /// The program a dynamic loader is asked to run, and the native code it is asked to preload.
    func parseLoader(_ argv: [Bytes], _ rule: LoaderRule) -> (target: Bytes?, code: [Bytes]) {
        var code: [Bytes] = []
        var i = 1
        while i < argv.count {
            let a = argv[i]
            if a == Bytes(literal: "--") { i += 1; break }
            guard a.hasPrefix([45, 45]) else { break }
            let (name, inline) = splitOption(a)
            let takesCode = rule.codeOptions.contains(name)
            if takesCode || rule.valueOptions.contains(name) {
                let value: Bytes? = inline ?? (i + 1 < argv.count ? argv[i + 1] : nil)
                if takesCode, let v = value {
                    // --preload takes a space- or colon-separated list.
                    for item in v.split(separator: 32) where !item.isEmpty { code.append(item) }
                }
                i += inline == nil ? 2 : 1
                continue
            }
            i += 1
        }
        return (i < argv.count ? argv[i] : nil, code)
    }

    /// Where an interpreter's program comes from: the script files it is asked to run, `/dev/stdin`
    /// when it reads its program from standard input (no script argument, or `-`), none when the
    /// program is inline (`-c`/`-e`/`-m`).
    func interpreterScripts(_ argv: [Bytes], _ rule: InterpreterRule) -> [Bytes] {
        var scripts: [Bytes] = []
        let stdin = Bytes(literal: "/dev/stdin")
        var i = 1
        outer: while i < argv.count {
            let a = argv[i]
            if a == Bytes(literal: "--") { i += 1; break }
            if a == [45] { return scripts + [stdin] }   // `-`: program from standard input
            guard a.first == 45 && a.count > 1 else { break }
            let (name, inline) = splitOption(a)
            if rule.scriptOptions.contains(name) {
                if let v = inline { scripts.append(v); i += 1 } else {
                    if i + 1 < argv.count { scripts.append(argv[i + 1]) }
                    i += 2
                }
                continue
            }
            if rule.inlineOptions.contains(a) { return scripts }
            if rule.valueOptions.contains(a) { i += 2; continue }
            if !a.hasPrefix([45, 45]) && a.count > 2 {
                // Combined short options: `-ec`, `-Bc`, `-Wignore`.
                var j = 1
                while j < a.count {
                    let letter: Bytes = [45, a[j]]
                    if rule.inlineOptions.contains(letter) { return scripts }
                    if rule.valueOptions.contains(letter) {
                        i += j == a.count - 1 ? 2 : 1
                        continue outer
                    }
                    j += 1
                }
            }
            i += 1
        }
        scripts.append(i < argv.count ? argv[i] : stdin)
        return scripts
    }

    /// `--name=value` → (`--name`, value); otherwise (arg, nil).
    func splitOption(_ a: Bytes) -> (Bytes, Bytes?) {
        guard a.hasPrefix([45, 45]), let eq = a.firstIndex(of: 61) else { return (a, nil) }
        return (Bytes(a[..<eq]), Bytes(a[(eq + 1)...]))
    }
}
