import Foundation

/// An IAM role. `assumeRolePolicyDocument` is decoded JSON text.
public struct IAMRole: Sendable, Equatable {
    public var roleName: String
    public var roleID: String
    public var arn: String
    public var path: String
    public var createDate: String
    public var assumeRolePolicyDocument: String?
    public var description: String?
    public var permissionsBoundaryARN: String?
    public var lastUsedDate: String?

    init(_ xml: XMLTree) {
        roleName = xml.string("RoleName") ?? ""
        roleID = xml.string("RoleId") ?? ""
        arn = xml.string("Arn") ?? ""
        path = xml.string("Path") ?? "/"
        createDate = xml.string("CreateDate") ?? ""
        assumeRolePolicyDocument = xml.string("AssumeRolePolicyDocument").map { AWSURIEncoding.decode($0) }
        description = xml.string("Description")
        permissionsBoundaryARN = xml.path("PermissionsBoundary", "PermissionsBoundaryArn")?.text
        lastUsedDate = xml.path("RoleLastUsed", "LastUsedDate")?.text
    }
}

/// A managed policy attached to a role or user.
public struct IAMAttachedPolicy: Sendable, Equatable {
    public var policyName: String
    public var policyARN: String
}

/// A managed policy.
public struct IAMPolicy: Sendable, Equatable {
    public var policyName: String
    public var policyID: String
    public var arn: String
    public var path: String
    public var defaultVersionID: String
    public var attachmentCount: Int
    public var isAttachable: Bool
}

/// One version of a managed policy; `document` is decoded JSON text.
public struct IAMPolicyVersion: Sendable, Equatable {
    public var versionID: String
    public var isDefaultVersion: Bool
    public var document: String
}

/// An inline policy; `document` is decoded JSON text.
public struct IAMInlinePolicy: Sendable, Equatable {
    public var name: String
    public var document: String
}

/// An IAM user.
public struct IAMUser: Sendable, Equatable {
    public var userName: String
    public var userID: String
    public var arn: String
    public var path: String
    public var createDate: String

    init(_ xml: XMLTree) {
        userName = xml.string("UserName") ?? ""
        userID = xml.string("UserId") ?? ""
        arn = xml.string("Arn") ?? ""
        path = xml.string("Path") ?? "/"
        createDate = xml.string("CreateDate") ?? ""
    }
}

/// An access key. `secretAccessKey` is only present right after `createAccessKey`.
public struct IAMAccessKey: Sendable, Equatable {
    public var userName: String
    public var accessKeyID: String
    public var status: String
    public var secretAccessKey: String?
    public var createDate: String
}
