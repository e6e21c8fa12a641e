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

    /// How an interpreter's command line gives it its program: the script files it is asked to run
    /// (`/dev/stdin` when it reads its program from standard input: no script argument, or `-`), none
    /// when the program is inline (`-c`/`-e`/`-m`), and the options given before the program.
    func interpreterCommand(_ argv: [Bytes], _ rule: InterpreterRule) -> InterpreterCommand {
        var c = InterpreterCommand()
        let stdin = Bytes(literal: "/dev/stdin")
        var i = 1
        outer: while i < argv.count {
            let a = argv[i]
            if a == Bytes(literal: "--") { i += 1; break }
            if a == [45] { c.scripts.append(stdin); c.program = .stdin; return c }   // `-`: program from standard input
            guard a.first == 45 && a.count > 1 else { break }
            if let (o, v) = attachedScript(a, rule) { c.options.append(o); c.scripts += scriptValues(v, option: o, rule); i += 1; continue }
            let (name, inline) = splitOption(a)
            c.options.append(name)
            if rule.scriptOptions.contains(name) {
                if let v = inline { c.scripts += scriptValues(v, option: name, rule); i += 1 } else {
                    if i + 1 < argv.count { c.scripts += scriptValues(argv[i + 1], option: name, rule) }
                    i += 2
                }
                continue
            }
            if rule.inlineOptions.contains(a) { c.program = .inline; return c }
            if rule.valueOptions.contains(a) { i += 2; continue }
            if !a.hasPrefix([45, 45]) && a.count > 2 {
                // Combined short options: `-ec`, `-Bc`, `-Wignore`, `-Is`.
                var j = 1
                while j < a.count {
                    let letter: Bytes = [45, a[j]]
                    c.options.append(letter)
                    if rule.inlineOptions.contains(letter) { c.program = .inline; return c }
                    if rule.scriptOptions.contains(letter) {
                        // `perl -wIdir`, `awk -vx=1 -f…`: the rest of the word, or the next argument.
                        if j + 1 < a.count { c.scripts += scriptValues(Bytes(a[(j + 1)...]), option: letter, rule); i += 1 }
                        else { if i + 1 < argv.count { c.scripts += scriptValues(argv[i + 1], option: letter, rule) }; i += 2 }
                        continue outer
                    }
                    if rule.valueOptions.contains(letter) {
                        i += j == a.count - 1 ? 2 : 1
                        continue outer
                    }
                    j += 1
                }
            }
            i += 1
        }
        // `awk 'PROGRAM'`: the first argument is code, not a file (unless `-f` named one).
        if rule.inlineProgram { c.program = .inline; return c }
        if i < argv.count { c.scripts.append(argv[i]) } else { c.scripts.append(stdin); c.program = .stdin }
        return c
    }

    /// A script option with its value attached: `-javaagent:FILE` (an option spelled with its
    /// separator), or a short option followed by its value (`awk -fFILE`, `perl -IDIR`).
    func attachedScript(_ a: Bytes, _ rule: InterpreterRule) -> (option: Bytes, value: Bytes)? {
        for o in rule.scriptOptions where a.count > o.count && a.hasPrefix(o) {
            let separator = o.last == 58 || o.last == 61
            let short = o.count == 2 && o[0] == 45 && o[1] != 45
            if separator || short { return (o, Bytes(a[o.count...])) }
        }
        return nil
    }

    /// The code locations in a script option's value: quotes removed, `file://` URLs turned into
    /// paths, the rule's list options split on `:` (`-cp a.jar:/tmp`); `-javaagent:JAR=OPTIONS` keeps the jar.
    func scriptValues(_ raw: Bytes, option: Bytes, _ rule: InterpreterRule) -> [Bytes] {
        var v = raw
        while let f = v.first, (f == 34 || f == 39), v.last == f, v.count >= 2 { v = Bytes(v.dropFirst().dropLast()) }
        if option.last == 58, let eq = v.firstIndex(of: 61) { v = Bytes(v[..<eq]) }
        let url = Bytes(literal: "file://")
        if v.hasPrefix(url) { return [percentDecoded(Bytes(v[url.count...]))] }
        guard rule.listOptions.contains(option) else { return [v] }
        return v.split(separator: 58).map { Bytes($0) }.filter { !$0.isEmpty }
    }

    /// `%74mp` → `tmp` (malformed escapes are kept as they are).
    func percentDecoded(_ v: Bytes) -> Bytes {
        var out: Bytes = []
        var i = 0
        while i < v.count {
            if v[i] == 37, i + 2 < v.count, let h = parseHex(Bytes(v[(i + 1)...(i + 2)])), h.count == 1 {
                out.append(h[0]); i += 3
            } else { out.append(v[i]); i += 1 }
        }
        return out
    }

    /// Code the interpreter takes from its environment: files named by script options inside
    /// `NODE_OPTIONS`-like variables, `BASH_ENV`-like files, and `PYTHONPATH`-like directories.
    func environmentCode(_ environment: [Bytes], _ rule: InterpreterRule) -> [Bytes] {
        guard rule.readsEnvironment else { return [] }
        var out: [Bytes] = []
        for entry in environment {
            guard let eq = entry.firstIndex(of: 61) else { continue }
            let name = Bytes(entry[..<eq]), value = Bytes(entry[(eq + 1)...])
            if value.isEmpty { continue }
            if rule.environmentScripts.contains(name) { out.append(value) }
            if rule.environmentPaths.contains(name) {
                // Empty entries (the working directory to Python) are not judged: `${PYTHONPATH}:/x` is a
                // common idiom, and a function's working directory may well be /tmp.
                for dir in value.split(separator: 58) { out.append(Bytes(dir)) }
            }
            if rule.environmentOptions.contains(name) {
                let words = value.split(whereSeparator: { $0 == 32 || $0 == 9 || $0 == 10 }).map { Bytes($0) }
                var i = 0
                while i < words.count {
                    if let (o, v) = attachedScript(words[i], rule) { out += scriptValues(v, option: o, rule); i += 1; continue }
                    let (option, inline) = splitOption(words[i])
                    if rule.scriptOptions.contains(option) {
                        if let v = inline { out += scriptValues(v, option: option, rule) }
                        else if i + 1 < words.count { out += scriptValues(words[i + 1], option: option, rule); i += 1 }
                    }
                    i += 1
                }
            }
        }
        return out
    }

    /// `--name=value` → (`--name`, value); otherwise (arg, nil).
    func splitOption(_ a: Bytes) -> (Bytes, Bytes?) {
        guard a.hasPrefix([45, 45]), let eq = a.firstIndex(of: 61) else { return (a, nil) }
        return (Bytes(a[..<eq]), Bytes(a[(eq + 1)...]))
    }
}
