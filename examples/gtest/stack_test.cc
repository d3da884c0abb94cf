#include <gtest/gtest.h>

#include "stack.h"

TEST(Stack, PushThenPop) {
  Stack<int> s;
  s.push(1);
  s.push(2);
  EXPECT_EQ(s.pop(), 2);
  EXPECT_EQ(s.size(), 1u);
}

TEST(Stack, SizeFailsOnPurpose) {
  Stack<int> s;
  s.push(1);
  EXPECT_EQ(s.size(), 2u);
}

TEST(Stack, PopEmptyErrorsOnPurpose) {
  Stack<int> s;
  s.pop();  // throws: GoogleTest reports the uncaught exception as a failure
}

TEST(Stack, Reserve) { GTEST_SKIP() << "reserve is not written yet"; }

TEST(Stack, DISABLED_Iterate) {}
