// swift-tools-version:6.0
// Kitsune — runtime protection for serverless functions and containers.
//
// Dependency arrows (one way):
//   kitsune (CLI) → KitsuneScanner, KitsuneAWS, KitsuneLambda, KitsunePolicy → KitsunePolicyCore
//   KitsuneLambda → KitsuneScanner (zip reading for `kitsune protect`)
//   KitsuneScanner, KitsuneAWS → KitsuneFindings; KitsunePosture → KitsuneAWS, KitsuneScanner
//   kitsune-enforcer (Embedded Swift, static) → CKitsuneSys + the KitsunePolicyCore sources
//     (compiled into it through the symlink Sources/KitsuneEnforcer/PolicyCore).
//   kitsune-ship (Embedded Swift, static) → CKitsuneSys, CKitsuneTLS (OpenSSL, static)
//   KitsuneServer (the control plane) → KitsunePolicy, KitsuneFindings, Hummingbird, GRDB, PostgresNIO
import PackageDescription

/// The enforcer is Embedded Swift, linked fully static (no glibc version requirements at run time).
let embedded: [SwiftSetting] = [.enableExperimentalFeature("Embedded"), .unsafeFlags(["-wmo", "-Osize"])]

/// Release builds (scripts/package, docs/release.md) set two variables for `swift build`; a plain build
/// needs neither. KITSUNE_BUILD_COMMIT: the git commit every binary prints with `--version` (7-40
/// lowercase hex digits; anything else stamps "unknown").
let buildCommit: String = {
    guard let c = Context.environment["KITSUNE_BUILD_COMMIT"], (7...40).contains(c.count),
          c.allSatisfy({ "0123456789abcdef".contains($0) }) else { return "unknown" }
    return c
}()
/// KITSUNE_PORTABLE_LINK=1: `kitsune` links the Swift runtime and Foundation statically and reaches
/// glibc symbols no younger than 2.34 (Amazon Linux 2023) through CKitsuneGlibcCompat's wrappers.
let portableLink = Context.environment["KITSUNE_PORTABLE_LINK"] == "1"
let wrappedSymbols = ["hypot", "hypotf", "_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE"]
/// The modules were compiled against the shared Foundation, whose link entries name only
/// -lFoundation*; the static one also needs these, in one group (they refer to each other), and
/// libcurl and libxml2 (FoundationNetworking, FoundationXML) from the system.
let staticFoundation = ["Foundation", "FoundationEssentials", "FoundationInternationalization", "FoundationNetworking",
                        "FoundationXML", "CoreFoundation", "_FoundationICU", "_CFURLSessionInterface", "_CFXMLInterface",
                        "_FoundationCShims", "_FoundationCollections", "swiftSynchronization", "swift_Concurrency", "swiftDispatch",
                        "dispatch", "BlocksRuntime", "swiftCore"]
let kitsuneLink: [LinkerSetting] = portableLink
    ? [.unsafeFlags(["-static-stdlib", "-Xlinker", "--start-group"] + staticFoundation.flatMap { ["-Xlinker", "-l\($0)"] }
                    + ["-Xlinker", "--end-group", "-Xlinker", "-lcurl", "-Xlinker", "-lxml2"]
                    + wrappedSymbols.flatMap { ["-Xlinker", "--wrap=\($0)"] })] : []

let package = Package(
    name: "Kitsune",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "kitsune", targets: ["kitsune"]),
        .executable(name: "kitsune-enforcer", targets: ["kitsune-enforcer"]),
        .executable(name: "kitsune-ship", targets: ["kitsune-ship"]),
        .executable(name: "kitsune-oci-runtime", targets: ["kitsune-oci-runtime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        // The control plane (`kitsune server`): HTTP(S), SQLite, PostgreSQL.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // Raw syscalls (Landlock, seccomp, user notification, process memory) with fixed arity.
        .target(name: "CKitsuneSys", path: "Sources/CKitsuneSys"),
        // zlib, for reading deflated zip entries without extracting them.
        .systemLibrary(name: "CKitsuneZlib", path: "Sources/CKitsuneZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // The commit stamped into every binary (see buildCommit above).
        .target(name: "CKitsuneBuildInfo", path: "Sources/CKitsuneBuildInfo",
                cSettings: [.define("KITSUNE_BUILD_COMMIT", to: "\"\(buildCommit)\"")]),
        // Older-glibc entry points for the portable `kitsune` (see portableLink above).
        .target(name: "CKitsuneGlibcCompat", path: "Sources/CKitsuneGlibcCompat",
                cSettings: portableLink ? [.define("KITSUNE_PORTABLE_LINK")] : []),
        // Pure Swift, Embedded-compatible: policy format, compiled policy, exec decisions, events, SHA-256.
        .target(name: "KitsunePolicyCore", path: "Sources/KitsunePolicyCore"),
        // The resident supervisor.
        .executableTarget(
            name: "kitsune-enforcer",
            dependencies: ["CKitsuneSys", "CKitsuneBuildInfo"],
            path: "Sources/KitsuneEnforcer",
            resources: [.embedInCode("Resources/default-policy.yaml")],
            swiftSettings: embedded,
            linkerSettings: [.unsafeFlags(["-Xclang-linker", "-static", "-Xlinker", "-lm"])]
        ),
        // One HTTPS POST over OpenSSL (libssl-dev's static libraries), for kitsune-ship.
        .target(name: "CKitsuneTLS", path: "Sources/CKitsuneTLS",
                linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        // The sidecar's HTTPS helper: POSTs one event batch (stdin) to an https:// KITSUNE_EVENTS_URL.
        // Static like the enforcer; the caller resolves the host name.
        .executableTarget(
            name: "kitsune-ship",
            dependencies: ["CKitsuneSys", "CKitsuneTLS", "CKitsuneBuildInfo"],
            path: "Sources/KitsuneShip",
            swiftSettings: embedded,
            linkerSettings: [.unsafeFlags(["-Xclang-linker", "-static"])]
        ),
        // Full-Swift side of the policy: YAML policies, manifests, event decoding.
        .target(name: "KitsunePolicy", dependencies: ["KitsunePolicyCore"],
                path: "Sources/KitsunePolicy"),
        // Findings and report formats shared by scan and posture.
        .target(name: "KitsuneFindings", path: "Sources/KitsuneFindings"),
        .target(name: "KitsuneScanner",
                dependencies: ["KitsuneFindings", "KitsunePolicy", "CKitsuneZlib", "Yams",
                               .product(name: "Crypto", package: "swift-crypto")],
                path: "Sources/KitsuneScanner",
                resources: [.copy("Rules"), .copy("Advisories/Data")]),
        .target(name: "KitsuneAWS",
                dependencies: ["KitsuneFindings", "Yams", "CKitsuneZlib", .product(name: "Crypto", package: "swift-crypto")],
                path: "Sources/KitsuneAWS",
                resources: [.copy("Data")]),
        // Live-account posture (CIS Compute 4.x, IAM analysis) and SAM/CloudFormation template checks.
        .target(name: "KitsunePosture",
                dependencies: ["KitsuneAWS", "KitsuneFindings", "KitsuneScanner", "Yams"],
                path: "Sources/KitsunePosture",
                resources: [.copy("Data")]),
        .target(name: "KitsuneLambda", dependencies: ["KitsunePolicy", "KitsuneScanner", "CKitsuneZlib"], path: "Sources/KitsuneLambda",
                resources: [.copy("Data")]),
        // The control plane: store (SQLite or PostgreSQL), API, background jobs, its resources
        // (migrations, openapi.yaml). Depends on the policy and findings modules, never the reverse.
        .target(name: "KitsuneServer",
                dependencies: ["KitsunePolicy", "KitsuneFindings", "KitsuneAWS", "KitsuneLambda",
                               .product(name: "Hummingbird", package: "hummingbird"),
                               .product(name: "HummingbirdCore", package: "hummingbird"),
                               .product(name: "HummingbirdTLS", package: "hummingbird"),
                               .product(name: "HTTPTypes", package: "swift-http-types"),
                               .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
                               .product(name: "PostgresNIO", package: "postgres-nio"),
                               .product(name: "Crypto", package: "swift-crypto")],
                path: "Sources/KitsuneServer",
                resources: [.copy("ServerData")]),
        // Container images: OCI layouts and docker-archives read and written, layers flattened, drift
        // manifests of root file systems, `kitsune image protect`, image scans.
        .target(name: "KitsuneContainer",
                dependencies: ["KitsunePolicy", "KitsunePolicyCore", "KitsuneScanner", "KitsuneFindings", "CKitsuneZlib",
                               .product(name: "Crypto", package: "swift-crypto")],
                path: "Sources/KitsuneContainer", resources: [.copy("Data")]),
        // The node-level runtime wrapper around runc (podman --runtime, containerd/CRI-O handlers).
        .executableTarget(name: "kitsune-oci-runtime", dependencies: ["KitsuneContainer"], path: "Sources/KitsuneOCIRuntime"),
        .executableTarget(
            name: "kitsune",
            dependencies: ["KitsunePolicy", "KitsuneScanner", "KitsuneAWS", "KitsunePosture", "KitsuneLambda", "KitsuneFindings", "KitsuneServer", "KitsuneContainer",
                           "KitsunePolicyCore", "CKitsuneBuildInfo", "CKitsuneGlibcCompat",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Logging", package: "swift-log")],
            path: "Sources/kitsune",
            linkerSettings: kitsuneLink
        ),
        // Benchmarks (bench/): linked with the static Swift runtime so it runs under the enforcer's
        // default trusted roots.
        .executableTarget(name: "kitsune-bench", path: "Sources/KitsuneBench",
                          linkerSettings: [.unsafeFlags(["-static-stdlib"])]),

        .testTarget(name: "KitsunePolicyTests", dependencies: ["KitsunePolicy", "KitsunePolicyCore"]),
        // Runs the built kitsune-enforcer binary (found next to the test bundle) on real processes.
        .testTarget(name: "KitsuneEnforcerTests", dependencies: ["KitsunePolicy", "KitsunePolicyCore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "KitsuneScannerTests", dependencies: ["KitsuneScanner", "KitsuneFindings"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "KitsuneAWSTests", dependencies: ["KitsuneAWS", "KitsuneFindings", "kitsune"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "KitsunePostureTests", dependencies: ["KitsunePosture", "KitsuneAWS", "KitsuneFindings"],
                    resources: [.copy("Fixtures")]),
        // Real images through umoci, runc, skopeo and podman; the built kitsune binaries are found beside the test bundle.
        .testTarget(name: "KitsuneContainerTests", dependencies: ["KitsuneContainer", "KitsunePolicy"]),
        .testTarget(name: "KitsuneLambdaTests", dependencies: ["KitsuneLambda", "KitsunePolicy", "KitsuneServer", "kitsune"],
                    resources: [.copy("Fixtures")]),
        // The control plane's API against SQLite and a throwaway PostgreSQL 15 cluster (both backends).
        .testTarget(name: "KitsuneServerTests", dependencies: ["KitsuneServer", "KitsuneAWS", "KitsunePolicy", "KitsuneLambda", "Yams", "kitsune", .product(name: "Crypto", package: "swift-crypto")]),
    ]
)
