import Foundation

/// AWS IAM (query protocol). Lists follow `Marker` until `IsTruncated` is false.
public struct IAMClient: Sendable {
    let client: AWSClient

    private func call(_ action: String, _ parameters: [(String, String)] = []) async throws -> XMLTree {
        try await client.queryAction(service: "iam", action: action, parameters: parameters)
    }

    /// Runs a paged list action and returns every `<member>` of the element `listName`.
    func paged(_ action: String, _ parameters: [(String, String)], listName: String,
               pageSize: Int? = nil) async throws -> [XMLTree] {
        var items: [XMLTree] = []
        var marker: String?
        var seen: Set<String> = []
        repeat {
            var params = parameters
            if let pageSize { params.append(("MaxItems", String(pageSize))) }
            if let marker { params.append(("Marker", marker)) }
            let result = try await call(action, params)
            items += result.child(listName)?.members ?? []
            let truncated = result.string("IsTruncated") == "true"
            marker = truncated ? result.string("Marker") : nil
            if let next = marker {
                guard seen.insert(next).inserted else {
                    throw AWSError.invalidResponse(action: "iam:\(action)", detail: "paging marker repeated; stopping")
                }
            }
        } while marker != nil
        return items
    }

    /// `ListRoles` (all pages).
    public func listRoles(pageSize: Int? = nil) async throws -> [IAMRole] {
        try await paged("ListRoles", [], listName: "Roles", pageSize: pageSize).map(IAMRole.init)
    }

    /// `GetRole`.
    public func getRole(_ name: String) async throws -> IAMRole {
        let result = try await call("GetRole", [("RoleName", name)])
        guard let role = result.child("Role") else {
            throw AWSError.invalidResponse(action: "iam:GetRole", detail: "no Role in the answer")
        }
        return IAMRole(role)
    }

    /// `CreateRole` (used by tests and tooling).
    public func createRole(_ name: String, assumeRolePolicy: String, path: String = "/") async throws -> IAMRole {
        let result = try await call("CreateRole", [("RoleName", name), ("AssumeRolePolicyDocument", assumeRolePolicy),
                                                   ("Path", path)])
        guard let role = result.child("Role") else {
            throw AWSError.invalidResponse(action: "iam:CreateRole", detail: "no Role in the answer")
        }
        return IAMRole(role)
    }

    /// `ListRolePolicies`: names of the role's inline policies.
    public func listRolePolicies(_ role: String) async throws -> [String] {
        try await paged("ListRolePolicies", [("RoleName", role)], listName: "PolicyNames").map(\.text)
    }

    /// `GetRolePolicy`: one inline policy (document decoded).
    public func getRolePolicy(_ role: String, policyName: String) async throws -> IAMInlinePolicy {
        let result = try await call("GetRolePolicy", [("RoleName", role), ("PolicyName", policyName)])
        return IAMInlinePolicy(name: policyName, document: AWSURIEncoding.decode(result.string("PolicyDocument") ?? ""))
    }

    /// `PutRolePolicy`.
    public func putRolePolicy(_ role: String, policyName: String, document: String) async throws {
        _ = try await call("PutRolePolicy", [("RoleName", role), ("PolicyName", policyName), ("PolicyDocument", document)])
    }

    /// `ListAttachedRolePolicies`.
    public func listAttachedRolePolicies(_ role: String) async throws -> [IAMAttachedPolicy] {
        try await paged("ListAttachedRolePolicies", [("RoleName", role)], listName: "AttachedPolicies").map {
            IAMAttachedPolicy(policyName: $0.string("PolicyName") ?? "", policyARN: $0.string("PolicyArn") ?? "")
        }
    }

    /// `AttachRolePolicy`.
    public func attachRolePolicy(_ role: String, policyARN: String) async throws {
        _ = try await call("AttachRolePolicy", [("RoleName", role), ("PolicyArn", policyARN)])
    }

    /// `GetPolicy`.
    public func getPolicy(_ arn: String) async throws -> IAMPolicy {
        let result = try await call("GetPolicy", [("PolicyArn", arn)])
        guard let policy = result.child("Policy") else {
            throw AWSError.invalidResponse(action: "iam:GetPolicy", detail: "no Policy in the answer")
        }
        return IAMPolicy(policyName: policy.string("PolicyName") ?? "", policyID: policy.string("PolicyId") ?? "",
                         arn: policy.string("Arn") ?? arn, path: policy.string("Path") ?? "/",
                         defaultVersionID: policy.string("DefaultVersionId") ?? "",
                         attachmentCount: Int(policy.string("AttachmentCount") ?? "") ?? 0,
                         isAttachable: policy.string("IsAttachable") == "true")
    }

    /// `CreatePolicy` (customer managed policy).
    public func createPolicy(_ name: String, document: String, path: String = "/") async throws -> IAMPolicy {
        let result = try await call("CreatePolicy", [("PolicyName", name), ("PolicyDocument", document), ("Path", path)])
        guard let policy = result.child("Policy"), let arn = policy.string("Arn") else {
            throw AWSError.invalidResponse(action: "iam:CreatePolicy", detail: "no Policy in the answer")
        }
        return IAMPolicy(policyName: policy.string("PolicyName") ?? name, policyID: policy.string("PolicyId") ?? "",
                         arn: arn, path: policy.string("Path") ?? path,
                         defaultVersionID: policy.string("DefaultVersionId") ?? "v1",
                         attachmentCount: Int(policy.string("AttachmentCount") ?? "") ?? 0,
                         isAttachable: policy.string("IsAttachable") != "false")
    }

    /// `GetPolicyVersion` (document decoded).
    public func getPolicyVersion(_ arn: String, versionID: String) async throws -> IAMPolicyVersion {
        let result = try await call("GetPolicyVersion", [("PolicyArn", arn), ("VersionId", versionID)])
        guard let version = result.child("PolicyVersion") else {
            throw AWSError.invalidResponse(action: "iam:GetPolicyVersion", detail: "no PolicyVersion in the answer")
        }
        return IAMPolicyVersion(versionID: version.string("VersionId") ?? versionID,
                                isDefaultVersion: version.string("IsDefaultVersion") == "true",
                                document: AWSURIEncoding.decode(version.string("Document") ?? ""))
    }

    /// `ListUsers` (all pages).
    public func listUsers(pageSize: Int? = nil) async throws -> [IAMUser] {
        try await paged("ListUsers", [], listName: "Users", pageSize: pageSize).map(IAMUser.init)
    }

    /// `CreateUser` with optional tags.
    public func createUser(_ name: String, path: String = "/", tags: [String: String] = [:]) async throws -> IAMUser {
        var parameters = [("UserName", name), ("Path", path)]
        for (index, (key, value)) in tags.sorted(by: { $0.key < $1.key }).enumerated() {
            parameters += [("Tags.member.\(index + 1).Key", key), ("Tags.member.\(index + 1).Value", value)]
        }
        let result = try await call("CreateUser", parameters)
        guard let user = result.child("User") else {
            throw AWSError.invalidResponse(action: "iam:CreateUser", detail: "no User in the answer")
        }
        return IAMUser(user)
    }

    /// `PutUserPolicy` (inline policy).
    public func putUserPolicy(_ user: String, policyName: String, document: String) async throws {
        _ = try await call("PutUserPolicy", [("UserName", user), ("PolicyName", policyName), ("PolicyDocument", document)])
    }

    /// `GetUserPolicy` (document decoded).
    public func getUserPolicy(_ user: String, policyName: String) async throws -> IAMInlinePolicy {
        let result = try await call("GetUserPolicy", [("UserName", user), ("PolicyName", policyName)])
        return IAMInlinePolicy(name: policyName, document: AWSURIEncoding.decode(result.string("PolicyDocument") ?? ""))
    }

    /// `DeleteUserPolicy`.
    public func deleteUserPolicy(_ user: String, policyName: String) async throws {
        _ = try await call("DeleteUserPolicy", [("UserName", user), ("PolicyName", policyName)])
    }

    /// `CreateAccessKey`: the only time the secret is visible.
    public func createAccessKey(_ user: String) async throws -> IAMAccessKey {
        let result = try await call("CreateAccessKey", [("UserName", user)])
        guard let key = result.child("AccessKey"), let id = key.string("AccessKeyId") else {
            throw AWSError.invalidResponse(action: "iam:CreateAccessKey", detail: "no AccessKey in the answer")
        }
        return IAMAccessKey(userName: key.string("UserName") ?? user, accessKeyID: id, status: key.string("Status") ?? "",
                            secretAccessKey: key.string("SecretAccessKey"), createDate: key.string("CreateDate") ?? "")
    }

    /// `ListAccessKeys`.
    public func listAccessKeys(_ user: String) async throws -> [IAMAccessKey] {
        try await paged("ListAccessKeys", [("UserName", user)], listName: "AccessKeyMetadata").map {
            IAMAccessKey(userName: $0.string("UserName") ?? user, accessKeyID: $0.string("AccessKeyId") ?? "",
                         status: $0.string("Status") ?? "", secretAccessKey: nil, createDate: $0.string("CreateDate") ?? "")
        }
    }

    /// `DeleteAccessKey`.
    public func deleteAccessKey(_ user: String, accessKeyID: String) async throws {
        _ = try await call("DeleteAccessKey", [("UserName", user), ("AccessKeyId", accessKeyID)])
    }

    /// `DeleteUser` (the user must have no keys or inline policies left).
    public func deleteUser(_ name: String) async throws {
        _ = try await call("DeleteUser", [("UserName", name)])
    }
}
