// SMS over SIP MESSAGE at the edge: MESSAGEs from a trunk to a number go to the inbound hook
// (and get its answer), everything else keeps the proxy's behaviour; MESSAGEs sent to a trunk
// fail over between its gateways and report one outcome. A real TransactionLayer over a fake
// network and manual timers.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include "edge/edge.h"
#include "sip/response.h"
#include "worker_fixture.h"

namespace {

// The worker fixture with a carrier trunk (two gateways, ACL 203.0.113.0/24, no probes).
class SipMessageTest : public edge::testing::WorkerFixture {
 protected:
  void SetUp() override {
    WorkerFixture::SetUp();
    edge::TrunkSpec t;
    t.name = "carrier";
    t.algorithm = "weighted";
    t.gateways = {{"udp:192.0.2.10:5060", 100}, {"udp:192.0.2.11:5060", 1}};
    t.acl = {"203.0.113.0/24"};
    t.probe_interval = std::chrono::seconds(0);
    auto r = edge::Routing::create({t}, {});
    ASSERT_TRUE(r) << r.error().reason;
    shared_->setRouting(std::move(*r));
  }

  void useHook() {
    shared_->setInboundMessageHook(
        [this](const edge::InboundMessageInfo& info, std::function<void(int)> respond) {
          infos_.push_back(info);
          responders_.push_back(std::move(respond));
        });
  }

  void message(const std::string& source, const std::string& ruri, const std::string& body,
               const std::string& content_type = "text/plain;charset=UTF-8",
               const std::string& from_user = "15005550006") {
    std::string host = source.substr(0, source.find(':'));
    const std::string n = std::to_string(++n_);
    std::string text = "MESSAGE " + ruri + " SIP/2.0\r\nVia: SIP/2.0/UDP " + source +
                       ";branch=z9hG4bKm" + n + "\r\nFrom: <sip:" + from_user + "@" + host +
                       ">;tag=f1\r\nTo: <" + ruri + ">\r\nCall-ID: msg-" + std::to_string(n_) +
                       "@" + host + "\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n";
    if (!content_type.empty()) text += "Content-Type: " + content_type + "\r\n";
    text += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    auto m = sip::Message::parse(text);
    ASSERT_TRUE(m.has_value()) << text;
    layer_->receive(std::move(*m), from(source));
  }

  // Responses sent to `remote`, parsed.
  std::vector<sip::Message> responsesTo(const std::string& remote) {
    std::lock_guard lock(sender_.mu);
    std::vector<sip::Message> out;
    for (const edge::testing::Wire& w : sender_.sent) {
      if (w.flow.remote.toString() != remote) continue;
      auto m = sip::Message::parse(w.bytes);
      if (m && !m->isRequest()) out.push_back(std::move(*m));
    }
    return out;
  }
  std::vector<sip::Message> requestsTo(const std::string& remote) {
    std::lock_guard lock(sender_.mu);
    std::vector<sip::Message> out;
    for (const edge::testing::Wire& w : sender_.sent) {
      if (w.flow.remote.toString() != remote) continue;
      auto m = sip::Message::parse(w.bytes);
      if (m && m->isRequest()) out.push_back(std::move(*m));
    }
    return out;
  }
  void answer(const sip::Message& request, const std::string& source, int status) {
    sip::ResponseBuilder b(request, status);
    b.toTag("gw");
    auto m = sip::Message::parse(b.build());
    ASSERT_TRUE(m.has_value());
    layer_->receive(std::move(*m), from(source));
  }

  std::vector<edge::InboundMessageInfo> infos_;
  std::vector<std::function<void(int)>> responders_;
};

const std::string kCarrier = "203.0.113.5:5060";

TEST_F(SipMessageTest, AMessageFromATrunkToANumberGoesToTheHookAndGetsItsAnswer) {
  useHook();
  message(kCarrier, "sip:4930123456@192.0.2.1", "Hallo \xc3\xa4");
  ASSERT_EQ(infos_.size(), 1u);
  EXPECT_EQ(infos_[0].trunk, "carrier");
  EXPECT_EQ(infos_[0].from, "+15005550006");
  EXPECT_EQ(infos_[0].to, "+4930123456");
  EXPECT_EQ(infos_[0].body, "Hallo \xc3\xa4");
  EXPECT_EQ(infos_[0].call_id, "msg-1@203.0.113.5");
  EXPECT_TRUE(responsesTo(kCarrier).empty());  // nothing until the message is stored
  EXPECT_EQ(shared_->counters().messages_in.load(), 1u);
  EXPECT_EQ(shared_->counters().proxied.load(), 0u);

  // The answer comes from another thread (the store's) and is posted to the worker.
  std::thread store_thread([respond = responders_[0]] { respond(202); });
  store_thread.join();
  ASSERT_TRUE(loop_.pump([&] { return !responsesTo(kCarrier).empty(); }));
  auto r = responsesTo(kCarrier);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].statusCode(), 202);
  // A second answer (or the deadline) changes nothing.
  responders_[0](500);
  loop_.drain();
  timers_.advance(shared_->options().message_hook_timeout);
  loop_.drain();
  EXPECT_EQ(responsesTo(kCarrier).size(), 1u);
}

TEST_F(SipMessageTest, AFailedStoreGets500WithRetryAfter) {
  useHook();
  message(kCarrier, "sip:+4930123456@192.0.2.1", "hi");
  ASSERT_EQ(infos_.size(), 1u);
  EXPECT_EQ(infos_[0].to, "+4930123456");
  responders_[0](500);
  loop_.drain();
  auto r = responsesTo(kCarrier);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].statusCode(), 500);
  EXPECT_EQ(r[0].headerValue(sip::HeaderId::kRetryAfter), "5");
}

TEST_F(SipMessageTest, AnUnansweredHookGets500AtTheDeadline) {
  useHook();
  message(kCarrier, "sip:4930123456@192.0.2.1", "hi");
  timers_.advance(shared_->options().message_hook_timeout - std::chrono::milliseconds(1));
  loop_.drain();
  EXPECT_TRUE(responsesTo(kCarrier).empty());
  timers_.advance(std::chrono::milliseconds(1));
  loop_.drain();
  auto r = responsesTo(kCarrier);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].statusCode(), 500);
  // The hook's late answer is ignored.
  responders_[0](202);
  loop_.drain();
  EXPECT_EQ(responsesTo(kCarrier).size(), 1u);
}

TEST_F(SipMessageTest, BodiesOtherThanPlainUtf8TextAreRefused) {
  useHook();
  message(kCarrier, "sip:4930123456@192.0.2.1", "<html/>", "text/html");
  message(kCarrier, "sip:4930123456@192.0.2.1", "x", "");
  message(kCarrier, "sip:4930123456@192.0.2.1", "", "text/plain");
  message(kCarrier, "sip:4930123456@192.0.2.1", "\xc3(", "text/plain;charset=utf-8");
  message(kCarrier, "sip:4930123456@192.0.2.1", "x", "text/plain;charset=koi8-r");
  EXPECT_TRUE(infos_.empty());
  auto r = responsesTo(kCarrier);
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[0].statusCode(), 415);
  EXPECT_EQ(r[0].headerValue(sip::HeaderId::kAccept), "text/plain");
  EXPECT_EQ(r[1].statusCode(), 415);  // a body without a Content-Type
  EXPECT_EQ(r[2].statusCode(), 400);  // empty
  EXPECT_EQ(r[3].statusCode(), 400);  // not UTF-8
  EXPECT_EQ(r[4].statusCode(), 415);
  EXPECT_EQ(r[4].headerValue(sip::HeaderId::kAccept), "text/plain;charset=UTF-8");
}

TEST_F(SipMessageTest, Latin1BodiesAreConvertedAndNamedSendersKept) {
  useHook();
  message(kCarrier, "sip:4930123456@192.0.2.1", "caf\xe9", "text/plain; charset=\"ISO-8859-1\"",
          "ACME");
  ASSERT_EQ(infos_.size(), 1u);
  EXPECT_EQ(infos_[0].body, "caf\xc3\xa9");
  EXPECT_EQ(infos_[0].from, "ACME");
}

TEST_F(SipMessageTest, MessagesNotFromATrunkOrNotToANumberKeepTheProxyBehaviour) {
  useHook();
  shared_->mutableOptions().self.domains = {"example.com"};
  // Not from a trunk's ACL: no hook; not for a domain of ours, so refused as before.
  message("10.0.0.5:5060", "sip:4930123456@192.0.2.1", "hi");
  // From the trunk but to a name: a user of ours, who has no binding (480 as before).
  message(kCarrier, "sip:alice@192.0.2.1", "hi");
  // From the trunk to a number at a host that is not ours: not ours to take.
  message(kCarrier, "sip:4930123456@198.51.100.7", "hi");
  EXPECT_TRUE(infos_.empty());
  auto r1 = responsesTo("10.0.0.5:5060");
  ASSERT_EQ(r1.size(), 1u);
  EXPECT_EQ(r1[0].statusCode(), 403);
  auto r2 = responsesTo(kCarrier);
  ASSERT_EQ(r2.size(), 2u);
  EXPECT_EQ(r2[0].statusCode(), 480);
  EXPECT_EQ(r2[1].statusCode(), 403);
  EXPECT_EQ(shared_->counters().messages_in.load(), 0u);
  // A number at a served domain is taken.
  message(kCarrier, "sip:4930123456@example.com", "hi");
  ASSERT_EQ(infos_.size(), 1u);
  EXPECT_EQ(infos_[0].to, "+4930123456");
}

TEST_F(SipMessageTest, WithoutAHookAMessageFromATrunkIsHandledAsBefore) {
  // To a number nobody registered: the location service has no binding, 480.
  message(kCarrier, "sip:4930123456@192.0.2.1", "hi");
  auto r = responsesTo(kCarrier);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].statusCode(), 480);
  EXPECT_EQ(shared_->counters().messages_in.load(), 0u);
}

// Outbound: the result of sendMessage, once.
struct Outcome {
  std::optional<edge::OutboundMessageResult> result;
  int calls = 0;
};

std::function<void(edge::OutboundMessageResult)> into(Outcome& o) {
  return [&o](edge::OutboundMessageResult r) {
    o.result = std::move(r);
    ++o.calls;
  };
}

edge::OutboundMessage outbound(const std::string& trunk = "carrier") {
  edge::OutboundMessage m;
  m.trunk = trunk;
  m.from = "+15005550006";
  m.to = "+4930123456";
  m.body = "Hello \xc3\xa4";
  return m;
}

TEST_F(SipMessageTest, SendMessageGoesToTheTrunkAndReportsTheFinalStatus) {
  Outcome o;
  worker_->sendMessage(outbound(), into(o));
  EXPECT_EQ(o.calls, 0);  // never inside the call
  loop_.drain();
  auto sent = requestsTo("192.0.2.10:5060");
  ASSERT_EQ(sent.size(), 1u);
  const sip::Message& m = sent[0];
  EXPECT_EQ(m.methodText(), "MESSAGE");
  EXPECT_EQ(m.requestUriText(), "sip:+4930123456@192.0.2.10:5060");
  EXPECT_EQ(m.from()->uri.user(), "+15005550006");
  EXPECT_EQ(m.to()->uri.user(), "+4930123456");
  EXPECT_EQ(m.headerValue(sip::HeaderId::kContentType), "text/plain;charset=UTF-8");
  EXPECT_EQ(m.body(), "Hello \xc3\xa4");
  EXPECT_EQ(m.vias()->front().host, "192.0.2.1");
  EXPECT_EQ(worker_->pendingMessages(), 1u);
  answer(m, "192.0.2.10:5060", 202);
  ASSERT_EQ(o.calls, 1);
  EXPECT_EQ(o.result->status, 202);
  EXPECT_EQ(o.result->call_id, std::string(*m.callId()));
  EXPECT_EQ(worker_->pendingMessages(), 0u);
  EXPECT_EQ(shared_->counters().messages_out.load(), 1u);
  EXPECT_TRUE(requestsTo("192.0.2.11:5060").empty());
}

TEST_F(SipMessageTest, A503FailsOverAndA404IsFinal) {
  Outcome o;
  worker_->sendMessage(outbound(), into(o));
  loop_.drain();
  answer(requestsTo("192.0.2.10:5060").at(0), "192.0.2.10:5060", 503);
  EXPECT_EQ(o.calls, 0);
  auto second = requestsTo("192.0.2.11:5060");
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].requestUriText(), "sip:+4930123456@192.0.2.11:5060");
  answer(second[0], "192.0.2.11:5060", 404);
  ASSERT_EQ(o.calls, 1);
  EXPECT_EQ(o.result->status, 404);
  EXPECT_EQ(shared_->counters().trunk_failovers.load(), 1u);

  // A 404 from the first gateway is the far end's answer: no failover.
  Outcome o2;
  worker_->sendMessage(outbound(), into(o2));
  loop_.drain();
  auto first = requestsTo("192.0.2.10:5060");
  ASSERT_EQ(first.size(), 2u);
  answer(first[1], "192.0.2.10:5060", 404);
  ASSERT_EQ(o2.calls, 1);
  EXPECT_EQ(o2.result->status, 404);
  EXPECT_EQ(requestsTo("192.0.2.11:5060").size(), 1u);
}

TEST_F(SipMessageTest, SilentGatewaysEndAsNoAnswer) {
  Outcome o;
  worker_->sendMessage(outbound(), into(o));
  loop_.drain();
  timers_.advance(shared_->options().gateway_timeout);
  ASSERT_EQ(requestsTo("192.0.2.11:5060").size(), 1u);
  timers_.advance(shared_->options().gateway_timeout);
  ASSERT_EQ(o.calls, 1);
  EXPECT_EQ(o.result->status, 0);  // it went out: it may have arrived
  EXPECT_FALSE(o.result->call_id.empty());
  // A gateway answering after all changes nothing.
  timers_.advance(std::chrono::seconds(40));
  EXPECT_EQ(o.calls, 1);
}

TEST_F(SipMessageTest, AnUnknownTrunkNeverSendsAndAStoppedWorkerStillAnswers) {
  Outcome unknown;
  worker_->sendMessage(outbound("nope"), into(unknown));
  loop_.drain();
  ASSERT_EQ(unknown.calls, 1);
  EXPECT_EQ(unknown.result->status, -1);

  Outcome pending;
  worker_->sendMessage(outbound(), into(pending));
  loop_.drain();
  ASSERT_EQ(requestsTo("192.0.2.10:5060").size(), 1u);
  layer_.reset();
  worker_.reset();
  ASSERT_EQ(pending.calls, 1);
  EXPECT_EQ(pending.result->status, 0);
}

}  // namespace
