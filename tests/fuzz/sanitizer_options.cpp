// Sanitizer settings built into every fuzz target, so that running one directly behaves as under
// scripts/fuzz.sh: any undefined behaviour stops the run (a crash libFuzzer saves), except the
// third-party reports listed in ubsan.supp; stack traces carry file and line.

extern "C" const char* __ubsan_default_options() {
  return "halt_on_error=1:print_stacktrace=1:report_error_type=1"
         ":suppressions=" TIDEMARK_FUZZ_UBSAN_SUPPRESSIONS TIDEMARK_FUZZ_SYMBOLIZER_OPTION;
}

extern "C" const char* __asan_default_options() {
  return "detect_leaks=1" TIDEMARK_FUZZ_SYMBOLIZER_OPTION;
}
