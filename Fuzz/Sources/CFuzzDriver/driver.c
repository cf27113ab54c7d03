// SwiftPM links every executable target with `main` aliased to `<Module>_main` (so that tests can link
// executables), but a libFuzzer target has no Swift `main`: it is built with -parse-as-library and only
// defines LLVMFuzzerTestOneInput. These functions fill the alias and hand control to libFuzzer's driver.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int FuzzRecordParser_main(int argc, char **argv) {
  return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}

int FuzzProtobufDecode_main(int argc, char **argv) {
  return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
