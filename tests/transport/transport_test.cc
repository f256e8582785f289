// Transport over real loopback sockets: UDP, TCP, TLS, WS and WSS, IPv4 and IPv6. Every
// wait is bounded; a timeout fails the test instead of hanging it.
#include "transport/transport.h"

#include "common/log.h"

#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace transport {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
using namespace std::chrono_literals;

constexpr auto kWait = 5s;

// A Via branch token made from a Call-ID ('@' is not a token character).
std::string branch(std::string id) {
  for (char& c : id) {
    if (c == '@') c = '.';
  }
  return "z9hG4bK-" + id;
}

std::string request(const std::string& call_id, const std::string& method = "OPTIONS",
                    const std::string& via_proto = "UDP", const std::string& body = "") {
  std::string m = method +
                  " sip:bob@example.com SIP/2.0\r\n"
                  "Via: SIP/2.0/" +
                  via_proto + " 127.0.0.1:5070;branch=" + branch(call_id) +
                  "\r\n"
                  "Max-Forwards: 70\r\n"
                  "To: <sip:bob@example.com>\r\n"
                  "From: <sip:alice@example.com>;tag=1928301774\r\n"
                  "Call-ID: " +
                  call_id +
                  "\r\n"
                  "CSeq: 1 " +
                  method +
                  "\r\n"
                  "Content-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n" + body;
  return m;
}

std::string okResponse(const std::string& call_id) {
  return "SIP/2.0 200 OK\r\n"
         "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=" +
         branch(call_id) +
         "\r\n"
         "To: <sip:bob@example.com>;tag=99\r\n"
         "From: <sip:alice@example.com>;tag=1928301774\r\n"
         "Call-ID: " +
         call_id +
         "\r\n"
         "CSeq: 1 OPTIONS\r\n"
         "Content-Length: 0\r\n\r\n";
}

struct Got {
  std::string call_id;
  std::string raw;
  Flow flow;
  std::optional<size_t> worker;
};

// Collects what the handler receives; pop() waits with a bound.
class Inbox {
 public:
  void push(Got g) {
    std::lock_guard lock(mu_);
    items_.push_back(std::move(g));
    cv_.notify_all();
  }
  std::optional<Got> pop(std::chrono::milliseconds wait = kWait) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, wait, [&] { return !items_.empty(); })) return std::nullopt;
    Got g = std::move(items_.front());
    items_.pop_front();
    return g;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Got> items_;
};

// Sets a receive timeout so blocking test clients cannot hang.
template <typename Socket>
void recvTimeout(Socket& s) {
  timeval tv{3, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/sb_transport_XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A self-signed P-256 certificate for 127.0.0.1, made by the openssl CLI.
bool makeCertificate(const TempDir& dir, std::string& cert, std::string& key) {
  cert = dir.path() + "/cert.pem";
  key = dir.path() + "/key.pem";
  std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=localhost -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0 && std::filesystem::exists(cert);
}

class TransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::getenv("SB_TEST_DEBUG"))
      common::log::setup(common::log::Level::kDebug, common::log::Format::kText);
    workers_.start();
  }
  void TearDown() override {
    transports_.clear();
    workers_.stop();
  }

  Transport& make(Options o = {}) {
    transports_.push_back(std::make_unique<Transport>(workers_, std::move(o)));
    Transport& t = *transports_.back();
    t.setHandler([this](Inbound&& in) {
      Got g;
      g.call_id = std::string(in.message.callId().value_or(""));
      g.raw = std::string(in.message.raw());
      g.flow = in.flow;
      g.worker = workers_.currentWorker();
      inbox_.push(std::move(g));
    });
    return t;
  }

  Address listenOk(Transport& t, Protocol p, const std::string& host = "127.0.0.1") {
    auto a = t.listen(p, host, 0);
    EXPECT_TRUE(a.has_value()) << (a ? "" : a.error().reason);
    return a ? *a : Address{};
  }

  Workers workers_{2};
  Inbox inbox_;
  std::vector<std::unique_ptr<Transport>> transports_;
};

tcp::endpoint tcpEp(const Address& a) {
  return tcp::endpoint(a.ip, a.port);
}
udp::endpoint udpEp(const Address& a) {
  return udp::endpoint(a.ip, a.port);
}

std::string readSome(tcp::socket& s) {
  char buf[4096];
  boost::system::error_code ec;
  size_t n = s.read_some(asio::buffer(buf), ec);
  if (ec) return {};
  return std::string(buf, n);
}

// Reads until the peer closes (true) or the timeout fires (false).
bool readsEof(tcp::socket& s) {
  char buf[4096];
  for (;;) {
    boost::system::error_code ec;
    s.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::eof || ec == asio::error::connection_reset) return true;
    if (ec) return false;
  }
}

std::string udpReceive(udp::socket& s) {
  char buf[65536];
  udp::endpoint from;
  boost::system::error_code ec;
  size_t n = s.receive_from(asio::buffer(buf), from, 0, ec);
  if (ec) return {};
  return std::string(buf, n);
}

TEST(WorkersTest, ShardIsStableAndInRange) {
  Workers w(4);
  EXPECT_EQ(w.size(), 4u);
  EXPECT_EQ(w.shardOf("abc@host"), w.shardOf("abc@host"));
  for (int i = 0; i < 100; ++i) EXPECT_LT(w.shardOf("call-" + std::to_string(i)), 4u);
  w.start();
  std::promise<std::optional<size_t>> where;
  asio::post(w.loop(3), [&] { where.set_value(w.currentWorker()); });
  auto f = where.get_future();
  ASSERT_EQ(f.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(f.get(), std::optional<size_t>(3));
  EXPECT_FALSE(w.currentWorker().has_value());
  w.stop();
  w.stop();  // idempotent
}

TEST_F(TransportTest, UdpReceiveOnCallIdWorkerAndReply) {
  Transport& t = make();
  Address local = listenOk(t, Protocol::kUdp);
  ASSERT_NE(local.port, 0);
  asio::io_context io;
  udp::socket client(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  recvTimeout(client);
  Address client_addr{client.local_endpoint().address(), client.local_endpoint().port()};

  for (int i = 0; i < 8; ++i) {
    std::string id = "udp-" + std::to_string(i) + "@test";
    client.send_to(asio::buffer(request(id)), udpEp(local));
    auto got = inbox_.pop();
    ASSERT_TRUE(got) << "no message " << id;
    EXPECT_EQ(got->call_id, id);
    EXPECT_EQ(got->flow.protocol, Protocol::kUdp);
    EXPECT_EQ(got->flow.local, local);
    EXPECT_EQ(got->flow.remote, client_addr);
    EXPECT_EQ(got->flow.connection_id, 0u);
    EXPECT_EQ(got->worker, std::optional<size_t>(workers_.shardOf(id)));
  }

  // Reply on the flow the request came in on.
  std::promise<common::Status> sent;
  t.send(Flow{Protocol::kUdp, local, client_addr, 0}, okResponse("udp-0@test"),
         [&](const common::Status& s) { sent.set_value(s); });
  auto f = sent.get_future();
  ASSERT_EQ(f.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(f.get().has_value());
  EXPECT_EQ(udpReceive(client), okResponse("udp-0@test"));
  auto st = t.stats();
  EXPECT_EQ(st.messages_in, 8u);
  EXPECT_EQ(st.messages_out, 1u);
}

TEST_F(TransportTest, UdpBadRequestAnsweredAndResponseGarbageDropped) {
  Transport& t = make();
  Address local = listenOk(t, Protocol::kUdp);
  asio::io_context io;
  udp::socket client(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  recvTimeout(client);

  // CSeq method differs from the request method: 400 to the packet's source.
  std::string bad = request("bad-1@test");
  bad.replace(bad.find("CSeq: 1 OPTIONS"), 15, "CSeq: 1 INVITE");
  client.send_to(asio::buffer(bad), udpEp(local));
  std::string answer = udpReceive(client);
  ASSERT_EQ(answer.rfind("SIP/2.0 400 ", 0), 0u) << answer;
  EXPECT_NE(answer.find("Call-ID: bad-1@test"), std::string::npos);
  EXPECT_NE(answer.find("branch=" + branch("bad-1@test")), std::string::npos);

  // A version we do not speak: 505, from bytes the parser refused.
  std::string v3 = request("bad-2@test");
  v3.replace(v3.find("SIP/2.0\r\n"), 7, "SIP/3.0");
  client.send_to(asio::buffer(v3), udpEp(local));
  answer = udpReceive(client);
  ASSERT_EQ(answer.rfind("SIP/2.0 505 ", 0), 0u) << answer;
  EXPECT_NE(answer.find("bad-2@test"), std::string::npos);

  // Garbage that claims to be a response: dropped, no answer.
  client.send_to(asio::buffer(std::string("SIP/2.0 200 OK\r\nnonsense\r\n\r\n")), udpEp(local));
  // A good message from the same source is handled after it (same socket, same order).
  client.send_to(asio::buffer(request("after@test")), udpEp(local));
  auto got = inbox_.pop();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->call_id, "after@test");

  auto st = t.stats();
  EXPECT_EQ(st.parse_errors, 3u);
  EXPECT_EQ(st.bad_requests_answered, 2u);
  EXPECT_EQ(st.dropped, 1u);
  EXPECT_EQ(st.messages_in, 1u);
}

// A datagram if one arrives within `wait`, else "" (asio's blocking receive would wait on
// past SO_RCVTIMEO, so the bound is a poll).
std::string udpReceiveWithin(udp::socket& s, std::chrono::milliseconds wait) {
  pollfd p{s.native_handle(), POLLIN, 0};
  if (::poll(&p, 1, int(wait.count())) != 1) return {};
  return udpReceive(s);
}

// `text` without its header line named `name`.
std::string withoutHeader(const std::string& text, std::string_view name) {
  size_t at = text.find("\r\n" + std::string(name) + ":");
  if (at == std::string::npos) return text;
  size_t eol = text.find("\r\n", at + 2);
  return text.substr(0, at) + text.substr(eol);
}

// The parser's guarantee seen from the wire (sip/validate.h): a request lacking one mandatory
// header is answered 400 (dropped when it lacks Via: the answer could not travel back), a
// response lacking one is dropped, neither reaches the handler, and the transport keeps
// serving. The transport shards by *callId() right after validate(): a request without
// Call-ID that slipped through would take the process down here.
TEST_F(TransportTest, UdpMessageLackingAMandatoryHeaderIsRefusedAndServingGoesOn) {
  Transport& t = make();
  Address local = listenOk(t, Protocol::kUdp);
  asio::io_context io;
  udp::socket client(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));

  uint64_t answered = 0, dropped = 0, n = 0;
  for (std::string_view name : {"Call-ID", "CSeq", "From", "To", "Via"}) {
    SCOPED_TRACE(std::string(name));
    const std::string id = "lacks-" + std::to_string(++n) + "@test";
    client.send_to(asio::buffer(withoutHeader(request(id), name)), udpEp(local));
    // The Via case waits this long for an answer that must not come.
    std::string answer = udpReceiveWithin(client, std::chrono::milliseconds(300));
    if (name == "Via") {
      EXPECT_EQ(answer, "");
      ++dropped;
    } else {
      ASSERT_EQ(answer.rfind("SIP/2.0 400 ", 0), 0u) << answer;
      EXPECT_NE(answer.find(std::string(name)), std::string::npos) << answer;  // the reason
      EXPECT_NE(answer.find("branch=" + branch(id)), std::string::npos) << answer;
      ++answered;
    }
    // A response lacking it: dropped, never answered.
    client.send_to(asio::buffer(withoutHeader(okResponse(id), name)), udpEp(local));
    ++dropped;
    // Still serving, and none of the refused messages reached the handler.
    const std::string next = "after-" + std::to_string(n) + "@test";
    client.send_to(asio::buffer(request(next)), udpEp(local));
    auto got = inbox_.pop();
    ASSERT_TRUE(got) << "no message after the one lacking " << name;
    EXPECT_EQ(got->call_id, next);
    auto st = t.stats();
    EXPECT_EQ(st.messages_in, n);
    EXPECT_EQ(st.bad_requests_answered, answered);
    EXPECT_EQ(st.dropped, dropped);
    EXPECT_EQ(st.parse_errors, answered + dropped);
  }
  EXPECT_FALSE(inbox_.pop(std::chrono::milliseconds(50)).has_value());
  EXPECT_EQ(udpReceiveWithin(client, std::chrono::milliseconds(50)), "");  // none to a response
}

// RFC 3261 §18.3 at the boundary, over UDP: a Content-Length one short drops the last octet,
// exact keeps the body, one more than the datagram holds is a 400 (and never a body reaching
// past the datagram).
TEST_F(TransportTest, UdpContentLengthBoundary) {
  Transport& t = make();
  Address local = listenOk(t, Protocol::kUdp);
  asio::io_context io;
  udp::socket client(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  recvTimeout(client);
  const std::string body = "hello";
  auto withLength = [&](const std::string& id, size_t length) {
    std::string m = request(id, "MESSAGE", "UDP", body);
    m.replace(m.find("Content-Length: 5"), 17, "Content-Length: " + std::to_string(length));
    return m;
  };

  client.send_to(asio::buffer(withLength("cl-short@test", body.size() - 1)), udpEp(local));
  auto shorter = inbox_.pop();
  ASSERT_TRUE(shorter);
  EXPECT_EQ(shorter->call_id, "cl-short@test");
  EXPECT_EQ(shorter->raw.substr(shorter->raw.size() - 8), "\r\n\r\nhell");

  client.send_to(asio::buffer(withLength("cl-exact@test", body.size())), udpEp(local));
  auto exact = inbox_.pop();
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->call_id, "cl-exact@test");
  EXPECT_EQ(exact->raw.substr(exact->raw.size() - 9), "\r\n\r\nhello");

  client.send_to(asio::buffer(withLength("cl-long@test", body.size() + 1)), udpEp(local));
  std::string answer = udpReceiveWithin(client, kWait);
  ASSERT_EQ(answer.rfind("SIP/2.0 400 ", 0), 0u) << answer;
  EXPECT_NE(answer.find("Call-ID: cl-long@test"), std::string::npos) << answer;
  EXPECT_FALSE(inbox_.pop(std::chrono::milliseconds(100)).has_value());
  auto st = t.stats();
  EXPECT_EQ(st.messages_in, 2u);
  EXPECT_EQ(st.bad_requests_answered, 1u);
}

// The same boundary on TCP: one octet more waits for that octet, then the message (body and
// octet) is handed on whole.
TEST_F(TransportTest, TcpContentLengthBoundary) {
  Transport& t = make();
  Address local = listenOk(t, Protocol::kTcp);
  asio::io_context io;
  tcp::socket c(io);
  c.connect(tcpEp(local));
  recvTimeout(c);
  std::string longer = request("tcp-cl@test", "MESSAGE", "TCP", "hello");
  longer.replace(longer.find("Content-Length: 5"), 17, "Content-Length: 6");
  asio::write(c, asio::buffer(longer));
  EXPECT_FALSE(inbox_.pop(std::chrono::milliseconds(200)).has_value())
      << "a message one octet short of its Content-Length was handed on";
  asio::write(c, asio::buffer(std::string("!")));
  auto got = inbox_.pop();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->raw, longer + "!");
  EXPECT_EQ(t.stats().parse_errors, 0u);
}

TEST_F(TransportTest, UdpIpv6) {
  Transport& t = make();
  auto local = t.listen(Protocol::kUdp, "::1", 0);
  if (!local) GTEST_SKIP() << "no IPv6 loopback: " << local.error().reason;
  asio::io_context io;
  udp::socket client(io, udp::endpoint(asio::ip::make_address("::1"), 0));
  recvTimeout(client);
  client.send_to(asio::buffer(request("v6@test")), udpEp(*local));
  auto got = inbox_.pop();
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->flow.remote.ip.is_v6());
  EXPECT_EQ(got->flow.local, *local);
  EXPECT_EQ(got->flow.remote.port, client.local_endpoint().port());
  EXPECT_EQ(got->flow.remote.toString().front(), '[');
  t.send(got->flow, okResponse("v6@test"));
  EXPECT_EQ(udpReceive(client), okResponse("v6@test"));
  // flowTo picks the IPv6 listener for an IPv6 remote.
  EXPECT_EQ(t.flowTo(Protocol::kUdp, got->flow.remote).local, *local);
}

TEST_F(TransportTest, TcpFramingAndKeepAlive) {
  Transport& t = make();
  Address local = listenOk(t, Protocol::kTcp);
  asio::io_context io;
  tcp::socket c(io);
  c.connect(tcpEp(local));
  recvTimeout(c);

  // Two messages in one write.
  asio::write(c, asio::buffer(request("a@test", "OPTIONS", "TCP") +
                              request("b@test", "MESSAGE", "TCP", "hello")));
  auto a = inbox_.pop();
  auto b = inbox_.pop();
  ASSERT_TRUE(a && b);
  // Different call-ids may run on different workers; compare as a set.
  std::set<std::string> ids{a->call_id, b->call_id};
  EXPECT_EQ(ids, (std::set<std::string>{"a@test", "b@test"}));
  EXPECT_EQ(a->flow.protocol, Protocol::kTcp);
  EXPECT_NE(a->flow.connection_id, 0u);
  EXPECT_EQ(a->flow.connection_id, b->flow.connection_id);
  EXPECT_EQ(a->flow.remote.port, c.local_endpoint().port());
  EXPECT_EQ(a->flow.local, local);
  auto& msg_b = a->call_id == "b@test" ? a : b;
  EXPECT_NE(msg_b->raw.find("\r\n\r\nhello"), std::string::npos);

  // One message split across writes (header, then the rest with the body).
  std::string split = request("c@test", "MESSAGE", "TCP", "0123456789");
  asio::write(c, asio::buffer(split.substr(0, 40)));
  asio::write(c, asio::buffer(split.substr(40)));
  auto got = inbox_.pop();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->raw, split);

  // RFC 5626 ping: CRLFCRLF gets a CRLF pong.
  asio::write(c, asio::buffer(std::string("\r\n\r\n")));
  EXPECT_EQ(readSome(c), "\r\n");
  EXPECT_EQ(t.stats().keepalives_answered, 1u);

  // A response on the connection the request came in on.
  std::promise<common::Status> sent;
  t.send(got->flow, okResponse("c@test"), [&](const common::Status& s) { sent.set_value(s); });
  EXPECT_EQ(readSome(c), okResponse("c@test"));
  auto f = sent.get_future();
  ASSERT_EQ(f.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(f.get().has_value());
  EXPECT_EQ(t.stats().connections_open, 1u);
}

TEST_F(TransportTest, TcpGarbageClosesOnlyThatConnection) {
  Transport& t = make();
  Address local = listenOk(t, Protocol::kTcp);
  asio::io_context io;
  tcp::socket good(io), bad(io);
  good.connect(tcpEp(local));
  bad.connect(tcpEp(local));
  recvTimeout(good);
  recvTimeout(bad);

  asio::write(bad, asio::buffer(std::string("this is not SIP at all\r\n\r\n")));
  EXPECT_TRUE(readsEof(bad));

  asio::write(good, asio::buffer(request("still@test", "OPTIONS", "TCP")));
  auto got = inbox_.pop();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->call_id, "still@test");
  // The peer can see EOF a moment before the closing worker updates the counters.
  for (auto until = std::chrono::steady_clock::now() + kWait;
       t.stats().connections_closed == 0 && std::chrono::steady_clock::now() < until;)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto st = t.stats();
  EXPECT_EQ(st.parse_errors, 1u);
  EXPECT_EQ(st.connections_opened, 2u);
  EXPECT_EQ(st.connections_closed, 1u);
  EXPECT_EQ(st.connections_open, 1u);
}

TEST_F(TransportTest, TcpOversizedHeaderClosesConnection) {
  Options o;
  o.max_message_bytes = 1024;
  Transport& t = make(o);
  Address local = listenOk(t, Protocol::kTcp);
  asio::io_context io;
  tcp::socket c(io);
  c.connect(tcpEp(local));
  recvTimeout(c);
  std::string huge = "OPTIONS sip:x SIP/2.0\r\nSubject: " + std::string(4000, 'x');
  asio::write(c, asio::buffer(huge));
  EXPECT_TRUE(readsEof(c));
  EXPECT_EQ(t.stats().parse_errors, 1u);
}

TEST_F(TransportTest, TcpOneCallKeepsArrivalOrder) {
  Transport& t = make();
  Address local = listenOk(t, Protocol::kTcp);
  asio::io_context io;
  tcp::socket c(io);
  c.connect(tcpEp(local));
  std::string burst;
  for (int i = 0; i < 50; ++i)
    burst += request("order@test", "MESSAGE", "TCP", "n=" + std::to_string(i));
  asio::write(c, asio::buffer(burst));
  for (int i = 0; i < 50; ++i) {
    auto got = inbox_.pop();
    ASSERT_TRUE(got) << i;
    EXPECT_EQ(got->worker, std::optional<size_t>(workers_.shardOf("order@test")));
    std::string tail = "\r\n\r\nn=" + std::to_string(i);
    EXPECT_EQ(got->raw.substr(got->raw.size() - tail.size()), tail);
  }
  EXPECT_EQ(t.stats().messages_in, 50u);
}

TEST_F(TransportTest, TcpConnectionLimit) {
  Options o;
  o.max_connections = 1;
  Transport& t = make(o);
  Address local = listenOk(t, Protocol::kTcp);
  asio::io_context io;
  tcp::socket first(io), second(io);
  first.connect(tcpEp(local));
  recvTimeout(first);
  asio::write(first, asio::buffer(request("first@test", "OPTIONS", "TCP")));
  ASSERT_TRUE(inbox_.pop());  // the first connection is registered before the second comes
  second.connect(tcpEp(local));
  recvTimeout(second);
  EXPECT_TRUE(readsEof(second));
  asio::write(first, asio::buffer(std::string("\r\n\r\n")));
  EXPECT_EQ(readSome(first), "\r\n");
  EXPECT_EQ(t.stats().connections_opened, 1u);
}

// Polls `pred` with a bound; true once it holds.
template <typename Pred>
bool eventually(Pred pred) {
  auto until = std::chrono::steady_clock::now() + kWait;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST_F(TransportTest, UdpAdmitHookDropsRefusedSourceUnanswered) {
  asio::io_context io;
  udp::socket refused(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  udp::socket allowed(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const uint16_t refused_port = refused.local_endpoint().port();
  Options o;
  o.admit = [refused_port](const Address& a) { return a.port != refused_port; };
  Transport& t = make(o);
  Address local = listenOk(t, Protocol::kUdp);
  recvTimeout(allowed);

  // A bad request would be answered 400 and a good one delivered: both vanish.
  std::string bad = request("refused-1@test");
  bad.replace(bad.find("CSeq: 1 OPTIONS"), 15, "CSeq: 1 INVITE");
  refused.send_to(asio::buffer(bad), udpEp(local));
  refused.send_to(asio::buffer(request("refused-2@test")), udpEp(local));
  ASSERT_TRUE(eventually([&] { return t.stats().refused == 2; }));

  allowed.send_to(asio::buffer(request("allowed@test")), udpEp(local));
  auto got = inbox_.pop();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->call_id, "allowed@test");
  EXPECT_FALSE(inbox_.pop(200ms));
  // Nothing came back to the refused source (a non-blocking read: asio's blocking one ignores
  // SO_RCVTIMEO when nothing arrives).
  refused.non_blocking(true);
  char buf[2048];
  udp::endpoint from;
  boost::system::error_code ec;
  refused.receive_from(asio::buffer(buf), from, 0, ec);
  EXPECT_EQ(ec, asio::error::would_block);
  auto st = t.stats();
  EXPECT_EQ(st.refused, 2u);
  EXPECT_EQ(st.parse_errors, 0u);
  EXPECT_EQ(st.bad_requests_answered, 0u);
  EXPECT_EQ(st.messages_in, 1u);
}

TEST_F(TransportTest, TcpAdmitHookClosesRefusedConnection) {
  std::atomic<bool> refuse{true};
  Options o;
  o.admit = [&refuse](const Address&) { return !refuse.load(); };
  Transport& t = make(o);
  Address local = listenOk(t, Protocol::kTcp);
  asio::io_context io;
  tcp::socket c(io);
  c.connect(tcpEp(local));
  recvTimeout(c);
  EXPECT_TRUE(readsEof(c));
  EXPECT_TRUE(eventually([&] { return t.stats().refused == 1; }));
  EXPECT_EQ(t.stats().connections_opened, 0u);
}

TEST_F(TransportTest, TcpAdmitHookRefusingAMessageClosesTheConnection) {
  std::atomic<int> calls{0};
  Options o;
  // Admits the connection and its first message, then refuses (a guard that saw a flood).
  o.admit = [&calls](const Address&) { return calls.fetch_add(1) < 2; };
  Transport& t = make(o);
  Address local = listenOk(t, Protocol::kTcp);
  asio::io_context io;
  tcp::socket c(io);
  c.connect(tcpEp(local));
  recvTimeout(c);
  asio::write(c, asio::buffer(request("first@test", "OPTIONS", "TCP") +
                              request("second@test", "OPTIONS", "TCP")));
  auto got = inbox_.pop();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->call_id, "first@test");
  EXPECT_TRUE(readsEof(c));
  EXPECT_FALSE(inbox_.pop(200ms));
  auto st = t.stats();
  EXPECT_EQ(st.refused, 1u);
  EXPECT_EQ(st.messages_in, 1u);
  EXPECT_TRUE(eventually([&] { return t.stats().connections_closed == 1; }));
}

TEST_F(TransportTest, TcpIdleTimeoutCloses) {
  Options o;
  o.idle_timeout = std::chrono::seconds(1);
  Transport& t = make(o);
  Address local = listenOk(t, Protocol::kTcp);
  asio::io_context io;
  tcp::socket c(io);
  c.connect(tcpEp(local));
  recvTimeout(c);  // 3 s > 1 s idle timeout
  EXPECT_TRUE(readsEof(c));
}

TEST_F(TransportTest, SendOpensTcpConnectionAndReusesIt) {
  Transport& server = make();
  Transport& client = make();
  Address server_addr = listenOk(server, Protocol::kTcp);
  listenOk(client, Protocol::kTcp);

  EXPECT_EQ(client.flowTo(Protocol::kTcp, server_addr).connection_id, 0u);
  std::promise<common::Status> sent;
  client.send(Flow{Protocol::kTcp, {}, server_addr, 0}, request("out-1@test", "OPTIONS", "TCP"),
              [&](const common::Status& s) { sent.set_value(s); });
  auto f = sent.get_future();
  ASSERT_EQ(f.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(f.get().has_value());
  auto first = inbox_.pop();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->call_id, "out-1@test");

  Flow reuse = client.flowTo(Protocol::kTcp, server_addr);
  EXPECT_NE(reuse.connection_id, 0u);
  client.send(Flow{Protocol::kTcp, {}, server_addr, 0}, request("out-2@test", "OPTIONS", "TCP"));
  auto second = inbox_.pop();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->call_id, "out-2@test");
  EXPECT_EQ(second->flow.connection_id, first->flow.connection_id);  // same server-side conn

  // The server answers on the incoming connection; the client receives it on its own one.
  server.send(second->flow, okResponse("out-2@test"));
  auto back = inbox_.pop();
  ASSERT_TRUE(back);
  EXPECT_EQ(back->flow.connection_id, reuse.connection_id);
  EXPECT_EQ(back->flow.remote, server_addr);

  EXPECT_EQ(client.stats().connections_opened, 1u);
  EXPECT_EQ(server.stats().connections_opened, 1u);
}

TEST_F(TransportTest, SendToClosedPortReportsError) {
  Transport& t = make();
  Address closed;
  {
    asio::io_context io;
    tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed = Address{a.local_endpoint().address(), a.local_endpoint().port()};
  }
  std::promise<common::Status> sent;
  t.send(Flow{Protocol::kTcp, {}, closed, 0}, request("nowhere@test", "OPTIONS", "TCP"),
         [&](const common::Status& s) { sent.set_value(s); });
  auto f = sent.get_future();
  ASSERT_EQ(f.wait_for(kWait), std::future_status::ready);
  auto s = f.get();
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, common::ErrorCode::kIo);
  EXPECT_EQ(t.stats().connections_open, 0u);

  // WS cannot open connections.
  std::promise<common::Status> ws;
  t.send(Flow{Protocol::kWs, {}, closed, 0}, "x",
         [&](const common::Status& r) { ws.set_value(r); });
  auto wf = ws.get_future();
  ASSERT_EQ(wf.wait_for(kWait), std::future_status::ready);
  EXPECT_FALSE(wf.get().has_value());
}

TEST_F(TransportTest, TlsNeedsCertificate) {
  Transport& t = make();
  auto r = t.listen(Protocol::kTls, "127.0.0.1", 0);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().reason.find("certificate"), std::string::npos);
}

class TlsTest : public TransportTest {
 protected:
  void SetUp() override {
    TransportTest::SetUp();
    if (!makeCertificate(dir_, cert_, key_)) GTEST_SKIP() << "openssl CLI not available";
    opts_.tls.certificate_file = cert_;
    opts_.tls.key_file = key_;
  }
  TempDir dir_;
  std::string cert_, key_;
  Options opts_;
};

// A blocking TLS client restricted to [min, max]; returns the negotiated version or 0.
int tlsConnect(const Address& to, int min, int max, const std::string& payload,
               std::string* reply = nullptr) {
  asio::io_context io;
  ssl::context ctx(ssl::context::tls_client);
  SSL_CTX_set_security_level(ctx.native_handle(), 0);  // let the client really offer TLS 1.1
  SSL_CTX_set_min_proto_version(ctx.native_handle(), min);
  SSL_CTX_set_max_proto_version(ctx.native_handle(), max);
  ctx.set_verify_mode(ssl::verify_none);
  ssl::stream<tcp::socket> s(io, ctx);
  s.next_layer().connect(tcpEp(to));
  recvTimeout(s.next_layer());
  boost::system::error_code ec;
  s.handshake(ssl::stream_base::client, ec);
  if (ec) return 0;
  int version = SSL_version(s.native_handle());
  asio::write(s, asio::buffer(payload), ec);
  if (reply) {
    char buf[4096];
    size_t n = s.read_some(asio::buffer(buf), ec);
    if (!ec) *reply = std::string(buf, n);
  }
  return version;
}

TEST_F(TlsTest, Tls12And13AcceptedTls11Refused) {
  Transport& t = make(opts_);
  Address local = listenOk(t, Protocol::kTls);

  EXPECT_EQ(tlsConnect(local, TLS1_1_VERSION, TLS1_1_VERSION, ""), 0);

  EXPECT_EQ(
      tlsConnect(local, TLS1_2_VERSION, TLS1_2_VERSION, request("tls12@test", "OPTIONS", "TLS")),
      TLS1_2_VERSION);
  auto got = inbox_.pop();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->call_id, "tls12@test");
  EXPECT_EQ(got->flow.protocol, Protocol::kTls);

  std::string pong;
  EXPECT_EQ(tlsConnect(local, TLS1_3_VERSION, TLS1_3_VERSION, "\r\n\r\n", &pong), TLS1_3_VERSION);
  EXPECT_EQ(pong, "\r\n");
}

TEST_F(TlsTest, SendOpensTlsConnection) {
  Transport& server = make(opts_);
  Transport& client = make();  // client side needs no certificate (verify_peer off)
  Address server_addr = listenOk(server, Protocol::kTls);
  std::promise<common::Status> sent;
  client.send(Flow{Protocol::kTls, {}, server_addr, 0}, request("tls-out@test", "OPTIONS", "TLS"),
              [&](const common::Status& s) { sent.set_value(s); });
  auto f = sent.get_future();
  ASSERT_EQ(f.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(f.get().has_value());
  auto got = inbox_.pop();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->call_id, "tls-out@test");
  EXPECT_EQ(got->flow.protocol, Protocol::kTls);
}

// WebSocket client handshake offering `subprotocol` (empty: none); returns the error.
template <typename Ws>
boost::system::error_code wsHandshake(Ws& ws, const std::string& subprotocol,
                                      websocket::response_type& res) {
  ws.set_option(websocket::stream_base::decorator([subprotocol](websocket::request_type& req) {
    if (!subprotocol.empty()) req.set(http::field::sec_websocket_protocol, subprotocol);
  }));
  boost::system::error_code ec;
  ws.handshake(res, "127.0.0.1", "/", ec);
  return ec;
}

TEST_F(TransportTest, WebSocketNeedsSipSubprotocol) {
  Transport& t = make();
  Address local = listenOk(t, Protocol::kWs);
  asio::io_context io;
  {
    websocket::stream<tcp::socket> ws(io);
    ws.next_layer().connect(tcpEp(local));
    recvTimeout(ws.next_layer());
    websocket::response_type res;
    EXPECT_TRUE(wsHandshake(ws, "", res));  // the server answers 400 and closes
  }
  {
    websocket::stream<tcp::socket> ws(io);
    ws.next_layer().connect(tcpEp(local));
    recvTimeout(ws.next_layer());
    websocket::response_type res;
    ASSERT_FALSE(wsHandshake(ws, "chat, sip", res));
    EXPECT_EQ(res[http::field::sec_websocket_protocol], "sip");

    ws.text(true);
    ws.write(asio::buffer(request("ws@test", "OPTIONS", "WS")));
    auto got = inbox_.pop();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->call_id, "ws@test");
    EXPECT_EQ(got->flow.protocol, Protocol::kWs);
    EXPECT_NE(got->flow.connection_id, 0u);

    t.send(got->flow, okResponse("ws@test"));
    beast::flat_buffer buf;
    boost::system::error_code ec;
    ws.read(buf, ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(beast::buffers_to_string(buf.data()), okResponse("ws@test"));
  }
}

TEST_F(TlsTest, SecureWebSocket) {
  Transport& t = make(opts_);
  Address local = listenOk(t, Protocol::kWss);
  asio::io_context io;
  ssl::context ctx(ssl::context::tls_client);
  ctx.set_verify_mode(ssl::verify_none);
  {
    websocket::stream<ssl::stream<tcp::socket>> ws(io, ctx);
    beast::get_lowest_layer(ws).connect(tcpEp(local));
    recvTimeout(beast::get_lowest_layer(ws));
    ws.next_layer().handshake(ssl::stream_base::client);
    websocket::response_type res;
    EXPECT_TRUE(wsHandshake(ws, "", res));
  }
  websocket::stream<ssl::stream<tcp::socket>> ws(io, ctx);
  beast::get_lowest_layer(ws).connect(tcpEp(local));
  recvTimeout(beast::get_lowest_layer(ws));
  ws.next_layer().handshake(ssl::stream_base::client);
  websocket::response_type res;
  ASSERT_FALSE(wsHandshake(ws, "sip", res));
  ws.text(true);
  ws.write(asio::buffer(request("wss@test", "OPTIONS", "WSS")));
  auto got = inbox_.pop();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->call_id, "wss@test");
  EXPECT_EQ(got->flow.protocol, Protocol::kWss);
  t.send(got->flow, okResponse("wss@test"));
  beast::flat_buffer buf;
  boost::system::error_code ec;
  ws.read(buf, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(beast::buffers_to_string(buf.data()), okResponse("wss@test"));
}

TEST_F(TransportTest, ListenersAndDestructionAfterStop) {
  auto t = std::make_unique<Transport>(workers_, Options{});
  ASSERT_TRUE(t->listen(Protocol::kUdp, "127.0.0.1", 0));
  ASSERT_TRUE(t->listen(Protocol::kTcp, "127.0.0.1", 0));
  EXPECT_FALSE(t->listen(Protocol::kTcp, "not-an-ip", 0));
  auto ls = t->listeners();
  ASSERT_EQ(ls.size(), 2u);
  EXPECT_EQ(ls[0].first, Protocol::kUdp);
  EXPECT_EQ(ls[1].first, Protocol::kTcp);
  asio::io_context io;
  tcp::socket c(io);
  c.connect(tcpEp(ls[1].second));
  workers_.stop();
  t.reset();  // closes everything without running loops
}

}  // namespace
}  // namespace transport
