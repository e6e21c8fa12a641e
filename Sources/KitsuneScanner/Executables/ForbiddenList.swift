import Foundation

/// Known miner/backdoor executables and indicator strings (`Rules/forbidden-executables.json`).
public struct ForbiddenList: Codable, Sendable {
    public struct Name: Codable, Sendable { public var name: String; public var reason: String }
    public struct Digest: Codable, Sendable { public var sha256: String; public var reason: String }
    public struct Indicator: Codable, Sendable { public var string: String; public var reason: String }

    public var version: Int
    public var names: [Name]
    public var sha256: [Digest]
    public var strings: [Indicator]

    public init(names: [Name] = [], sha256: [Digest] = [], strings: [Indicator] = []) {
        self.version = 1
        self.names = names
        self.sha256 = sha256
        self.strings = strings
    }

    /// The built-in list from the scanner's resources.
    public static func builtIn() throws -> ForbiddenList {
        guard let url = Bundle.module.url(forResource: "forbidden-executables", withExtension: "json", subdirectory: "Rules") else {
            throw ScanInputError(input: "Rules/forbidden-executables.json", reason: "missing from the scanner resources")
        }
        return try load(contentsOf: url.path)
    }

    /// Loads a list with this schema.
    public static func load(contentsOf path: String) throws -> ForbiddenList {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ScanInputError(input: path, reason: "cannot read forbidden executables list")
        }
        do { return try JSONDecoder().decode(ForbiddenList.self, from: data) } catch {
            throw ScanInputError(input: path, reason: JSONErrorDescription.describe(error, in: data))
        }
    }

    /// Why a file with this base name is forbidden, if it is.
    func reason(forName baseName: String) -> String? {
        let lower = baseName.lowercased()
        return names.first { $0.name.lowercased() == lower }?.reason
    }

    func reason(forSHA256 digest: String) -> String? {
        sha256.first { $0.sha256.lowercased() == digest }?.reason
    }
}

/// Searches a stream of chunks for the indicator strings, across chunk boundaries.
struct IndicatorSearch {
    private let needles: [(bytes: [UInt8], index: Int)]
    private var carry: [UInt8] = []
    private let maxLength: Int
    private(set) var found: Set<Int> = []

    init(_ list: ForbiddenList) {
        needles = list.strings.enumerated().compactMap { i, s in s.string.isEmpty ? nil : (Array(s.string.utf8), i) }
        maxLength = needles.map { $0.bytes.count }.max() ?? 0
    }

    mutating func feed(_ chunk: [UInt8]) {
        guard !needles.isEmpty, found.count < needles.count else { return }
        let data = carry + chunk
        data.withUnsafeBytes { hay in
            for needle in needles where !found.contains(needle.index) {
                if Self.contains(hay, needle.bytes) { found.insert(needle.index) }
            }
        }
        carry = Array(data.suffix(maxLength - 1))
    }

    /// Bytes from rarest to most common in source code and text; memchr looks for the needle's
    /// rarest byte so that it stops as seldom as possible.
    static let rarity: [UInt8] = Array("+zqxjkvwy/g-bf:mpuhdcl".utf8)

    /// memchr for the needle's rarest byte, then a comparison of the whole needle.
    static func contains(_ hay: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard let base = hay.baseAddress, !needle.isEmpty, hay.count >= needle.count else { return false }
        let pivot = rarity.lazy.compactMap { byte in needle.firstIndex(of: byte) }.first ?? 0
        let pivotByte = Int32(needle[pivot])
        var offset = pivot
        let lastPivot = hay.count - needle.count + pivot
        while offset <= lastPivot {
            guard let p = memchr(base + offset, pivotByte, lastPivot - offset + 1) else { return false }
            let at = base.distance(to: UnsafeRawPointer(p))
            if memcmp(base + at - pivot, needle, needle.count) == 0 { return true }
            offset = at + 1
        }
        return false
    }
}
