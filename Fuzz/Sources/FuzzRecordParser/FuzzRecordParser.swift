@testable import SNSCore

/// libFuzzer entry: the input is the content of a context file.
///
/// Properties checked (a violation traps, which libFuzzer reports as a crash):
/// - the tail scan never crashes, its whole end lies within the input at a line boundary, records are in
///   increasing offsets, and records + skipped lines + damaged tail account for every byte;
/// - every line that decodes re-encodes to a line that decodes to the same record (what we read, we can
///   write back exactly), and that line is a single line.
// Unsafe pointer: libFuzzer's C entry point hands us a raw buffer; it is copied before any use.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRecordParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
  check(bytes)
  return 0
}

func check(_ bytes: [UInt8]) {
  let base: Int64 = 1000
  let scan = TailScan(bytes: bytes, base: base)
  precondition(scan.wholeEnd >= base && scan.wholeEnd <= base + Int64(bytes.count))
  precondition(scan.wholeEnd == base || bytes[Int(scan.wholeEnd - base) - 1] == UInt8(ascii: "\n"))
  precondition(scan.damagedTailLength == base + Int64(bytes.count) - scan.wholeEnd)
  var previous: Int64 = -1
  for (offset, length, record) in scan.records {
    precondition(offset > previous && offset + Int64(length) <= scan.wholeEnd)
    previous = offset
    roundTrip(record)
  }
  for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
    if let record = try? RecordCodec.decode(line: line) { roundTrip(record) }
  }
}

func roundTrip(_ record: ContextRecord) {
  let line = Array(RecordCodec.encode(record).utf8)
  precondition(line.last == UInt8(ascii: "\n") && line.dropLast().firstIndex(of: UInt8(ascii: "\n")) == nil)
  guard let again = try? RecordCodec.decode(line: line.dropLast()) else {
    preconditionFailure("cannot read back \(RecordCodec.encode(record))")
  }
  precondition(again == record, "\(again) != \(record)")
}
