// SipMessageCarrier over a fake SIP edge: what each MESSAGE outcome becomes, the window, and
// stop() ending what is still outstanding.
#include "messaging/sip_message_carrier.h"

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace {

using messaging::SipSendResult;
using messaging::SubmitOutcome;

class FakeSender : public messaging::SipMessageSender {
 public:
  struct Call {
    std::string trunk, from, to, text;
    std::function<void(SipSendResult)> done;
  };
  bool available(const std::string& trunk) const override { return up && trunk == "carrier"; }
  void sendMessage(const std::string& trunk, const std::string& from, const std::string& to,
                   const std::string& text, std::function<void(SipSendResult)> done) override {
    if (answer_now) return done(*answer_now);
    calls.push_back({trunk, from, to, text, std::move(done)});
  }
  bool up = true;
  std::optional<SipSendResult> answer_now;  // answer inside sendMessage, like a stopped edge
  std::vector<Call> calls;
};

class SipMessageCarrierTest : public ::testing::Test {
 protected:
  messaging::OutboundSms sms(const std::string& sid, const std::string& body = "hello") {
    messaging::OutboundSms s;
    s.message_sid = sid;
    s.from = "+15005550006";
    s.to = "+4930123456";
    s.body = body;
    return s;
  }
  // Submits and returns where its outcome will be written.
  std::shared_ptr<std::optional<SubmitOutcome>> submit(messaging::SipMessageCarrier& c,
                                                       const std::string& sid) {
    auto out = std::make_shared<std::optional<SubmitOutcome>>();
    c.submit(sms(sid), [out](SubmitOutcome o) { *out = std::move(o); });
    return out;
  }
  FakeSender sender_;
};

TEST_F(SipMessageCarrierTest, A202IsAcceptedWithTheCallIdAsCarrierId) {
  messaging::SipMessageCarrier c({.name = "sip-sms", .trunk = "carrier", .window = 4}, sender_);
  c.start(nullptr);
  auto out = submit(c, "SM1");
  ASSERT_EQ(sender_.calls.size(), 1u);
  EXPECT_EQ(sender_.calls[0].trunk, "carrier");
  EXPECT_EQ(sender_.calls[0].from, "+15005550006");
  EXPECT_EQ(sender_.calls[0].to, "+4930123456");
  EXPECT_EQ(sender_.calls[0].text, "hello");
  EXPECT_FALSE(out->has_value());
  sender_.calls[0].done({202, "Accepted", "sms-1-abc"});
  ASSERT_TRUE(out->has_value());
  EXPECT_EQ((*out)->kind, SubmitOutcome::Kind::kAccepted);
  EXPECT_EQ((*out)->carrier_ids, std::vector<std::string>{"sms-1-abc"});
  EXPECT_EQ(c.stats().submitted, 1u);
  EXPECT_EQ(c.stats().accepted, 1u);
  EXPECT_EQ(c.name(), "sip-sms");
}

TEST_F(SipMessageCarrierTest, A2xxWithoutCallIdGetsAnIdOfItsOwn) {
  messaging::SipMessageCarrier c({.name = "sip-sms", .trunk = "carrier", .window = 4}, sender_);
  c.start(nullptr);
  auto out = submit(c, "SM7");
  sender_.calls[0].done({200, "OK", ""});
  ASSERT_TRUE(out->has_value());
  EXPECT_EQ((*out)->kind, SubmitOutcome::Kind::kAccepted);
  EXPECT_EQ((*out)->carrier_ids, std::vector<std::string>{"sip-sms-SM7"});
}

TEST_F(SipMessageCarrierTest, A404IsRejectedWithTheSipStatus) {
  messaging::SipMessageCarrier c({.name = "sip-sms", .trunk = "carrier", .window = 4}, sender_);
  c.start(nullptr);
  auto out = submit(c, "SM2");
  sender_.calls[0].done({404, "Not Found", "x"});
  ASSERT_TRUE(out->has_value());
  EXPECT_EQ((*out)->kind, SubmitOutcome::Kind::kRejected);
  EXPECT_EQ((*out)->carrier_status, 404u);
  EXPECT_EQ((*out)->reason, "404 Not Found");
  EXPECT_TRUE((*out)->carrier_ids.empty());
  EXPECT_EQ(c.stats().rejected, 1u);
  EXPECT_EQ(c.stats().accepted, 0u);
}

TEST_F(SipMessageCarrierTest, NoAnswerIsUnknownAndNeverSentIsNotSent) {
  messaging::SipMessageCarrier c({.name = "sip-sms", .trunk = "carrier", .window = 4}, sender_);
  c.start(nullptr);
  auto timed_out = submit(c, "SM3");
  sender_.calls[0].done({0, "no gateway answered", "sms-3"});
  ASSERT_TRUE(timed_out->has_value());
  EXPECT_EQ((*timed_out)->kind, SubmitOutcome::Kind::kUnknown);
  EXPECT_EQ((*timed_out)->reason, "no gateway answered");

  // The edge answers inside sendMessage that nothing left (stopped, unknown trunk).
  sender_.answer_now = SipSendResult{-1, "SIP edge not running", ""};
  auto unsent = submit(c, "SM4");
  ASSERT_TRUE(unsent->has_value());
  EXPECT_EQ((*unsent)->kind, SubmitOutcome::Kind::kNotSent);
  EXPECT_EQ(c.stats().submitted, 1u);  // the one that never left is not counted
  EXPECT_EQ(c.room(), 4u);
}

TEST_F(SipMessageCarrierTest, TheWindowLimitsOutstandingMessages) {
  messaging::SipMessageCarrier c({.name = "sip-sms", .trunk = "carrier", .window = 2}, sender_);
  EXPECT_EQ(c.room(), 0u);  // not started
  c.start(nullptr);
  EXPECT_EQ(c.room(), 2u);
  auto a = submit(c, "SMa");
  EXPECT_EQ(c.room(), 1u);
  auto b = submit(c, "SMb");
  EXPECT_EQ(c.room(), 0u);
  sender_.calls[1].done({202, "Accepted", "b"});
  EXPECT_EQ(c.room(), 1u);
  // An answer given twice counts once.
  sender_.calls[1].done({500, "late", "b"});
  EXPECT_EQ((*b)->kind, SubmitOutcome::Kind::kAccepted);
  EXPECT_EQ(c.room(), 1u);
  // The edge cannot reach the trunk: no room at all.
  sender_.up = false;
  EXPECT_EQ(c.room(), 0u);
  sender_.up = true;
  sender_.calls[0].done({202, "Accepted", "a"});
  EXPECT_EQ(c.room(), 2u);
  EXPECT_EQ((*a)->carrier_ids, std::vector<std::string>{"a"});
}

TEST_F(SipMessageCarrierTest, StopEndsOutstandingAsUnknownAndLateAnswersAreIgnored) {
  auto c = std::make_unique<messaging::SipMessageCarrier>(
      messaging::SipMessageCarrierOptions{.name = "s", .trunk = "carrier", .window = 3}, sender_);
  c->start(nullptr);
  auto a = submit(*c, "SMa");
  c->stop();
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ((*a)->kind, SubmitOutcome::Kind::kUnknown);
  EXPECT_EQ(c->room(), 0u);
  auto b = submit(*c, "SMb");
  ASSERT_TRUE(b->has_value());
  EXPECT_EQ((*b)->kind, SubmitOutcome::Kind::kNotSent);
  EXPECT_EQ(sender_.calls.size(), 1u);
  c.reset();
  // The edge answers after the carrier is gone: nothing happens.
  sender_.calls[0].done({202, "Accepted", "a"});
  EXPECT_EQ((*a)->kind, SubmitOutcome::Kind::kUnknown);
}

TEST_F(SipMessageCarrierTest, OutcomeMapping) {
  using K = SubmitOutcome::Kind;
  EXPECT_EQ(messaging::SipMessageCarrier::outcomeOf({200, "OK", "c"}).kind, K::kAccepted);
  EXPECT_EQ(messaging::SipMessageCarrier::outcomeOf({302, "Moved", ""}).kind, K::kRejected);
  auto busy = messaging::SipMessageCarrier::outcomeOf({503, "", ""});
  EXPECT_EQ(busy.kind, K::kRejected);
  EXPECT_EQ(busy.carrier_status, 503u);
  EXPECT_EQ(busy.reason, "503");
  auto decline = messaging::SipMessageCarrier::outcomeOf({603, "Decline", ""});
  EXPECT_EQ(decline.carrier_status, 603u);
  EXPECT_EQ(messaging::SipMessageCarrier::outcomeOf({0, "", ""}).kind, K::kUnknown);
  EXPECT_EQ(messaging::SipMessageCarrier::outcomeOf({180, "", ""}).kind, K::kUnknown);
  EXPECT_EQ(messaging::SipMessageCarrier::outcomeOf({-1, "", ""}).kind, K::kNotSent);
}

}  // namespace
