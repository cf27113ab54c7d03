import Foundation

/// A new directory under the system's temporary directory, removed when `body` returns or throws.
@discardableResult
package func withTemporaryDirectory<T>(
  prefix: String = "tinysns-test", _ body: (String) async throws -> T
) async throws -> T {
  let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("\(prefix)-\(UUID().uuidString)")
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(atPath: path) }
  return try await body(path)
}
