// Transaction layer tests: messages built here, a FakeSender that records what leaves and
// ManualTimers that step simulated time (no sockets, no sleeping).
#include "transaction/transaction_layer.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "sip/response.h"

namespace transaction {
namespace {

using std::chrono::milliseconds;
using transport::Flow;
using transport::Protocol;

Flow makeFlow(Protocol p, std::string_view remote, uint64_t connection = 0) {
  Flow f;
  f.protocol = p;
  f.local = *transport::Address::parse("192.0.2.1:5060");
  f.remote = *transport::Address::parse(remote);
  f.connection_id = connection;
  return f;
}
Flow udp(std::string_view remote = "192.0.2.10:5060") {
  return makeFlow(Protocol::kUdp, remote);
}
Flow tcp(std::string_view remote = "192.0.2.10:40000") {
  return makeFlow(Protocol::kTcp, remote, 7);
}

sip::Message parse(std::string_view text) {
  auto m = sip::Message::parse(text);
  EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().reason) << "\n" << text;
  return std::move(*m);
}

// A request as a UAC or the previous hop would send it.
struct Req {
  std::string method = "INVITE";
  std::string branch = "z9hG4bKaaa1";
  std::string transport = "UDP";
  std::string sent_by = "192.0.2.10:5060";
  std::string via_params;
  std::string from_tag = "f1";
  std::string to_tag;
  std::string call_id = "call-1@192.0.2.10";
  uint32_t cseq = 1;
  std::string cseq_method;  // empty: the method
  std::string extra;        // whole header lines

  std::string text() const {
    std::string s = method + " sip:bob@example.com SIP/2.0\r\n";
    s += "Via: SIP/2.0/" + transport + " " + sent_by + ";branch=" + branch + via_params + "\r\n";
    s += "Max-Forwards: 70\r\n";
    s += "From: <sip:alice@example.com>;tag=" + from_tag + "\r\n";
    s += "To: <sip:bob@example.com>" + (to_tag.empty() ? "" : ";tag=" + to_tag) + "\r\n";
    s += "Call-ID: " + call_id + "\r\n";
    s += "CSeq: " + std::to_string(cseq) + " " + (cseq_method.empty() ? method : cseq_method) +
         "\r\n";
    s += extra;
    s += "Content-Length: 0\r\n\r\n";
    return s;
  }
  Req& m(std::string v) {
    method = std::move(v);
    return *this;
  }
  Req& b(std::string v) {
    branch = std::move(v);
    return *this;
  }
};

struct Sent {
  Flow flow;
  std::string bytes;
  milliseconds at;
  int status() const {
    auto m = sip::Message::parse(bytes);
    return m && m->isResponse() ? m->statusCode() : 0;
  }
  std::string method() const {
    auto m = sip::Message::parse(bytes);
    return m && m->isRequest() ? std::string(m->methodText()) : "";
  }
};

class FakeSender : public Sender {
 public:
  explicit FakeSender(ManualTimers& t) : timers_(t) {}
  void send(const Flow& flow, std::string bytes, Done done) override {
    sent.push_back({flow, std::move(bytes), timers_.now()});
    if (fail) {
      done(common::makeError(common::ErrorCode::kIo, "connection refused"));
    } else {
      done({});
    }
  }
  std::vector<milliseconds> times() const {
    std::vector<milliseconds> v;
    for (const Sent& s : sent) v.push_back(s.at);
    return v;
  }
  std::vector<Sent> sent;
  bool fail = false;

 private:
  ManualTimers& timers_;
};

struct RecordingTu : TransactionUser {
  void onRequest(ServerId id, const sip::Message& request, const Flow&) override {
    requests.push_back(id);
    methods.emplace_back(request.methodText());
    if (on_request) on_request(id, request);
  }
  void onCancel(ServerId invite) override { cancels.push_back(invite); }
  void onAck(const sip::Message& ack, const Flow&) override { acks.emplace_back(ack.raw()); }
  void onAckTimeout(ServerId id) override { ack_timeouts.push_back(id); }
  void onStrayResponse(const sip::Message& r, const Flow&) override {
    strays.push_back(r.statusCode());
  }
  void onServerTransportError(ServerId id, const common::Status&) override {
    server_errors.push_back(id);
  }
  bool takeStateless(sip::Message& request, const Flow&) override {
    if (!take_stateless || !take_stateless(request)) return false;
    taken.emplace_back(request.methodText());
    return true;
  }
  std::vector<ServerId> requests;
  std::vector<std::string> taken;
  std::function<bool(const sip::Message&)> take_stateless;
  std::vector<std::string> methods;
  std::vector<ServerId> cancels;
  std::vector<std::string> acks;
  std::vector<ServerId> ack_timeouts;
  std::vector<int> strays;
  std::vector<ServerId> server_errors;
  std::function<void(ServerId, const sip::Message&)> on_request;
};

// What a client transaction reported.
struct ClientLog {
  std::vector<int> statuses;
  int timeouts = 0;
  int errors = 0;
  ClientCallbacks callbacks() {
    return {.onResponse = [this](const sip::Message& m) { statuses.push_back(m.statusCode()); },
            .onTimeout = [this] { ++timeouts; },
            .onTransportError = [this](const common::Status&) { ++errors; }};
  }
};

class LayerTest : public ::testing::Test {
 protected:
  LayerTest() { make({}); }
  void make(LayerOptions options, TimerConfig config = {}) {
    layer.reset();
    layer.emplace(sender, timers, config, tu, options);
  }
  void deliver(std::string_view text, const Flow& from = udp()) {
    layer->receive(parse(text), from);
  }
  // A response to the request the layer sent as sender.sent[index].
  std::string answer(size_t index, int status, std::string_view to_tag = "callee1") {
    sip::Message req = parse(sender.sent.at(index).bytes);
    return sip::ResponseBuilder(req, status).toTag(to_tag).build();
  }
  ServerId lastServer() const { return tu.requests.back(); }

  ManualTimers timers;
  FakeSender sender{timers};
  RecordingTu tu;
  std::optional<TransactionLayer> layer;
};

std::vector<milliseconds> ms(std::initializer_list<int> v) {
  std::vector<milliseconds> out;
  for (int x : v) out.emplace_back(x);
  return out;
}

// ------------------------------------------------------------------------------------------
// Non-INVITE server

TEST_F(LayerTest, NonInviteServerAnswersAbsorbsAndEndsAfterTimerJ) {
  deliver(Req().m("OPTIONS").text());
  ASSERT_EQ(tu.requests.size(), 1u);
  EXPECT_EQ(tu.methods[0], "OPTIONS");
  EXPECT_TRUE(sender.sent.empty());  // no automatic 100 for non-INVITE

  deliver(Req().m("OPTIONS").text());  // Trying: absorbed
  EXPECT_TRUE(sender.sent.empty());
  EXPECT_EQ(tu.requests.size(), 1u);
  EXPECT_EQ(layer->counters().absorbed, 1u);

  ASSERT_TRUE(layer->respond(lastServer(), 200, "OK", {{"Allow", "INVITE, ACK"}}));
  ASSERT_EQ(sender.sent.size(), 1u);
  sip::Message r = parse(sender.sent[0].bytes);
  EXPECT_EQ(r.statusCode(), 200);
  EXPECT_EQ(r.headerValue(sip::HeaderId::kAllow), "INVITE, ACK");
  EXPECT_TRUE(r.to()->tag().has_value());
  EXPECT_EQ(r.cseq()->method, "OPTIONS");

  timers.advance(milliseconds(1000));
  deliver(Req().m("OPTIONS").text());  // Completed: the final again
  ASSERT_EQ(sender.sent.size(), 2u);
  EXPECT_EQ(sender.sent[1].bytes, sender.sent[0].bytes);
  EXPECT_EQ(tu.requests.size(), 1u);
  EXPECT_FALSE(layer->respond(lastServer(), 404));  // one final only
  // Completed keeps only the key and the response: the request is released.
  EXPECT_EQ(layer->request(lastServer()), nullptr);
  EXPECT_EQ(layer->size(), 1u);

  timers.advance(milliseconds(31'000 - 1));  // J = 64*T1 from the 200 at 0
  EXPECT_EQ(layer->size(), 1u);
  timers.advance(milliseconds(1));
  EXPECT_EQ(layer->size(), 0u);
  EXPECT_EQ(layer->counters().server_created, 1u);
  EXPECT_EQ(layer->counters().server_terminated, 1u);
  EXPECT_FALSE(layer->respond(tu.requests[0], 200));  // gone: kNotFound
}

TEST_F(LayerTest, NonInviteServerProvisionalIsResentForRetransmission) {
  deliver(Req().m("REGISTER").text());
  ASSERT_TRUE(layer->respond(lastServer(), 100));
  deliver(Req().m("REGISTER").text());
  ASSERT_EQ(sender.sent.size(), 2u);
  EXPECT_EQ(sender.sent[1].status(), 100);
  ASSERT_TRUE(layer->respond(lastServer(), 200));
  EXPECT_EQ(sender.sent.back().status(), 200);
}

TEST_F(LayerTest, NonInviteServerOverTcpAnswersOnTheConnectionAndEndsAtOnce) {
  deliver(Req().m("OPTIONS").text(), tcp());
  ASSERT_TRUE(layer->respond(lastServer(), 200));
  ASSERT_EQ(sender.sent.size(), 1u);
  EXPECT_EQ(sender.sent[0].flow, tcp());
  timers.advance(milliseconds(0));  // J = 0
  EXPECT_EQ(layer->size(), 0u);
}

TEST_F(LayerTest, TuMayRespondInsideOnRequest) {
  tu.on_request = [this](ServerId id, const sip::Message&) { (void)layer->respond(id, 404); };
  deliver(Req().m("MESSAGE").text(), tcp());
  ASSERT_EQ(sender.sent.size(), 1u);
  EXPECT_EQ(sender.sent[0].status(), 404);
  timers.advance(milliseconds(0));
  EXPECT_EQ(layer->size(), 0u);
}

// ------------------------------------------------------------------------------------------
// INVITE server

TEST_F(LayerTest, InviteServerSends100AtOnceAndResendsLastProvisional) {
  std::size_t sent_before_tu = 99;
  tu.on_request = [&](ServerId, const sip::Message&) { sent_before_tu = sender.sent.size(); };
  deliver(Req().text());
  // The 100 goes out as soon as the TU has seen the INVITE without answering it.
  EXPECT_EQ(sent_before_tu, 0u);
  ASSERT_EQ(sender.sent.size(), 1u);
  sip::Message trying = parse(sender.sent[0].bytes);
  EXPECT_EQ(trying.statusCode(), 100);
  EXPECT_FALSE(trying.to()->tag().has_value());  // no tag in 100

  deliver(Req().text());  // retransmission: the 100 again, TU not told
  ASSERT_EQ(sender.sent.size(), 2u);
  EXPECT_EQ(sender.sent[1].status(), 100);
  EXPECT_EQ(tu.requests.size(), 1u);

  ASSERT_TRUE(layer->respond(lastServer(), 180));
  deliver(Req().text());
  ASSERT_EQ(sender.sent.size(), 4u);
  EXPECT_EQ(sender.sent[3].status(), 180);
  EXPECT_EQ(sender.sent[3].bytes, sender.sent[2].bytes);
  EXPECT_EQ(layer->counters().retransmissions, 2u);
}

TEST_F(LayerTest, DelayedTryingIsSkippedWhenTheTuAnswersFirst) {
  TimerConfig config;
  config.trying = milliseconds(200);
  make({}, config);
  deliver(Req().b("z9hG4bKfast").text());
  ASSERT_TRUE(layer->respond(lastServer(), 486));
  Req slow;
  slow.branch = "z9hG4bKslow";
  slow.call_id = "call-2@192.0.2.10";
  deliver(slow.text());
  timers.advance(milliseconds(200));
  // fast: only its 486 (+ G retransmissions later); slow: a 100 at 200 ms.
  ASSERT_EQ(sender.sent.size(), 2u);
  EXPECT_EQ(sender.sent[0].status(), 486);
  EXPECT_EQ(sender.sent[1].status(), 100);
  EXPECT_EQ(sender.sent[1].at, milliseconds(200));
}

TEST_F(LayerTest, InviteServerFinalRetransmitsWithTimerGAndTimerHTimesOut) {
  LayerOptions opts;
  opts.send_trying = false;
  make(opts);
  deliver(Req().text());
  ASSERT_TRUE(layer->respond(lastServer(), 180));
  ASSERT_TRUE(layer->respond(lastServer(), 486));
  timers.advance(milliseconds(40'000));
  // G: T1, then doubling up to T2, until H (64*T1 = 32 s).
  EXPECT_EQ(sender.times(),
            ms({0, 0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500}));
  EXPECT_EQ(sender.sent[0].status(), 180);
  for (size_t i = 1; i < sender.sent.size(); ++i) EXPECT_EQ(sender.sent[i].status(), 486);
  EXPECT_EQ(layer->counters().retransmissions, 10u);
  ASSERT_EQ(tu.ack_timeouts.size(), 1u);
  EXPECT_EQ(tu.ack_timeouts[0], tu.requests[0]);
  EXPECT_EQ(layer->counters().timeouts, 1u);
  EXPECT_EQ(layer->size(), 0u);
}

// An INVITE refused before any provisional response (a challenge, a 403): the client is still
// in Calling and retransmits, so the answer is sent once per INVITE received, never by timer
// G -- a forged source gets one answer per request, not eleven.
TEST_F(LayerTest, FinalWithoutProvisionalIsAnsweredPerRetransmissionOnly) {
  tu.on_request = [this](ServerId id, const sip::Message&) { (void)layer->respond(id, 407); };
  deliver(Req().text());
  ASSERT_EQ(sender.sent.size(), 1u);  // no 100 Trying before it
  EXPECT_EQ(sender.sent[0].status(), 407);
  timers.advance(milliseconds(10'000));
  EXPECT_EQ(sender.sent.size(), 1u);
  deliver(Req().text());  // the client's timer A: the same 407 again
  ASSERT_EQ(sender.sent.size(), 2u);
  EXPECT_EQ(sender.sent[1].bytes, sender.sent[0].bytes);
  EXPECT_EQ(tu.requests.size(), 1u);
  deliver(Req().m("ACK").text());
  timers.advance(milliseconds(40'000));
  EXPECT_EQ(sender.sent.size(), 2u);
  EXPECT_EQ(layer->size(), 0u);
  EXPECT_TRUE(tu.ack_timeouts.empty());
}

TEST_F(LayerTest, InviteServerAckConfirmsAndTimerIEnds) {
  deliver(Req().text());
  ASSERT_TRUE(layer->respond(lastServer(), 486));
  timers.advance(milliseconds(600));  // one G retransmission
  const size_t sent = sender.sent.size();
  EXPECT_EQ(sent, 3u);             // 100, 486, 486
  deliver(Req().m("ACK").text());  // same branch: matches the INVITE
  deliver(Req().m("ACK").text());  // retransmitted ACK: absorbed
  deliver(Req().text());           // INVITE in Confirmed: absorbed
  EXPECT_TRUE(tu.acks.empty());
  timers.advance(milliseconds(5000 - 1));  // I = T4
  EXPECT_EQ(sender.sent.size(), sent);     // G stopped
  EXPECT_EQ(layer->size(), 1u);
  timers.advance(milliseconds(1));
  EXPECT_EQ(layer->size(), 0u);
  EXPECT_TRUE(tu.ack_timeouts.empty());
}

TEST_F(LayerTest, InviteServerOverTcpHasNoTimerGAndTimerIIsZero) {
  deliver(Req().m("INVITE").text(), tcp());
  ASSERT_TRUE(layer->respond(lastServer(), 603));
  timers.advance(milliseconds(10'000));
  EXPECT_EQ(sender.sent.size(), 2u);  // 100, 603
  deliver(Req().m("ACK").text(), tcp());
  timers.advance(milliseconds(0));
  EXPECT_EQ(layer->size(), 0u);
}

TEST_F(LayerTest, InviteServerTimerHOverTcp) {
  deliver(Req().text(), tcp());
  ASSERT_TRUE(layer->respond(lastServer(), 480));
  timers.advance(milliseconds(32'000));
  EXPECT_EQ(tu.ack_timeouts.size(), 1u);
  EXPECT_EQ(sender.sent.size(), 2u);
}

TEST_F(LayerTest, InviteServerAcceptedAbsorbsInvitePassesTu2xxAndEndsWithTimerL) {
  deliver(Req().text());
  ASSERT_TRUE(layer->respond(lastServer(), 200));
  EXPECT_EQ(sender.sent.size(), 2u);
  deliver(Req().text());  // retransmitted INVITE: absorbed, the TU retransmits its 2xx
  EXPECT_EQ(sender.sent.size(), 2u);
  EXPECT_EQ(tu.requests.size(), 1u);
  timers.advance(milliseconds(500));
  ASSERT_TRUE(layer->respond(lastServer(), sender.sent[1].bytes));  // TU's 2xx retransmission
  EXPECT_EQ(sender.sent.size(), 3u);
  EXPECT_FALSE(layer->respond(lastServer(), 486));
  // The ACK for a 2xx has its own branch: end to end, to the TU.
  deliver(Req().m("ACK").b("z9hG4bKack2").text());
  EXPECT_EQ(tu.acks.size(), 1u);
  timers.advance(milliseconds(31'500 - 1));  // L = 64*T1 from the 2xx at 0
  EXPECT_EQ(layer->size(), 1u);
  timers.advance(milliseconds(1));
  EXPECT_EQ(layer->size(), 0u);
}

// ------------------------------------------------------------------------------------------
// CANCEL, merged requests

TEST_F(LayerTest, CancelGets200AndTuAnswers487) {
  deliver(Req().text());
  const ServerId invite = lastServer();
  ASSERT_TRUE(layer->respond(invite, 180));
  deliver(Req().m("CANCEL").text());
  ASSERT_EQ(tu.cancels.size(), 1u);
  EXPECT_EQ(tu.cancels[0], invite);
  EXPECT_EQ(tu.requests.size(), 1u);  // the CANCEL is not a TU request
  ASSERT_EQ(sender.sent.size(), 3u);  // 100, 180, 200 (CANCEL)
  sip::Message ok = parse(sender.sent[2].bytes);
  EXPECT_EQ(ok.statusCode(), 200);
  EXPECT_EQ(ok.cseq()->method, "CANCEL");

  ASSERT_TRUE(layer->answerCancelled(invite));
  sip::Message terminated = parse(sender.sent[3].bytes);
  EXPECT_EQ(terminated.statusCode(), 487);
  EXPECT_EQ(terminated.cseq()->method, "INVITE");
  EXPECT_EQ(*terminated.to()->tag(), *ok.to()->tag());  // §9.2
  sip::Message ringing = parse(sender.sent[1].bytes);
  EXPECT_EQ(*ringing.to()->tag(), *ok.to()->tag());  // one tag per transaction

  deliver(Req().m("CANCEL").text());  // retransmitted CANCEL: the 200 again, no 2nd onCancel
  EXPECT_EQ(sender.sent.back().status(), 200);
  EXPECT_EQ(tu.cancels.size(), 1u);
  deliver(Req().m("ACK").text());
  timers.advance(milliseconds(40'000));
  EXPECT_EQ(layer->size(), 0u);
}

TEST_F(LayerTest, CancelAfterFinalGets200ButNoOnCancel) {
  deliver(Req().text());
  ASSERT_TRUE(layer->respond(lastServer(), 486));
  deliver(Req().m("CANCEL").text());
  EXPECT_EQ(sender.sent.back().status(), 200);
  EXPECT_TRUE(tu.cancels.empty());
}

TEST_F(LayerTest, CancelWithoutTransactionGets481) {
  deliver(Req().m("CANCEL").b("z9hG4bKnone").text());
  ASSERT_EQ(sender.sent.size(), 1u);
  EXPECT_EQ(sender.sent[0].status(), 481);
  EXPECT_TRUE(tu.cancels.empty());
  timers.advance(milliseconds(32'000));
  EXPECT_EQ(layer->size(), 0u);
}

TEST_F(LayerTest, RequestsTakenStatelesslyGetNoTransactionNo100AndNo481) {
  tu.take_stateless = [](const sip::Message& m) { return m.methodText() != "OPTIONS"; };
  deliver(Req().text());
  deliver(Req().text());  // a retransmission is offered again: nothing absorbs it
  deliver(Req().m("CANCEL").text());
  EXPECT_EQ(tu.taken, (std::vector<std::string>{"INVITE", "INVITE", "CANCEL"}));
  EXPECT_TRUE(sender.sent.empty());  // neither 100 Trying nor 481
  EXPECT_TRUE(tu.requests.empty());
  EXPECT_EQ(layer->size(), 0u);
  EXPECT_EQ(layer->counters().stateless, 3u);
  // What the TU declines is handled as ever, and a CANCEL of an INVITE that has a
  // transaction goes to that transaction, not to the TU.
  deliver(Req().m("OPTIONS").b("z9hG4bKopt").text());
  EXPECT_EQ(tu.methods, (std::vector<std::string>{"OPTIONS"}));
  tu.take_stateless = {};
  deliver(Req().b("z9hG4bKstateful").text());
  tu.take_stateless = [](const sip::Message&) { return true; };
  deliver(Req().m("CANCEL").b("z9hG4bKstateful").text());
  EXPECT_EQ(tu.taken.size(), 3u);
  EXPECT_EQ(tu.cancels.size(), 1u);
  // ACKs never come here: an unmatched one is the TU's onAck.
  deliver(Req().m("ACK").b("z9hG4bKnone").text());
  EXPECT_EQ(tu.taken.size(), 3u);
  EXPECT_EQ(tu.acks.size(), 1u);
}

TEST_F(LayerTest, MergedRequestGets482) {
  deliver(Req().b("z9hG4bKpath1").text());
  Req other;
  other.branch = "z9hG4bKpath2";
  other.sent_by = "192.0.2.20:5060";  // the same request, by another proxy
  deliver(other.text(), udp("192.0.2.20:5060"));
  EXPECT_EQ(tu.requests.size(), 1u);
  ASSERT_EQ(sender.sent.size(), 2u);
  EXPECT_EQ(sender.sent[1].status(), 482);
  EXPECT_EQ(layer->counters().merged_rejected, 1u);
  EXPECT_EQ(layer->size(), 2u);
}

TEST_F(LayerTest, MergedDetectionCanBeTurnedOff) {
  LayerOptions opts;
  opts.detect_merged = false;
  make(opts);
  deliver(Req().b("z9hG4bKpath1").text());
  deliver(Req().b("z9hG4bKpath2").text());
  EXPECT_EQ(tu.requests.size(), 2u);
}

TEST_F(LayerTest, AckWithoutTransactionGoesToTu) {
  deliver(Req().m("ACK").b("z9hG4bKe2e").text());
  EXPECT_EQ(tu.acks.size(), 1u);
  EXPECT_EQ(layer->size(), 0u);
}

TEST_F(LayerTest, MalformedMessagesAreDroppedAndCounted) {
  deliver(
      "OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK1\r\n"
      "Content-Length: 0\r\n\r\n");
  EXPECT_TRUE(tu.requests.empty());
  EXPECT_EQ(layer->counters().malformed, 1u);
}

TEST_F(LayerTest, Rfc2543RequestsWithoutCookieStillMatch) {
  deliver(Req().m("OPTIONS").b("old1").text());
  deliver(Req().m("OPTIONS").b("old1").text());
  EXPECT_EQ(tu.requests.size(), 1u);
}

TEST_F(LayerTest, ServerTransportErrorEndsTransactionAndTellsTu) {
  deliver(Req().m("OPTIONS").text(), tcp());
  sender.fail = true;
  ASSERT_TRUE(layer->respond(lastServer(), 200));
  timers.advance(milliseconds(0));
  EXPECT_EQ(tu.server_errors.size(), 1u);
  EXPECT_EQ(layer->size(), 0u);
}

// ------------------------------------------------------------------------------------------
// Response destination (§18.2.2, RFC 3581)

sip::Via topVia(std::string_view value) {
  sip::ViaList list;
  EXPECT_TRUE(sip::parseVia(value, list));
  return list.front();
}

TEST(ResponseFlowTest, Rules) {
  // The string views of topVia point into these literals, which live for the program.
  const Flow from = udp("198.51.100.7:31000");
  // rport: source address and port.
  auto f = TransactionLayer::responseFlow(topVia("SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;rport"),
                                          from);
  EXPECT_EQ(f.remote.toString(), "198.51.100.7:31000");
  EXPECT_EQ(f.local, from.local);
  // No rport, sent-by differs from the source (received=): source address, sent-by port.
  f = TransactionLayer::responseFlow(topVia("SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bK1"), from);
  EXPECT_EQ(f.remote.toString(), "198.51.100.7:5070");
  // sent-by a host name, no port: source address, 5060 (names are not resolved here).
  f = TransactionLayer::responseFlow(topVia("SIP/2.0/UDP pc.example.com;branch=z9hG4bK1"), from);
  EXPECT_EQ(f.remote.toString(), "198.51.100.7:5060");
  // maddr.
  f = TransactionLayer::responseFlow(
      topVia("SIP/2.0/UDP pc.example.com:5080;branch=z9hG4bK1;maddr=239.255.255.1"), from);
  EXPECT_EQ(f.remote.toString(), "239.255.255.1:5080");
  // Reliable: the same connection whatever the Via says.
  const Flow conn = tcp("198.51.100.7:40001");
  f = TransactionLayer::responseFlow(topVia("SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bK1"), conn);
  EXPECT_EQ(f, conn);
}

TEST_F(LayerTest, ResponsesGoWhereTheViaSays) {
  Req r;
  r.sent_by = "10.0.0.5:5062";
  r.via_params = ";rport";
  deliver(r.m("OPTIONS").text(), udp("198.51.100.7:31000"));
  ASSERT_TRUE(layer->respond(lastServer(), 200));
  EXPECT_EQ(sender.sent.back().flow.remote.toString(), "198.51.100.7:31000");
  Req r2;
  r2.branch = "z9hG4bKother";
  r2.call_id = "call-2@192.0.2.10";
  r2.sent_by = "10.0.0.5:5062";
  deliver(r2.m("OPTIONS").text(), udp("198.51.100.7:31000"));
  ASSERT_TRUE(layer->respond(lastServer(), 200));
  EXPECT_EQ(sender.sent.back().flow.remote.toString(), "198.51.100.7:5062");
}

// ------------------------------------------------------------------------------------------
// Client transactions

TEST_F(LayerTest, NewBranchHasCookieAndIsUnique) {
  std::string a = layer->newBranch(), b = layer->newBranch();
  EXPECT_EQ(a.rfind("z9hG4bK", 0), 0u);
  EXPECT_EQ(a.size(), 23u);
  EXPECT_NE(a, b);
}

TEST_F(LayerTest, InviteClientOverUdpRetransmitsWithTimerAAndTimesOutWithB) {
  ClientLog log;
  auto id = layer->sendRequest(Req().text(), udp(), log.callbacks());
  ASSERT_TRUE(id);
  timers.advance(milliseconds(31'999));
  EXPECT_EQ(sender.times(), ms({0, 500, 1500, 3500, 7500, 15500, 31500}));
  EXPECT_EQ(log.timeouts, 0);
  timers.advance(milliseconds(1));
  EXPECT_EQ(log.timeouts, 1);
  EXPECT_EQ(layer->counters().retransmissions, 6u);
  EXPECT_EQ(layer->counters().timeouts, 1u);
  EXPECT_EQ(layer->size(), 0u);
  timers.advance(milliseconds(100'000));
  EXPECT_EQ(sender.sent.size(), 7u);
}

TEST_F(LayerTest, InviteClientOverTcpSendsOnceAndTimesOut) {
  ClientLog log;
  ASSERT_TRUE(layer->sendRequest(Req().text(), tcp(), log.callbacks()));
  timers.advance(milliseconds(32'000));
  EXPECT_EQ(sender.sent.size(), 1u);
  EXPECT_EQ(log.timeouts, 1);
  EXPECT_EQ(layer->size(), 0u);
}

TEST_F(LayerTest, NonInviteClientRetransmitsWithTimerECappedAtT2AndTimesOutWithF) {
  ClientLog log;
  ASSERT_TRUE(layer->sendRequest(Req().m("OPTIONS").text(), udp(), log.callbacks()));
  timers.advance(milliseconds(32'000));
  EXPECT_EQ(sender.times(),
            ms({0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500}));
  EXPECT_EQ(log.timeouts, 1);
  EXPECT_EQ(layer->size(), 0u);
}

TEST_F(LayerTest, NonInviteClientProceedingRetransmitsAtT2ThenTimerK) {
  ClientLog log;
  ASSERT_TRUE(layer->sendRequest(Req().m("REGISTER").text(), udp(), log.callbacks()));
  timers.advance(milliseconds(200));
  deliver(answer(0, 100));
  timers.advance(milliseconds(9000 - 200));
  EXPECT_EQ(sender.times(), ms({0, 500, 4500, 8500}));
  deliver(answer(0, 200));
  EXPECT_EQ(log.statuses, (std::vector<int>{100, 200}));
  deliver(answer(0, 200));  // retransmitted final: absorbed
  EXPECT_EQ(log.statuses.size(), 2u);
  timers.advance(milliseconds(5000 - 1));  // K = T4
  EXPECT_EQ(layer->size(), 1u);
  EXPECT_EQ(sender.sent.size(), 4u);
  timers.advance(milliseconds(1));
  EXPECT_EQ(layer->size(), 0u);
  EXPECT_EQ(log.timeouts, 0);
}

TEST_F(LayerTest, NonInviteClientOverTcpTimerKIsZero) {
  ClientLog log;
  ASSERT_TRUE(layer->sendRequest(Req().m("OPTIONS").text(), tcp(), log.callbacks()));
  deliver(answer(0, 200), tcp());
  timers.advance(milliseconds(0));
  EXPECT_EQ(layer->size(), 0u);
  EXPECT_EQ(log.statuses, (std::vector<int>{200}));
}

TEST_F(LayerTest, InviteClientAcksNon2xxFinalAndAbsorbsRetransmissionsUntilTimerD) {
  ClientLog log;
  Req inv;
  inv.extra = "Route: <sip:p1.example.com;lr>\r\nRoute: <sip:p2.example.com;lr>\r\n";
  ASSERT_TRUE(layer->sendRequest(inv.text(), udp(), log.callbacks()));
  deliver(answer(0, 180));
  timers.advance(milliseconds(10'000));
  EXPECT_EQ(sender.sent.size(), 1u);  // Proceeding: no more retransmissions
  deliver(answer(0, 486));
  ASSERT_EQ(sender.sent.size(), 2u);
  sip::Message ack = parse(sender.sent[1].bytes);
  EXPECT_EQ(ack.methodText(), "ACK");
  EXPECT_EQ(ack.requestUriText(), "sip:bob@example.com");
  ASSERT_EQ(ack.vias()->size(), 1u);
  EXPECT_EQ(*ack.vias()->front().branch(), "z9hG4bKaaa1");
  EXPECT_EQ(ack.vias()->front().host, "192.0.2.10");
  EXPECT_EQ(*ack.callId(), "call-1@192.0.2.10");
  EXPECT_EQ(*ack.from()->tag(), "f1");
  EXPECT_EQ(*ack.to()->tag(), "callee1");
  EXPECT_EQ(ack.cseq()->number, 1u);
  EXPECT_EQ(ack.cseq()->method, "ACK");
  ASSERT_EQ(ack.routes()->size(), 2u);
  EXPECT_EQ((*ack.routes())[0].uri.host(), "p1.example.com");
  EXPECT_EQ((*ack.routes())[1].uri.host(), "p2.example.com");
  EXPECT_EQ(*ack.maxForwards(), 70u);
  EXPECT_EQ(sender.sent[1].flow, udp());
  EXPECT_EQ(log.statuses, (std::vector<int>{180, 486}));

  deliver(answer(0, 486));  // retransmitted 486: ACK again, TU not told
  ASSERT_EQ(sender.sent.size(), 3u);
  EXPECT_EQ(sender.sent[2].bytes, sender.sent[1].bytes);
  EXPECT_EQ(log.statuses.size(), 2u);
  timers.advance(milliseconds(32'000 - 1));  // D
  EXPECT_EQ(layer->size(), 1u);
  timers.advance(milliseconds(1));
  EXPECT_EQ(layer->size(), 0u);
}

TEST_F(LayerTest, InviteClientOverTcpTimerDIsZero) {
  ClientLog log;
  ASSERT_TRUE(layer->sendRequest(Req().text(), tcp(), log.callbacks()));
  deliver(answer(0, 503), tcp());
  EXPECT_EQ(sender.sent.back().method(), "ACK");
  timers.advance(milliseconds(0));
  EXPECT_EQ(layer->size(), 0u);
}

TEST_F(LayerTest, InviteClientAcceptedPassesEvery2xxUntilTimerM) {
  ClientLog log;
  ASSERT_TRUE(layer->sendRequest(Req().text(), udp(), log.callbacks()));
  deliver(answer(0, 200));
  deliver(answer(0, 200));
  EXPECT_EQ(log.statuses, (std::vector<int>{200, 200}));
  EXPECT_EQ(sender.sent.size(), 1u);  // no ACK by the layer for a 2xx
  timers.advance(milliseconds(32'000));
  EXPECT_EQ(layer->size(), 0u);
  deliver(answer(0, 200));  // after M: stray, for the TU / proxy
  EXPECT_EQ(tu.strays, (std::vector<int>{200}));
}

TEST_F(LayerTest, CancelBeforeProvisionalWaitsForOne) {
  ClientLog log;
  Req inv;
  inv.extra = "Route: <sip:p1.example.com;lr>\r\n";
  auto id = layer->sendRequest(inv.text(), udp(), log.callbacks());
  ASSERT_TRUE(id);
  ASSERT_TRUE(layer->cancel(*id));
  EXPECT_EQ(sender.sent.size(), 1u);  // §9.1: not yet
  deliver(answer(0, 180));
  ASSERT_EQ(sender.sent.size(), 2u);
  sip::Message cancel = parse(sender.sent[1].bytes);
  EXPECT_EQ(cancel.methodText(), "CANCEL");
  EXPECT_EQ(cancel.requestUriText(), "sip:bob@example.com");
  ASSERT_EQ(cancel.vias()->size(), 1u);
  EXPECT_EQ(*cancel.vias()->front().branch(), "z9hG4bKaaa1");
  EXPECT_EQ(cancel.cseq()->number, 1u);
  EXPECT_EQ(cancel.cseq()->method, "CANCEL");
  EXPECT_FALSE(cancel.to()->tag().has_value());
  EXPECT_EQ(*cancel.from()->tag(), "f1");
  ASSERT_EQ(cancel.routes()->size(), 1u);
  EXPECT_EQ(layer->size(), 2u);

  deliver(answer(1, 200));  // 200 to the CANCEL: its own transaction
  deliver(answer(0, 487));
  EXPECT_EQ(log.statuses, (std::vector<int>{180, 487}));
  EXPECT_EQ(sender.sent.back().method(), "ACK");
  EXPECT_TRUE(layer->cancel(*id).error().code == common::ErrorCode::kUnsupported);
  timers.advance(milliseconds(32'000));
  EXPECT_EQ(layer->size(), 0u);
}

TEST_F(LayerTest, CancelAfterProvisionalGoesAtOnceAndOnlyOnce) {
  ClientLog log;
  auto id = layer->sendRequest(Req().text(), udp(), log.callbacks());
  ASSERT_TRUE(id);
  deliver(answer(0, 183));
  ASSERT_TRUE(layer->cancel(*id));
  ASSERT_TRUE(layer->cancel(*id));
  ASSERT_EQ(sender.sent.size(), 2u);
  EXPECT_EQ(sender.sent[1].method(), "CANCEL");
  timers.advance(milliseconds(500));  // timer E of the CANCEL
  EXPECT_EQ(sender.sent.back().method(), "CANCEL");
  EXPECT_EQ(sender.sent.size(), 3u);
}

TEST_F(LayerTest, CancelledInviteWithoutFinalIsGivenUpAfter64T1) {
  ClientLog log;
  auto id = layer->sendRequest(Req().text(), udp(), log.callbacks());
  deliver(answer(0, 180));
  timers.advance(milliseconds(60'000));  // Proceeding: no timer B, the TU decides (timer C)
  EXPECT_EQ(log.timeouts, 0);
  ASSERT_TRUE(layer->cancel(*id));
  deliver(answer(1, 200));  // the CANCEL is answered, the 487 never comes
  timers.advance(milliseconds(32'000 - 1));
  EXPECT_EQ(log.timeouts, 0);
  timers.advance(milliseconds(1));
  EXPECT_EQ(log.timeouts, 1);
  timers.advance(milliseconds(5'000));  // timer K of the CANCEL
  EXPECT_EQ(layer->size(), 0u);
}

TEST_F(LayerTest, CancelPendingIsDroppedWhenAFinalArrivesFirst) {
  ClientLog log;
  auto id = layer->sendRequest(Req().text(), udp(), log.callbacks());
  ASSERT_TRUE(layer->cancel(*id));
  deliver(answer(0, 486));
  for (const Sent& s : sender.sent) EXPECT_NE(s.method(), "CANCEL");
  EXPECT_FALSE(layer->cancel(*id));
}

TEST_F(LayerTest, ClientTransportErrorIsReported) {
  ClientLog log;
  sender.fail = true;
  ASSERT_TRUE(layer->sendRequest(Req().m("OPTIONS").text(), tcp(), log.callbacks()));
  EXPECT_EQ(log.errors, 0);  // reported from the loop, not inside sendRequest
  timers.advance(milliseconds(0));
  EXPECT_EQ(log.errors, 1);
  EXPECT_EQ(log.timeouts, 0);
  EXPECT_EQ(layer->size(), 0u);
  EXPECT_EQ(layer->counters().transport_errors, 1u);
}

TEST_F(LayerTest, StrayResponseGoesToTu) {
  Req r;
  r.branch = "z9hG4bKunknown";
  deliver(sip::ResponseBuilder(parse(r.text()), 200).toTag("x").build());
  EXPECT_EQ(tu.strays, (std::vector<int>{200}));
  EXPECT_EQ(layer->counters().stray_responses, 1u);
}

TEST_F(LayerTest, SendRequestRejectsAckAndMissingBranch) {
  EXPECT_FALSE(layer->sendRequest(Req().m("ACK").text(), udp(), {}));
  Req r;
  r.branch = "";
  EXPECT_FALSE(layer->sendRequest(r.text(), udp(), {}));
  ASSERT_TRUE(layer->sendRequest(Req().text(), udp(), {}));
  EXPECT_FALSE(layer->sendRequest(Req().text(), udp(), {}));  // branch in use
  EXPECT_EQ(layer->size(), 1u);
}

TEST_F(LayerTest, SendRequestAppliesEditsAndMatchesOnThePushedVia) {
  sip::Message m = parse(Req().text());
  const std::string branch = layer->newBranch();
  m.edits().pushVia("SIP/2.0/UDP 192.0.2.1:5060;branch=" + branch);
  m.edits().decrementMaxForwards();
  ClientLog log;
  ASSERT_TRUE(layer->sendRequest(std::move(m), udp(), log.callbacks()));
  sip::Message wire = parse(sender.sent[0].bytes);
  EXPECT_EQ(wire.vias()->size(), 2u);
  EXPECT_EQ(*wire.vias()->front().branch(), branch);
  deliver(answer(0, 180));
  EXPECT_EQ(log.statuses, (std::vector<int>{180}));
}

TEST_F(LayerTest, ManyTransactionsAreAllFreed) {
  for (int i = 0; i < 50; ++i) {
    Req r;
    r.branch = "z9hG4bKs" + std::to_string(i);
    r.call_id = "c" + std::to_string(i);
    deliver(r.m(i % 2 ? "INVITE" : "OPTIONS").text());
    (void)layer->respond(lastServer(), i % 3 == 0 ? 200 : 404);
    ASSERT_TRUE(layer->sendRequest(Req().b(layer->newBranch()).m(i % 2 ? "INVITE" : "BYE").text(),
                                   udp(), {}));
  }
  EXPECT_EQ(layer->size(), 100u);
  timers.advance(milliseconds(64'000));
  EXPECT_EQ(layer->size(), 0u);
  EXPECT_EQ(layer->counters().server_created, layer->counters().server_terminated);
  EXPECT_EQ(layer->counters().client_created, layer->counters().client_terminated);
  EXPECT_EQ(timers.pending(), 0u);
}

}  // namespace
}  // namespace transaction
