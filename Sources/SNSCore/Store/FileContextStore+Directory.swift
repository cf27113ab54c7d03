import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension FileContextStore {
  /// Creates `directory` and any missing parents, makes their names durable, and checks that the store
  /// can create files in it, so that a misconfigured data directory fails at start-up, not at the first post.
  static func prepare(directory: String) throws(SNSError) {
    var missing: [String] = []
    var current = directory
    while !current.isEmpty, current != "/", try FileStatus.at(path: current) == nil {
      missing.append(current)
      current = (current as NSString).deletingLastPathComponent
    }
    for path in missing.reversed() {
      // EEXIST: another process (the master and the synchronizer start together) created it first.
      if mkdir(path, 0o755) != 0, errno != EEXIST {
        throw storageError("create directory", path, errno)
      }
      let parent = (path as NSString).deletingLastPathComponent
      try syncDirectory(parent.isEmpty ? "." : parent)
    }
    guard let status = try FileStatus.at(path: directory) else {
      throw storageError("create directory", directory, ENOENT)
    }
    guard status.isDirectory else { throw storageError("use as a context directory", directory, ENOTDIR) }
    guard access(directory, W_OK | X_OK) == 0 else {
      throw storageError("write in context directory", directory, errno)
    }
  }
}
