// The test support's ChildProcess: a sanitizer report in a child's output fails the test that
// started it (what scripts/sanitize.sh relies on for the `tidemark` processes).
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <string>

#include "tests/support/stack.h"

namespace tidemark::testing {
namespace {

/// Runs `sh -c SCRIPT` to its end; its ChildProcess is destroyed before this returns.
int run_shell(const std::string& script) {
  return run_command({"/bin/sh", "-c", script}).first;
}

TEST(ChildProcess, ASanitizerReportInTheOutputFailsTheTest) {
  EXPECT_NONFATAL_FAILURE(
      run_shell("echo '==42==ERROR: AddressSanitizer: heap-use-after-free on address' >&2"),
      "sanitizer report from `sh -c`");
  EXPECT_NONFATAL_FAILURE(
      run_shell("echo started; echo 'a.cpp:1:2: runtime error: signed integer overflow' >&2"),
      "a.cpp:1:2: runtime error: signed integer overflow");
  EXPECT_NONFATAL_FAILURE(run_shell("echo '==42==ERROR: LeakSanitizer: detected memory leaks'"),
                          "LeakSanitizer");
  EXPECT_NONFATAL_FAILURE(run_shell("echo 'WARNING: ThreadSanitizer: data race (pid=42)'"),
                          "data race");
}

TEST(ChildProcess, OtherOutputFailsNothing) {
  EXPECT_EQ(run_shell("echo 'ERROR: the broker is down; runtime error budget spent' >&2"), 0);
}

}  // namespace
}  // namespace tidemark::testing
