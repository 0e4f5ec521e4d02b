// The README's client walkthrough (examples/mobile_client.sh) runs to its end against a stack.
#include <gtest/gtest.h>

#include "tests/support/http_client.h"
#include "tests/support/stack.h"

namespace tidemark::testing {
namespace {

TEST(Examples, TheMobileClientWalkthroughRunsEveryStep) {
  TestStack stack;
  stack.start_inference();
  HttpClient admin(stack.api_port());
  sign_in_admin(stack, admin);
  // `tidemark dev` registers this algorithm; a test stack starts with an empty registry.
  ASSERT_EQ(admin.post("/algos", R"({"algo_id":"sensor-summary","recording_type":"sensor",)"
                                 R"("location":"builtin:summary","version":"1"})")
                .status,
            201);
  auto [code, output] = run_command({"/bin/bash", std::string(TIDEMARK_SOURCE_DIR) +
                                                      "/examples/mobile_client.sh",
                                     "http://127.0.0.1:" + std::to_string(stack.api_port())},
                                    std::chrono::seconds(120));
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find("status succeeded: {"), std::string::npos) << output;
  EXPECT_NE(output.find("event: job"), std::string::npos) << output;
  EXPECT_NE(output.find("mean x 0.425"), std::string::npos) << output;
  EXPECT_NE(output.find("logout: 200"), std::string::npos) << output;
  EXPECT_NE(output.find("GET /me afterwards: 401"), std::string::npos) << output;
}

}  // namespace
}  // namespace tidemark::testing
