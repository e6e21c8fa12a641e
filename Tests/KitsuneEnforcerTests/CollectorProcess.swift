import Foundation

extension EnforcerFixture {
    /// Start a Python fixture server (`python3 SCRIPT ARGS`) that prints its port on its first line;
    /// returns the running process and that port.
    static func startServer(_ script: String, _ arguments: [String]) throws -> (Process, Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [try fixturesDirectory().appendingPathComponent(script).path] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.standardError
        try process.run()
        var line = Data()
        while !line.contains(10) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += chunk
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw FixtureError("\(script) did not print its port")
        }
        return (process, port)
    }
}
