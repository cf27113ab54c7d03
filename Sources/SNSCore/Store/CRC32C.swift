/// CRC-32C (Castagnoli), the checksum on every line of a context file.
///
/// Castagnoli rather than the zlib CRC-32 because it detects more error patterns at these lengths and is
/// what ext4, iSCSI and SCTP use, so `crc32c` tools elsewhere agree with it. Written by hand (one 256-entry
/// table, one byte per step) to keep the package free of a compression dependency; context lines are short,
/// so a faster slicing variant would not be noticed.
enum CRC32C {
  /// The reflected Castagnoli polynomial 0x1EDC6F41.
  static let polynomial: UInt32 = 0x82F6_3B78

  /// `table[b]` is the CRC register after shifting byte `b` through eight rounds of the polynomial.
  static let table: [UInt32] = (0...255).map { (byte: UInt32) -> UInt32 in
    var crc = byte
    for _ in 0..<8 {
      crc = (crc & 1) == 1 ? (crc >> 1) ^ polynomial : crc >> 1
    }
    return crc
  }

  /// The checksum of `bytes` (initial value and final XOR `0xFFFFFFFF`, as the standard specifies).
  static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
      crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
    }
    return crc ^ 0xFFFF_FFFF
  }
}
