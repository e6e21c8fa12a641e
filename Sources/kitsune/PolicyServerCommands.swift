import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import KitsuneFindings
import KitsunePolicy

/// `--server` and `--token` of the commands that talk to `kitsune server`.
struct ServerConnectionOptions: ParsableArguments {
    @Option(help: "The control plane's URL (https://kitsune.example.com, or http://127.0.0.1:8443). Default: KITSUNE_SERVER.")
    var server: String?

    @Option(help: "An API token (editor to change policies). Default: KITSUNE_TOKEN (prefer it: a command line is visible to other users).")
    var token: String?

    func client() throws -> ControlPlaneClient {
        let env = ProcessInfo.processInfo.environment
        guard let server = server ?? env["KITSUNE_SERVER"], let url = URL(string: server), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw inputError("--server: give the control plane's http(s) URL (or set KITSUNE_SERVER)")
        }
        guard let token = token ?? env["KITSUNE_TOKEN"], !token.isEmpty else { throw inputError("--token: give an API token (or set KITSUNE_TOKEN)") }
        return ControlPlaneClient(base: url, token: token)
    }
}

/// A small blocking client of the control plane's API, for the CLI.
struct ControlPlaneClient {
    let base: URL
    let token: String

    struct Answer {
        var status: Int
        var body: Data
        var object: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        /// The API's error text, for messages.
        var error: String {
            let o = object
            return (o["error"] as? String).map { e in (o["field"] as? String).map { "\($0): \(e)" } ?? e } ?? "HTTP \(status)"
        }
    }

    func send(_ method: String, _ path: String, body: Data? = nil, contentType: String = "application/json", headers: [String: String] = [:]) throws -> Answer {
        var request = URLRequest(url: base.appendingPathComponent(path))
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let body { request.httpBody = body; request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        request.timeoutInterval = 300
        let semaphore = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<Answer, Error> = .failure(URLError(.unknown))
        URLSession(configuration: .ephemeral).dataTask(with: request) { data, response, error in
            if let error { result = .failure(error) }
            else { result = .success(Answer(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data ?? Data())) }
            semaphore.signal()
        }.resume()
        semaphore.wait()
        do { return try result.get() } catch { throw inputError("\(base.absoluteString): cannot reach the server: \(error.localizedDescription)") }
    }

    /// `send`, requiring a 2xx answer.
    func expect(_ method: String, _ path: String, body: Data? = nil, contentType: String = "application/json", what: String) throws -> Answer {
        let answer = try send(method, path, body: body, contentType: contentType)
        guard (200..<300).contains(answer.status) else {
            FileHandle.standardError.write(Data("kitsune: \(what): \(answer.error)\n".utf8))
            throw ExitCode(1)
        }
        return answer
    }

    /// The server's policies: name, id, document.
    func policies() throws -> [(name: String, id: String, document: String)] {
        let list = try expect("GET", "api/v1/policies", what: "listing policies").object["policies"] as? [[String: Any]] ?? []
        return list.compactMap { p in
            guard let name = p["name"] as? String, let id = p["id"] as? String, let document = p["document"] as? String else { return nil }
            return (name, id, document)
        }
    }
}

extension PolicyCommand {
    /// `kitsune policy apply -f DIR`: make the server's policies equal a directory of YAML files.
    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the server's runtime policies equal a directory of YAML files (policy as code).",
            discussion: "Creates, updates and deletes so that the server holds exactly the directory's policies. --dry-run prints the changes and the functions each one touches, and changes nothing.")

        @Option(name: [.customShort("f"), .customLong("file")], help: "The directory of policy files (*.yaml, one policy each).")
        var directory: String

        @Flag(help: "Print what would change, and which functions it touches; change nothing.")
        var dryRun = false

        @OptionGroup var connection: ServerConnectionOptions

        func run() throws {
            let local: [PolicyDirectory.Entry]
            do { local = try PolicyDirectory.load(directory) } catch { throw inputError("\(error)") }
            let client = try connection.client()
            let plan = PolicySyncPlan(local: local.map(\.policy), remote: try client.policies())
            var lines: [String] = []
            for change in plan.changes {
                switch change {
                case .create(let name, let document), .update(let name, _, let document):
                    let verb = if case .create = change { "create" } else { "update" }
                    let preview = try client.expect("POST", "api/v1/policies/preview", body: Data(document.utf8), contentType: "application/yaml", what: "previewing \(name)").object
                    let names = (preview["functions"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                    lines.append("\(dryRun ? "would " : "")\(verb) \(name): \(names.count) function\(names.count == 1 ? "" : "s")" + (names.isEmpty ? "" : " (\(names.prefix(20).joined(separator: ", "))\(names.count > 20 ? ", …" : ""))"))
                    if !dryRun {
                        if case .update(_, let id, _) = change {
                            _ = try client.expect("PUT", "api/v1/policies/\(id)", body: Data(document.utf8), contentType: "application/yaml", what: "updating \(name)")
                        } else {
                            _ = try client.expect("POST", "api/v1/policies", body: Data(document.utf8), contentType: "application/yaml", what: "creating \(name)")
                        }
                    }
                case .delete(let name, let id):
                    lines.append("\(dryRun ? "would " : "")delete \(name): its functions lose this policy")
                    if !dryRun { _ = try client.expect("DELETE", "api/v1/policies/\(id)", what: "deleting \(name)") }
                }
            }
            lines.append("\(plan.changes.count) change\(plan.changes.count == 1 ? "" : "s")\(dryRun ? " (dry run: nothing changed)" : ""), \(plan.unchanged.count) unchanged")
            print(lines.joined(separator: "\n"))
        }
    }

    /// `kitsune policy export -o DIR`: the server's policies as files.
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the server's runtime policies to a directory, one YAML file each.")

        @Option(name: .shortAndLong, help: "The directory to write (created if missing).")
        var output: String = "policies"

        @OptionGroup var connection: ServerConnectionOptions

        func run() throws {
            let policies = try connection.client().policies()
            do {
                try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
                for p in policies { try AtomicFile.write(Data(p.document.utf8), to: (output as NSString).appendingPathComponent(PolicyDirectory.fileName(for: p.name))) }
            } catch { throw inputError("\(output): cannot write: \(error)") }
            FileHandle.standardError.write(Data("kitsune: \(policies.count) policies written to \(output)\n".utf8))
        }
    }

    /// `kitsune policy suggest --function ID`: the allowlist learned for a function.
    struct Suggest: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the allowlist policy learned for a function (mode: learn); --adopt saves it.")

        @Option(help: "The function's id (fn_…) or ARN, as `GET /api/v1/functions` lists it.")
        var function: String

        @Flag(help: "Save the suggestion as the policy learned-FUNCTION (audit mode).")
        var adopt = false

        @OptionGroup var connection: ServerConnectionOptions

        func run() throws {
            let client = try connection.client()
            guard !function.isEmpty, !function.contains("/"), !function.contains("?"), !function.contains("#") else { throw inputError("--function \(function): not a function id or ARN") }
            let id = function
            let answer = try client.expect("GET", "api/v1/functions/\(id)/suggested-policy", what: "suggesting for \(function)").object
            print(answer["document"] as? String ?? "", terminator: "")
            if adopt {
                let saved = try client.expect("POST", "api/v1/functions/\(id)/suggested-policy/adopt", what: "adopting").object
                FileHandle.standardError.write(Data("kitsune: saved as policy \(saved["name"] as? String ?? "?") v\(saved["version"] as? Int ?? 0)\n".utf8))
            }
        }
    }
}
