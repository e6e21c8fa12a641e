import KitsunePolicyCore
import XCTest

/// The policy format (a strict YAML subset), the manifest reader (JSON) and their error messages.
final class PolicyFormatTests: XCTestCase {
    func b(_ s: String) -> Bytes { Bytes(s.utf8) }
    func s(_ b: Bytes) -> String { String(decoding: b, as: UTF8.self) }

    func load(_ text: String) throws(PolicyError) -> Policy {
        var p = Policy()
        try PolicyLoader.apply(b(text), to: &p)
        return p
    }

    func error(_ text: String) -> String {
        do { _ = try load(text); return "" } catch { return s(error.render(file: b("p.yaml"))) }
    }

    func testFullPolicy() throws {
        let p = try load("""
        # reviewed
        version: 1
        mode: audit
        package:
          - /var/task
          - "/opt"
        system: [/usr, '/bin']
        manifest: /var/task/.kitsune/manifest.json
        block:
        - xmrig
        - /usr/bin/nc
        - sha256:\(String(repeating: "ab", count: 32))
        allow: [/var/task/bin/tool, /var/task/libexec/]
        interpreter_scripts: report   # comment after a value
        native_code: off
        events: /tmp/events.jsonl
        interpreters:
          - names: [sh, "python3*"]
            inline: [-c]
            value: [-W]
        loaders:
          - names: ["ld-linux*.so*"]
            code: [--preload]
        honeypot:
          values: [AKIADECOY0000000000]
          files: [/tmp/.aws/credentials]
        """)
        XCTAssertEqual(p.mode, .audit)
        XCTAssertEqual(p.packageRoots.map(s), ["/var/task", "/opt"])
        XCTAssertEqual(p.systemRoots.map(s), ["/usr", "/bin"])
        XCTAssertEqual(p.manifest.map(s), "/var/task/.kitsune/manifest.json")
        XCTAssertEqual(p.blockNames.map(s), ["xmrig"])
        XCTAssertEqual(p.blockPaths.map(s), ["/usr/bin/nc"])
        XCTAssertEqual(p.blockHashes, [Bytes(repeating: 0xab, count: 32)])
        XCTAssertEqual(p.allow.map(s), ["/var/task/bin/tool", "/var/task/libexec/"])
        XCTAssertEqual(p.interpreterScripts, .report)
        XCTAssertEqual(p.nativeCode, .off)
        XCTAssertEqual(p.interpreters.count, 1)
        XCTAssertEqual(p.interpreters[0].names.map(s), ["sh", "python3*"])
        XCTAssertEqual(p.loaders[0].codeOptions.map(s), ["--preload"])
        XCTAssertEqual(p.honeypot.values.map(s), ["AKIADECOY0000000000"])
    }

    func testErrorsNameLineAndField() {
        XCTAssertEqual(error("version: 1\nmdoe: audit\n"), "p.yaml:2: field `mdoe`: unknown setting (see docs/policy.md)")
        XCTAssertEqual(error("mode: strict\n"), "p.yaml:1: field `mode`: expected `enforce`, `audit` or `learn`")
        XCTAssertEqual(error("package: [relative]\n"), "p.yaml:1: field `package`: paths must be absolute")
        XCTAssertEqual(error("block: [sha256:12]\n"), "p.yaml:1: field `block`: block entry `sha256:` needs 64 hexadecimal digits")
        XCTAssertEqual(error("version: 2\n"), "p.yaml:1: field `version`: only version 1 is known")
        XCTAssertTrue(error("block:\n  - xmrig\n  mood: audit\n").hasPrefix("p.yaml:3:"), error("block:\n  - xmrig\n  mood: audit\n"))
        XCTAssertEqual(error("mode: enforce\nmode: audit\n"), "p.yaml:2: duplicate key")
        XCTAssertEqual(error("mode:\tenforce\n\tblock: []\n"), "p.yaml:2: tab used for indentation")
        XCTAssertEqual(error("block: [a, [b]]\n"), "p.yaml:1: nested flow collections are not supported")
        XCTAssertEqual(error("mode: \"enforce\n"), "p.yaml:1: unterminated quoted scalar")
        XCTAssertEqual(error("events: /tmp/a&b\n"), "")  // `&` inside a plain value is just text…
        XCTAssertTrue(error("&anchor x: 1\n").contains("anchors"))   // …but anchors are refused
        XCTAssertEqual(error("- a\n- b\n"), "p.yaml:1: a policy is a mapping of settings")
    }

    func testLearnModeIsAcceptedAndMisspellingsNameTheField() throws {
        XCTAssertEqual(try load("mode: learn\n").mode, .learn)
        XCTAssertEqual(try load("mode: \"learn\"\n").mode, .learn)
        XCTAssertEqual(s(Mode.learn.name), "learn")
        XCTAssertEqual(Mode.all.map { s($0.name) }, ["enforce", "audit", "learn"])
        XCTAssertEqual(error("version: 1\nmode: lern\n"), "p.yaml:2: field `mode`: expected `enforce`, `audit` or `learn`")
        // Case and padding are not forgiven in a security policy: `Learn` is not a mode.
        XCTAssertEqual(error("mode: Learn\n"), "p.yaml:1: field `mode`: expected `enforce`, `audit` or `learn`")
        XCTAssertEqual(error("mode: [learn]\n"), "p.yaml:1: field `mode`: expected a single value")
        XCTAssertEqual(error("mode:\n"), "p.yaml:1: field `mode`: expected a single value")
        // A later document layer still replaces the mode.
        var p = try load("mode: learn\n")
        try PolicyLoader.apply(b("mode: enforce\n"), to: &p)
        XCTAssertEqual(p.mode, .enforce)
    }

    func testEmptyDocumentIsEmptyPolicy() throws {
        let p = try load("# nothing\n---\n")
        XCTAssertEqual(p.mode, .enforce)
        XCTAssertTrue(p.packageRoots.isEmpty)
    }

    func testJSONReader() throws {
        let node = try JSONReader.parse(b(#"{"a": [1, -2.5e3, true, null, "x\"y\u00e9\ud83d\ude00"], "b": {}}"#))
        guard case .map(let entries, _) = node, case .list(let items, _) = entries[0].value else { return XCTFail("\(node)") }
        XCTAssertEqual(items.count, 5)
        if case .scalar(let v, _) = items[4] { XCTAssertEqual(s(v), "x\"yé😀") } else { XCTFail() }
        for bad in ["{", "[1,]", "{\"a\" 1}", "\"\\x\"", "[1] 2", "\"\\ud800\"", String(repeating: "[", count: 100)] {
            XCTAssertThrowsError(try JSONReader.parse(b(bad)), bad)
        }
    }

    func testManifestIndex() throws {
        let digest = String(repeating: "0f", count: 32)
        let m = try ManifestIndex.parse(b("""
        {"version":1,"root":"/var/task","files":[
        {"path":"bin/tool","sha256":"\(digest)","size":10,"mode":"0755","kind":"elf"}
        ]}
        """))
        XCTAssertEqual(m.record(b("/var/task/bin/tool"))?.size, 10)
        XCTAssertTrue(m.covers(b("/var/task/other")))
        XCTAssertFalse(m.covers(b("/var/taskforce/x")))
        let cases: [(String, String)] = [
            (#"{"version":1,"root":"/var/task","files":[{"path":"../etc/x","sha256":"\#(digest)","size":1}]}"#, "escapes the manifest root"),
            (#"{"version":1,"root":"/var/task","files":[{"path":"/abs","sha256":"\#(digest)","size":1}]}"#, "missing or absolute"),
            (#"{"version":1,"root":"/var/task","files":[{"path":"x","sha256":"\#(digest)","size":"big"}]}"#, "not a whole number"),
            (#"{"version":9,"root":"/var/task","files":[]}"#, "unknown manifest version"),
            (#"{"version":1,"root":"task","files":[]}"#, "not an absolute path"),
            (#"{"version":1,"root":"/var/task","files":[{"path":"x","sha256":"zz","size":1}]}"#, "field `sha256`"),
        ]
        for (json, message) in cases {
            do { _ = try ManifestIndex.parse(b(json)); XCTFail(json) } catch {
                XCTAssertTrue(s(error.render(file: b("m.json"))).contains(message), "\(json): \(s(error.render(file: b("m.json"))))")
            }
        }
    }

    func testSHA256Vectors() {
        XCTAssertEqual(s(hexBytes(SHA256.hash([]))), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(s(hexBytes(SHA256.hash(b("abc")))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(s(hexBytes(SHA256.hash(b("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")))),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // Streaming in odd chunk sizes gives the same digest as one shot.
        let data = Bytes((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        var h = SHA256()
        var i = 0
        for size in [1, 63, 64, 65, 1000, 7] where i < data.count {
            h.update(Bytes(data[i..<min(data.count, i + size)])); i += size
        }
        h.update(Bytes(data[i...]))
        XCTAssertEqual(h.finalize(), SHA256.hash(data))
        XCTAssertEqual(s(hexBytes(SHA256.hash(Bytes(repeating: 0x61, count: 1_000_000)))),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testRFC3339AndJSONEscaping() {
        XCTAssertEqual(s(rfc3339(nanoseconds: 0)), "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(s(rfc3339(nanoseconds: 1_795_292_096_123_000_000)), "2026-11-21T20:14:56.123Z")
        XCTAssertEqual(s(rfc3339(nanoseconds: 951_782_400_000_000_000)), "2000-02-29T00:00:00.000Z")
        var w = JSONObjectWriter()
        w.string("k", b("a\"b\\c\n\u{1}é") + [0xFF])
        XCTAssertEqual(s(w.finished()), "{\"k\":\"a\\\"b\\\\c\\n\\u0001é\u{FFFD}\"}")
    }
}
