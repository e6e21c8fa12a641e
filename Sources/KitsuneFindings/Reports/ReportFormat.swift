import Foundation

/// The output formats shared by `kitsune scan` and `kitsune posture`.
public enum ReportFormat: String, CaseIterable, Sendable {
    case table, json, sarif, ocsf, cyclonedx

    /// Renders `report` in this format.
    public func render(_ report: ScanReport) throws -> Data {
        switch self {
        case .table: return Data(TableReport.render(report).utf8)
        case .json: return try ReportJSON.data(JSONReport.object(report))
        case .sarif: return try ReportJSON.data(SARIFReport.object(report))
        case .ocsf: return try ReportJSON.data(OCSFReport.objects(report))
        case .cyclonedx: return try ReportJSON.data(CycloneDXReport.object(report))
        }
    }
}

/// JSON serialization helpers shared by the JSON-based formats.
enum ReportJSON {
    static func data(_ object: Any) throws -> Data {
        var data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        data.append(0x0A)
        return data
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// `Location` as a JSON object.
    static func location(_ location: Location) -> [String: Any] {
        var object: [String: Any] = ["path": location.path]
        if let line = location.line { object["line"] = line }
        if let column = location.column { object["column"] = column }
        return object
    }

    static func finding(_ f: Finding) -> [String: Any] {
        var object: [String: Any] = [
            "id": f.id, "rule_id": f.ruleID, "kind": f.kind.rawValue, "status": f.status.rawValue,
            "severity": f.severity.rawValue, "title": f.title, "message": f.message,
            "references": f.references, "properties": f.properties,
        ]
        if let place = f.location { object["location"] = Self.location(place) }
        if let resource = f.resource { object["resource"] = resource }
        if let remediation = f.remediation { object["remediation"] = remediation }
        return object
    }

    static func package(_ p: DiscoveredPackage) -> [String: Any] {
        ["ecosystem": p.ecosystem, "name": p.name, "version": p.version, "purl": p.purl, "locations": p.locations,
         "source": p.source.rawValue]
    }

    static func executable(_ e: ExecutableRecord) -> [String: Any] {
        var object: [String: Any] = ["path": e.path, "sha256": e.sha256, "size": e.size, "format": e.format]
        if let arch = e.arch { object["arch"] = arch }
        if let linkage = e.linkage { object["linkage"] = linkage }
        if let interpreter = e.interpreter { object["interpreter"] = interpreter }
        if let mode = e.mode { object["mode"] = mode }
        return object
    }
}
