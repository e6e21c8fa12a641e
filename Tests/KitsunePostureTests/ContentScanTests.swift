import Foundation
import KitsuneAWS
import KitsuneFindings
import XCTest
@testable import KitsunePosture

/// `kitsune posture`'s scanner pass: environment variables from moto, code packages downloaded from a
/// local HTTP server standing in for S3 (moto's Code.Location names an amazonaws.com host).
final class ContentScanTests: XCTestCase {
    static let token = "ghp_R8mK2pQ7xZ4vN1bT6yW3cL9dF5gH0jS2aE8u"
    static let awsKey = "AKIAQ7XZ4VN2BT6YW3CL"

    /// Seeds two functions and writes the package of `leaky` (app.py with an AWS key) to `zipPath`.
    static func seed(zipPath: String) -> String {
        #"""
        import io, json, sys, zipfile, boto3
        kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1")
        iam, lam = boto3.client("iam", **kw), boto3.client("lambda", **kw)
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
        role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("app.py", "KEY = '\#(awsKey)'\ndef handler(event, context):\n    return 1\n")
        open("\#(zipPath)", "wb").write(buf.getvalue())
        lam.create_function(FunctionName="leaky", Runtime="python3.13", Role=role, Handler="app.handler", Code={"ZipFile": buf.getvalue()},
                            Environment={"Variables": {"GITHUB_TOKEN": "\#(token)", "TABLE_NAME": "orders"}})
        lam.create_function(FunctionName="clean", Runtime="python3.13", Role=role, Handler="app.handler", Code={"ZipFile": buf.getvalue()},
                            Environment={"Variables": {"TABLE_NAME": "orders"}})
        """#
    }

    private func contentDirectories() throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path)
            .filter { $0.hasPrefix("kitsune-content-") })
    }

    private func fixture() throws -> (MotoServer, zip: String) {
        let zip = try writeTempFile("leaky.zip", "")
        let moto = try MotoServer()
        try moto.seed(Self.seed(zipPath: zip))
        return (moto, zip)
    }

    func testEnvironmentVariablesAreScannedIntoTheSameReport() async throws {
        let (moto, _) = try fixture()
        let before = try contentDirectories()
        let run = PostureRun(client: try LiveFactsTests.client(moto.endpoint), options: CollectorOptions(regions: ["us-east-1"]),
                             contentScan: try FunctionContentScan.standard(scanCode: false))
        let result = try await run.run(now: fixedNow)
        XCTAssertFalse(result.isPartial, result.report.notes.joined(separator: "\n"))
        let secret = try XCTUnwrap(result.report.findings.first { $0.ruleID == "secret/github-token" },
                                   "\(result.report.findings.map(\.ruleID))")
        XCTAssertEqual(secret.resource, "leaky")
        XCTAssertEqual(secret.status, .fail)
        XCTAssertEqual(secret.location?.path, "leaky.configuration.json#Environment.Variables.GITHUB_TOKEN")
        XCTAssertEqual(secret.properties["source"], "environment")
        XCTAssertEqual(secret.properties["function_arn"], "arn:aws:lambda:us-east-1:123456789012:function:leaky")
        XCTAssertFalse(secret.message.contains(Self.token), "the secret itself is masked")
        XCTAssertFalse(secret.message.contains("kitsune-content-"), secret.message)
        XCTAssertFalse(result.report.findings.contains { $0.resource == "clean" && $0.kind == .secret })
        XCTAssertFalse(result.report.findings.contains { $0.ruleID == "secret/aws-access-key-id" }, "code is not downloaded without --scan-code")
        XCTAssertEqual(result.report.statistics["scanned_functions"], 2)
        XCTAssertEqual(result.exitCode(threshold: .high), 1)
        XCTAssertEqual(try contentDirectories(), before, "temporary files are removed")
    }

    func testScanCodeDownloadsThePackageAndScansIt() async throws {
        let (moto, zip) = try fixture()
        let server = try LocalHTTPServer(file: zip)
        let environment = AWSEnvironment(variables: ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                                                     "AWS_ENDPOINT_URL": moto.endpoint, "AWS_REGION": "us-east-1"],
                                         homeDirectory: FileManager.default.temporaryDirectory.path)
        let client = try AWSClient.fromEnvironment(environment, transport: S3ToLocalTransport(port: server.port),
                                                   retry: RetryPolicy(maxAttempts: 1))
        let before = try contentDirectories()
        let run = PostureRun(client: client, options: CollectorOptions(regions: ["us-east-1"], functionGlob: "leaky"),
                             contentScan: try FunctionContentScan.standard(scanCode: true))
        let result = try await run.run(now: fixedNow)
        XCTAssertFalse(result.isPartial, result.report.notes.joined(separator: "\n"))
        let key = try XCTUnwrap(result.report.findings.first { $0.ruleID == "secret/aws-access-key-id" },
                                "\(result.report.findings.map(\.ruleID)) \(result.report.notes)")
        XCTAssertEqual(key.resource, "leaky")
        XCTAssertEqual(key.location?.path, "leaky.zip!/app.py")
        XCTAssertEqual(key.properties["source"], "code")
        XCTAssertTrue(result.report.findings.contains { $0.ruleID == "secret/github-token" }, "environment still scanned")
        XCTAssertEqual(result.report.statistics["scanned_code_packages"], 1)
        XCTAssertTrue(server.requests().contains { $0.hasPrefix("/") }, "the package came from the local server")
        XCTAssertEqual(try contentDirectories(), before, "temporary files are removed")

        // A package above the limit is not downloaded: MANUAL, never silence.
        let small = try await PostureRun(client: client, options: CollectorOptions(regions: ["us-east-1"], functionGlob: "leaky"),
                                         contentScan: try FunctionContentScan.standard(scanCode: true, maxCodeBytes: 10)).run(now: fixedNow)
        let manual = try XCTUnwrap(small.report.findings.first { $0.ruleID == FunctionContentScan.manualRuleID })
        XCTAssertEqual(manual.status, .manual)
        XCTAssertTrue(manual.message.contains("above the download limit of 10 bytes"), manual.message)
    }

    func testUnreachableCodeLocationIsManualAndPartial() async throws {
        // moto's Code.Location names awslambda-us-east-1-tasks.s3.us-east-1.amazonaws.com, unreachable here.
        let (moto, _) = try fixture()
        let run = PostureRun(client: try LiveFactsTests.client(moto.endpoint),
                             options: CollectorOptions(regions: ["us-east-1"], functionGlob: "clean"),
                             contentScan: try FunctionContentScan.standard(scanCode: true))
        let result = try await run.run(now: fixedNow)
        let manual = try XCTUnwrap(result.report.findings.first { $0.ruleID == FunctionContentScan.manualRuleID })
        XCTAssertEqual(manual.resource, "clean")
        XCTAssertEqual(manual.status, .manual)
        XCTAssertTrue(manual.message.contains("download failed"), manual.message)
        XCTAssertFalse(manual.message.contains("X-Amz"), "the pre-signed query is never printed")
        XCTAssertTrue(result.isPartial)
        XCTAssertEqual(result.exitCode(threshold: .critical), 2, "an unscanned package is never a green gate")
    }

    func testDownloadErrorsAreClear() async throws {
        let file = try writeTempFile("blob.zip", String(repeating: "x", count: 4096))
        let server = try LocalHTTPServer(file: file)
        let client = try LiveFactsTests.client("http://127.0.0.1:9")
        let ok = try await client.downloadCodePackage(from: "http://127.0.0.1:\(server.port)/pkg?X-Amz-Signature=abc", maxBytes: 1 << 20)
        XCTAssertEqual(ok.count, 4096)
        do {
            _ = try await client.downloadCodePackage(from: "http://127.0.0.1:\(server.port)/pkg?X-Amz-Signature=abc", maxBytes: 100)
            XCTFail("expected the size limit")
        } catch {
            XCTAssertTrue("\(error)".contains("above the limit of 100 bytes"), "\(error)")
            XCTAssertFalse("\(error)".contains("X-Amz-Signature"), "\(error)")
        }
        do {
            _ = try await client.downloadCodePackage(from: "http://127.0.0.1:\(server.port)/expired?X-Amz-Signature=abc", maxBytes: 1 << 20)
            XCTFail("expected access denied")
        } catch let error as AWSError {
            XCTAssertTrue(error.isAccessDenied, "\(error)")
        }
        do {
            _ = try await client.downloadCodePackage(from: "file:///etc/passwd", maxBytes: 1 << 20)
            XCTFail("expected a URL error")
        } catch {
            XCTAssertTrue("\(error)".contains("not an http(s) URL"), "\(error)")
        }
    }
}

/// Sends requests for `*.amazonaws.com` (the pre-signed package URL) to the local server; everything
/// else (moto) unchanged. Stands in for DNS, not for an AWS API.
struct S3ToLocalTransport: HTTPTransport {
    let port: Int
    let base = URLSessionTransport()

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var request = request
        if request.url.host?.hasSuffix(".amazonaws.com") == true,
           var parts = URLComponents(url: request.url, resolvingAgainstBaseURL: false) {
            parts.scheme = "http"
            parts.host = "127.0.0.1"
            parts.port = port
            if let url = parts.url { request.url = url }
        }
        return try await base.send(request)
    }
}

/// A real HTTP server (Python's http.server) on 127.0.0.1 serving one file for every GET path except
/// `/expired` (403, like an expired pre-signed URL). Logs request paths.
final class LocalHTTPServer {
    let port: Int
    let process: Process
    let log: String

    init(file: String) throws {
        log = file + ".requests"
        let script = """
        import http.server, sys
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                open(sys.argv[2], "a").write(self.path + "\\n")
                if self.path.startswith("/expired"):
                    self.send_response(403); self.send_header("Content-Length", "13"); self.end_headers(); self.wfile.write(b"Request expired"[:13]); return
                data = open(sys.argv[1], "rb").read()
                self.send_response(200); self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
            def log_message(self, *a): pass
        s = http.server.HTTPServer(("127.0.0.1", 0), H)
        print(s.server_address[1], flush=True)
        s.serve_forever()
        """
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        child.arguments = ["python3", "-c", script, file, log]
        let pipe = Pipe()
        child.standardOutput = pipe
        child.standardError = FileHandle.nullDevice
        try child.run()
        var text = ""
        let deadline = Date().addingTimeInterval(15)
        while !text.contains("\n") && Date() < deadline {
            let data = pipe.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        guard let listening = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            MotoServer.stop(child)
            throw MotoServer.Unavailable(description: "local HTTP server did not start (python3 needed): '\(text)'")
        }
        self.port = listening
        self.process = child
    }

    func requests() -> [String] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    deinit { MotoServer.stop(process) }
}
