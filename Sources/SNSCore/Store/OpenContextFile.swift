import Foundation

/// One open context file of a ``StoreFileSystem``. Closing it (when the value goes away) also drops its
/// `flock`, so no path can leave a file locked.
///
/// `flock` locks belong to the open file description: two opens conflict even in one process, which is what
/// lets two stores on one directory in one test process exclude each other.
struct OpenContextFile: ~Copyable {
  let handle: any StoreFileHandle
  /// Whether a lock held elsewhere is waited for (a real disk), or refused at once (a file system in memory,
  /// whose callers run on one thread: the holder could never go on while this one waited).
  let waitsForLocks: Bool
  var path: String { handle.path }
  /// Whether the file may be written and truncated (readers fall back to read-only, see ``openForReading``).
  var isWritable: Bool { handle.isWritable }

  /// Opens `path` for reading and appending, creating it if missing.
  static func openForAppending(_ path: String, on fileSystem: any StoreFileSystem) throws(SNSError)
    -> OpenContextFile
  {
    guard let handle = try fileSystem.open(path, .appending) else { throw storageError("open", path, ENOENT) }
    return OpenContextFile(handle: handle, waitsForLocks: fileSystem.callsMayBlock)
  }

  /// Opens `path` for appending and takes `flock(LOCK_EX)` on the file that is at the path once the lock is
  /// held (a file replaced meanwhile is opened again).
  static func openLockedForAppending(_ path: String, on fileSystem: any StoreFileSystem) throws(SNSError)
    -> OpenContextFile
  {
    while true {
      let handle = try openForAppending(path, on: fileSystem)
      try handle.lock(exclusive: true)
      if try handle.isStillAtPath(on: fileSystem) { return handle }
    }
  }

  /// ``openForReading(_:on:)`` with `flock(LOCK_SH)` held on the file that is at the path once the lock is
  /// held (one replaced while this waited, ``FileContextStore/replace(_:)``, is opened again). `nil` if the
  /// file does not exist.
  static func openLockedForReading(_ path: String, on fileSystem: any StoreFileSystem) throws(SNSError)
    -> OpenContextFile?
  {
    while true {
      guard let handle = try openForReading(path, on: fileSystem) else { return nil }
      try handle.lock(exclusive: false)
      if try handle.isStillAtPath(on: fileSystem) { return handle }
    }
  }

  /// Opens an existing file for reading, and for cutting a damaged tail when allowed (read-only when the
  /// file or file system refuses writing, e.g. ext4 remounted read-only after an I/O error, so that whole
  /// records stay readable). `nil` if the file does not exist.
  static func openForReading(_ path: String, on fileSystem: any StoreFileSystem) throws(SNSError)
    -> OpenContextFile?
  {
    guard let handle = try fileSystem.open(path, .reading) else { return nil }
    return OpenContextFile(handle: handle, waitsForLocks: fileSystem.callsMayBlock)
  }

  private init(handle: any StoreFileHandle, waitsForLocks: Bool) {
    self.handle = handle
    self.waitsForLocks = waitsForLocks
  }

  deinit {
    handle.close()
  }

  /// How long a lock is waited for before the call fails: other writers hold one for a write and an fsync,
  /// so only a paused or stuck process holds it this long, and waiting on would freeze this one too.
  static let lockWait: Duration = .seconds(5)

  /// `flock(LOCK_SH)` / `flock(LOCK_EX)`; waits for other holders, at most ``lockWait``, then fails with a
  /// storage error (and `sns_lock_timeouts_total`). A shared lock held on this file is converted (not
  /// atomically: the kernel may let another writer in between, so callers re-read afterwards).
  func lock(exclusive: Bool) throws(SNSError) {
    let deadline = ContinuousClock.now + Self.lockWait
    var pause: UInt32 = 1_000  // µs; doubles to 50 ms
    while try !handle.tryLock(exclusive: exclusive) {
      guard waitsForLocks, ContinuousClock.now < deadline else {
        SNSMetrics.lockTimedOut()
        throw SNSError.storage(
          "\(path) stayed locked by another process for over \(Self.lockWait) (a paused or stuck writer?)")
      }
      usleep(pause)
      pause = min(pause * 2, 50_000)
    }
  }

  /// Whether this file is still the one at its path: ``FileContextStore/replace(_:)`` renames a new file
  /// over it, so whoever waited for the old file's lock must open the path again.
  func isStillAtPath(on fileSystem: any StoreFileSystem) throws(SNSError) -> Bool {
    try fileSystem.status(atPath: path)?.identity == status().identity
  }

  func status() throws(SNSError) -> FileStatus { try handle.status() }

  /// Reads `count` bytes at `offset` (fewer only if the file is shorter than its size said).
  func read(at offset: Int64, count: Int) throws(SNSError) -> [UInt8] {
    try handle.read(at: offset, count: count)
  }

  /// Writes one record line.
  ///
  /// A regular file takes the whole buffer in one `write(2)` unless the disk fills up or a signal arrives
  /// midway; then the rest is written by further calls. That is still safe because the caller holds
  /// `LOCK_EX`, and every reader takes `LOCK_SH`, so no reader sees the line half written. If the rest cannot
  /// be written, the caller truncates the partial line away.
  func writeLine(_ bytes: [UInt8]) throws(SNSError) { try handle.write(bytes) }

  func sync() throws(SNSError) { try handle.sync() }

  func truncate(to length: Int64) throws(SNSError) { try handle.truncate(to: length) }
}
