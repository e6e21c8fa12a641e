import Crypto
import Foundation
import KitsuneFindings

/// Turns the advisories that affect one package into findings: alias groups, rule id choice,
/// severity, fixed versions.
struct AdvisoryMatcher: Sendable {
    let table: EcosystemTable
    let cvss: CVSSCalculator

    /// Preferred id families for `ruleID`, in order; then the smallest id.
    static let idPreference = ["GHSA-", "CVE-", "PYSEC-"]

    func findings(for pkg: DiscoveredPackage, advisories: [StoredAdvisory]) -> [Finding] {
        guard let ordering = table.ordering(for: pkg.ecosystem), !advisories.isEmpty else { return [] }
        let evaluator = RangeEvaluator(ecosystemOrdering: ordering)
        var hits: [StoredAdvisory] = [], undecided: [String] = []
        for a in advisories {
            let verdicts = a.affected.map { evaluator.evaluate(pkg.version, $0) }
            if verdicts.contains(.affected) { hits.append(a) } else if verdicts.contains(.unknown) { undecided.append(a.id) }
        }
        var out = Self.aliasGroups(hits).map { finding(pkg, $0, ordering) }
        if !undecided.isEmpty { out.append(unevaluated(pkg, undecided)) }
        return out
    }

    /// A version the ecosystem's ordering cannot read: the advisories for the package could not be
    /// evaluated. Said explicitly rather than reported clean.
    private func unevaluated(_ pkg: DiscoveredPackage, _ ids: [String]) -> Finding {
        let fp = SHA256.hash(data: Data("unevaluated|\(pkg.ecosystem)|\(pkg.name)|\(pkg.version)".utf8))
            .map { String(format: "%02x", $0) }.joined().prefix(16)
        return Finding(id: "vuln-\(fp)", ruleID: "advisory/unevaluated-version", kind: .inputError, severity: .info,
                       title: "\(pkg.name)@\(pkg.version): version not comparable",
                       message: "\(pkg.ecosystem) version \"\(pkg.version)\" of \(pkg.name) cannot be ordered with the "
                           + "\(pkg.ecosystem) version rules, so \(ids.count) advisories could not be evaluated: "
                           + ids.sorted().prefix(10).joined(separator: ", "),
                       location: pkg.locations.first.map { Location(path: $0) }, resource: "\(pkg.name)@\(pkg.version)",
                       remediation: "Check the package version by hand against the listed advisories.",
                       properties: ["ecosystem": pkg.ecosystem, "package": pkg.name, "version": pkg.version,
                                    "advisories": ids.sorted().joined(separator: ", ")])
    }

    /// Groups advisories whose ids/aliases overlap (transitively).
    static func aliasGroups(_ list: [StoredAdvisory]) -> [[StoredAdvisory]] {
        var parent = Array(list.indices)
        func find(_ i: Int) -> Int { var i = i; while parent[i] != i { i = parent[i] }; return i }
        var owner: [String: Int] = [:]
        for (i, a) in list.enumerated() {
            for name in [a.id] + a.aliases {
                if let j = owner[name] { parent[find(i)] = find(j) } else { owner[name] = i }
            }
        }
        var groups: [Int: [StoredAdvisory]] = [:]
        for i in list.indices { groups[find(i), default: []].append(list[i]) }
        return groups.keys.sorted().compactMap { groups[$0] }
    }

    static func preferredID(_ ids: [String]) -> String {
        for prefix in idPreference {
            if let id = ids.filter({ $0.hasPrefix(prefix) }).min() { return id }
        }
        return ids.min() ?? "UNKNOWN"
    }

    private func finding(_ pkg: DiscoveredPackage, _ group: [StoredAdvisory], _ ordering: any VersionOrdering) -> Finding {
        let allIDs = Array(Set(group.flatMap { [$0.id] + $0.aliases })).sorted()
        let ruleID = Self.preferredID(allIDs)
        // Severity: highest CVSS v3 base score in the group; else the database's word; else unrated.
        var best: (score: Double, vector: String)?
        for a in group {
            let vectors = a.severity + a.affected.flatMap { $0.severity ?? [] }
            for s in vectors where s.type == "CVSS_V3" {
                if let score = try? cvss.baseScore(s.score), score > (best?.score ?? -1) { best = (score, s.score) }
            }
        }
        var properties: [String: String] = [
            "ecosystem": pkg.ecosystem, "package": pkg.name, "version": pkg.version, "purl": pkg.purl,
            "advisories": group.map(\.id).sorted().joined(separator: ", "),
            "locations": pkg.locations.joined(separator: ", "),
        ]
        let aliases = allIDs.filter { $0 != ruleID }
        if !aliases.isEmpty { properties["aliases"] = aliases.joined(separator: ", ") }
        properties["package_source"] = pkg.source.rawValue
        let severity: Severity
        if let best {
            severity = cvss.severity(score: best.score)
            properties["cvss"] = best.vector
            properties["cvss_score"] = String(format: "%.1f", best.score)
            properties["severity_source"] = "cvss_v3"
        } else if let word = group.compactMap({ $0.databaseSeverity ?? $0.affected.compactMap { $0.databaseSpecific?.severity }.first })
                    .compactMap({ cvss.severity(word: $0) }).max() {
            severity = word
            properties["severity_source"] = "database_specific"
        } else {
            severity = .medium
            properties["severity_source"] = "unrated (no CVSS v3 vector or database severity; defaulted to medium)"
            if let v4 = group.flatMap(\.severity).first(where: { $0.type == "CVSS_V4" }) { properties["cvss_v4"] = v4.score }
        }
        let fixes = fixedVersions(pkg.version, group, ordering)
        if let first = fixes.first {
            properties["fixed_version"] = first
            if fixes.count > 1 { properties["fixed_versions"] = fixes.joined(separator: ", ") }
        }
        let summary = group.compactMap(\.summary).first { !$0.isEmpty } ?? "known vulnerability"
        let location = pkg.locations.first.map { Location(path: $0) }
        let fingerprint = SHA256.hash(data: Data("\(ruleID)|\(pkg.ecosystem)|\(pkg.name)|\(pkg.version)|\(pkg.locations.first ?? "")".utf8))
            .map { String(format: "%02x", $0) }.joined().prefix(16)
        let remediation = fixes.first.map { "Upgrade \(pkg.name) from \(pkg.version) to \($0) or later." }
            ?? "No fixed version of \(pkg.name) is published for \(ruleID); remove the package or mitigate."
        let references = Array(Set(group.flatMap(\.references))).sorted().prefix(20)
        return Finding(id: "vuln-\(fingerprint)", ruleID: ruleID, kind: .vulnerability, severity: severity,
                       title: "\(pkg.name)@\(pkg.version): \(summary)",
                       message: "\(pkg.ecosystem) package \(pkg.name) \(pkg.version) is affected by \(ruleID)"
                           + (aliases.isEmpty ? "" : " (also \(aliases.joined(separator: ", ")))") + ": \(summary)"
                           + (pkg.source == .manifest
                              ? ". The version is the exact pin declared in \(pkg.locations.first ?? "a manifest") (no lockfile or installed copy next to it)."
                              : ""),
                       location: location, resource: "\(pkg.name)@\(pkg.version)", remediation: remediation,
                       references: Array(references), properties: properties)
    }

    /// Fixed versions above the installed one from the ranges that contain it, nearest first.
    func fixedVersions(_ version: String, _ group: [StoredAdvisory], _ ordering: any VersionOrdering) -> [String] {
        var out = Set<String>()
        for a in group {
            for affected in a.affected {
                for range in affected.ranges ?? [] where range.type != "GIT" {
                    let ord: any VersionOrdering = range.type == "SEMVER" ? SemVerOrdering() : ordering
                    for e in range.events where e.kind == .fixed {
                        if let c = ord.compare(e.version, version), c > 0 { out.insert(e.version) }
                    }
                }
            }
        }
        // Only the nearest fix per range matters to users; keep all above, sorted.
        return out.sorted { (ordering.compare($0, $1) ?? ($0 < $1 ? -1 : 1)) < 0 }
    }
}
