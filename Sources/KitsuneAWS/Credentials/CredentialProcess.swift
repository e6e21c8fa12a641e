import Foundation

/// `credential_process`: runs the configured command and reads its JSON
/// (`{"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}`).
enum CredentialProcess {
    private struct Output: Decodable {
        let Version: Int
        let AccessKeyId: String
        let SecretAccessKey: String
        let SessionToken: String?
        let Expiration: String?
    }

    static func run(_ command: String, profile: String) throws -> AWSCredentials {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let stdout = Pipe()
        process.standardOutput = stdout
        do { try process.run() } catch {
            throw AWSError.invalidConfiguration("profile '\(profile)': cannot start credential_process '\(command)': \(error)")
        }
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw AWSError.invalidConfiguration("profile '\(profile)': credential_process '\(command)' exited with status \(process.terminationStatus)")
        }
        let output: Output
        do { output = try JSONDecoder().decode(Output.self, from: data) } catch {
            throw AWSError.invalidConfiguration("profile '\(profile)': credential_process output is not the expected JSON (Version, AccessKeyId, SecretAccessKey): \(error)")
        }
        guard output.Version == 1 else {
            throw AWSError.invalidConfiguration("profile '\(profile)': credential_process Version \(output.Version) is not supported (expected 1)")
        }
        var expiration: Date?
        if let text = output.Expiration {
            guard let date = ISO8601DateFormatter().date(from: text) else {
                throw AWSError.invalidConfiguration("profile '\(profile)': credential_process Expiration '\(text)' is not ISO 8601")
            }
            expiration = date
        }
        return AWSCredentials(accessKeyID: output.AccessKeyId, secretAccessKey: output.SecretAccessKey,
                              sessionToken: output.SessionToken, expiration: expiration,
                              source: "credential_process of profile '\(profile)'")
    }
}
