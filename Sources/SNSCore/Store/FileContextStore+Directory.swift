import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension FileContextStore {
  /// Creates `directory` and any missing parents, makes their names durable, and checks that the store
  /// can create files in it, so that a misconfigured data directory fails at start-up, not at the first post.
  static func prepare(directory: String, on fileSystem: any StoreFileSystem) throws(SNSError) {
    var missing: [String] = []
    var current = directory
    while !current.isEmpty, current != "/", try fileSystem.status(atPath: current) == nil {
      missing.append(current)
      current = (current as NSString).deletingLastPathComponent
    }
    for path in missing.reversed() {
      // Another process (the master and the synchronizer start together) may have created it first.
      try fileSystem.makeDirectory(path)
      let parent = (path as NSString).deletingLastPathComponent
      try fileSystem.syncDirectory(parent.isEmpty ? "." : parent)
    }
    guard let status = try fileSystem.status(atPath: directory) else {
      throw storageError("create directory", directory, ENOENT)
    }
    guard status.isDirectory else { throw storageError("use as a context directory", directory, ENOTDIR) }
    try fileSystem.checkWritable(directory: directory)
  }
}
