/// The file-system calls a ``FileContextStore`` makes: a port, so that the same store runs on a real disk
/// (``POSIXFileSystem``) and, in the simulation, on files in memory that lose what was not fsynced when their
/// process crashes.
///
/// Errors are ``SNSError/storage(_:)`` with the action, the path and the reason (see ``storageError(_:_:_:)``).
public protocol StoreFileSystem: Sendable {
  /// Whether calls can block the calling thread (a real disk: `flock` waits, `fsync` takes milliseconds).
  /// A store then makes them on threads of its own, off Swift's cooperative pool. A file system in memory
  /// says `false`, and a store makes its calls on the caller's thread, so that a simulation run stays on
  /// its one thread and replays from its seed.
  var callsMayBlock: Bool { get }

  /// `stat(path)`, or `nil` when nothing is there.
  func status(atPath path: String) throws(SNSError) -> FileStatus?

  /// Opens `path` as `mode` says; `nil` only for ``FileOpenMode/reading`` when the file does not exist.
  func open(_ path: String, _ mode: FileOpenMode) throws(SNSError) -> (any StoreFileHandle)?

  /// `rename(2)`: atomically puts `source` at `destination`, replacing what was there.
  func rename(_ source: String, to destination: String) throws(SNSError)

  /// `unlink(2)`, ignoring failures (cleaning up a file that was not renamed into place).
  func removeQuietly(_ path: String)

  /// fsyncs the directory at `path`, making the names created in it durable.
  func syncDirectory(_ path: String) throws(SNSError)

  /// `mkdir(path)`; succeeds when the directory already exists (another process created it first).
  func makeDirectory(_ path: String) throws(SNSError)

  /// Throws unless this process may create files in the directory at `path`.
  func checkWritable(directory path: String) throws(SNSError)

  /// The names in the directory at `path`, in no particular order.
  func names(inDirectory path: String) throws(SNSError) -> [String]
}

/// How ``StoreFileSystem/open(_:_:)`` opens a file.
public enum FileOpenMode: Sendable {
  /// Read and append, creating the file if missing (`O_RDWR | O_APPEND | O_CREAT`): every write lands at
  /// the end, also after another process appended.
  case appending
  /// Read, and append or truncate where allowed (`O_RDWR | O_APPEND`), or read only when the file or file
  /// system refuses writing (`EACCES`, `EROFS`); the file must exist.
  case reading
  /// Write a new file, created or emptied (`O_WRONLY | O_CREAT | O_TRUNC`): a replacement about to be renamed
  /// over the original.
  case replacing
}

/// One open file of a ``StoreFileSystem``: an open file description, which is what `flock` locks belong to
/// (two opens of one file conflict even in one process).
public protocol StoreFileHandle: AnyObject, Sendable {
  var path: String { get }
  /// Whether writes and truncation are allowed (see ``FileOpenMode/reading``).
  var isWritable: Bool { get }
  /// `flock(LOCK_EX | LOCK_NB)` or `flock(LOCK_SH | LOCK_NB)`: `false` when another open file holds a
  /// conflicting lock. A lock already held here is converted.
  func tryLock(exclusive: Bool) throws(SNSError) -> Bool
  /// `fstat`.
  func status() throws(SNSError) -> FileStatus
  /// Reads `count` bytes at `offset` (fewer only where the file ends).
  func read(at offset: Int64, count: Int) throws(SNSError) -> [UInt8]
  /// Writes all of `bytes` at the end of the file.
  func write(_ bytes: [UInt8]) throws(SNSError)
  /// `fsync`: what was written is durable when it returns. A failure is final (a retry may report success
  /// for data that was dropped).
  func sync() throws(SNSError)
  /// `ftruncate`.
  func truncate(to length: Int64) throws(SNSError)
  /// Closes the file, which drops its lock. Called once; no other call follows.
  func close()
}

/// What `stat`/`fstat` says about a file, in the store's terms.
public struct FileStatus: Hashable, Sendable {
  /// Device and inode: a different identity at the same path means the file was replaced.
  public var identity: FileIdentity
  public var size: Int64
  public var modificationNanoseconds: Int64
  public var isDirectory: Bool

  public init(identity: FileIdentity, size: Int64, modificationNanoseconds: Int64, isDirectory: Bool) {
    self.identity = identity
    self.size = size
    self.modificationNanoseconds = modificationNanoseconds
    self.isDirectory = isDirectory
  }
}

/// A file's identity across renames of other files: `st_dev` and `st_ino`.
public struct FileIdentity: Hashable, Sendable {
  public var device: UInt64
  public var inode: UInt64
  public init(device: UInt64, inode: UInt64) {
    self.device = device
    self.inode = inode
  }
}

extension StoreFileSystem {
  /// Puts `bytes` at `path` in one atomic step: written to `temporary`, fsynced, renamed over `path`, and the
  /// directory fsynced, so a crash leaves the old file or the new one, whole. The temporary file is removed
  /// if any step fails.
  func replaceFile(at path: String, in directory: String, with bytes: [UInt8], via temporary: String)
    throws(SNSError)
  {
    do throws(SNSError) {
      guard let replacement = try open(temporary, .replacing) else {
        throw SNSError.storage("cannot create \(temporary)")
      }
      defer { replacement.close() }
      try replacement.write(bytes)
      try replacement.sync()
      try rename(temporary, to: path)
      try syncDirectory(directory)
    } catch {
      removeQuietly(temporary)
      throw error
    }
  }
}
