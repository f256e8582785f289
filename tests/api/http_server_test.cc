// The HTTP server on a real loopback socket: RFC 9112 request framing (Transfer-Encoding),
// and the framing rule alone.
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

#include "api/internal/transfer_coding.h"

namespace api {
namespace {

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

  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
  std::atomic<int> handled_{0};
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

}  // namespace
}  // namespace api
