// The decoders over the sample captures of ../shared/testdata/pcaps: every SIP message tshark
// finds is found, in the frame tshark reports it (for TCP: the frame whose segment completes
// the message; for fragmented IP and SCTP: the last piece).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "capture/capture_file.h"
#include "capture/decoder.h"
#include "sip/framer.h"

namespace capture {
namespace {

bool looksLikeSip(std::string_view s) {
  if (s.starts_with("SIP/2.0 ")) return true;
  const size_t eol = s.find("\r\n");
  if (eol == std::string_view::npos) return false;
  return s.substr(0, eol).ends_with(" SIP/2.0") && s.find(' ') < eol;
}

// Finds SIP messages the way the analyzer does: datagrams, SCTP and WebSocket messages are
// one message each; TCP bytes are framed per direction with sip::StreamFramer.
class SipFinder : public PayloadSink {
 public:
  void onPayload(const Payload& p) override {
    ++payloads[p.transport];
    if (p.transport != Transport::kTcp) {
      if (looksLikeSip(p.bytes)) frames.push_back(p.frame);
      return;
    }
    const std::string key = p.src.toString() + ">" + p.dst.toString();
    auto& framer = framers_[key];
    framer.append(p.bytes);
    for (;;) {
      auto f = framer.next();
      if (!f) {
        if (f.error().code != common::ErrorCode::kIncomplete) framers_.erase(key);
        break;
      }
      if (f->kind == sip::FrameKind::kMessage && looksLikeSip(f->bytes)) {
        frames.push_back(p.frame);
      }
    }
  }
  void onStreamClosed(const Endpoint& a, const Endpoint& b) override {
    ++closed;
    framers_.erase(a.toString() + ">" + b.toString());
    framers_.erase(b.toString() + ">" + a.toString());
  }

  std::vector<uint64_t> frames;
  std::map<Transport, uint64_t> payloads;
  uint64_t closed = 0;

 private:
  std::map<std::string, sip::StreamFramer> framers_;
};

// "Number of SIP messages: N" of F.sip_stat.txt.
int tsharkMessageCount(const std::filesystem::path& capture) {
  std::ifstream in(capture.string() + ".sip_stat.txt");
  std::string line;
  const std::string label = "Number of SIP messages: ";
  while (std::getline(in, line)) {
    if (auto at = line.find(label); at != std::string::npos) {
      return std::stoi(line.substr(at + label.size()));
    }
  }
  return -1;
}

// The frame of each SIP message in F.sip_messages.txt (a frame with several messages lists
// their CSeqs comma-separated).
std::vector<uint64_t> tsharkMessageFrames(const std::filesystem::path& capture) {
  std::ifstream in(capture.string() + ".sip_messages.txt");
  std::string line;
  std::getline(in, line);  // header
  std::vector<uint64_t> out;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, '\t')) fields.push_back(field);
    if (fields.size() < 8) continue;
    const auto messages = 1 + std::count(fields[7].begin(), fields[7].end(), ',');
    for (long i = 0; i < messages; ++i) out.push_back(std::stoull(fields[0]));
  }
  return out;
}

TEST(DecodeSamplesTest, SipMessagesWhereTsharkFindsThem) {
  const std::filesystem::path dir = std::filesystem::path(SB_TESTDATA_DIR) / "pcaps";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << dir << " is absent";
  std::vector<std::filesystem::path> captures;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".pcap") || name.ends_with(".pcapng")) captures.push_back(entry.path());
  }
  std::sort(captures.begin(), captures.end());
  ASSERT_GE(captures.size(), 16u);
  for (const auto& path : captures) {
    SCOPED_TRACE(path.filename().string());
    auto file = CaptureFile::open(path.string());
    ASSERT_TRUE(file.has_value()) << file.error().reason;
    SipFinder finder;
    Decoder decoder(finder);
    Frame f;
    while ((*file)->next(f)) decoder.onFrame(f);
    decoder.finish();
    EXPECT_FALSE((*file)->error().has_value());
    const int expected = tsharkMessageCount(path);
    ASSERT_GE(expected, 0) << "no sip_stat.txt";
    EXPECT_EQ(int(finder.frames.size()), expected);
    auto want = tsharkMessageFrames(path);
    auto got = finder.frames;
    std::sort(want.begin(), want.end());
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, want);
    EXPECT_EQ(decoder.stats().malformed(), 0u);
  }
}

// What each layer delivered for the captures that exercise it.
TEST(DecodeSamplesTest, LayersOfTheTunnelledAndStreamCaptures) {
  const std::filesystem::path dir = std::filesystem::path(SB_TESTDATA_DIR) / "pcaps";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << dir << " is absent";
  auto run = [&](const char* name, SipFinder& finder) {
    auto file = CaptureFile::open((dir / name).string());
    EXPECT_TRUE(file.has_value());
    Decoder decoder(finder);
    Frame f;
    while (file && (*file)->next(f)) decoder.onFrame(f);
    decoder.finish();
    return decoder.stats();
  };
  {
    SipFinder finder;
    auto s = run("heplify_sip_tcp_websocket.pcap", finder);
    EXPECT_EQ(s.websocket_messages, 11u);  // frames 11 13 15 18 19 24 34 46 49 52 56
    EXPECT_EQ(finder.payloads[Transport::kWebSocket], 11u);
    EXPECT_EQ(s.tcp_flows, 1u);
    EXPECT_EQ(finder.closed, 1u);
  }
  {
    SipFinder finder;
    auto s = run("heplify_sip_sctp_403.pcap", finder);
    EXPECT_EQ(s.sctp_messages, 4u);
    EXPECT_EQ(s.sctp_fragments_dropped, 0u);
  }
  {
    SipFinder finder;
    auto s = run("sngrep_ipv6frag.pcap", finder);
    EXPECT_GT(s.ip_reassembled, 0u);
    EXPECT_EQ(s.ip_datagrams_incomplete, 0u);
  }
  {
    SipFinder finder;
    auto s = run("heplify_sip_ipv4_tcp_retrans_register401.pcap", finder);
    EXPECT_GE(s.tcp_retransmissions, 1u);
  }
  {
    SipFinder finder;
    auto s = run("heplify_erspan_sip_ipv4_udp.pcapng", finder);
    EXPECT_EQ(s.udp_datagrams, 140u);
  }
}

}  // namespace
}  // namespace capture
