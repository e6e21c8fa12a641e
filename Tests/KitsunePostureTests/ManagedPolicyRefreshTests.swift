import Foundation
import XCTest
@testable import KitsunePosture

/// `scripts/refresh-managed-policies` against a stand-in for the AWS CLI (no AWS here): the calls it makes,
/// the paging the CLI already did, URL-encoded documents, service-linked policies left out, failures that
/// write nothing; and the bundled file is what the script makes of moto's copy.
final class ManagedPolicyRefreshTests: XCTestCase {
    private var dir = ""
    private static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    private static var script: String { repoRoot.appendingPathComponent("scripts/refresh-managed-policies").path }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("kitsune-refresh-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// Runs the refresh script with `arguments`.
    private func run(_ arguments: [String]) throws -> (Int32, String) { try python([Self.script] + arguments) }

    /// `python3 ARGS…`: exit status and output (standard output and error together).
    private func python(_ arguments: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3"] + arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: out, as: UTF8.self))
    }

    /// A fake `aws` that answers the two calls from canned JSON and logs its arguments.
    private func fakeCLI(failGetPolicyVersion: Bool = false) throws -> String {
        let path = dir + "/aws"
        let script = #"""
        #!/usr/bin/env python3
        import json, sys, urllib.parse
        args = sys.argv[1:]
        open(sys.argv[0] + ".log", "a").write(" ".join(args) + "\n")
        if args[:1] == ["--profile"]:
            args = args[2:]
        if args[:2] == ["iam", "list-policies"]:
            assert args[2:6] == ["--scope", "AWS", "--output", "json"], args
            print(json.dumps({"Policies": [
                {"PolicyName": "AmazonS3FullAccess", "Arn": "arn:aws:iam::aws:policy/AmazonS3FullAccess", "Path": "/",
                 "DefaultVersionId": "v2", "UpdateDate": "2021-09-27T20:16:37+00:00"},
                {"PolicyName": "AWSLambdaBasicExecutionRole", "Arn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                 "Path": "/service-role/", "DefaultVersionId": "v1", "UpdateDate": "2015-04-09T15:03:43+00:00"},
                {"PolicyName": "AWSServiceRoleForX", "Arn": "arn:aws:iam::aws:policy/aws-service-role/AWSServiceRoleForX",
                 "Path": "/aws-service-role/", "DefaultVersionId": "v1", "UpdateDate": "2020-01-01T00:00:00+00:00"}]}))
        elif args[:2] == ["iam", "get-policy-version"]:
            if FAIL:
                print("An error occurred (AccessDenied) when calling the GetPolicyVersion operation", file=sys.stderr); sys.exit(254)
            arn, version = args[args.index("--policy-arn") + 1], args[args.index("--version-id") + 1]
            docs = {"arn:aws:iam::aws:policy/AmazonS3FullAccess": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "s3-object-lambda:*"], "Resource": "*"}]},
                    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole":
                        urllib.parse.quote(json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]}))}
            print(json.dumps({"PolicyVersion": {"Document": docs[arn], "VersionId": version, "IsDefaultVersion": True}}))
        else:
            sys.exit(2)
        """#.replacingOccurrences(of: "FAIL", with: failGetPolicyVersion ? "True" : "False")
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    func testRefreshFromTheCLIWritesTheDataFileTheScannerReads() throws {
        let cli = try fakeCLI()
        let out = dir + "/policies.json"
        let (status, output) = try run(["--aws-cli", cli, "--profile", "audit", "--output", out, "--date", "2026-12-02"])
        XCTAssertEqual(status, 0, output)
        let log = try String(contentsOfFile: cli + ".log", encoding: .utf8)
        XCTAssertTrue(log.contains("--profile audit iam list-policies --scope AWS --output json"), log)
        XCTAssertTrue(log.contains("iam get-policy-version --policy-arn arn:aws:iam::aws:policy/AmazonS3FullAccess --version-id v2"), log)
        XCTAssertFalse(log.contains("AWSServiceRoleForX"), "service-linked policies are not fetched")
        let data = try AWSManagedPolicies.parse(Data(contentsOf: URL(fileURLWithPath: out)), name: out)
        XCTAssertEqual(data.count, 2)
        XCTAssertEqual(data.generated, "2026-12-02")
        XCTAssertTrue(data.source.contains("list-policies --scope AWS"), data.source)
        XCTAssertEqual(data.newestPolicyUpdate, "2021-09-27T20:16:37+00:00")
        let basic = try XCTUnwrap(data.policy(arnOrName: "AWSLambdaBasicExecutionRole"))
        XCTAssertEqual(basic.arn, "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
        let parsed = try PolicyDocument.parse(value: basic.document, source: "basic")
        XCTAssertEqual(parsed.statements.first?.actionsText, "logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents",
                       "the URL-encoded document was decoded")
        XCTAssertNil(data.policy(arnOrName: "AWSServiceRoleForX"))
        // One policy per line: a refresh reads as a diff.
        let text = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertEqual(text.split(separator: "\n").filter { $0.hasPrefix("    \"") }.count, 2)
    }

    func testAFailedCallWritesNothingAndSaysWhy() throws {
        let cli = try fakeCLI(failGetPolicyVersion: true)
        let out = dir + "/policies.json"
        let (status, output) = try run(["--aws-cli", cli, "--output", out])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(output.contains("get-policy-version") && output.contains("AccessDenied"), output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".managed") }, [], "no temporary left")
        let (missing, message) = try run(["--aws-cli", dir + "/no-such-aws", "--output", out])
        XCTAssertEqual(missing, 1)
        XCTAssertTrue(message.contains("not found"), message)
    }

    func testBundledFileIsTheScriptsOutputFromMoto() throws {
        let bundled = try AWSManagedPolicies.bundled()
        let (status, output) = try python(["-c", "import moto; print(moto.__version__)"])
        let motoVersion = output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard status == 0, bundled.source.hasPrefix("moto \(motoVersion),") else {
            throw XCTSkip("the bundled data comes from \(bundled.source.prefix(20)); installed moto is \(motoVersion): not compared")
        }
        let out = dir + "/from-moto.json"
        let (regenerated, log) = try run(["--from-moto", "--output", out, "--date", bundled.generated])
        XCTAssertEqual(regenerated, 0, log)
        let url = Self.repoRoot.appendingPathComponent("Sources/KitsunePosture/Data/aws-managed-policies.json")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), try Data(contentsOf: url),
                       "Sources/KitsunePosture/Data/aws-managed-policies.json is exactly what the script makes of moto \(motoVersion)")
    }
}
