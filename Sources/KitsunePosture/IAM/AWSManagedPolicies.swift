import Foundation

/// The documents of AWS managed IAM policies (`Data/aws-managed-policies.json`), so that static
/// template checks judge a role attaching `AmazonS3FullAccess` or `AWSLambdaExecute` instead of
/// deferring it. The file names its source and dates; `scripts/refresh-managed-policies` regenerates it
/// from a live account (`aws iam list-policies --scope AWS` + `get-policy-version`) or from moto's copy.
public struct AWSManagedPolicies: Sendable {
    /// One AWS managed policy's default version.
    public struct Policy: Sendable, Hashable {
        public var name: String
        public var arn: String
        public var versionID: String
        public var document: JSONValue
    }

    /// Where the documents come from (e.g. "moto 5.2.1, moto/iam/aws_managed_policies.py …").
    public var source: String
    /// The day the file was generated (`YYYY-MM-DD`).
    public var generated: String
    /// The newest `UpdateDate` among the policies: the data is at least that recent.
    public var newestPolicyUpdate: String
    private let store: Store

    public init(source: String, generated: String, newestPolicyUpdate: String, policies: [Policy]) {
        self.source = source
        self.generated = generated
        self.newestPolicyUpdate = newestPolicyUpdate
        store = Store(converted: Dictionary(policies.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }))
    }

    private init(source: String, generated: String, newestPolicyUpdate: String, store: Store) {
        self.source = source
        self.generated = generated
        self.newestPolicyUpdate = newestPolicyUpdate
        self.store = store
    }

    /// No documents: every AWS managed policy outside the risk table's lists stays MANUAL.
    public static let empty = AWSManagedPolicies(source: "none", generated: "", newestPolicyUpdate: "", policies: [])

    public var count: Int { store.count }

    /// "Kitsune's AWS managed policy data (SOURCE; file written DATE, newest policy update DATE)".
    public var provenance: String {
        "Kitsune's AWS managed policy data (\(source); file written \(generated), newest policy update \(newestPolicyUpdate.prefix(10)))"
    }

    /// The policy an ARN (`arn:aws:iam::aws:policy/service-role/X`, any partition) or bare name refers
    /// to; nil for customer managed ARNs and names the data does not have. Names are unique among AWS
    /// managed policies, so the path of the ARN is not needed to find it.
    public func policy(arnOrName: String) -> Policy? {
        if arnOrName.contains(":") && !arnOrName.contains(":iam::aws:policy/") { return nil }
        let name = arnOrName.split(separator: "/").last.map(String.init) ?? arnOrName
        return store.policy(name)
    }

    /// The file shipped in the module's resources.
    public static func bundled() throws -> AWSManagedPolicies {
        try parse(PostureResources.data(fileName), name: fileName)
    }

    static let fileName = "aws-managed-policies.json"

    /// Parses the data file format (see `scripts/refresh-managed-policies`). Throws ``PostureDataError``
    /// naming the file and the policy at fault. The outer structure is checked here; a policy's document
    /// is converted when a template first attaches it (a scan touches a handful of the ~1 100 policies).
    public static func parse(_ data: Data, name: String) throws -> AWSManagedPolicies {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw PostureDataError.invalid(name, "not JSON: \(error.localizedDescription)")
        }
        guard let root = object as? [String: Any], let source = root["source"] as? String,
              let generated = root["generated"] as? String, let entries = root["policies"] as? [String: Any] else {
            throw PostureDataError.invalid(name, "expected an object with source, generated and policies")
        }
        var raw: [String: (arn: String, version: String, document: Any)] = [:]
        for (policyName, entry) in entries {
            guard let entry = entry as? [String: Any], let arn = entry["arn"] as? String,
                  let document = entry["document"] as? [String: Any], document["Statement"] != nil else {
                throw PostureDataError.invalid(name, "policy \(policyName) needs an arn and a document with a Statement")
            }
            raw[policyName] = (arn, entry["versionId"] as? String ?? "?", document)
        }
        return AWSManagedPolicies(source: source, generated: generated,
                                  newestPolicyUpdate: root["newestPolicyUpdate"] as? String ?? "", store: Store(raw: raw))
    }

    /// The policies: parsed JSON kept as read, converted to ``JSONValue`` on first use. Immutable after
    /// init except the conversion cache, which a lock guards.
    private final class Store: @unchecked Sendable {
        // @unchecked: `raw` is never mutated after init (Foundation values are not Sendable-annotated);
        // `converted` is only touched under `lock`.
        private let raw: [String: (arn: String, version: String, document: Any)]
        private var converted: [String: Policy]
        private let lock = NSLock()

        init(raw: [String: (arn: String, version: String, document: Any)] = [:], converted: [String: Policy] = [:]) {
            self.raw = raw
            self.converted = converted
        }

        var count: Int { raw.isEmpty ? converted.count : raw.count }

        func policy(_ name: String) -> Policy? {
            lock.lock()
            defer { lock.unlock() }
            if let done = converted[name] { return done }
            guard let entry = raw[name], let document = try? JSONValue(foundation: entry.document) else { return nil }
            let policy = Policy(name: name, arn: entry.arn, versionID: entry.version, document: document)
            converted[name] = policy
            return policy
        }
    }
}
