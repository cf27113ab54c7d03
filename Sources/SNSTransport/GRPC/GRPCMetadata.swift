import CGRPCCore

/// Call metadata (HTTP/2 headers): an ordered list of key/value pairs with lower-case ASCII keys.
public struct GRPCMetadata: Sendable, Equatable {
  /// The pairs in order; keys are lower-case.
  public var pairs: [(key: String, value: String)]

  /// Creates metadata from `pairs`; keys are lower-cased because HTTP/2 requires it.
  public init(_ pairs: [(String, String)] = []) {
    self.pairs = pairs.map { (key: $0.0.lowercased(), value: $0.1) }
  }

  /// The first value for `key` (matched case-insensitively), or nil.
  public subscript(key: String) -> String? {
    let wanted = key.lowercased()
    return pairs.first { $0.key == wanted }?.value
  }

  /// Pairwise equality of keys and values, order included.
  public static func == (lhs: GRPCMetadata, rhs: GRPCMetadata) -> Bool {
    lhs.pairs.count == rhs.pairs.count
      && zip(lhs.pairs, rhs.pairs).allSatisfy { $0.key == $1.key && $0.value == $1.value }
  }

  /// Copies a received metadata array (its slices stay owned by the call).
  init(copying array: grpc_metadata_array) {
    var pairs: [(key: String, value: String)] = []
    if let entries = array.metadata {
      pairs.reserveCapacity(array.count)
      for index in 0..<array.count {
        pairs.append((key: String(slice: entries[index].key), value: String(slice: entries[index].value)))
      }
    }
    self.pairs = pairs
  }

  /// Adds every pair to a batch's outgoing initial metadata.
  func append(to batch: UnsafeMutablePointer<sns_batch>) {
    add(to: batch, with: sns_batch_add_metadata)
  }

  /// Adds every pair to the trailing metadata a batch's status is sent with.
  func appendTrailing(to batch: UnsafeMutablePointer<sns_batch>) {
    add(to: batch, with: sns_batch_add_trailing_metadata)
  }

  private func add(
    to batch: UnsafeMutablePointer<sns_batch>,
    with add: (UnsafeMutablePointer<sns_batch>?, UnsafePointer<CChar>?, Int, UnsafePointer<CChar>?, Int) ->
      Int32
  ) {
    for pair in pairs {
      var key = pair.key
      var value = pair.value
      key.withUTF8 { keyBytes in
        value.withUTF8 { valueBytes in
          keyBytes.withMemoryRebound(to: CChar.self) { keyChars in
            valueBytes.withMemoryRebound(to: CChar.self) { valueChars in
              _ = add(batch, keyChars.baseAddress, keyChars.count, valueChars.baseAddress, valueChars.count)
            }
          }
        }
      }
    }
  }
}

extension String {
  /// Decodes a slice as UTF-8 (invalid sequences are repaired, never trusted).
  init(slice: grpc_slice) {
    var slice = slice
    let length = sns_slice_length(&slice)
    guard length > 0, let start = sns_slice_start_ptr(&slice) else {
      self = ""
      return
    }
    self = String(decoding: UnsafeBufferPointer(start: start, count: length), as: UTF8.self)
  }
}
