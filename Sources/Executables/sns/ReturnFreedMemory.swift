import CSystemMemory

/// Gives the system back the heap that a piece of work freed. glibc keeps freed memory in its arenas for
/// reuse, so a synchronizer's first round over a long history would otherwise hold on to the memory of
/// its scan (about 9 MB at 1 M posts) for the life of the process. Costs a few milliseconds once per round.
@Sendable func returnFreedMemory() {
  _ = malloc_trim(0)
}

/// Caps glibc's allocator at two arenas. By default it makes up to eight per core as threads contend (the
/// cooperative pool, gRPC's and the store's threads), and each keeps the memory freed in it; a synchronizer
/// allocates in bursts (a round's scan) and holds little in between, so fewer arenas leave less behind.
func limitAllocatorArenas() {
  _ = mallopt(M_ARENA_MAX, 2)
}
