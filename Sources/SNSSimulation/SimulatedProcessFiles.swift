import SNSCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One process's view of the ``SimulatedFileSystem``: what its stores call. Every call of a process that died
/// fails, as its system calls would have had it lived on.
struct SimulatedProcessFiles: StoreFileSystem {
  let files: SimulatedFileSystem
  let process: Int

  var callsMayBlock: Bool { false }

  func status(atPath path: String) throws(SNSError) -> FileStatus? {
    try files.state.withLock { state throws(SNSError) -> FileStatus? in
      try checkAlive(state, path)
      if path == "." || state.entries[path] != nil {
        return FileStatus(
          identity: FileIdentity(device: 1, inode: 0), size: 0, modificationNanoseconds: 0, isDirectory: true)
      }
      let (directory, name) = Self.split(path)
      guard let inode = state.entries[directory]?[name], let node = state.nodes[inode] else { return nil }
      return Self.status(of: node, inode: inode)
    }
  }

  func open(_ path: String, _ mode: FileOpenMode) throws(SNSError) -> (any StoreFileHandle)? {
    try files.state.withLock { state throws(SNSError) -> (any StoreFileHandle)? in
      try checkAlive(state, path)
      let (directory, name) = Self.split(path)
      guard state.entries[directory] != nil else { throw storageError("open", path, ENOENT) }
      var inode = state.entries[directory]?[name]
      switch mode {
      case .reading:
        guard inode != nil else { return nil }
      case .appending:
        break
      case .replacing:
        if let existing = inode {
          state.nodes[existing]?.bytes = []
          state.nodes[existing]?.durableLength = 0
        }
      }
      if inode == nil {
        let created = state.nextInode
        state.nextInode += 1
        state.clock += 1
        state.nodes[created] = SimulatedFileSystem.Node(modified: state.clock)
        state.entries[directory, default: [:]][name] = created
        inode = created
      }
      guard let inode else { return nil }
      defer { state.nextHandle += 1 }
      return SimulatedFileHandle(
        files: files, process: process, handle: state.nextHandle, inode: inode, path: path,
        directory: directory)
    }
  }

  func rename(_ source: String, to destination: String) throws(SNSError) {
    try files.state.withLock { state throws(SNSError) in
      try checkAlive(state, source)
      let (from, sourceName) = Self.split(source)
      let (to, destinationName) = Self.split(destination)
      guard let inode = state.entries[from]?[sourceName] else {
        throw storageError("rename \(source) to", destination, ENOENT)
      }
      state.entries[from]?[sourceName] = nil
      state.entries[to, default: [:]][destinationName] = inode
    }
  }

  func removeQuietly(_ path: String) {
    files.state.withLock { state in
      guard !state.dead.contains(process) else { return }
      let (directory, name) = Self.split(path)
      state.entries[directory]?[name] = nil
    }
  }

  func syncDirectory(_ path: String) throws(SNSError) {
    try files.state.withLock { state throws(SNSError) in
      try checkAlive(state, path)
      if let names = state.entries[path] { state.durableEntries[path] = names }
    }
  }

  func makeDirectory(_ path: String) throws(SNSError) {
    try files.state.withLock { state throws(SNSError) in
      try checkAlive(state, path)
      if state.entries[path] == nil { state.entries[path] = [:] }
    }
  }

  func checkWritable(directory path: String) throws(SNSError) {
    try files.state.withLock { state throws(SNSError) in try checkAlive(state, path) }
  }

  func names(inDirectory path: String) throws(SNSError) -> [String] {
    try files.state.withLock { state throws(SNSError) -> [String] in
      try checkAlive(state, path)
      guard let names = state.entries[path] else { throw storageError("list", path, ENOENT) }
      return Array(names.keys)
    }
  }

  private func checkAlive(_ state: SimulatedFileSystem.State, _ path: String) throws(SNSError) {
    guard !state.dead.contains(process) else { throw SNSError.unavailable("\(path): the process is down") }
  }

  /// The directory and the name of `path`.
  static func split(_ path: String) -> (directory: String, name: String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    return (String(path[..<slash]), String(path[path.index(after: slash)...]))
  }

  static func status(of node: SimulatedFileSystem.Node, inode: UInt64) -> FileStatus {
    FileStatus(
      identity: FileIdentity(device: 1, inode: inode), size: Int64(node.bytes.count),
      modificationNanoseconds: node.modified, isDirectory: false)
  }
}

/// One open file of a simulated process: an open file description, so its locks conflict with every other
/// handle's, also within one process.
final class SimulatedFileHandle: StoreFileHandle {
  let files: SimulatedFileSystem
  let process: Int
  let handle: Int
  let inode: UInt64
  let path: String
  let directory: String
  var isWritable: Bool { true }

  init(files: SimulatedFileSystem, process: Int, handle: Int, inode: UInt64, path: String, directory: String)
  {
    self.files = files
    self.process = process
    self.handle = handle
    self.inode = inode
    self.path = path
    self.directory = directory
  }

  func tryLock(exclusive: Bool) throws(SNSError) -> Bool {
    try withNode { state, _ throws(SNSError) -> Bool in
      let others = (state.locks[inode] ?? [:]).filter {
        $0.key != handle && !state.dead.contains($0.value.process)
      }
      guard others.isEmpty || (!exclusive && !others.values.contains(where: \.exclusive)) else {
        return false
      }
      state.locks[inode, default: [:]][handle] = SimulatedFileSystem.Lock(
        process: process, exclusive: exclusive)
      return true
    }
  }

  func status() throws(SNSError) -> FileStatus {
    try withNode { _, node throws(SNSError) in SimulatedProcessFiles.status(of: node, inode: inode) }
  }

  func read(at offset: Int64, count: Int) throws(SNSError) -> [UInt8] {
    try withNode { _, node throws(SNSError) -> [UInt8] in
      let start = min(Int(offset), node.bytes.count)
      return Array(node.bytes[start..<min(start + count, node.bytes.count)])
    }
  }

  func write(_ bytes: [UInt8]) throws(SNSError) {
    try withNode { state, node throws(SNSError) in
      guard !state.full.contains(directory) else { throw storageError("write", path, ENOSPC) }
      node.bytes += bytes
      state.clock += 1
      node.modified = state.clock
      if state.servers[process] == directory, let tear = state.armed.removeValue(forKey: directory) {
        // The process dies with these bytes (and whatever else was not fsynced) in flight.
        state.nodes[inode] = node
        SimulatedFileSystem.crash(process, tear: tear, in: &state)
        state.crashed.append(directory)
        if let torn = state.nodes[inode] { node = torn }
        throw SNSError.unavailable("\(path): the process crashed inside the write")
      }
    }
  }

  func sync() throws(SNSError) {
    try withNode { state, node throws(SNSError) in
      guard !state.failingSyncs.contains(directory) else { throw storageError("fsync", path, EIO) }
      node.durableLength = node.bytes.count
    }
  }

  func truncate(to length: Int64) throws(SNSError) {
    try withNode { state, node throws(SNSError) in
      node.bytes.removeLast(max(0, node.bytes.count - Int(length)))
      node.durableLength = min(node.durableLength, node.bytes.count)
      state.clock += 1
      node.modified = state.clock
    }
  }

  func close() {
    files.state.withLock { state in _ = state.locks[inode]?.removeValue(forKey: handle) }
  }

  /// Runs `body` on this file's node, written back afterwards (also when `body` throws).
  private func withNode<T>(
    _ body: (inout SimulatedFileSystem.State, inout SimulatedFileSystem.Node) throws(SNSError) -> T
  ) throws(SNSError) -> T {
    try files.state.withLock { state throws(SNSError) -> T in
      guard !state.dead.contains(process) else { throw SNSError.unavailable("\(path): the process is down") }
      // Taken out while `body` runs, so that appending to its bytes does not copy them.
      var node = state.nodes.removeValue(forKey: inode) ?? SimulatedFileSystem.Node()
      defer { state.nodes[inode] = node }
      return try body(&state, &node)
    }
  }
}
