import Foundation
import SNSTestSupport
import Testing

/// A tiny tmpfs mounted over a server's directory, which a test fills up and frees again: the full disk a real
/// machine has. Needs root (CI runs as root); ``withSmallDisk(at:_:)`` unmounts it on every path.
struct SmallDisk {
  let path: String
  var filler: String { "\(path)/filler" }

  /// Fills what is left with one file (`dd` stops at ENOSPC).
  func fill() async throws {
    _ = try await runToCompletion(
      "/bin/dd", ["if=/dev/zero", "of=\(filler)", "bs=4096"], timeout: .seconds(30))
    let probe = try await runToCompletion(
      "/bin/dd", ["if=/dev/zero", "of=\(path)/probe", "bs=4096", "count=1"], timeout: .seconds(30))
    try? FileManager.default.removeItem(atPath: "\(path)/probe")
    try #require(probe.status != 0, "the disk at \(path) is not full: \(probe.output)")
  }

  func free() throws { try FileManager.default.removeItem(atPath: filler) }

  /// Whether any file on the disk holds `text`.
  func anyFileContains(_ text: String) -> Bool {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    return names.filter { $0 != "filler" }.contains { name in
      ((try? String(contentsOfFile: "\(path)/\(name)", encoding: .utf8)) ?? "").contains(text)
    }
  }
}

/// Whether this process may mount file systems (tests that need a real full disk are skipped otherwise).
let maySimulateFullDisks = getuid() == 0

/// Mounts a 1 MiB tmpfs at `path` (created if missing) for `body`, then lazily unmounts it, also when
/// `body` throws: processes of the test may still have files open on it.
func withSmallDisk(at path: String, _ body: (SmallDisk) async throws -> Void) async throws {
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  let mounted = try await runToCompletion(
    "/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", path], timeout: .seconds(30))
  try #require(mounted.status == 0, "mount tmpfs at \(path): \(mounted.output)")
  do {
    try await body(SmallDisk(path: path))
  } catch {
    _ = try? await runToCompletion("/bin/umount", ["-l", path], timeout: .seconds(30))
    throw error
  }
  let unmounted = try await runToCompletion("/bin/umount", ["-l", path], timeout: .seconds(30))
  #expect(unmounted.status == 0, "umount \(path): \(unmounted.output)")
}
