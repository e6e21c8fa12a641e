import Foundation
import KitsuneContainer
import XCTest

/// Image documents without engines: a multi-platform index keeps what this build can protect.
final class ImageFormatTests: XCTestCase {
    func image(arch: String) throws -> (image: Image, config: [UInt8]) {
        var t = TarWriter()
        t.file("bin/tool", contents: [0x7F, 0x45, 0x4C, 0x46], mode: 0o755)
        let tar = t.finish()
        let blob = try Compression.gzip(tar)
        let config: [String: Any] = ["architecture": arch, "os": "linux", "config": ["Cmd": ["/bin/tool"]],
                                     "rootfs": ["type": "layers", "diff_ids": [Digest.sha256(tar)]]]
        let img = Image(config: config, layers: [ImageLayer(mediaType: MediaType.ociLayerGzip, digest: Digest.sha256(blob), blob: blob)],
                        platform: "linux/\(arch)", names: ["x:1"], sourceDigest: "")
        return (img, try ImageJSON.bytes(config))
    }

    func testMultiPlatformIndexKeepsTheHostPlatform() throws {
        var template = Array((NSTemporaryDirectory() + "/kitsune-format-XXXXXX").utf8CString)
        let dir = String(cString: mkdtemp(&template)!)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let other = ImageReader.hostPlatform == "linux/amd64" ? "arm64" : "amd64"
        let host = String(ImageReader.hostPlatform.split(separator: "/")[1])
        try ImageWriter().write([try image(arch: host), try image(arch: other)], format: .oci, to: dir + "/layout")
        let set = try ImageReader().read(dir + "/layout")
        XCTAssertEqual(set.images.map(\.platform), [ImageReader.hostPlatform])
        XCTAssertEqual(set.skipped, ["linux/\(other): no kitsune-enforcer for this platform in this build"])
        let protected = try ImageProtector(rules: try .builtIn()).protect(set.images[0], request: ProtectRequest(enforcer: [1, 2, 3]))
        XCTAssertEqual(protected.image.runtimeConfig["Entrypoint"] as? [String],
                       ["/.kitsune/kitsune-enforcer", "--policy", "/.kitsune/policy.yaml", "--manifest", "/.kitsune/manifest.json", "--"])
        XCTAssertEqual(protected.image.runtimeConfig["Cmd"] as? [String], ["/bin/tool"])
        XCTAssertEqual(protected.manifest.files.map(\.path), ["bin/tool"])
        XCTAssertEqual(protected.image.diffIDs.count, 2)
        // Writing over an existing layout is refused; nothing is half-written.
        XCTAssertThrowsError(try ImageWriter().write([try image(arch: host)], format: .oci, to: dir + "/layout"))
        XCTAssertThrowsError(try ProtectRequestCheck.protectTwice(protected.image))
    }
}

/// Protecting an image twice is refused (the enforcer would wrap itself).
enum ProtectRequestCheck {
    static func protectTwice(_ image: Image) throws {
        _ = try ImageProtector(rules: try .builtIn()).protect(image, request: ProtectRequest(enforcer: [1]))
    }
}
