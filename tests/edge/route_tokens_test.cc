#include "edge/route_tokens.h"

#include <gtest/gtest.h>

#include <string>

namespace {

TEST(RouteTokens, BranchesVerifyUnderTheirKeyOnly) {
  edge::RouteTokens tokens("shared secret");
  const std::string b = tokens.branch("0123456789abcdef", 42);
  EXPECT_EQ(b.rfind("z9hG4bKsb0123456789abcdef.00000000002a.", 0), 0u) << b;
  EXPECT_TRUE(tokens.verifyBranch(b));
  // Deterministic: a stateless proxy makes the same branch for a retransmission.
  EXPECT_EQ(tokens.branch("0123456789abcdef", 42), b);
  EXPECT_NE(tokens.branch("0123456789abcdef", 43), b);

  edge::RouteTokens same_key("shared secret");
  EXPECT_TRUE(same_key.verifyBranch(b));  // another node of the cluster
  edge::RouteTokens other_key("another secret");
  EXPECT_FALSE(other_key.verifyBranch(b));
  edge::RouteTokens random_key("");
  EXPECT_FALSE(random_key.verifyBranch(b));
}

TEST(RouteTokens, ForgedBranchesAreRefused) {
  edge::RouteTokens tokens("k");
  const std::string b = tokens.branch("0123456789abcdef", 7);
  // What anyone can read off a forwarded request, changed in one place each.
  std::string flipped = b;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  EXPECT_FALSE(tokens.verifyBranch(flipped));
  std::string other_hash = b;
  other_hash[9] = other_hash[9] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(tokens.verifyBranch(other_hash));
  EXPECT_FALSE(tokens.verifyBranch("z9hG4bKsb"));
  EXPECT_FALSE(tokens.verifyBranch("z9hG4bKsb0123456789abcdef.000000000007"));  // the old form
  EXPECT_FALSE(tokens.verifyBranch(b + "0"));
  EXPECT_FALSE(tokens.verifyBranch(b.substr(0, b.size() - 1)));
  std::string upper = b;
  for (char& c : upper) c = char(toupper(static_cast<unsigned char>(c)));
  EXPECT_FALSE(tokens.verifyBranch(upper));
  EXPECT_FALSE(tokens.verifyBranch(""));
}

TEST(RouteTokens, DialogTokensBindCallIdAndCreatorTag) {
  edge::RouteTokens tokens("k");
  const std::string t = tokens.dialogToken("call-1@host", "caller-tag");
  EXPECT_EQ(t.size(), 16u);
  // From the caller: From carries the creator's tag; from the callee: To does.
  EXPECT_TRUE(tokens.verifyDialog(t, "call-1@host", "caller-tag", "callee-tag"));
  EXPECT_TRUE(tokens.verifyDialog(t, "call-1@host", "callee-tag", "caller-tag"));
  EXPECT_FALSE(tokens.verifyDialog(t, "call-2@host", "caller-tag", "callee-tag"));
  EXPECT_FALSE(tokens.verifyDialog(t, "call-1@host", "x", "y"));
  EXPECT_FALSE(tokens.verifyDialog(t, "call-1@host", "", ""));
  EXPECT_FALSE(tokens.verifyDialog("", "call-1@host", "caller-tag", ""));
  EXPECT_FALSE(tokens.verifyDialog(t.substr(1), "call-1@host", "caller-tag", ""));
  // The halves of the input cannot be shifted into each other.
  EXPECT_NE(tokens.dialogToken("ab", "c"), tokens.dialogToken("a", "bc"));
  edge::RouteTokens other("k2");
  EXPECT_FALSE(other.verifyDialog(t, "call-1@host", "caller-tag", ""));
}

}  // namespace
