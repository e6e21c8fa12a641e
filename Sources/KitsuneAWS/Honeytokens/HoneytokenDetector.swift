import Foundation

/// One use of a honeytoken seen in CloudTrail.
public struct HoneytokenAlert: Sendable, Codable, Equatable {
    public var honeytoken: String
    public var accessKeyID: String
    public var eventName: String
    public var eventSource: String
    public var eventTime: String
    public var sourceIPAddress: String
    public var userAgent: String
    public var region: String
    /// Set when AWS refused the call (expected: the user denies everything).
    public var errorCode: String?
    public var eventID: String?
    /// The log file (or `LookupEvents`) the record came from.
    public var origin: String
}

/// Matches CloudTrail records against the recorded honeytokens: by access key id, and by the
/// honeytoken user's ARN/name (catches temporary credentials derived from the key, e.g. via
/// `sts:GetSessionToken`).
public struct HoneytokenDetector: Sendable {
    public let tokens: [HoneytokenRecord]

    public init(tokens: [HoneytokenRecord]) { self.tokens = tokens }

    /// Alerts for `records` (decoded CloudTrail record objects).
    public func alerts(in records: [[String: Any]], origin: String) -> [HoneytokenAlert] {
        var alerts: [HoneytokenAlert] = []
        for record in records {
            let identity = record["userIdentity"] as? [String: Any] ?? [:]
            let keyID = identity["accessKeyId"] as? String ?? ""
            let arn = identity["arn"] as? String ?? ""
            let userName = identity["userName"] as? String ?? ""
            let issuer = ((identity["sessionContext"] as? [String: Any])?["sessionIssuer"] as? [String: Any])?["arn"] as? String
            guard let token = tokens.first(where: { token in
                (!keyID.isEmpty && keyID == token.accessKeyID) || (!arn.isEmpty && arn == token.userARN)
                    || (issuer != nil && issuer == token.userARN)
                    || (identity["type"] as? String == "IAMUser" && !userName.isEmpty && userName == token.userName
                        && (arn.isEmpty || arn.hasSuffix("/" + token.userName)))
            }) else { continue }
            alerts.append(HoneytokenAlert(
                honeytoken: token.name, accessKeyID: keyID.isEmpty ? token.accessKeyID : keyID,
                eventName: record["eventName"] as? String ?? "?", eventSource: record["eventSource"] as? String ?? "?",
                eventTime: record["eventTime"] as? String ?? "?", sourceIPAddress: record["sourceIPAddress"] as? String ?? "?",
                userAgent: record["userAgent"] as? String ?? "?", region: record["awsRegion"] as? String ?? "?",
                errorCode: record["errorCode"] as? String, eventID: record["eventID"] as? String, origin: origin))
        }
        return alerts
    }

    /// Checks CloudTrail log files (a file or a directory walked recursively for `*.json` and
    /// `*.json.gz`). Unreadable files are returned as problems (the check is then incomplete).
    public func checkFiles(at path: String) throws -> (alerts: [HoneytokenAlert], files: Int, problems: [String]) {
        let files = try CloudTrailLogReader.files(at: path)
        var alerts: [HoneytokenAlert] = []
        var problems: [String] = []
        for file in files {
            do {
                alerts += self.alerts(in: try CloudTrailLogReader.records(inFile: file), origin: file)
            } catch {
                problems.append("\(error)")
            }
        }
        return (alerts, files.count, problems)
    }

    /// Asks CloudTrail `LookupEvents` (90 days of management events, this region) for every
    /// honeytoken key and user name.
    public func checkLookup(_ cloudTrail: CloudTrailClient, start: Date? = nil) async throws -> [HoneytokenAlert] {
        var alerts: [HoneytokenAlert] = []
        var seen: Set<String> = []
        for token in tokens {
            for (key, value) in [("AccessKeyId", token.accessKeyID), ("Username", token.userName)] {
                let events = try await cloudTrail.lookupEvents(attributeKey: key, attributeValue: value, start: start)
                for event in events {
                    if let id = event.eventID, !seen.insert(id).inserted { continue }
                    guard let text = event.cloudTrailEvent,
                          let record = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                        throw AWSError.invalidResponse(action: "cloudtrail:LookupEvents",
                                                       detail: "event \(event.eventID ?? "?") has no readable CloudTrailEvent")
                    }
                    alerts += self.alerts(in: [record], origin: "LookupEvents")
                }
            }
        }
        return alerts
    }
}

/// Reads CloudTrail log files: `{"Records": [...]}`, plain or gzip-compressed.
public enum CloudTrailLogReader {
    /// `path` itself when it is a file; otherwise every `*.json`/`*.json.gz` below it, sorted.
    public static func files(at path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw AWSError.invalidInput("--cloudtrail \(path): no such file or directory")
        }
        guard isDirectory.boolValue else { return [path] }
        guard let enumerator = FileManager.default.enumerator(atPath: path) else {
            throw AWSError.invalidInput("--cloudtrail \(path): cannot list the directory")
        }
        var found: [String] = []
        while let relative = enumerator.nextObject() as? String {
            if relative.hasSuffix(".json") || relative.hasSuffix(".json.gz") { found.append(path + "/" + relative) }
        }
        return found.sorted()
    }

    /// The records of one log file; clear errors for non-JSON, wrong shape, corrupt gzip.
    public static func records(inFile file: String) throws -> [[String: Any]] {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw AWSError.invalidInput("\(file): cannot read the file")
        }
        var bytes = Array(data)
        if Gzip.isGzip(bytes) || file.hasSuffix(".gz") { bytes = try Gzip.decompress(bytes, name: file) }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(bytes)) } catch {
            throw AWSError.invalidInput("\(file): not JSON (\(error.localizedDescription))")
        }
        guard let root = object as? [String: Any], let records = root["Records"] as? [Any] else {
            throw AWSError.invalidInput("\(file): not a CloudTrail log file (expected an object with a \"Records\" array)")
        }
        return try records.enumerated().map { index, item in
            guard let record = item as? [String: Any] else {
                throw AWSError.invalidInput("\(file): Records[\(index)] is not an object")
            }
            return record
        }
    }
}
