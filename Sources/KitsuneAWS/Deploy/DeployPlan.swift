import Foundation

/// Constants of the Kitsune layer (documented in docs/aws.md).
public enum KitsuneLayer {
    /// The wrapper script inside the layer; managed runtimes exec it with the interpreter as `$1`.
    public static let wrapperPath = "/opt/kitsune/wrapper"
    /// The variable that makes managed runtimes start through the wrapper.
    public static let wrapperVariable = "AWS_LAMBDA_EXEC_WRAPPER"
    /// Lambda's limit of layers per function.
    public static let maxLayers = 5
}

/// `tag:KEY=VALUE`: selects functions whose tag KEY equals VALUE.
public struct FunctionSelector: Sendable, Equatable, CustomStringConvertible {
    public let key: String
    public let value: String

    /// Parses `tag:KEY=VALUE`; throws a clear error for anything else.
    public init(parsing text: String) throws {
        guard text.hasPrefix("tag:") else {
            throw AWSError.invalidInput("selector '\(text)' is not supported: use tag:KEY=VALUE")
        }
        let body = text.dropFirst(4)
        guard let equals = body.firstIndex(of: "="), equals != body.startIndex else {
            throw AWSError.invalidInput("selector '\(text)': expected tag:KEY=VALUE with a non-empty KEY")
        }
        key = String(body[..<equals])
        value = String(body[body.index(after: equals)...])
    }

    /// True when the function's tags contain KEY with exactly VALUE.
    public func matches(_ tags: [String: String]) -> Bool { tags[key] == value }
    public var description: String { "tag:\(key)=\(value)" }
}

/// Attach or remove.
public enum DeployMode: String, Sendable, Codable {
    case attach, remove
}

/// What deploy decided for one function.
public enum DeployDecision: Sendable, Equatable {
    /// Send this single update (complete new layer list and environment).
    case update(LambdaConfigurationUpdate, summary: String)
    /// Nothing to do.
    case already(String)
    /// Not touched, with the reason.
    case skipped(String)
    /// Cannot be done, with the reason.
    case invalid(String)
}

/// Pure decision logic: given a function's current configuration, what single update (if any)
/// attaches or removes the Kitsune layer and wrapper, preserving every other layer and variable.
public struct DeployPlanner: Sendable {
    public let layer: LayerARN
    public let mode: DeployMode
    /// The layer version's `CompatibleArchitectures` (nil or empty: not declared, not checked). Kitsune's
    /// layer is native code: attaching an x86_64 layer to an arm64 function would fail its every init.
    public let layerArchitectures: [String]?

    public init(layer: LayerARN, mode: DeployMode, layerArchitectures: [String]? = nil) {
        self.layer = layer
        self.layerArchitectures = layerArchitectures
        self.mode = mode
    }

    /// The decision for `function` (read just before, so its RevisionId guards the update).
    public func decide(_ function: LambdaFunctionConfiguration) -> DeployDecision {
        mode == .attach ? attach(function) : remove(function)
    }

    private func isOurs(_ arn: String) -> Bool {
        (try? LayerARN(arn))?.unversioned == layer.unversioned
    }

    private func attach(_ function: LambdaFunctionConfiguration) -> DeployDecision {
        if function.packageType == "Image" {
            return .skipped("container image function: layers and AWS_LAMBDA_EXEC_WRAPPER do not apply; build Kitsune into the image")
        }
        guard let runtime = function.runtime, !runtime.isEmpty else {
            return .skipped("runtime unknown; not changed")
        }
        if runtime.hasPrefix("provided") {
            return .skipped("\(runtime) is a custom runtime, which ignores AWS_LAMBDA_EXEC_WRAPPER; use `kitsune protect` to wrap its bootstrap")
        }
        let functionRegion = function.functionArn.split(separator: ":", omittingEmptySubsequences: false)
        if functionRegion.count > 3, String(functionRegion[3]) != layer.region {
            return .invalid("layer is in region \(layer.region) but the function is in \(functionRegion[3]); publish the layer in that region")
        }
        if let declared = layerArchitectures, !declared.isEmpty {
            let architecture = function.architectures?.first ?? "x86_64"      // Lambda's default
            if !declared.contains(architecture) {
                return .invalid("function runs on \(architecture) but layer \(layer.name):\(layer.version) is for \(declared.joined(separator: ", ")); "
                    + "publish an \(architecture) layer (kitsune layer build --architecture \(architecture)) and deploy that to it")
            }
        }
        var variables = function.variables
        let wrapper = variables[KitsuneLayer.wrapperVariable]
        if let wrapper, wrapper != KitsuneLayer.wrapperPath {
            return .skipped("already uses another exec wrapper (\(KitsuneLayer.wrapperVariable)=\(wrapper)); not replacing it")
        }
        var layers = function.layerARNs
        let hasExact = layers.contains(layer.arn)
        if hasExact && wrapper == KitsuneLayer.wrapperPath {
            return .already("layer \(layer.name):\(layer.version) and wrapper already attached")
        }
        var changes: [String] = []
        if let index = layers.firstIndex(where: isOurs), layers[index] != layer.arn {
            changes.append("layer \(layers[index].split(separator: ":").last.map(String.init) ?? "?") → \(layer.version)")
            layers[index] = layer.arn
            layers = layers.enumerated().filter { $0.offset == index || !isOurs($0.element) }.map(\.element)
        } else if !hasExact {
            guard layers.count < KitsuneLayer.maxLayers else {
                return .invalid("already has \(layers.count) layers; Lambda allows \(KitsuneLayer.maxLayers)")
            }
            layers.append(layer.arn)
            changes.append("+layer \(layer.name):\(layer.version)")
        }
        if wrapper == nil {
            variables[KitsuneLayer.wrapperVariable] = KitsuneLayer.wrapperPath
            changes.append("+\(KitsuneLayer.wrapperVariable)")
        }
        return .update(LambdaConfigurationUpdate(layers: layers, environment: variables, revisionId: function.revisionId),
                       summary: changes.joined(separator: ", "))
    }

    private func remove(_ function: LambdaFunctionConfiguration) -> DeployDecision {
        let layers = function.layerARNs
        let kept = layers.filter { !isOurs($0) }
        var variables = function.variables
        var changes: [String] = []
        if kept.count != layers.count { changes.append("-layer \(layer.name)") }
        if variables[KitsuneLayer.wrapperVariable] == KitsuneLayer.wrapperPath {
            variables.removeValue(forKey: KitsuneLayer.wrapperVariable)
            changes.append("-\(KitsuneLayer.wrapperVariable)")
        }
        if changes.isEmpty { return .already("not protected by Kitsune; nothing to remove") }
        return .update(LambdaConfigurationUpdate(layers: kept, environment: variables, revisionId: function.revisionId),
                       summary: changes.joined(separator: ", "))
    }
}
