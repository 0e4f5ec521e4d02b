#pragma once

#include <cstdint>
#include <string_view>

/// Named counts a test adds to. When the test binary ends, each count touched is printed as one
/// line `tally: NAME N`, in the order first touched; scripts/test-summary.sh adds those lines up
/// over a ctest run. Names in use: "faults injected", "requests acknowledged", "events lost",
/// "duplicates", "attacks tried", "attacks that got in".
namespace tidemark::testing::tally {

/// Adds `n` to the count `name` (0 too: the count is then printed). Safe from any thread.
void add(std::string_view name, std::int64_t n = 1);

/// One attack tried, which got in or not: call it beside the check that fails when it got in.
void attack(bool got_in);

/// One attack tried, for as long as this lives: it got in if a check of the running test (an
/// EXPECT or ASSERT) failed meanwhile.
class Attack {
 public:
  Attack();
  ~Attack();
  Attack(const Attack&) = delete;
  Attack& operator=(const Attack&) = delete;

 private:
  int results_before_;
};

}  // namespace tidemark::testing::tally
