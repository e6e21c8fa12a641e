import Foundation

/// What a protected function must carry: a Kitsune layer version and the variables that make the
/// runtime start through the wrapper and the enforcer report to the server.
public struct ProtectionTarget: Sendable, Equatable {
    public var layerARN: String
    /// Set (or replaced) on the function; `AWS_LAMBDA_EXEC_WRAPPER` among them.
    public var variables: [String: String]

    public init(layerARN: String, variables: [String: String]) {
        self.layerARN = layerARN
        self.variables = variables
    }
}

/// The reconciler's decision for one function.
public enum ProtectionDecision: Sendable, Equatable {
    /// Send this one update (complete layer list and environment, guarded by the RevisionId).
    case update(LambdaConfigurationUpdate, summary: String)
    /// Already as desired.
    case already(String)
    /// Cannot be protected this way, for a reason only the user can change; nothing is touched.
    case skipped(String)
    /// Cannot be done as asked (limits); nothing is touched.
    case failed(String)
    /// AWS is busy with the function; try again at the next pass.
    case retry(String)
}

/// Pure decision logic of the reconciler: given a function's current configuration and what it
/// should carry (nil: nothing of Kitsune's), the single update that gets there — keeping every other
/// layer and variable — or why none is sent.
public struct ProtectionPlanner: Sendable {
    /// The variables Kitsune owns on a function (removed, with its layer, when out of scope).
    public static let ownedVariables = [KitsuneLayer.wrapperVariable, "KITSUNE_EVENTS_URL", "KITSUNE_EVENTS_TOKEN"]
    /// Lambda's limit on the environment: 4 KB of keys and values.
    public static let environmentLimit = 4096
    /// The names of the layers the control plane publishes (one per architecture).
    public let layerNames: Set<String>

    public init(layerNames: Set<String>) {
        self.layerNames = layerNames
    }

    /// The name of the managed layer for an architecture.
    public static func layerName(prefix: String = "kitsune-managed", architecture: String) -> String { "\(prefix)-\(architecture)" }

    /// Whether a layer ARN (versioned) is one of Kitsune's managed layers.
    public func isManaged(_ arn: String) -> Bool {
        (try? LayerARN(arn)).map { layerNames.contains($0.name) } ?? false
    }

    /// The decision for `function` (read just before, so its RevisionId guards the update).
    /// `deployedByUs`: the reconciler's record says it protected this function (so Kitsune's variables
    /// are removed even when someone already took the layer off by hand).
    public func decide(_ function: LambdaFunctionConfiguration, desired: ProtectionTarget?, deployedByUs: Bool = false) -> ProtectionDecision {
        guard let desired else { return remove(function, deployedByUs: deployedByUs) }
        if function.packageType == "Image" {
            return .skipped("container image function: layers and AWS_LAMBDA_EXEC_WRAPPER do not apply; protect the image (kitsune image protect) instead")
        }
        guard let runtime = function.runtime, !runtime.isEmpty else { return .skipped("runtime unknown; not changed") }
        if runtime.hasPrefix("provided") {
            return .skipped("\(runtime) is a custom runtime, which ignores AWS_LAMBDA_EXEC_WRAPPER; wrap its bootstrap with `kitsune protect`")
        }
        if let busy = busy(function) { return .retry(busy) }
        var variables = function.variables
        if let wrapper = variables[KitsuneLayer.wrapperVariable], wrapper != KitsuneLayer.wrapperPath {
            return .skipped("already uses another exec wrapper (\(KitsuneLayer.wrapperVariable)=\(wrapper)); not replacing it")
        }
        var layers = function.layerARNs.filter { !isManaged($0) }
        let index = function.layerARNs.firstIndex(where: isManaged) ?? layers.count
        layers.insert(desired.layerARN, at: min(index, layers.count))
        guard layers.count <= KitsuneLayer.maxLayers else {
            return .failed("has \(layers.count - 1) other layers; Lambda allows \(KitsuneLayer.maxLayers) in all, so the Kitsune layer does not fit")
        }
        var changes: [String] = []
        if layers != function.layerARNs {
            let old = function.layerARNs.first(where: isManaged)
            changes.append(old.map { "layer \(Self.short($0)) → \(Self.short(desired.layerARN))" } ?? "+layer \(Self.short(desired.layerARN))")
        }
        for (name, value) in desired.variables.sorted(by: { $0.key < $1.key }) where variables[name] != value {
            changes.append(variables[name] == nil ? "+\(name)" : "~\(name)")
            variables[name] = value
        }
        if changes.isEmpty { return .already("protected: \(Self.short(desired.layerARN)) and its variables in place") }
        let size = variables.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
        guard size <= Self.environmentLimit else {
            return .failed("the environment would be \(size) bytes with Kitsune's variables; Lambda allows \(Self.environmentLimit)")
        }
        return .update(LambdaConfigurationUpdate(layers: layers, environment: variables, revisionId: function.revisionId), summary: changes.joined(separator: ", "))
    }

    private func remove(_ function: LambdaFunctionConfiguration, deployedByUs: Bool) -> ProtectionDecision {
        let layers = function.layerARNs.filter { !isManaged($0) }
        // Kitsune's deployment is recognised by its managed layer, or by the reconciler's own record;
        // a hand-made `kitsune deploy` or someone else's wrapper is not ours to remove.
        guard layers.count != function.layerARNs.count || deployedByUs else { return .already("nothing of Kitsune's managed deployment on it") }
        var variables = function.variables
        var changes: [String] = []
        if layers.count != function.layerARNs.count { changes.append("-layer \(function.layerARNs.first(where: isManaged).map(Self.short) ?? "")") }
        for name in Self.ownedVariables where variables[name] != nil {
            if name == KitsuneLayer.wrapperVariable && variables[name] != KitsuneLayer.wrapperPath { continue }
            variables.removeValue(forKey: name)
            changes.append("-\(name)")
        }
        if changes.isEmpty { return .already("nothing of Kitsune's managed deployment on it") }
        if let busy = busy(function) { return .retry(busy) }
        return .update(LambdaConfigurationUpdate(layers: layers, environment: variables, revisionId: function.revisionId), summary: changes.joined(separator: ", "))
    }

    private func busy(_ function: LambdaFunctionConfiguration) -> String? {
        if function.lastUpdateStatus == "InProgress" { return "an update of the function is in progress" }
        if function.state == "Pending" { return "the function is still being created" }
        return nil
    }

    /// `name:version` of a layer ARN.
    static func short(_ arn: String) -> String {
        (try? LayerARN(arn)).map { "\($0.name):\($0.version)" } ?? arn
    }
}
