import Hummingbird

/// A JSON object posted to the API, read strictly: at most `limit` bytes, valid JSON, an object, only
/// the fields a route knows (an unknown field is a 400 naming it, not silently ignored).
struct JSONBody {
    let members: [String: JSONValue]

    static func read(_ request: Request, allowed: Set<String>, limit: Int = 64 << 10) async throws -> JSONBody {
        var request = request
        let buffer = try await request.collectBody(upTo: limit)
        var scanner = JSONScanner(Array(buffer.readableBytesView), maxDepth: 8)
        let value: JSONValue
        do { value = try scanner.document() } catch {
            throw APIError(.badRequest, "the body is not valid JSON: \(error)", field: "body")
        }
        guard case .object(let list) = value else { throw APIError(.badRequest, "the body must be a JSON object", field: "body") }
        if let unknown = list.first(where: { !allowed.contains($0.key) }) {
            throw APIError(.badRequest, "unknown field (allowed: \(allowed.sorted().joined(separator: ", ")))", field: String(unknown.key.prefix(64)))
        }
        return JSONBody(members: Dictionary(list.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }))
    }

    /// A required (or optional) string field.
    func string(_ name: String, required: Bool = true) throws -> String? {
        guard let value = members[name], value != .null else {
            if required { throw APIError(.badRequest, "is required", field: name) }
            return nil
        }
        guard let s = value.string else { throw APIError(.badRequest, "must be a string", field: name) }
        return s
    }
}
