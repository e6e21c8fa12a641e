import Foundation
import XCTest
@testable import KitsuneAWS

/// Honeytoken creation against moto, detection in CloudTrail files and LookupEvents.
final class HoneytokenTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("kitsune-honey-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    private func record(_ name: String, key: String, arn: String) -> HoneytokenRecord {
        HoneytokenRecord(name: name, userName: name, userARN: arn, accessKeyID: key, secretAccessKey: "s", createdAt: "now")
    }

    /// gzip via python3's gzip module (a real, independent implementation).
    private func gzip(_ bytes: [UInt8], to path: String) throws {
        let raw = path + ".raw"
        try Data(bytes).write(to: URL(fileURLWithPath: raw))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import gzip,sys; open(sys.argv[2],'wb').write(gzip.compress(open(sys.argv[1],'rb').read()))",
                             raw, path]
        try process.run()
        process.waitUntilExit()
        try FileManager.default.removeItem(atPath: raw)
        XCTAssertEqual(process.terminationStatus, 0, "python3 gzip failed")
    }

    private func event(_ name: String, key: String, arn: String, ip: String = "203.0.113.7", error: String? = nil) -> [String: Any] {
        var record: [String: Any] = [
            "eventVersion": "1.08", "eventTime": "2026-11-20T03:14:15Z", "eventSource": "sts.amazonaws.com",
            "eventName": name, "awsRegion": "us-east-1", "sourceIPAddress": ip, "userAgent": "aws-cli/2.15.0 Python/3.11",
            "eventID": UUID().uuidString,
            "userIdentity": ["type": "IAMUser", "arn": arn, "accessKeyId": key, "userName": arn.split(separator: "/").last.map(String.init) ?? ""],
        ]
        if let error { record["errorCode"] = error }
        return record
    }

    private func logFile(_ records: [[String: Any]]) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: ["Records": records]))
    }

    func testCreateMakesARealDenyAllUserAndRecordsItAtomically() async throws {
        let client = TestServers.client(try TestServers.freshMoto())
        let store = HoneytokenStore(path: dir + "/cfg/kitsune/honeytokens.json")
        let creator = HoneytokenCreator(iam: client.iam, store: store)
        let token = try await creator.create("ci-deploy-key")
        XCTAssertTrue(token.accessKeyID.hasPrefix("AKIA"), token.accessKeyID)
        XCTAssertFalse(token.secretAccessKey.isEmpty)
        let users = try await client.iam.listUsers()
        let user = try XCTUnwrap(users.first { $0.userName == "ci-deploy-key" })
        XCTAssertEqual(user.path, HoneytokenCreator.userPath)
        let policy = try await client.iam.getUserPolicy("ci-deploy-key", policyName: HoneytokenCreator.policyName)
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(policy.document.utf8)) as? [String: Any])
        let statement = try XCTUnwrap((document["Statement"] as? [[String: Any]])?.first)
        XCTAssertEqual(statement["Effect"] as? String, "Deny")
        XCTAssertEqual(statement["Action"] as? String, "*")
        XCTAssertEqual(statement["Resource"] as? String, "*")
        let keys = try await client.iam.listAccessKeys("ci-deploy-key")
        XCTAssertEqual(keys.map(\.accessKeyID), [token.accessKeyID])
        XCTAssertEqual(try store.load(), [token])
        let mode = try FileManager.default.attributesOfItem(atPath: store.path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600, "the store holds a secret: owner-only")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir + "/cfg/kitsune")
        XCTAssertEqual(leftovers, ["honeytokens.json"], "no temporary files left behind")

        do { _ = try await creator.create("ci-deploy-key"); XCTFail("duplicate accepted") } catch {
            XCTAssertTrue("\(error)".contains("already recorded"), "\(error)")
        }
        do { _ = try await creator.create("bad name!"); XCTFail("invalid name accepted") } catch {
            XCTAssertTrue("\(error)".contains("not a valid IAM user name"), "\(error)")
        }
    }

    func testDeleteRetiresTheUserAndTheRecord() async throws {
        let client = TestServers.client(try TestServers.freshMoto())
        let store = HoneytokenStore(path: dir + "/h.json")
        let creator = HoneytokenCreator(iam: client.iam, store: store)
        _ = try await creator.create("short-lived")
        _ = try await creator.create("keeper")
        try await creator.delete("short-lived")
        let users = try await client.iam.listUsers()
        XCTAssertEqual(users.map(\.userName), ["keeper"])
        XCTAssertEqual(try store.load().map(\.name), ["keeper"])
        do { try await creator.delete("short-lived"); XCTFail("deleted twice") } catch {
            XCTAssertTrue("\(error)".contains("no honeytoken named"), "\(error)")
        }
    }

    func testFailedRecordingRollsBackTheIAMUser() async throws {
        let client = TestServers.client(try TestServers.freshMoto())
        try Data("not a directory".utf8).write(to: URL(fileURLWithPath: dir + "/blocker"))
        let creator = HoneytokenCreator(iam: client.iam, store: HoneytokenStore(path: dir + "/blocker/honeytokens.json"))
        do { _ = try await creator.create("orphan"); XCTFail("should fail") } catch {
            XCTAssertTrue("\(error)".contains("rolled back"), "\(error)")
        }
        let users = try await client.iam.listUsers()
        XCTAssertFalse(users.contains { $0.userName == "orphan" }, "no unrecorded live key left in the account")
    }

    func testMalformedStoreIsAClearError() throws {
        let path = dir + "/h.json"
        try Data("{\"version\": 1, \"honeytokens\": \"oops\"}".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try HoneytokenStore(path: path).load()) { XCTAssertTrue("\($0)".contains(path)) }
    }

    func testCheckCloudTrailFilesPlainGzipAndBroken() throws {
        let token = record("bait", key: "AKIAHONEY00000000001", arn: "arn:aws:iam::123456789012:user/kitsune/honeytoken/bait")
        let other = "arn:aws:iam::123456789012:user/alice"
        try FileManager.default.createDirectory(atPath: dir + "/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20",
                                                withIntermediateDirectories: true)
        let plain = dir + "/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/a.json"
        try Data(try logFile([event("GetCallerIdentity", key: token.accessKeyID, arn: token.userARN),
                              event("ListBuckets", key: "AKIAALICE", arn: other)])).write(to: URL(fileURLWithPath: plain))
        // Temporary credentials derived from the honeytoken (GetSessionToken) carry another key id.
        try gzip(try logFile([event("ListUsers", key: "ASIADERIVED000000001", arn: token.userARN, ip: "198.51.100.9",
                                    error: "AccessDenied")]),
                 to: dir + "/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/b.json.gz")
        let detector = HoneytokenDetector(tokens: [token])
        let clean = try detector.checkFiles(at: dir)
        XCTAssertEqual(clean.files, 2)
        XCTAssertEqual(clean.problems, [])
        XCTAssertEqual(clean.alerts.count, 2)
        let first = try XCTUnwrap(clean.alerts.first { $0.eventName == "GetCallerIdentity" })
        XCTAssertEqual(first.sourceIPAddress, "203.0.113.7")
        XCTAssertEqual(first.userAgent, "aws-cli/2.15.0 Python/3.11")
        XCTAssertEqual(first.eventTime, "2026-11-20T03:14:15Z")
        XCTAssertEqual(first.region, "us-east-1")
        XCTAssertEqual(first.honeytoken, "bait")
        let derived = try XCTUnwrap(clean.alerts.first { $0.eventName == "ListUsers" })
        XCTAssertEqual(derived.errorCode, "AccessDenied")
        XCTAssertTrue(derived.origin.hasSuffix("b.json.gz"))

        // Broken files make the check incomplete (reported), never silently clean.
        try Data("{\"Records\": 5}".utf8).write(to: URL(fileURLWithPath: dir + "/c.json"))
        let gz = try Data(contentsOf: URL(fileURLWithPath: dir + "/AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/b.json.gz"))
        try gz.prefix(gz.count / 2).write(to: URL(fileURLWithPath: dir + "/d.json.gz"))
        let broken = try detector.checkFiles(at: dir)
        XCTAssertEqual(broken.alerts.count, 2)
        XCTAssertEqual(broken.problems.count, 2)
        XCTAssertTrue(broken.problems.contains { $0.contains("c.json") && $0.contains("Records") }, "\(broken.problems)")
        XCTAssertTrue(broken.problems.contains { $0.contains("d.json.gz") && $0.contains("truncated") }, "\(broken.problems)")
        XCTAssertThrowsError(try detector.checkFiles(at: dir + "/missing")) { XCTAssertTrue("\($0)".contains("no such file")) }
    }

    func testGzipMembersAndLimits() throws {
        let path = dir + "/x.gz"
        try gzip(Array("hello ".utf8), to: path)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes += bytes // two gzip members, as `cat a.gz b.gz` produces
        XCTAssertEqual(String(decoding: try Gzip.decompress(bytes, name: "x.gz"), as: UTF8.self), "hello hello ")
        XCTAssertThrowsError(try Gzip.decompress(bytes, name: "x.gz", limit: 3)) { XCTAssertTrue("\($0)".contains("more than 3 bytes")) }
        XCTAssertThrowsError(try Gzip.decompress([0x1F, 0x8B, 0x08, 0x00, 0x01], name: "y.gz"))
        XCTAssertThrowsError(try Gzip.decompress([], name: "empty.gz")) { XCTAssertTrue("\($0)".contains("empty.gz")) }
    }

    func testLookupEventsFindsUseAndPages() async throws {
        let token = record("bait", key: "AKIAHONEY00000000002", arn: "arn:aws:iam::123456789012:user/kitsune/honeytoken/bait")
        var records = (0..<60).map { _ in event("GetCallerIdentity", key: token.accessKeyID, arn: token.userARN) }
        records.append(event("ListBuckets", key: "AKIAALICE", arn: "arn:aws:iam::123456789012:user/alice"))
        let shim = try TestServers.shim(["lookupRecords": records])
        defer { shim.stop() }
        let alerts = try await HoneytokenDetector(tokens: [token]).checkLookup(TestServers.client(shim).cloudTrail)
        XCTAssertEqual(alerts.count, 60, "two pages of 50, deduplicated across the AccessKeyId and Username lookups")
        XCTAssertTrue(alerts.allSatisfy { $0.origin == "LookupEvents" && $0.sourceIPAddress == "203.0.113.7" })
    }
}
