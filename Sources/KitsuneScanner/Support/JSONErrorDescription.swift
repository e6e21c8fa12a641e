import Foundation

/// Turns JSON parsing/decoding errors into messages with a line and column where possible.
enum JSONErrorDescription {
    static func describe(_ error: Error, in data: Data) -> String {
        if let decoding = error as? DecodingError {
            switch decoding {
            case .dataCorrupted(let context):
                // JSONDecoder drops the position: re-parse to find the syntax error.
                do { _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) } catch {
                    return describe(error, in: data)
                }
                if let underlying = context.underlyingError { return describe(underlying, in: data) }
                return "malformed JSON: \(context.debugDescription) at \(path(context.codingPath))"
            case .keyNotFound(let key, let context):
                return "missing field \"\(key.stringValue)\" at \(path(context.codingPath))"
            case .typeMismatch(_, let context), .valueNotFound(_, let context):
                return "\(context.debugDescription) at \(path(context.codingPath))"
            @unknown default:
                return "\(error)"
            }
        }
        let ns = error as NSError
        if let index = ns.userInfo["NSJSONSerializationErrorIndex"] as? Int {
            let (line, column) = lineAndColumn(of: index, in: data)
            return "malformed JSON at line \(line), column \(column)"
        }
        let text = ns.userInfo[NSDebugDescriptionErrorKey] as? String ?? ns.localizedDescription
        if let range = text.range(of: #"character \d+"#, options: .regularExpression),
           let index = Int(text[range].dropFirst("character ".count)) {
            let (line, column) = lineAndColumn(of: index, in: data)
            return "malformed JSON at line \(line), column \(column) (\(text))"
        }
        if text.contains("end of file") {
            let lines = data.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
            return "malformed JSON: unexpected end of file at line \(lines) (unclosed object, array or string)"
        }
        return "malformed JSON (\(text))"
    }

    static func lineAndColumn(of index: Int, in data: Data) -> (Int, Int) {
        var line = 1
        var column = 1
        for (i, byte) in data.enumerated() {
            if i >= index { break }
            if byte == 0x0A { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }

    private static func path(_ codingPath: [CodingKey]) -> String {
        codingPath.isEmpty ? "top level" : codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}
