/// The OSV schema (https://ossf.github.io/osv-schema/), the fields Kitsune evaluates.
public struct OSVRecord: Codable, Sendable, Equatable {
    public var id: String
    public var modified: String?
    public var published: String?
    public var withdrawn: String?
    public var aliases: [String]?
    public var summary: String?
    public var details: String?
    public var severity: [OSVSeverity]?
    public var affected: [OSVAffected]?
    public var references: [OSVReference]?
    public var databaseSpecific: OSVDatabaseSpecific?

    enum CodingKeys: String, CodingKey {
        case id, modified, published, withdrawn, aliases, summary, details, severity, affected, references
        case databaseSpecific = "database_specific"
    }

    public init(id: String, modified: String? = nil, withdrawn: String? = nil, aliases: [String]? = nil,
                summary: String? = nil, details: String? = nil, severity: [OSVSeverity]? = nil,
                affected: [OSVAffected]? = nil, references: [OSVReference]? = nil,
                databaseSpecific: OSVDatabaseSpecific? = nil) {
        self.id = id; self.modified = modified; self.withdrawn = withdrawn; self.aliases = aliases
        self.summary = summary; self.details = details; self.severity = severity; self.affected = affected
        self.references = references; self.databaseSpecific = databaseSpecific
    }
}

/// `severity[]`: a scoring type (`CVSS_V3`, `CVSS_V4`, …) and its vector.
public struct OSVSeverity: Codable, Sendable, Equatable {
    public var type: String
    public var score: String
    public init(type: String, score: String) { self.type = type; self.score = score }
}

/// `references[]`: a typed link (`ADVISORY`, `FIX`, `WEB`, …).
public struct OSVReference: Codable, Sendable, Equatable {
    public var type: String?
    public var url: String
}

/// `database_specific`: only the `severity` word (GHSA: `LOW`, `MODERATE`, `HIGH`, `CRITICAL`) is used;
/// other keys are ignored. Tolerates any JSON shape.
public struct OSVDatabaseSpecific: Codable, Sendable, Equatable {
    public var severity: String?
    public init(severity: String?) { self.severity = severity }
    enum CodingKeys: String, CodingKey { case severity }
    public init(from decoder: any Decoder) throws {
        let c = try? decoder.container(keyedBy: CodingKeys.self)
        severity = (try? c?.decodeIfPresent(String.self, forKey: .severity)) ?? nil
    }
}

/// `affected[].package`: the ecosystem (possibly with a `:suffix`), the name in that ecosystem, a purl.
public struct OSVPackage: Codable, Sendable, Equatable {
    public var ecosystem: String
    public var name: String
    public var purl: String?
    public init(ecosystem: String, name: String, purl: String? = nil) {
        self.ecosystem = ecosystem; self.name = name; self.purl = purl
    }
}

/// `affected[]`: one package's affected `ranges` and enumerated `versions`.
public struct OSVAffected: Codable, Sendable, Equatable {
    public var package: OSVPackage?
    public var ranges: [OSVRange]?
    public var versions: [String]?
    public var severity: [OSVSeverity]?
    public var databaseSpecific: OSVDatabaseSpecific?
    enum CodingKeys: String, CodingKey {
        case package, ranges, versions, severity
        case databaseSpecific = "database_specific"
    }
    public init(package: OSVPackage?, ranges: [OSVRange]? = nil, versions: [String]? = nil,
                severity: [OSVSeverity]? = nil, databaseSpecific: OSVDatabaseSpecific? = nil) {
        self.package = package; self.ranges = ranges; self.versions = versions
        self.severity = severity; self.databaseSpecific = databaseSpecific
    }
}

/// `affected[].ranges[]`: a timeline of events in one ordering (`ECOSYSTEM`, `SEMVER`, `GIT`).
public struct OSVRange: Codable, Sendable, Equatable {
    /// `ECOSYSTEM`, `SEMVER` or `GIT`.
    public var type: String
    public var repo: String?
    public var events: [OSVEvent]
    public init(type: String, repo: String? = nil, events: [OSVEvent]) {
        self.type = type; self.repo = repo; self.events = events
    }
}

/// One timeline event; exactly one of the four kinds.
public struct OSVEvent: Codable, Sendable, Equatable {
    public enum Kind: String, Sendable { case introduced, fixed, lastAffected = "last_affected", limit }
    public var kind: Kind
    public var version: String

    public init(_ kind: Kind, _ version: String) { self.kind = kind; self.version = version }

    enum CodingKeys: String, CodingKey {
        case introduced, fixed, limit
        case lastAffected = "last_affected"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let present: [(Kind, String)] = [
            (.introduced, try c.decodeIfPresent(String.self, forKey: .introduced)),
            (.fixed, try c.decodeIfPresent(String.self, forKey: .fixed)),
            (.lastAffected, try c.decodeIfPresent(String.self, forKey: .lastAffected)),
            (.limit, try c.decodeIfPresent(String.self, forKey: .limit)),
        ].compactMap { k, v in v.map { (k, $0) } }
        guard present.count == 1, let only = present.first else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "an OSV event must have exactly one of introduced, fixed, last_affected, limit"))
        }
        kind = only.0; version = only.1
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch kind {
        case .introduced: try c.encode(version, forKey: .introduced)
        case .fixed: try c.encode(version, forKey: .fixed)
        case .lastAffected: try c.encode(version, forKey: .lastAffected)
        case .limit: try c.encode(version, forKey: .limit)
        }
    }
}
