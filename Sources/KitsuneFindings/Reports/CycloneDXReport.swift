import Foundation

/// CycloneDX 1.5 SBOM of the discovered packages (purls, locations as evidence occurrences), with the
/// vulnerability findings that name a package (`resource` = `name@version`) as `vulnerabilities`.
enum CycloneDXReport {
    static func object(_ report: ScanReport) -> [String: Any] {
        var refs: [String: String] = [:]
        var used = Set<String>()
        let components: [[String: Any]] = report.packages.map { package in
            var ref = package.purl.isEmpty ? "\(package.ecosystem):\(package.name)@\(package.version)" : package.purl
            var n = 2
            while used.contains(ref) { ref = "\(package.purl)#\(n)"; n += 1 }
            used.insert(ref)
            refs["\(package.name)@\(package.version)"] = ref
            var component: [String: Any] = [
                "type": "library", "bom-ref": ref, "name": package.name, "version": package.version,
                "properties": [["name": "kitsune:ecosystem", "value": package.ecosystem],
                               ["name": "kitsune:source", "value": package.source.rawValue]],
            ]
            if !package.purl.isEmpty { component["purl"] = package.purl }
            if !package.locations.isEmpty {
                component["evidence"] = ["occurrences": package.locations.map { ["location": $0] }]
            }
            return component
        }
        let vulnerabilities: [[String: Any]] = report.findings.compactMap { finding in
            guard finding.kind == .vulnerability, finding.status == .fail, let resource = finding.resource,
                  let ref = refs[resource] else { return nil }
            var vulnerability: [String: Any] = [
                "bom-ref": "\(finding.ruleID)/\(ref)", "id": finding.ruleID, "description": finding.title,
                "ratings": [["severity": finding.severity.rawValue, "method": "other"]],
                "affects": [["ref": ref]],
            ]
            if let aliases = finding.properties["aliases"], !aliases.isEmpty {
                vulnerability["references"] = aliases.split(separator: ",").map {
                    ["id": $0.trimmingCharacters(in: .whitespaces), "source": ["name": "OSV"]]
                }
            }
            if let fixed = finding.properties["fixed_version"] { vulnerability["recommendation"] = "Upgrade to \(fixed)" }
            return vulnerability
        }
        var bom: [String: Any] = [
            "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
            "serialNumber": "urn:uuid:\(UUID().uuidString.lowercased())",
            "metadata": [
                "timestamp": ReportJSON.timestamp(report.finishedAt),
                "tools": ["components": [["type": "application", "name": report.toolName, "version": report.toolVersion]]],
                "component": ["type": "application", "bom-ref": "target", "name": report.target],
            ] as [String: Any],
            "components": components,
        ]
        if !vulnerabilities.isEmpty { bom["vulnerabilities"] = vulnerabilities }
        return bom
    }
}
