import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// ``StoreFileSystem`` on the real file system: each call is the POSIX call it names, retried on `EINTR`.
public struct POSIXFileSystem: StoreFileSystem {
  public init() {}

  public var callsMayBlock: Bool { true }

  public func status(atPath path: String) throws(SNSError) -> FileStatus? {
    var info = stat()
    while stat(path, &info) != 0 {
      let code = errno
      if code == EINTR { continue }
      if code == ENOENT { return nil }
      throw storageError("stat", path, code)
    }
    return FileStatus(info)
  }

  public func open(_ path: String, _ mode: FileOpenMode) throws(SNSError) -> (any StoreFileHandle)? {
    switch mode {
    case .appending:
      switch openDescriptor(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC) {
      case .success(let descriptor):
        return POSIXFileHandle(descriptor: descriptor, path: path, isWritable: true)
      case .failure(let failure): throw storageError("open", path, failure.code)
      }
    case .replacing:
      switch openDescriptor(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC) {
      case .success(let descriptor):
        return POSIXFileHandle(descriptor: descriptor, path: path, isWritable: true)
      case .failure(let failure): throw storageError("create", path, failure.code)
      }
    case .reading:
      var isWritable = true
      var result = openDescriptor(path, O_RDWR | O_APPEND | O_CLOEXEC)
      if case .failure(let failure) = result, failure.code == EACCES || failure.code == EROFS {
        isWritable = false
        result = openDescriptor(path, O_RDONLY | O_CLOEXEC)
      }
      switch result {
      case .success(let descriptor):
        return POSIXFileHandle(descriptor: descriptor, path: path, isWritable: isWritable)
      case .failure(let failure) where failure.code == ENOENT: return nil
      case .failure(let failure): throw storageError("open", path, failure.code)
      }
    }
  }

  public func rename(_ source: String, to destination: String) throws(SNSError) {
    guard systemRename(source, destination) == 0 else {
      throw storageError("rename \(source) to", destination, errno)
    }
  }

  public func removeQuietly(_ path: String) {
    _ = unlink(path)
  }

  public func syncDirectory(_ path: String) throws(SNSError) {
    var descriptor: Int32
    repeat {
      descriptor = systemOpen(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    } while descriptor < 0 && errno == EINTR
    guard descriptor >= 0 else { throw storageError("open directory", path, errno) }
    defer { _ = systemClose(descriptor) }
    guard fsync(descriptor) == 0 else { throw storageError("fsync directory", path, errno) }
  }

  public func makeDirectory(_ path: String) throws(SNSError) {
    if mkdir(path, 0o755) != 0, errno != EEXIST {
      throw storageError("create directory", path, errno)
    }
  }

  public func checkWritable(directory path: String) throws(SNSError) {
    guard access(path, W_OK | X_OK) == 0 else {
      throw storageError("write in context directory", path, errno)
    }
  }

  public func names(inDirectory path: String) throws(SNSError) -> [String] {
    do {
      return try FileManager.default.contentsOfDirectory(atPath: path)
    } catch {
      // Foundation wraps the errno; unwrap it so the message reads like every other storage error.
      if let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? any Error,
        (underlying as NSError).domain == NSPOSIXErrorDomain
      {
        throw storageError("list", path, Int32((underlying as NSError).code))
      }
      throw .storage("cannot list \(path): \(error)")
    }
  }

  /// `open(2)`, retried on `EINTR`; the errno on failure.
  private func openDescriptor(_ path: String, _ flags: Int32) -> Result<Int32, OpenFailure> {
    while true {
      let descriptor = systemOpen(path, flags)
      if descriptor >= 0 { return .success(descriptor) }
      let code = errno
      if code != EINTR { return .failure(OpenFailure(code: code)) }
    }
  }
}

/// Why `open(2)` failed.
private struct OpenFailure: Error {
  var code: Int32
}

/// `SNSError.storage` with the action, the path and `strerror`, so that an operator sees what failed where.
public func storageError(_ action: String, _ path: String, _ code: Int32) -> SNSError {
  .storage("cannot \(action) \(path): \(String(cString: strerror(code))) (errno \(code))")
}

extension FileStatus {
  init(_ info: stat) {
    #if canImport(Darwin)
      let time = info.st_mtimespec
    #else
      let time = info.st_mtim
    #endif
    self.init(
      identity: FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)),
      size: Int64(info.st_size),
      modificationNanoseconds: Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec),
      isDirectory: (info.st_mode & S_IFMT) == S_IFDIR)
  }
}

/// One open descriptor. Immutable: the descriptor number is fixed for its life, and `close` is called once.
final class POSIXFileHandle: StoreFileHandle {
  let descriptor: Int32
  let path: String
  let isWritable: Bool

  init(descriptor: Int32, path: String, isWritable: Bool) {
    self.descriptor = descriptor
    self.path = path
    self.isWritable = isWritable
  }

  func tryLock(exclusive: Bool) throws(SNSError) -> Bool {
    let operation = (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB
    while flock(descriptor, operation) != 0 {
      let code = errno
      if code == EINTR { continue }
      if code == EWOULDBLOCK { return false }
      throw storageError("lock", path, code)
    }
    return true
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

  /// One `write(2)`; the rest by further calls only if the disk fills up or a signal arrives midway (see
  /// ``OpenContextFile/writeLine(_:)`` for why that is safe).
  func write(_ bytes: [UInt8]) throws(SNSError) {
    var written = 0
    while written < bytes.count {
      let result = bytes.withUnsafeBytes { raw in
        systemWrite(descriptor, raw.baseAddress.map { $0 + written }, bytes.count - written)
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

  func close() {
    // Nothing to report from close: durability was settled by fsync before any caller was answered.
    _ = systemClose(descriptor)
  }
}

// Free functions, because inside the types above the names `open`, `close`, `rename` and `write` mean their
// own members.
private func systemOpen(_ path: String, _ flags: Int32) -> Int32 { open(path, flags, mode_t(0o644)) }
private func systemClose(_ descriptor: Int32) -> Int32 { close(descriptor) }
private func systemRename(_ source: String, _ destination: String) -> Int32 { rename(source, destination) }
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
  write(descriptor, bytes, count)
}
