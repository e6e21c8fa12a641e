import ArgumentParser
import Foundation
import KitsuneContainer
import KitsunePolicy

/// `kitsune image protect SRC -o DST` — container images protected by the enforcer.
struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Container images: protect them with kitsune-enforcer (drift prevention with the image as the package).",
        subcommands: [ImageProtectCommand.self])
}

struct ImageProtectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "protect",
        abstract: "Append /.kitsune (enforcer, policy, drift manifest of every executable) and put the enforcer in front of the entrypoint.")

    @Argument(help: "An OCI image layout directory, an OCI archive, or a docker-archive tarball (docker save / podman save).")
    var source: String

    @Option(name: .shortAndLong, help: "Where to write the protected image.")
    var output: String

    @Option(help: "Output format: oci, oci-archive or docker-archive (default: the source's).")
    var format: String?

    @Option(help: "Policy to bake in (YAML, see docs/policy.md; default: the enforcer's built-in policy).")
    var policy: String?

    @Option(help: "enforce or audit (overrides the policy's mode).")
    var mode: String?

    @Option(help: "Read only the image tagged TAG of an OCI layout (org.opencontainers.image.ref.name).")
    var ref: String?

    @Option(help: "Name (repo:tag) of the output image (default: the source's names).")
    var tag: [String] = []

    func run() throws {
        guard let enforcerPath = EnforcerBinary.locate() else {
            throw inputError("kitsune-enforcer not found beside kitsune (build it with `swift build -c release`, or set KITSUNE_ENFORCER)")
        }
        let outputFormat: ImageFormat?
        if let format {
            guard let f = ImageFormat(rawValue: format) else { throw inputError("--format must be oci, oci-archive or docker-archive, not \(format)") }
            outputFormat = f
        } else { outputFormat = nil }
        do {
            guard let enforcer = FileManager.default.contents(atPath: enforcerPath) else { throw ContainerError("\(enforcerPath): cannot be read") }
            let ship = FileManager.default.contents(atPath: (enforcerPath as NSString).deletingLastPathComponent + "/kitsune-ship")
            var policyBytes: [UInt8]?
            if let policy {
                guard let data = FileManager.default.contents(atPath: policy) else { throw ContainerError("\(policy): cannot be read") }
                policyBytes = [UInt8](data)
            }
            var reader = ImageReader()
            reader.reference = ref
            let set = try reader.read(source)
            let protector = ImageProtector(rules: try .builtIn())
            let request = ProtectRequest(enforcer: [UInt8](enforcer), ship: ship.map { [UInt8]($0) }, policy: policyBytes, mode: mode)
            var outputs: [(image: Image, config: [UInt8])] = []
            for image in set.images {
                var protected = try protector.protect(image, request: request)
                if !tag.isEmpty { protected.image.names = tag }
                outputs.append((protected.image, protected.configBytes))
                FileHandle.standardError.write(Data("kitsune: \(image.platform): \(protected.manifest.files.count) executables in the manifest; entrypoint \(protected.command)\n".utf8))
            }
            for s in set.skipped { FileHandle.standardError.write(Data("kitsune: not protected, left out of the output: \(s)\n".utf8)) }
            try ImageWriter().write(outputs, format: outputFormat ?? set.format, to: output)
        } catch let error as ContainerError {
            throw inputError("\(source): \(error.description)")
        }
        FileHandle.standardError.write(Data("kitsune: protected image written to \(output)\n".utf8))
    }
}
