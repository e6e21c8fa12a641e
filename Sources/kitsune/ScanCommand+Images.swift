import Foundation
import KitsuneContainer
import KitsuneScanner

extension ScanCommand {
    /// A container image (OCI layout, OCI archive, docker-archive) is scanned layer by layer; anything
    /// else goes to the function scanner.
    func scanInput(_ scanner: FunctionScanner, progress: @escaping (ScanProgress) -> Void) throws -> ScanResult {
        guard ImageScanner.looksLikeImage(path) else { return try scanner.scan(path: path, configPath: config, progress: progress) }
        do { return try ImageScanner(scanner: scanner).scan(path, progress: progress) } catch let error as ContainerError {
            throw inputError("\(path): \(error.description)")
        }
    }
}
