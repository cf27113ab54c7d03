// glibc's allocator controls (malloc.h is not part of Swift's Glibc module): `malloc_trim`, so that a process
// can give the memory a large piece of work freed back to the system.
#include <malloc.h>
