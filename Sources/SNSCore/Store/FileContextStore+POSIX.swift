import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What `stat`/`fstat` says about a context file, in the store's terms.
struct FileStatus: Hashable, Sendable {
  /// Device and inode: a different identity at the same path means the file was replaced.
  var identity: FileIdentity
  var size: Int64
  var modificationNanoseconds: Int64
  var isDirectory: Bool

  init(_ info: stat) {
    isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
    identity = FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    size = Int64(info.st_size)
    #if canImport(Darwin)
      let time = info.st_mtimespec
    #else
      let time = info.st_mtim
    #endif
    modificationNanoseconds = Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
  }

  /// `stat(path)`, or `nil` when nothing is there.
  static func at(path: String) throws(SNSError) -> FileStatus? {
    var info = stat()
    while stat(path, &info) != 0 {
      let code = errno
      if code == EINTR { continue }
      if code == ENOENT { return nil }
      throw storageError("stat", path, code)
    }
    return FileStatus(info)
  }
}

/// A file's identity across renames of other files: `st_dev` and `st_ino`.
struct FileIdentity: Hashable, Sendable {
  var device: UInt64
  var inode: UInt64
}

/// `SNSError.storage` with the action, the path and `strerror`, so that an operator sees what failed where.
func storageError(_ action: String, _ path: String, _ code: Int32) -> SNSError {
  .storage("cannot \(action) \(path): \(String(cString: strerror(code))) (errno \(code))")
}

/// One open descriptor of a context file. Closing it (when the value goes away) also drops its `flock`, so
/// no path can leave a file locked.
///
/// `flock` locks belong to the open file description: two descriptors from two `open` calls conflict even in
/// one process, which is what lets two stores on one directory in one test process exclude each other.
struct OpenContextFile: ~Copyable {
  let descriptor: Int32
  let path: String
  /// Whether the descriptor may write and truncate (readers fall back to read-only, see ``openForReading``).
  let isWritable: Bool

  /// Opens `path` for reading and appending, creating it if missing.
  static func openForAppending(_ path: String) throws(SNSError) -> OpenContextFile {
    // O_APPEND: every write(2) lands at the end even when another process appended since we last looked.
    switch openDescriptor(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC) {
    case .success(let descriptor):
      return OpenContextFile(descriptor: descriptor, path: path, isWritable: true)
    case .failure(let failure): throw storageError("open", path, failure.code)
    }
  }

  /// Opens `path` for appending and takes `flock(LOCK_EX)` on the file that is at the path once the lock is
  /// held (a file replaced meanwhile is opened again).
  static func openLockedForAppending(_ path: String) throws(SNSError) -> OpenContextFile {
    while true {
      let handle = try openForAppending(path)
      try handle.lock(exclusive: true)
      if try handle.isStillAtPath() { return handle }
    }
  }

  /// Creates (or empties) `path` for writing a replacement file.
  static func createForReplacing(_ path: String) throws(SNSError) -> OpenContextFile {
    switch openDescriptor(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC) {
    case .success(let descriptor):
      return OpenContextFile(descriptor: descriptor, path: path, isWritable: true)
    case .failure(let failure): throw storageError("create", path, failure.code)
    }
  }

  /// ``openForReading(_:)`` with `flock(LOCK_SH)` held on the file that is at the path once the lock is held
  /// (one replaced while this waited, ``FileContextStore/replace(_:)``, is opened again). `nil` if the file
  /// does not exist.
  static func openLockedForReading(_ path: String) throws(SNSError) -> OpenContextFile? {
    while true {
      guard let handle = try openForReading(path) else { return nil }
      try handle.lock(exclusive: false)
      if try handle.isStillAtPath() { return handle }
    }
  }

  /// Opens an existing file for reading, and for cutting a damaged tail when allowed. Falls back to
  /// read-only when the file or file system refuses writing (`EACCES`, `EROFS`: e.g. ext4 remounted
  /// read-only after an I/O error), so that whole records stay readable. `nil` if the file does not exist.
  static func openForReading(_ path: String) throws(SNSError) -> OpenContextFile? {
    var isWritable = true
    var result = openDescriptor(path, O_RDWR | O_APPEND | O_CLOEXEC)
    if case .failure(let failure) = result, failure.code == EACCES || failure.code == EROFS {
      isWritable = false
      result = openDescriptor(path, O_RDONLY | O_CLOEXEC)
    }
    switch result {
    case .success(let descriptor):
      return OpenContextFile(descriptor: descriptor, path: path, isWritable: isWritable)
    case .failure(let failure) where failure.code == ENOENT: return nil
    case .failure(let failure): throw storageError("open", path, failure.code)
    }
  }

  /// Why `open(2)` failed.
  struct OpenFailure: Error {
    var code: Int32
  }

  /// `open(2)`, retried on `EINTR`.
  private static func openDescriptor(_ path: String, _ flags: Int32) -> Result<Int32, OpenFailure> {
    while true {
      let descriptor = systemOpen(path, flags)
      if descriptor >= 0 { return .success(descriptor) }
      let code = errno
      if code != EINTR { return .failure(OpenFailure(code: code)) }
    }
  }

  private init(descriptor: Int32, path: String, isWritable: Bool) {
    self.descriptor = descriptor
    self.path = path
    self.isWritable = isWritable
  }

  deinit {
    // Nothing to report from close: durability was settled by fsync before any caller was answered.
    _ = closeDescriptor(descriptor)
  }

  /// How long a lock is waited for before the call fails: other writers hold one for a write and an fsync,
  /// so only a paused or stuck process holds it this long, and waiting on would freeze this one too.
  static let lockWait: Duration = .seconds(5)

  /// `flock(LOCK_SH)` / `flock(LOCK_EX)`; waits for other holders, at most ``lockWait``, then fails with a
  /// storage error (and `sns_lock_timeouts_total`). A shared lock held on this descriptor is converted (not
  /// atomically: the kernel may let another writer in between, so callers re-read afterwards).
  func lock(exclusive: Bool) throws(SNSError) {
    let operation = (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB
    let deadline = ContinuousClock.now + Self.lockWait
    var pause: UInt32 = 1_000  // µs; doubles to 50 ms
    while flock(descriptor, operation) != 0 {
      let code = errno
      if code == EINTR { continue }
      guard code == EWOULDBLOCK else { throw storageError("lock", path, code) }
      guard ContinuousClock.now < deadline else {
        SNSMetrics.lockTimedOut()
        throw SNSError.storage(
          "\(path) stayed locked by another process for over \(Self.lockWait) (a paused or stuck writer?)")
      }
      usleep(pause)
      pause = min(pause * 2, 50_000)
    }
  }

  /// Whether this descriptor's file is still the one at its path: ``FileContextStore/replace(_:)`` renames a
  /// new file over it, so whoever waited for the old file's lock must open the path again.
  func isStillAtPath() throws(SNSError) -> Bool {
    try FileStatus.at(path: path)?.identity == status().identity
  }

  func status() throws(SNSError) -> FileStatus {
    var info = stat()
    while fstat(descriptor, &info) != 0 {
      let code = errno
      if code == EINTR { continue }
      throw storageError("stat", path, code)
    }
    return FileStatus(info)
  }

  /// Reads `count` bytes at `offset` (fewer only if the file is shorter than its `fstat` size said).
  func read(at offset: Int64, count: Int) throws(SNSError) -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: count)
    var filled = 0
    while filled < count {
      let result = buffer.withUnsafeMutableBytes { raw in
        pread(descriptor, raw.baseAddress.map { $0 + filled }, count - filled, off_t(offset) + off_t(filled))
      }
      if result > 0 {
        filled += result
      } else if result == 0 {
        break
      } else {
        let code = errno
        if code == EINTR { continue }
        throw storageError("read", path, code)
      }
    }
    return Array(buffer.prefix(filled))
  }

  /// Writes one record line with one `write(2)`.
  ///
  /// A regular file takes the whole buffer in one call unless the disk fills up or a signal arrives midway;
  /// then the rest is written by further calls. That is still safe because the caller holds `LOCK_EX`, and
  /// every reader takes `LOCK_SH`, so no reader sees the line half written. If the rest cannot be written,
  /// the caller truncates the partial line away.
  func writeLine(_ bytes: [UInt8]) throws(SNSError) {
    var written = 0
    while written < bytes.count {
      let result = bytes.withUnsafeBytes { raw in
        write(descriptor, raw.baseAddress.map { $0 + written }, bytes.count - written)
      }
      if result >= 0 {
        written += result
      } else {
        let code = errno
        if code == EINTR { continue }
        throw storageError("write", path, code)
      }
    }
  }

  func sync() throws(SNSError) {
    // No EINTR loop: fsync is not interrupted by signals on Linux, and after a failed fsync a retry may
    // report success for data that was dropped, so a failure is final.
    guard fsync(descriptor) == 0 else { throw storageError("fsync", path, errno) }
  }

  func truncate(to length: Int64) throws(SNSError) {
    while ftruncate(descriptor, off_t(length)) != 0 {
      let code = errno
      if code == EINTR { continue }
      throw storageError("truncate", path, code)
    }
  }
}

// Free functions, because inside `OpenContextFile` the names `open` and `close` would mean its own members.
private func systemOpen(_ path: String, _ flags: Int32) -> Int32 {
  open(path, flags, mode_t(0o644))
}

private func closeDescriptor(_ descriptor: Int32) -> Int32 {
  close(descriptor)
}

/// `rename(2)`: atomically puts `source` at `destination`, replacing what was there.
func renameFile(_ source: String, to destination: String) throws(SNSError) {
  guard rename(source, destination) == 0 else {
    throw storageError("rename \(source) to", destination, errno)
  }
}

/// `unlink(2)`, ignoring failures: used to clean up a replacement file that was not renamed into place.
func removeFileQuietly(_ path: String) {
  _ = unlink(path)
}

/// Puts `bytes` at `path` in one atomic step: written to `temporary`, fsynced, renamed over `path`, and the
/// directory fsynced, so a crash leaves the old file or the new one, whole. The temporary file is removed
/// if any step fails.
func replaceFile(at path: String, in directory: String, with bytes: [UInt8], via temporary: String)
  throws(SNSError)
{
  do throws(SNSError) {
    let replacement = try OpenContextFile.createForReplacing(temporary)
    try replacement.writeLine(bytes)
    try replacement.sync()
    try renameFile(temporary, to: path)
    try syncDirectory(directory)
  } catch {
    removeFileQuietly(temporary)
    throw error
  }
}

/// fsyncs a directory, making the names created in it durable (a new file's data is not enough on its own).
func syncDirectory(_ path: String) throws(SNSError) {
  var descriptor: Int32
  repeat {
    descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
  } while descriptor < 0 && errno == EINTR
  guard descriptor >= 0 else { throw storageError("open directory", path, errno) }
  defer { _ = close(descriptor) }
  guard fsync(descriptor) == 0 else { throw storageError("fsync directory", path, errno) }
}
