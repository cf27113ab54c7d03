import CSystemMemory

/// Gives the system back the heap that a piece of work freed. glibc keeps freed memory in its arenas for
/// reuse, so a synchronizer's first round over a long history would otherwise hold on to the memory of
/// its scan (about 9 MB at 1 M posts) for the life of the process. Costs a few milliseconds once per round.
@Sendable func returnFreedMemory() {
  _ = malloc_trim(0)
}
