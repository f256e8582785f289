#include "capture/emodel.h"

#include <gtest/gtest.h>

namespace {

TEST(EModel, G711WithoutLossOrDelayIsTheG107Default) {
  const auto g711 = capture::codecImpairment("PCMA", true);
  ASSERT_TRUE(g711.has_value());
  EXPECT_EQ(g711->ie, 0);
  EXPECT_DOUBLE_EQ(g711->bpl, 25.1);
  const double r = capture::rFactor({.ie = 0, .bpl = 25.1});
  EXPECT_NEAR(r, 93.2, 0.05);
  EXPECT_NEAR(capture::mosFromR(r), 4.41, 0.01);
}

TEST(EModel, MosFromRFollowsAnnexB) {
  EXPECT_EQ(capture::mosFromR(-5), 1.0);
  EXPECT_EQ(capture::mosFromR(0), 1.0);
  EXPECT_EQ(capture::mosFromR(100), 4.5);
  EXPECT_EQ(capture::mosFromR(120), 4.5);
  EXPECT_NEAR(capture::mosFromR(50), 1 + 0.035 * 50 + 50 * (50 - 60) * (100 - 50) * 7e-6, 1e-12);
  EXPECT_NEAR(capture::mosFromR(70), 3.6, 0.01);
}

TEST(EModel, RisingLossLowersTheScoreMonotonically) {
  for (bool plc : {true, false}) {
    const auto c = capture::codecImpairment("PCMU", plc);
    ASSERT_TRUE(c.has_value());
    double previous = 5;
    for (double loss = 0; loss <= 30; loss += 0.5) {
      const double mos =
          capture::mosFromR(capture::rFactor({.ie = c->ie, .bpl = c->bpl, .loss_percent = loss}));
      EXPECT_LT(mos, previous) << loss;
      previous = mos;
    }
  }
  // Without concealment the same loss costs more.
  const double with = capture::rFactor({.ie = 0, .bpl = 25.1, .loss_percent = 2});
  const double without = capture::rFactor({.ie = 0, .bpl = 4.3, .loss_percent = 2});
  EXPECT_GT(with, without);
  // Ie,eff = Ie + (95 - Ie) Ppl / (Ppl / BurstR + Bpl): 2% on G.711 with PLC costs 6.98.
  EXPECT_NEAR(capture::rFactor({.ie = 0, .bpl = 25.1}) - with, 95.0 * 2 / (2 + 25.1), 1e-9);
}

TEST(EModel, G729RatesBelowG711AndDelayCosts) {
  const auto g729 = capture::codecImpairment("G729", true);
  ASSERT_TRUE(g729.has_value());
  EXPECT_EQ(g729->ie, 11);
  EXPECT_EQ(g729->bpl, 19);
  const double r711 = capture::rFactor({.ie = 0, .bpl = 25.1});
  const double r729 = capture::rFactor({.ie = g729->ie, .bpl = g729->bpl});
  EXPECT_NEAR(r711 - r729, 11, 1e-9);
  EXPECT_LT(capture::mosFromR(r729), capture::mosFromR(r711));
  // One-way delay: little below 100 ms, then Idd grows (G.107: about R 89 at 150 ms).
  const double r50 = capture::rFactor({.ie = 0, .bpl = 25.1, .one_way_delay_ms = 50});
  const double r150 = capture::rFactor({.ie = 0, .bpl = 25.1, .one_way_delay_ms = 150});
  const double r400 = capture::rFactor({.ie = 0, .bpl = 25.1, .one_way_delay_ms = 400});
  EXPECT_LT(r50, r711);
  EXPECT_LT(r150, r50);
  EXPECT_LT(r400, r150 - 10);
}

TEST(EModel, KnowsTheG113Codecs) {
  EXPECT_EQ(capture::codecImpairment("pcmu", false)->bpl, 4.3);
  EXPECT_EQ(capture::codecImpairment("G723", true)->ie, 15);
  EXPECT_EQ(capture::codecImpairment("GSM-EFR", true)->ie, 5);
  EXPECT_FALSE(capture::codecImpairment("GSM", true).has_value());
  EXPECT_FALSE(capture::codecImpairment("opus", true).has_value());
  EXPECT_FALSE(capture::codecImpairment("telephone-event", true).has_value());
}

}  // namespace
