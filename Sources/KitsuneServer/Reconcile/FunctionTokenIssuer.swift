import Foundation

/// Issues and revokes the tokens the reconciler puts in protected functions (each scoped to exactly
/// one function). A seam: the server's reconciler uses its store; the in-account agent asks the
/// server, which alone holds tokens.
public protocol FunctionTokenIssuer: Sendable {
    /// A new token of group `groupID` that may post events only as `function` (whose ARN is `arn`);
    /// nil when the group is unknown.
    func issue(groupID: String, function: FunctionScope, arn: String, actor: String) async throws -> TokenSecret?
    /// Revokes token `id` (best effort: a token that is already gone is fine).
    func revoke(_ id: String, actor: String) async
}

/// The server's own store issues the tokens.
public struct StoreTokenIssuer: FunctionTokenIssuer {
    public let store: ServerStore

    public init(store: ServerStore) {
        self.store = store
    }

    public func issue(groupID: String, function: FunctionScope, arn: String, actor: String) async throws -> TokenSecret? {
        try await store.createFunctionToken(groupID: groupID, functions: [function], name: "function \(function.functionName)", actor: actor)
    }

    public func revoke(_ id: String, actor: String) async {
        _ = try? await store.revokeToken(id, actor: actor)
    }
}
