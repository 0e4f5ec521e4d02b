#include "tests/support/tally.h"

#include <gtest/gtest.h>

#include <iostream>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace tidemark::testing::tally {
namespace {

struct Counts {
  std::mutex mutex;
  std::vector<std::pair<std::string, std::int64_t>> values;  // in the order first touched
};

Counts& counts() {
  static Counts instance;
  return instance;
}

const ::testing::TestResult* current_result() {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  return test ? test->result() : nullptr;
}

class Printer : public ::testing::Environment {
 public:
  void TearDown() override {
    std::lock_guard lock(counts().mutex);
    for (const auto& [name, value] : counts().values) {
      std::cout << "tally: " << name << " " << value << "\n";
    }
    std::cout << std::flush;
  }
};

// Registered wherever this file is linked in, which a test that counts makes it be.
[[maybe_unused]] const auto* const printer = ::testing::AddGlobalTestEnvironment(new Printer);

}  // namespace

void add(std::string_view name, std::int64_t n) {
  std::lock_guard lock(counts().mutex);
  for (auto& [known, value] : counts().values) {
    if (known == name) {
      value += n;
      return;
    }
  }
  counts().values.emplace_back(std::string(name), n);
}

void attack(bool got_in) {
  add("attacks tried");
  add("attacks that got in", got_in ? 1 : 0);
}

Attack::Attack() {
  const auto* result = current_result();
  results_before_ = result ? result->total_part_count() : 0;
}

Attack::~Attack() {
  bool failed = false;
  if (const auto* result = current_result()) {
    for (int i = results_before_; i < result->total_part_count(); ++i) {
      failed = failed || result->GetTestPartResult(i).failed();
    }
  }
  attack(failed);
}

}  // namespace tidemark::testing::tally
