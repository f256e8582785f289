#include "store/sip_blocks.h"

#include "backends.h"

namespace store {
namespace {

using testing::BackendTest;

class SipBlocksTest : public BackendTest {};

TEST_P(SipBlocksTest, ActiveBlocksAreListedRenewedAndRemoved) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& blocks = s->sipBlocks();
  ASSERT_TRUE(blocks.record({"192.0.2.7", 1000, 1300, 250}));
  ASSERT_TRUE(blocks.record({"2001:db8::7", 1000, 1100, 90}));
  auto active = blocks.listActive(1050);
  ASSERT_TRUE(active) << active.error().reason;
  EXPECT_EQ(*active, (std::vector<SipBlock>{{"192.0.2.7", 1000, 1300, 250},
                                            {"2001:db8::7", 1000, 1100, 90}}));
  // At its end a block is no longer listed.
  EXPECT_EQ(blocks.listActive(1100)->size(), 1u);
  // A new block of the same source replaces the old one.
  ASSERT_TRUE(blocks.record({"192.0.2.7", 2000, 2300, 400}));
  active = blocks.listActive(2001);
  ASSERT_TRUE(active);
  EXPECT_EQ(*active, (std::vector<SipBlock>{{"192.0.2.7", 2000, 2300, 400}}));
  EXPECT_EQ(*blocks.purgeExpired(2001), 1);  // the IPv6 one
  EXPECT_TRUE(*blocks.remove("192.0.2.7"));
  EXPECT_FALSE(*blocks.remove("192.0.2.7"));
  EXPECT_TRUE(blocks.listActive(0)->empty());
  EXPECT_FALSE(blocks.record({"", 1, 2, 3}));
}

SB_INSTANTIATE_BACKENDS(SipBlocksTest);

}  // namespace
}  // namespace store
