import Foundation
import XCTest
import KitsuneFindings
@testable import KitsuneScanner

/// Declared packages of manifests without a lockfile (package.json, requirements.txt, Pipfile,
/// pyproject.toml): exact pins are reported with source `manifest`, ranges are one MANUAL note, a lockfile
/// or installed copy beside the manifest wins, hostile manifests are problems, never crashes.
final class ManifestPackageTests: XCTestCase {
    private func catalog(_ path: String, _ text: String) -> CatalogResult {
        let bytes = Array(text.utf8)
        let takers = Catalogers.all.filter { $0.accepts(path: path, header: Array(bytes.prefix(64))) }
        XCTAssertEqual(takers.count, 1, "exactly one cataloger accepts \(path)")
        return takers.first?.packages(in: ScanEntry(path: path, size: bytes.count, bytes: bytes)) ?? CatalogResult()
    }

    private func ids(_ packages: [DiscoveredPackage]) -> [String] {
        packages.map { "\($0.ecosystem)/\($0.name)@\($0.version) \($0.source.rawValue)" }.sorted()
    }

    private func npmFixtureDatabase() throws -> AdvisoryDatabase {
        let url = try XCTUnwrap(Bundle.module.resourceURL).appendingPathComponent("Fixtures/osv-npm")
        return try AdvisoryDatabase.open(paths: [url.path])
    }

    func testPackageJSONExactPinsAreDeclaredPackagesAndRangesAreOneManualNote() throws {
        let r = catalog("fn/package.json", """
        {"name": "orders-fn", "version": "1.0.0",
         "dependencies": {"node-serialize": "0.0.4", "express": "^4.18.2", "lodash": "=4.17.20", "uuid": "v9.0.1",
                          "left-pad": "~1.3.0", "debug": "*", "my-lib": "file:../lib", "gh": "github:user/repo",
                          "aliased": "npm:@scope/real@2.0.0-rc.1", "minor": "1.2", "beta": "1.0.0-beta.2"},
         "optionalDependencies": {"fsevents": "2.3.3"},
         "devDependencies": {"jest": "29.7.0"}, "peerDependencies": {"react": "18.2.0"}}
        """)
        XCTAssertEqual(ids(r.packages), ["npm/@scope/real@2.0.0-rc.1 manifest", "npm/beta@1.0.0-beta.2 manifest",
                                         "npm/fsevents@2.3.3 manifest", "npm/lodash@4.17.20 manifest",
                                         "npm/node-serialize@0.0.4 manifest", "npm/uuid@9.0.1 manifest"])
        let note = try XCTUnwrap(r.problems.first { $0.ruleID == "input/unpinned-manifest" })
        XCTAssertEqual(note.status, .manual, "no version is a question, not a failure")
        XCTAssertEqual(note.severity, .info)
        for range in ["express ^4.18.2", "left-pad ~1.3.0", "debug *", "my-lib file:../lib", "minor 1.2"] {
            XCTAssertTrue(note.message.contains(range), "\(range) in \(note.message)")
        }
        XCTAssertFalse(note.message.contains("jest"), "devDependencies are not deployed")
        XCTAssertEqual(r.problems.count, 1)
        // node_modules metadata is the installed-package cataloger's, not a manifest.
        XCTAssertFalse(PackageJSONCataloger().accepts(path: "node_modules/x/package.json", header: []))
        XCTAssertFalse(PackageJSONCataloger().accepts(path: "node_modules/x/lib/package.json", header: []))
    }

    func testPythonManifests() throws {
        let requirements = catalog("requirements.txt", "Jinja2==2.10\nrequests>=2\n")
        XCTAssertEqual(ids(requirements.packages), ["PyPI/jinja2@2.10 manifest"])

        let pipfile = catalog("svc/Pipfile", """
        [[source]]
        url = "https://pypi.org/simple"
        verify_ssl = true
        name = "pypi"

        [packages]
        flask = "==0.12.2"
        "PyYAML" = {version = "==5.1", extras = ["libyaml"]}
        boto3 = "*"
        mylib = {path = ".", editable = true}
        tool = {git = "https://example.com/tool.git", ref = "main"}
        bare = "1.0"

        [dev-packages]
        pytest = "==7.4.0"

        [requires]
        python_version = "3.12"
        """)
        XCTAssertEqual(ids(pipfile.packages), ["PyPI/flask@0.12.2 manifest", "PyPI/pyyaml@5.1 manifest"])
        XCTAssertTrue(pipfile.problems.contains { $0.ruleID == "input/unpinned-manifest" && $0.message.contains("boto3") })
        XCTAssertTrue(pipfile.problems.contains { $0.message.contains("cannot parse requirement \"bare 1.0\"") && $0.location?.line == 12 },
                      "a version without an operator is not a Pipfile specifier: \(pipfile.problems.map(\.message))")

        let pep621 = catalog("app/pyproject.toml", """
        [build-system]
        requires = ["setuptools>=68"]

        [project]
        name = "orders"
        version = "1.0.0"
        dependencies = [
            "requests==2.2.0",  # old on purpose
            "jinja2 == 2.10 ; python_version >= '3.8'",
            'attrs===23.1.0',
            "pydantic>=2",
            "Django[argon2]==4.2.1",
        ]

        [project.optional-dependencies]
        test = ["pytest==7.4.0"]
        """)
        XCTAssertEqual(ids(pep621.packages), ["PyPI/attrs@23.1.0 manifest", "PyPI/django@4.2.1 manifest",
                                              "PyPI/jinja2@2.10 manifest", "PyPI/requests@2.2.0 manifest"])
        XCTAssertTrue(pep621.problems.contains { $0.ruleID == "input/unpinned-manifest" && $0.message.contains("pydantic") })
        XCTAssertFalse(pep621.problems.contains { $0.message.contains("pytest") || $0.message.contains("setuptools") })

        let poetry = catalog("pyproject.toml", """
        [tool.poetry]
        name = "orders"

        [tool.poetry.dependencies]
        python = "^3.12"
        requests = "2.2.0"
        pyyaml = "==5.1"
        boto3 = "^1.34"
        flask = {version = "0.12.2", extras = ["async"]}
        local = {path = "../local"}

        [tool.poetry.group.dev.dependencies]
        pytest = "7.4.0"
        """)
        XCTAssertEqual(ids(poetry.packages), ["PyPI/flask@0.12.2 manifest", "PyPI/pyyaml@5.1 manifest",
                                              "PyPI/requests@2.2.0 manifest"])
        let note = try XCTUnwrap(poetry.problems.first { $0.ruleID == "input/unpinned-manifest" })
        XCTAssertTrue(note.message.contains("boto3") && !note.message.contains("python "), note.message)
    }

    func testLoneNodeSerializePinIsFlaggedAndMarkedAsDeclared() throws {
        let dir = try ScanTestSupport.temporaryDirectory(self)
        try ScanTestSupport.write(#"{"name": "fn", "dependencies": {"node-serialize": "0.0.4", "express": "^4.18.2"}}"#,
                                  to: dir + "/fn/package.json")
        try ScanTestSupport.write("exports.handler = async (e) => require('node-serialize').unserialize(e.body);\n", to: dir + "/fn/index.js")
        let result = try ScanTestSupport.scanner(catalogers: Catalogers.all, matcher: try npmFixtureDatabase()).scan(path: dir + "/fn")
        XCTAssertEqual(ids(result.packages), ["npm/node-serialize@0.0.4 manifest"])
        let vuln = try XCTUnwrap(result.findings.first { $0.ruleID == "GHSA-q4v7-4rhw-9hqm" })
        XCTAssertEqual(vuln.status, .fail)
        XCTAssertEqual(vuln.severity, .critical)
        XCTAssertEqual(vuln.properties["package_source"], "manifest")
        XCTAssertTrue(vuln.message.contains("declared in package.json"), vuln.message)
        XCTAssertEqual(vuln.location?.path, "package.json")
        XCTAssertEqual(result.findings(rule: "input/unpinned-manifest").first?.status, .manual)

        // The JSON report and the SBOM carry the source.
        let report = ScanReport(target: dir, startedAt: result.startedAt, finishedAt: result.finishedAt, findings: result.findings,
                                packages: result.packages)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: try ReportFormat.json.render(report)) as? [String: Any])
        XCTAssertEqual((json["packages"] as? [[String: Any]])?.first?["source"] as? String, "manifest")
        let bom = String(decoding: try ReportFormat.cyclonedx.render(report), as: UTF8.self)
        XCTAssertTrue(bom.contains("kitsune:source") && bom.contains("\"manifest\""), bom)
        let table = String(decoding: try ReportFormat.table.render(report), as: UTF8.self)
        XCTAssertTrue(table.contains("1 declared in a manifest only"), table)
    }

    func testPythonPinsMatchTheRealPyPIAdvisories() throws {
        let zip = AdvisoryFixtures.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/osv/PyPI/all.zip").path
        guard FileManager.default.fileExists(atPath: zip) else {
            throw XCTSkip("the real PyPI advisory snapshot is not at \(zip) (../shared/osv/PyPI/all.zip): PyPI matching not tested")
        }
        let dir = try ScanTestSupport.temporaryDirectory(self)
        try ScanTestSupport.write("jinja2==2.10\n", to: dir + "/req/requirements.txt")
        try ScanTestSupport.write("[packages]\nflask = \"==0.12.2\"\n", to: dir + "/pipenv/Pipfile")
        try ScanTestSupport.write("[project]\nname = \"x\"\ndependencies = [\"requests==2.2.0\"]\n", to: dir + "/pep621/pyproject.toml")
        try ScanTestSupport.write("[tool.poetry.dependencies]\npython = \"^3.12\"\npyyaml = \"5.1\"\n", to: dir + "/poetry/pyproject.toml")
        let db = try AdvisoryDatabase.open(paths: [zip])
        let result = try ScanTestSupport.scanner(catalogers: Catalogers.all, matcher: db).scan(path: dir)
        XCTAssertEqual(ids(result.packages), ["PyPI/flask@0.12.2 manifest", "PyPI/jinja2@2.10 manifest",
                                              "PyPI/pyyaml@5.1 manifest", "PyPI/requests@2.2.0 manifest"])
        let flagged = Dictionary(grouping: result.findings.filter { $0.kind == .vulnerability }) { $0.properties["package"] ?? "" }
        for (name, advisory) in [("jinja2", "PYSEC-2019-217"), ("flask", "PYSEC-2018-66"), ("requests", "PYSEC-2014-14"),
                                 ("pyyaml", "PYSEC-2020-176")] {
            let ids = (flagged[name] ?? []).flatMap { [$0.ruleID] + ($0.properties["advisories"] ?? "").components(separatedBy: ", ") }
            XCTAssertTrue(ids.contains(advisory), "\(name): \(ids)")
            XCTAssertTrue((flagged[name] ?? []).allSatisfy { $0.properties["package_source"] == "manifest" })
        }
    }

    func testLockfileAndInstalledCopiesWinWithoutDuplicates() throws {
        let dir = try ScanTestSupport.temporaryDirectory(self)
        // A stale pin in package.json; the lockfile says what is installed.
        try ScanTestSupport.write(#"{"dependencies": {"lodash": "4.17.20", "node-serialize": "0.0.4", "express": "^4.18.2"}}"#,
                                  to: dir + "/a/package.json")
        try ScanTestSupport.write(#"{"lockfileVersion": 3, "packages": {"": {"name": "a"}, "node_modules/lodash": {"version": "4.17.21"}, "node_modules/node-serialize": {"version": "0.0.4"}, "node_modules/express": {"version": "4.18.2"}}}"#,
                                  to: dir + "/a/package-lock.json")
        // Installed copy beside a requirements pin.
        try ScanTestSupport.write("requests==2.30.0\nboto3\n", to: dir + "/b/requirements.txt")
        try ScanTestSupport.write("Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n\n", to: dir + "/b/requests-2.31.0.dist-info/METADATA")
        // Same version in the manifest and the installed tree: one package, resolved.
        try ScanTestSupport.write(#"{"dependencies": {"uuid": "9.0.1"}}"#, to: dir + "/c/package.json")
        try ScanTestSupport.write(#"{"name": "uuid", "version": "9.0.1"}"#, to: dir + "/c/node_modules/uuid/package.json")
        // Another function without a lockfile keeps its declared pin.
        try ScanTestSupport.write(#"{"dependencies": {"lodash": "4.17.20"}}"#, to: dir + "/d/package.json")
        let result = try ScanTestSupport.scanner(catalogers: Catalogers.all).scan(path: dir)
        XCTAssertEqual(ids(result.packages), ["PyPI/requests@2.31.0 installed", "npm/express@4.18.2 lockfile",
                                              "npm/lodash@4.17.20 manifest", "npm/lodash@4.17.21 lockfile",
                                              "npm/node-serialize@0.0.4 lockfile", "npm/uuid@9.0.1 installed"])
        XCTAssertEqual(result.packages.first { $0.source == .manifest }?.locations, ["d/package.json"])
        XCTAssertEqual(result.packages.first { $0.name == "uuid" }?.locations, ["c/node_modules/uuid/package.json", "c/package.json"])
        XCTAssertTrue(result.findings(rule: "input/unpinned-manifest").isEmpty,
                      "a's ranges are resolved by its lockfile: \(result.findings(rule: "input/unpinned-manifest").map(\.message))")
    }

    func testHostileManifestsAreProblemsNeverCrashes() throws {
        // Malformed JSON, wrong shapes, deep nesting.
        XCTAssertTrue(catalog("package.json", "{\"dependencies\": {\"a\": ").problems.contains { $0.message.contains("invalid JSON") })
        XCTAssertTrue(catalog("package.json", "[1, 2]").problems.contains { $0.message.contains("JSON object") })
        XCTAssertTrue(catalog("package.json", #"{"dependencies": "lodash"}"#).problems.contains { $0.message.contains("not an object") })
        XCTAssertTrue(catalog("package.json", #"{"dependencies": {"a": 1, "b": {"x": 1}}}"#).problems.contains { $0.message.contains("not a version string") })
        let deep = "{\"dependencies\": " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        let nested = catalog("package.json", deep)
        XCTAssertTrue(nested.packages.isEmpty)
        XCTAssertFalse(nested.problems.isEmpty, "deep nesting is reported")
        // Many dependencies: all read, the unpinned note lists 20 and counts the rest.
        let many = (0..<50_000).map { "\"p\($0)\": \"\($0 % 2 == 0 ? "1.0.\($0)" : "^1.0.0")\"" }.joined(separator: ",")
        let big = catalog("package.json", "{\"dependencies\": {\(many)}}")
        XCTAssertEqual(big.packages.count, 25_000)
        XCTAssertTrue(big.problems.first?.message.contains("(24980 more)") ?? false, big.problems.first?.message ?? "")
        // TOML left open, garbage bytes, binary.
        let open = catalog("pyproject.toml", "[project]\ndependencies = [\n  \"requests==2.2.0\",\n")
        XCTAssertTrue(open.problems.contains { $0.message.contains("unterminated array") && $0.location?.line == 2 }, open.problems.map(\.message).description)
        XCTAssertTrue(open.packages.isEmpty, "an unterminated array is not half read")
        let garbage = catalog("Pipfile", String(decoding: (0..<4096).map { UInt8(($0 * 7919) % 256) }, as: UTF8.self))
        XCTAssertTrue(garbage.packages.isEmpty)
        XCTAssertTrue(catalog("pyproject.toml", "[project]\ndependencies = \"requests==1\"\n").problems.contains { $0.message.contains("not an array") })
        XCTAssertTrue(catalog("pyproject.toml", "[tool.poetry.dependencies]\nx = \"\"\"\nunterminated").problems.contains { $0.message.contains("unterminated") })

        // A package.json above the size handed to catalogers is reported and skipped; the scan goes on.
        let dir = try ScanTestSupport.temporaryDirectory(self)
        try ScanTestSupport.write("{\"dependencies\": {\"node-serialize\": \"0.0.4\"}, \"pad\": \"" + String(repeating: "x", count: 2 << 20) + "\"}",
                                  to: dir + "/big/package.json")
        try ScanTestSupport.write(#"{"dependencies": {"lodash": "4.17.20"}}"#, to: dir + "/small/package.json")
        var limits = ScanLimits()
        limits.maxCatalogFileBytes = 1 << 20
        let result = try ScanTestSupport.scanner(limits: limits, catalogers: Catalogers.all).scan(path: dir)
        XCTAssertEqual(ids(result.packages), ["npm/lodash@4.17.20 manifest"])
        XCTAssertTrue(result.findings.contains { $0.ruleID == "input/catalog-file-too-large" && $0.location?.path == "big/package.json" })
    }
}
