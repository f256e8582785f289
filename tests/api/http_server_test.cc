// The HTTP server on a real loopback socket: RFC 9112 request framing (Transfer-Encoding),
// the per-address connection cap and per-connection request cap, and X-Forwarded-For from
// trusted proxies only. Plus the framing, forwarding and counting rules alone.
#include "api/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "api/internal/connection_limit.h"
#include "api/internal/forwarded_for.h"
#include "api/internal/transfer_coding.h"

namespace api {
namespace {

using boost::asio::ip::make_address;
using namespace std::chrono_literals;

// A client socket on loopback, optionally from another source address of lo (127.0.0.2).
class Client {
 public:
  Client(uint16_t port, const char* source = "127.0.0.1") {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in src{};
    src.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &src.sin_addr);
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&src), sizeof src) == 0;
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    connected_ = bound_ && ::connect(fd_, reinterpret_cast<sockaddr*>(&dst), sizeof dst) == 0;
  }
  ~Client() { close(); }
  bool ok() const { return connected_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool send(std::string_view bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == ssize_t(bytes.size());
  }
  // Reads until the server closes (or resets) the connection or `wait` passes with nothing
  // new; `closed` tells which.
  std::string readAll(std::chrono::milliseconds wait = 1500ms) {
    std::string out;
    char buf[16384];
    closed_ = false;
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, int(wait.count())) <= 0) return out;
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        return out;
      }
      out.append(buf, size_t(n));
    }
  }
  bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  bool bound_ = false, connected_ = false, closed_ = false;
};

size_t count(const std::string& text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A server whose handler answers "METHOD TARGET peer=PEER body=BODY".
class HttpServerTest : public ::testing::Test {
 protected:
  void start(HttpServer::Options o = {}) {
    o.listeners = {{*common::HostPort::parse("127.0.0.1:0")}};
    server_ = std::make_unique<HttpServer>(std::move(o), [this](HttpRequest& r) {
      ++handled_;
      if (r.target == "/block") {  // held in the handler (busy) until release_, at most 5 s
        ++blocked_;
        for (int i = 0; i < 500 && !release_; ++i) std::this_thread::sleep_for(10ms);
      }
      HttpReply reply;
      reply.content_type = "text/plain";
      reply.body = r.method + " " + r.target + " peer=" + r.peer + " body=" + r.body;
      return reply;
    });
    auto st = server_->start();
    ASSERT_TRUE(st) << st.error().reason;
    std::string url = server_->listening().at(0);
    port_ = uint16_t(std::stoi(url.substr(url.rfind(':') + 1)));
  }
  void TearDown() override {
    if (server_) server_->stop();
  }
  // Sends REQUEST on a new connection and returns all it got back.
  std::string exchange(std::string_view request, const char* source = "127.0.0.1",
                       bool* closed = nullptr) {
    Client c(port_, source);
    EXPECT_TRUE(c.ok());
    EXPECT_TRUE(c.send(request));
    std::string out = c.readAll();
    if (closed) *closed = c.closed();
    return out;
  }
  // Waits (bounded) until the server has accepted `n` connections.
  bool waitConnections(uint64_t n) {
    for (int i = 0; i < 200 && server_->stats().connections < n; ++i)
      std::this_thread::sleep_for(10ms);
    return server_->stats().connections >= n;
  }

  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
  std::atomic<int> handled_{0};
  std::atomic<int> blocked_{0};
  std::atomic<bool> release_{false};
};

TEST_F(HttpServerTest, ChunkedBodyIsServed) {
  start();
  bool closed = false;
  std::string out = exchange(
      "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
      "127.0.0.1", &closed);
  EXPECT_EQ(out.rfind("HTTP/1.1 200 ", 0), 0u) << out;
  EXPECT_NE(out.find("POST /a peer=127.0.0.1 body=hello world"), std::string::npos) << out;
  EXPECT_TRUE(closed);
}

TEST_F(HttpServerTest, TransferEncodingNotEndingInChunkedIs400AndCloses) {
  start();
  bool closed = false;
  std::string out = exchange(
      "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
      "5\r\nhello\r\n0\r\n\r\n",
      "127.0.0.1", &closed);
  EXPECT_EQ(out.rfind("HTTP/1.1 400 ", 0), 0u) << out;
  EXPECT_EQ(count(out, "HTTP/1.1 "), 1u) << out;
  EXPECT_NE(out.find("Connection: close"), std::string::npos) << out;
  EXPECT_TRUE(closed);
  EXPECT_EQ(handled_, 0);
}

TEST_F(HttpServerTest, GzipWithContentLengthIs400) {
  start();
  bool closed = false;
  std::string out = exchange(
      "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello",
      "127.0.0.1", &closed);
  EXPECT_EQ(out.rfind("HTTP/1.1 400 ", 0), 0u) << out;
  EXPECT_TRUE(closed);
  EXPECT_EQ(handled_, 0);
}

TEST_F(HttpServerTest, UnimplementedCodingBeforeChunkedIs501AndCloses) {
  start();
  bool closed = false;
  std::string out = exchange(
      "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
      "5\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n",
      "127.0.0.1", &closed);
  EXPECT_EQ(out.rfind("HTTP/1.1 501 ", 0), 0u) << out;
  EXPECT_EQ(count(out, "HTTP/1.1 "), 1u) << out;
  EXPECT_TRUE(closed);
  EXPECT_EQ(handled_, 0);
}

// The request smuggling case of the issue: the body of an unframed request must not be
// taken for the next request on the connection.
TEST_F(HttpServerTest, XchunkedBodyIsNotParsedAsTheNextRequest) {
  start();
  bool closed = false;
  std::string out = exchange(
      "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n"
      "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
      "127.0.0.1", &closed);
  EXPECT_EQ(out.rfind("HTTP/1.1 400 ", 0), 0u) << out;
  EXPECT_EQ(count(out, "HTTP/1.1 "), 1u) << out;
  EXPECT_EQ(out.find("smuggled"), std::string::npos) << out;
  EXPECT_TRUE(closed);
  EXPECT_EQ(handled_, 0);
  EXPECT_EQ(server_->stats().bad_requests, 1u);
}

// RFC 9112 §6.1: an HTTP/1.0 request with Transfer-Encoding has faulty framing.
TEST_F(HttpServerTest, Http10WithTransferEncodingIs400) {
  start();
  bool closed = false;
  std::string out = exchange(
      "POST /a HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      "127.0.0.1", &closed);
  EXPECT_EQ(out.rfind("HTTP/1.1 400 ", 0), 0u) << out;
  EXPECT_TRUE(closed);
  EXPECT_EQ(handled_, 0);
}

TEST_F(HttpServerTest, WhatHeldStillHolds) {
  start({.max_body_bytes = 1024});
  // Content-Length with Transfer-Encoding, and two different Content-Lengths: 400.
  EXPECT_EQ(exchange("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
                .rfind("HTTP/1.1 400 ", 0),
            0u);
  EXPECT_EQ(exchange("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n"
                     "\r\nhello!")
                .rfind("HTTP/1.1 400 ", 0),
            0u);
  EXPECT_EQ(exchange("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n" +
                     std::string(2000, 'a'))
                .rfind("HTTP/1.1 413 ", 0),
            0u);
  EXPECT_EQ(exchange("GET /a HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n")
                .rfind("HTTP/1.1 431 ", 0),
            0u);
  EXPECT_EQ(handled_, 0);
  // Keep-alive: two pipelined requests, two answers, the connection stays open.
  bool closed = true;
  std::string out = exchange("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n",
                             "127.0.0.1", &closed);
  EXPECT_EQ(count(out, "HTTP/1.1 200 "), 2u) << out;
  EXPECT_FALSE(closed);
}

TEST_F(HttpServerTest, TheLastAllowedRequestOfAConnectionSaysClose) {
  start({.max_requests_per_connection = 3});
  bool closed = false;
  std::string pipelined;
  for (int i = 0; i < 5; ++i)
    pipelined += "GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string out = exchange(pipelined, "127.0.0.1", &closed);
  EXPECT_EQ(count(out, "HTTP/1.1 200 "), 3u) << out;
  EXPECT_EQ(count(out, "Connection: close"), 1u) << out;
  EXPECT_NE(out.find("GET /2 peer="), std::string::npos);
  EXPECT_EQ(out.find("GET /3 peer="), std::string::npos);
  EXPECT_TRUE(closed);
  EXPECT_EQ(handled_, 3);
}

TEST_F(HttpServerTest, AtItsCapANewConnectionTakesThePlaceOfTheOldestIdleOne) {
  start({.max_connections_per_address = 3});
  std::vector<std::unique_ptr<Client>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<Client>(port_, "127.0.0.2"));
    ASSERT_TRUE(held.back()->ok()) << "cannot connect from 127.0.0.2";
    held.back()->send("GET /slow HTTP/1.1\r\n");    // never finished (slowloris)
    ASSERT_TRUE(waitConnections(uint64_t(i) + 1));  // accepted in this order
  }
  // A fourth from the same address is served: the oldest idle one made room ...
  std::string out =
      exchange("GET /4 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "127.0.0.2");
  EXPECT_EQ(out.rfind("HTTP/1.1 200 ", 0), 0u) << out;
  EXPECT_EQ(server_->stats().evicted_connections, 1u);
  EXPECT_EQ(server_->stats().refused_connections, 0u);
  EXPECT_EQ(held[0]->readAll(), "");
  EXPECT_TRUE(held[0]->closed());
  // ... and the next ones push out the next oldest, never a newer one. (The fourth, closed,
  // gave its place back; one more unfinished one fills the cap again.)
  std::this_thread::sleep_for(200ms);
  held.push_back(std::make_unique<Client>(port_, "127.0.0.2"));
  held.back()->send("GET /slow HTTP/1.1\r\n");
  ASSERT_TRUE(waitConnections(5));
  out = exchange("GET /5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "127.0.0.2");
  EXPECT_EQ(out.rfind("HTTP/1.1 200 ", 0), 0u) << out;
  EXPECT_EQ(held[1]->readAll(), "");
  EXPECT_TRUE(held[1]->closed());
  for (size_t i : {2u, 3u}) {
    EXPECT_EQ(held[i]->readAll(200ms), "");
    EXPECT_FALSE(held[i]->closed()) << i;
  }
  EXPECT_EQ(server_->stats().evicted_connections, 2u);
  // Another address is untouched.
  out = exchange("GET /other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "127.0.0.1");
  EXPECT_EQ(out.rfind("HTTP/1.1 200 ", 0), 0u) << out;
  EXPECT_NE(out.find("peer=127.0.0.1"), std::string::npos) << out;
}

TEST_F(HttpServerTest, AtItsCapWithEveryConnectionBusyANewOneIsClosedUnread) {
  start({.threads = 4, .max_connections_per_address = 3});
  std::vector<std::unique_ptr<Client>> busy;
  for (int i = 0; i < 3; ++i) {
    busy.push_back(std::make_unique<Client>(port_, "127.0.0.2"));
    ASSERT_TRUE(busy.back()->ok()) << "cannot connect from 127.0.0.2";
    busy.back()->send("GET /block HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  }
  for (int i = 0; i < 300 && blocked_ < 3; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(blocked_.load(), 3);
  bool closed = false;
  std::string out = exchange("GET /4 HTTP/1.1\r\nHost: x\r\n\r\n", "127.0.0.2", &closed);
  EXPECT_EQ(out, "");
  EXPECT_TRUE(closed);
  EXPECT_EQ(server_->stats().refused_connections, 1u);
  EXPECT_EQ(server_->stats().evicted_connections, 0u);
  release_ = true;
  for (auto& c : busy) EXPECT_EQ(c->readAll().rfind("HTTP/1.1 200 ", 0), 0u);
  // Their places are given back.
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    served = exchange("GET /again HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "127.0.0.2")
                 .rfind("HTTP/1.1 200 ", 0) == 0;
    if (!served) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(served);
}

TEST_F(HttpServerTest, ForwardedForIsBelievedFromTrustedProxiesOnly) {
  start({.trusted_proxies = *common::AddressSet::parse({"127.0.0.1", "10.0.0.0/8"})});
  auto peerOf = [&](const char* source, std::string_view headers) {
    std::string out = exchange(
        "GET /p HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + std::string(headers) + "\r\n",
        source);
    size_t at = out.find("peer=");
    return at == std::string::npos ? out : out.substr(at + 5, out.find(' ', at) - at - 5);
  };
  // From a trusted proxy: the right-most address that is not itself a trusted proxy.
  EXPECT_EQ(peerOf("127.0.0.1", "X-Forwarded-For: 198.51.100.1, 203.0.113.9, 10.1.2.3\r\n"),
            "203.0.113.9");
  // Two fields make one list.
  EXPECT_EQ(peerOf("127.0.0.1",
                   "X-Forwarded-For: 198.51.100.1\r\nX-Forwarded-For: 203.0.113.9, 10.0.0.1\r\n"),
            "203.0.113.9");
  EXPECT_EQ(peerOf("127.0.0.1", "X-Forwarded-For: 2001:db8::7\r\n"), "2001:db8::7");
  // Malformed: the proxy's own address.
  EXPECT_EQ(peerOf("127.0.0.1", "X-Forwarded-For: 203.0.113.9, not-an-ip\r\n"), "127.0.0.1");
  EXPECT_EQ(peerOf("127.0.0.1", ""), "127.0.0.1");
  // From anyone else it is ignored.
  EXPECT_EQ(peerOf("127.0.0.2", "X-Forwarded-For: 203.0.113.9\r\n"), "127.0.0.2");
}

TEST(TransferCodingTest, ChunkedMustBeLastAndAlone) {
  using internal::checkTransferEncoding;
  EXPECT_EQ(checkTransferEncoding("chunked", 11).status, 0);
  EXPECT_EQ(checkTransferEncoding("Chunked", 11).status, 0);
  EXPECT_EQ(checkTransferEncoding(" , chunked ,", 11).status, 0);
  EXPECT_EQ(checkTransferEncoding("chunked", 10).status, 400);
  EXPECT_EQ(checkTransferEncoding("chunked, identity", 11).status, 400);
  EXPECT_EQ(checkTransferEncoding("gzip", 11).status, 400);
  EXPECT_EQ(checkTransferEncoding("xchunked", 11).status, 400);
  EXPECT_EQ(checkTransferEncoding("chunked, chunked", 11).status, 400);
  EXPECT_EQ(checkTransferEncoding("chunked;ext=1", 11).status, 400);
  EXPECT_EQ(checkTransferEncoding("chu nked", 11).status, 400);
  EXPECT_EQ(checkTransferEncoding("", 11).status, 400);
  EXPECT_EQ(checkTransferEncoding("gzip, chunked", 11).status, 501);
  EXPECT_EQ(checkTransferEncoding("identity, chunked", 11).status, 501);
  EXPECT_EQ(checkTransferEncoding("x-custom;a=b, chunked", 11).status, 501);
}

TEST(ForwardedForTest, RightMostUntrustedHop) {
  auto trusted = *common::AddressSet::parse({"10.0.0.0/8", "2001:db8:1::/48"});
  auto client = [&](const char* peer, std::string_view xff) {
    return internal::forwardedClient(make_address(peer), xff, trusted).to_string();
  };
  EXPECT_EQ(client("10.0.0.1", "192.0.2.1, 10.9.9.9"), "192.0.2.1");
  EXPECT_EQ(client("10.0.0.1", "junk, 192.0.2.1"), "192.0.2.1");  // left of the client: theirs
  EXPECT_EQ(client("10.0.0.1", "192.0.2.1, junk"), "10.0.0.1");
  EXPECT_EQ(client("10.0.0.1", "10.0.0.7, 10.0.0.8"), "10.0.0.7");
  EXPECT_EQ(client("10.0.0.1", "[2001:db8:2::5]"), "2001:db8:2::5");
  EXPECT_EQ(client("10.0.0.1", "::ffff:192.0.2.4"), "192.0.2.4");
  EXPECT_EQ(client("10.0.0.1", "192.0.2.1:4711"), "10.0.0.1");
  EXPECT_EQ(client("2001:db8:1::9", "192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(client("192.0.2.50", "192.0.2.1"), "192.0.2.50");
}

TEST(ConnectionLimitTest, CountsPerAddressAndIpv6PerSlash64) {
  internal::ConnectionLimit limit(2);
  auto a1 = limit.acquire(make_address("192.0.2.1"));
  auto a2 = limit.acquire(make_address("192.0.2.1"));
  ASSERT_TRUE(a1 && a2);
  EXPECT_TRUE(a1->standing(internal::ConnectionLimit::Standing::kBusy));
  EXPECT_TRUE(a2->standing(internal::ConnectionLimit::Standing::kBusy));
  EXPECT_FALSE(limit.acquire(make_address("192.0.2.1")));  // all busy: refused
  EXPECT_TRUE(limit.acquire(make_address("192.0.2.2")));   // and given back at once
  EXPECT_EQ(limit.open(make_address("192.0.2.2")), 0u);
  a1.reset();
  EXPECT_EQ(limit.open(make_address("192.0.2.1")), 1u);
  EXPECT_TRUE(limit.acquire(make_address("192.0.2.1")));

  auto b1 = limit.acquire(make_address("2001:db8:0:1::1"));
  auto b2 = limit.acquire(make_address("2001:db8:0:1:ffff::2"));
  ASSERT_TRUE(b1 && b2);
  EXPECT_TRUE(b1->standing(internal::ConnectionLimit::Standing::kBusy));
  EXPECT_TRUE(b2->standing(internal::ConnectionLimit::Standing::kBusy));
  EXPECT_FALSE(limit.acquire(make_address("2001:db8:0:1::3")));  // the same /64
  EXPECT_TRUE(limit.acquire(make_address("2001:db8:0:2::1")));
  EXPECT_EQ(limit.open(make_address("2001:db8:0:1::99")), 2u);
  EXPECT_EQ(limit.evicted(), 0u);
}

TEST(ConnectionLimitTest, AtTheCapTheOldestIdleSlotIsEvicted) {
  internal::ConnectionLimit limit(3);
  std::vector<int> closed;
  std::vector<std::optional<internal::ConnectionLimit::Slot>> slots;
  for (int i = 0; i < 3; ++i) {
    slots.push_back(limit.acquire(make_address("192.0.2.1")));
    ASSERT_TRUE(slots.back());
    slots.back()->onEvict([&closed, i] { closed.push_back(i); });
  }
  EXPECT_TRUE(slots[0]->standing(internal::ConnectionLimit::Standing::kBusy));  // passed over
  auto s3 = limit.acquire(make_address("192.0.2.1"));
  ASSERT_TRUE(s3);
  EXPECT_EQ(closed, std::vector<int>{1});
  EXPECT_EQ(limit.evicted(), 1u);
  // Chosen, it starts nothing more.
  EXPECT_FALSE(slots[1]->standing(internal::ConnectionLimit::Standing::kBusy));
  EXPECT_EQ(limit.open(make_address("192.0.2.1")), 3u);
  slots[1].reset();  // the evicted one's place went to s3: nothing more is given back
  EXPECT_EQ(limit.open(make_address("192.0.2.1")), 3u);
  EXPECT_TRUE(slots[0]->standing(internal::ConnectionLimit::Standing::kWaiting));
  auto s4 = limit.acquire(make_address("192.0.2.1"));  // now the oldest idle is slot 0
  ASSERT_TRUE(s4);
  EXPECT_EQ(closed, (std::vector<int>{1, 0}));
  // A slot chosen before it said how to close runs the close as soon as it says.
  auto s5 = limit.acquire(make_address("192.0.2.1"));  // evicts slot 2
  EXPECT_EQ(closed, (std::vector<int>{1, 0, 2}));
  auto s6 = limit.acquire(make_address("192.0.2.1"));  // evicts s3, which has no close yet
  bool late = false;
  s3->onEvict([&late] { late = true; });
  EXPECT_TRUE(late);
  EXPECT_EQ(limit.evicted(), 4u);
  EXPECT_EQ(limit.open(make_address("192.0.2.1")), 3u);
}

TEST(ConnectionLimitTest, ConnectionsNotServedYetMakeRoomBeforeKeptAliveOnes) {
  using Standing = internal::ConnectionLimit::Standing;
  internal::ConnectionLimit limit(3);
  std::vector<int> closed;
  std::vector<std::optional<internal::ConnectionLimit::Slot>> slots;
  for (int i = 0; i < 3; ++i) {
    slots.push_back(limit.acquire(make_address("192.0.2.1")));
    ASSERT_TRUE(slots.back());
    slots.back()->onEvict([&closed, i] { closed.push_back(i); });
  }
  EXPECT_TRUE(slots[0]->standing(Standing::kKeptAlive));  // the oldest, but a served client's
  EXPECT_TRUE(slots[1]->standing(Standing::kKeptAlive));
  // Slot 2 (a failed login held back, or a slowloris) goes first although it is the newest.
  auto s3 = limit.acquire(make_address("192.0.2.1"));
  ASSERT_TRUE(s3);
  EXPECT_EQ(closed, std::vector<int>{2});
  EXPECT_TRUE(s3->standing(Standing::kBusy));
  // With none waiting, the oldest kept alive makes room.
  auto s4 = limit.acquire(make_address("192.0.2.1"));
  ASSERT_TRUE(s4);
  EXPECT_EQ(closed, (std::vector<int>{2, 0}));
}

}  // namespace
}  // namespace api
