// Who feeds a pipe an interpreter reads its program from. `curl … | sh`: another process is still
// writing it. `sh <<EOF` and `subprocess.run(["python3", "-"], input=CODE)`: the parent wrote it (or
// wrote it all and closed it): the program text comes from the parent itself, like `sh -c TEXT`.
import CKitsuneSys

extension ProcOracle {
    /// Whether a process other than the target and its parent holds the write end of `pipe`
    /// (`pipe:[INODE]`). Processes whose descriptors cannot be read (another user's) are not counted.
    func pipeHasForeignWriter(_ pipe: Bytes) -> Bool {
        let parent = parentPid(of: pid)
        for other in numericEntries(Bytes(literal: "/proc"), capacity: 65536) where other != pid && other != parent {
            let fdDir = procPath(other, "/fd")
            for fd in numericEntries(fdDir, capacity: 8192) {
                guard readLink(fdDir + [47] + decimalBytes(fd)) == pipe else { continue }
                if isOpenForWriting(pid: other, fd: fd) { return true }
            }
        }
        return false
    }

    /// The parent pid from `/proc/PID/stat` (the field after the command name's closing parenthesis).
    func parentPid(of pid: Int) -> Int {
        let (data, _) = readFile(procPath(pid, "/stat"), limit: 4096)
        guard let stat = data, let close = stat.lastIndex(of: 41) else { return -1 }
        let fields = stat[(close + 1)...].split(separator: 32)
        guard fields.count > 1 else { return -1 }
        return Bytes(fields[1]).decimalValue() ?? -1
    }

    /// `flags:` of `/proc/PID/fdinfo/FD` (octal) has O_WRONLY or O_RDWR.
    func isOpenForWriting(pid: Int, fd: Int) -> Bool {
        let (data, _) = readFile(procPath(pid, "/fdinfo/") + decimalBytes(fd), limit: 4096)
        guard let info = data else { return false }
        for line in info.split(separator: 10) where line.starts(with: Bytes(literal: "flags:")) {
            let digits = line.dropFirst(6).filter { (48...55).contains($0) }
            guard let last = digits.last else { return false }
            return (last - 48) & 3 != 0
        }
        return false
    }

    /// The numeric entries of a directory (pids in /proc, descriptors in /proc/PID/fd).
    func numericEntries(_ dir: Bytes, capacity: Int) -> [Int] {
        listDirectory(dir, capacity: capacity).compactMap { $0.decimalValue() }
    }
}
