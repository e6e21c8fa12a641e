import Foundation

/// A Lambda instruction set architecture, named as Lambda names it (`Architectures`,
/// `CompatibleArchitectures`), with the ELF machine its executables carry.
public enum LayerArchitecture: String, CaseIterable, Sendable {
    case x86_64
    case arm64

    /// Accepts Lambda's names and the ELF/uname ones (`aarch64`, `amd64`).
    public init?(name: String) {
        switch name.lowercased() {
        case "x86_64", "amd64", "x86-64": self = .x86_64
        case "arm64", "aarch64": self = .arm64
        default: return nil
        }
    }

    /// ELF e_machine: EM_X86_64 (62), EM_AARCH64 (183).
    public var elfMachine: UInt16 { self == .x86_64 ? 62 : 183 }
    /// The directory name `scripts/build-arm64` (and a cross build for x86_64) writes binaries into.
    public var buildDirectory: String { self == .x86_64 ? "x86_64" : "aarch64" }

    /// The architecture this `kitsune` runs on.
    public static var host: LayerArchitecture {
#if arch(arm64)
        return .arm64
#else
        return .x86_64
#endif
    }

    /// The architecture of an ELF executable, `nil` for anything else (another machine, not ELF,
    /// not 64-bit little-endian, shorter than an ELF header).
    public static func of(elf data: Data) -> LayerArchitecture? {
        guard data.count >= 20, data.starts(with: [0x7F, 0x45, 0x4C, 0x46]) else { return nil }
        let bytes = [UInt8](data.prefix(20))
        guard bytes[4] == 2, bytes[5] == 1 else { return nil }         // ELFCLASS64, little-endian
        let machine = UInt16(bytes[18]) | UInt16(bytes[19]) << 8
        return allCases.first { $0.elfMachine == machine }
    }

    /// What an ELF header says, for error messages: "x86_64", "arm64", "ELF machine 40", "not an ELF".
    static func describe(_ data: Data) -> String {
        if let a = of(elf: data) { return a.rawValue }
        guard data.count >= 20, data.starts(with: [0x7F, 0x45, 0x4C, 0x46]) else { return "not an ELF executable" }
        if data[data.startIndex + 4] != 2 || data[data.startIndex + 5] != 1 { return "not a 64-bit little-endian ELF" }
        return "ELF machine \(UInt16(data[data.startIndex + 18]) | UInt16(data[data.startIndex + 19]) << 8)"
    }
}

/// Finds the `kitsune-enforcer` built for an architecture and checks that it is one.
public enum LayerBinaries {
    /// Why no enforcer for the architecture could be used.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The enforcer for `architecture`: `explicit` (`--enforcer`) or `KITSUNE_ENFORCER` when given
    /// (and then it must be of that architecture), else the first of these built for it: beside
    /// `kitsune`, in `aarch64/` (or `x86_64/`) beside it, or — for a `kitsune` inside a SwiftPM build
    /// directory — in `.build/aarch64/`, where `scripts/build-arm64` leaves it.
    public static func enforcer(for architecture: LayerArchitecture, explicit: String? = nil,
                                environment: [String: String] = ProcessInfo.processInfo.environment,
                                kitsuneDirectory: URL = defaultKitsuneDirectory) throws -> URL {
        let given = explicit ?? environment["KITSUNE_ENFORCER"].flatMap { $0.isEmpty ? nil : $0 }
        if let given {
            let url = URL(fileURLWithPath: given)
            try check(url, is: architecture, what: "kitsune-enforcer")
            return url
        }
        var candidates = [kitsuneDirectory, kitsuneDirectory.appendingPathComponent(architecture.buildDirectory)]
        var dir = kitsuneDirectory
        while dir.path != "/" && !dir.path.isEmpty {
            if dir.lastPathComponent == ".build" { candidates.append(dir.appendingPathComponent(architecture.buildDirectory)); break }
            dir = dir.deletingLastPathComponent()
        }
        var seen: [String] = []
        for url in candidates.map({ $0.appendingPathComponent("kitsune-enforcer") }) where FileManager.default.isExecutableFile(atPath: url.path) {
            let data = try head(url)
            if LayerArchitecture.of(elf: data) == architecture { return url }
            seen.append("\(url.path) (\(LayerArchitecture.describe(data)))")
        }
        let build = architecture == .arm64 ? "scripts/build-arm64 (writes .build/aarch64/kitsune-enforcer)"
                                           : (LayerArchitecture.host == .x86_64 ? "swift build -c release" : "an x86_64 build")
        throw Failure(description: "no \(architecture.rawValue) kitsune-enforcer found"
            + (seen.isEmpty ? " beside kitsune" : "; found only \(seen.joined(separator: ", "))")
            + ": build it with \(build), or pass --enforcer PATH")
    }

    /// Refuse `url` unless it is an ELF executable for `architecture`.
    public static func check(_ url: URL, is architecture: LayerArchitecture, what: String) throws {
        guard FileManager.default.isReadableFile(atPath: url.path) else {
            throw Failure(description: "\(url.path): cannot read \(what)")
        }
        let data = try head(url)
        guard LayerArchitecture.of(elf: data) == architecture else {
            throw Failure(description: "\(url.path): \(what) is \(LayerArchitecture.describe(data)), but the layer is for \(architecture.rawValue)"
                + " (pass --architecture \(LayerArchitecture.of(elf: data)?.rawValue ?? "x86_64|arm64") or the \(architecture.rawValue) build)")
        }
    }

    /// Where this `kitsune` is installed.
    public static var defaultKitsuneDirectory: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    }

    static func head(_ url: URL) throws -> Data {
        guard let h = FileHandle(forReadingAtPath: url.path) else { throw Failure(description: "\(url.path): cannot open") }
        defer { try? h.close() }
        return (try h.read(upToCount: 64)) ?? Data()
    }
}
