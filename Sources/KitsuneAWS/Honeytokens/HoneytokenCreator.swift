import Foundation

/// Creates honeytokens: a real IAM user with an explicit deny-all inline policy and one access
/// key, recorded in the local store. Any failure part-way rolls the IAM side back so no
/// half-made user or unrecorded live key is left behind.
public struct HoneytokenCreator: Sendable {
    public let iam: IAMClient
    public let store: HoneytokenStore

    /// The inline policy attached to every honeytoken user.
    public static let policyName = "kitsune-honeytoken-deny-all"
    public static let denyAllPolicy = #"{"Version":"2012-10-17","Statement":[{"Sid":"KitsuneHoneytokenDenyAll","Effect":"Deny","Action":"*","Resource":"*"}]}"#
    /// IAM path of honeytoken users (lets operators find them).
    public static let userPath = "/kitsune/honeytoken/"

    public init(iam: IAMClient, store: HoneytokenStore) {
        self.iam = iam
        self.store = store
    }

    /// Validates `name` against IAM's user name rules (1–64 of `A-Za-z0-9+=,.@_-`).
    public static func validate(_ name: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-")
        guard (1...64).contains(name.count), name.allSatisfy({ allowed.contains($0) }) else {
            throw AWSError.invalidInput("honeytoken name '\(name)' is not a valid IAM user name (1-64 characters of A-Z a-z 0-9 + = , . @ _ -)")
        }
    }

    /// Creates the honeytoken `name` and records it. Throws when the name is already recorded.
    public func create(_ name: String, now: Date = Date()) async throws -> HoneytokenRecord {
        try Self.validate(name)
        var records = try store.load()
        if records.contains(where: { $0.name == name }) {
            throw AWSError.invalidInput("a honeytoken named '\(name)' is already recorded in \(store.path)")
        }
        let user = try await iam.createUser(name, path: Self.userPath,
                                            tags: ["kitsune:honeytoken": "true", "kitsune:purpose": "bait-credential"])
        var keyID: String?
        do {
            try await iam.putUserPolicy(name, policyName: Self.policyName, document: Self.denyAllPolicy)
            let key = try await iam.createAccessKey(name)
            keyID = key.accessKeyID
            guard let secret = key.secretAccessKey else {
                throw AWSError.invalidResponse(action: "iam:CreateAccessKey", detail: "no SecretAccessKey in the answer")
            }
            let record = HoneytokenRecord(name: name, userName: name, userARN: user.arn, accessKeyID: key.accessKeyID,
                                          secretAccessKey: secret, createdAt: ISO8601DateFormatter().string(from: now))
            records.append(record)
            try store.save(records)
            return record
        } catch {
            await rollback(name, keyID: keyID)
            throw AWSError.invalidInput("honeytoken '\(name)' not created (IAM user rolled back): \(error)")
        }
    }

    /// Retires honeytoken `name`: deletes its access keys, its deny-all policy and the IAM user,
    /// then removes it from the store. A user already gone from IAM is not an error.
    public func delete(_ name: String) async throws {
        var records = try store.load()
        guard let record = records.first(where: { $0.name == name }) else {
            throw AWSError.invalidInput("no honeytoken named '\(name)' is recorded in \(store.path)")
        }
        do {
            for key in try await iam.listAccessKeys(record.userName) {
                try await iam.deleteAccessKey(record.userName, accessKeyID: key.accessKeyID)
            }
            do { try await iam.deleteUserPolicy(record.userName, policyName: Self.policyName) } catch let error as AWSError
                where error.isNotFound {}
            try await iam.deleteUser(record.userName)
        } catch let error as AWSError where error.isNotFound {
            // Already deleted in IAM; still drop the local record.
        }
        records.removeAll { $0.name == name }
        try store.save(records)
    }

    private func rollback(_ name: String, keyID: String?) async {
        if let keyID { try? await iam.deleteAccessKey(name, accessKeyID: keyID) }
        try? await iam.deleteUserPolicy(name, policyName: Self.policyName)
        try? await iam.deleteUser(name)
    }
}
