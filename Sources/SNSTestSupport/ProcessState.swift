import Foundation

/// What `/proc` says of a process.
package enum ProcessState {
  /// The third field of `/proc/<pid>/stat` (after the parenthesised command name), e.g. `S`, `D`, `Z`.
  package static func state(_ pid: Int32) -> Character? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { return nil }
    return stat[stat.index(after: close)...].first { $0 != " " }
  }

  /// Gone, or a zombie waiting to be reaped.
  package static func hasExited(_ pid: Int32) -> Bool {
    guard let state = state(pid) else { return true }
    return state == "Z" || state == "X"
  }

  /// State and wait channel, for a failure message.
  package static func describe(_ pid: Int32) -> String {
    let wchan = (try? String(contentsOfFile: "/proc/\(pid)/wchan", encoding: .utf8)) ?? "?"
    return "pid \(pid) state \(state(pid).map(String.init) ?? "gone") wchan \(wchan)"
  }

  /// VmRSS, VmHWM and RssAnon of `/proc/<pid>/status`, in KiB.
  package static func memory(_ pid: Int32) -> (rss: Int, peak: Int, anonymous: Int)? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    func field(_ name: String) -> Int? {
      guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else {
        return nil
      }
      return line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
    }
    guard let rss = field("VmRSS"), let peak = field("VmHWM"), let anonymous = field("RssAnon") else {
      return nil
    }
    return (rss, peak, anonymous)
  }
}
