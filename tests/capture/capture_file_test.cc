#include "capture/capture_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "capture/pcap_writer.h"
#include "packet_builder.h"

namespace capture {
namespace {

using namespace capture::testing;

std::unique_ptr<CaptureFile> load(const std::string& bytes) {
  auto file = CaptureFile::fromBuffer(bytes);
  EXPECT_TRUE(file.has_value()) << (file ? "" : file.error().reason);
  return file ? std::move(*file) : nullptr;
}

std::vector<Frame> readAll(CaptureFile& file) {
  std::vector<Frame> out;
  Frame f;
  while (file.next(f)) out.push_back(f);
  return out;
}

std::string tempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("sb_capture_" + std::to_string(getpid()) + "_" + name))
      .string();
}

TEST(CaptureFileTest, PcapInEveryByteOrderAndResolution) {
  for (bool be : {false, true}) {
    for (bool nano : {false, true}) {
      SCOPED_TRACE(std::string(be ? "big" : "little") + (nano ? " ns" : " us"));
      const std::string bytes =
          pcapFile(be, nano, 1, {{1700000000, 250, "abcd", 60}, {1700000001, 7, "xy"}});
      auto file = load(bytes);
      ASSERT_TRUE(file);
      EXPECT_EQ(file->format(), CaptureFormat::kPcap);
      EXPECT_EQ(file->linkType(), 1u);
      EXPECT_EQ(file->snaplen(), 65535u);
      EXPECT_EQ(file->size(), bytes.size());
      auto frames = readAll(*file);
      ASSERT_EQ(frames.size(), 2u);
      EXPECT_EQ(frames[0].number, 1u);
      EXPECT_EQ(frames[0].time_ns, 1700000000LL * 1000000000 + (nano ? 250 : 250000));
      EXPECT_EQ(frames[0].link_type, 1u);
      EXPECT_EQ(frames[0].wire_length, 60u);
      EXPECT_EQ(frames[0].file_offset, 24u);
      EXPECT_EQ(frames[0].data, "abcd");
      EXPECT_EQ(frames[1].number, 2u);
      EXPECT_EQ(frames[1].time_ns, 1700000001LL * 1000000000 + (nano ? 7 : 7000));
      EXPECT_EQ(frames[1].wire_length, 2u);
      EXPECT_EQ(frames[1].file_offset, 24u + 16 + 4);
      EXPECT_EQ(frames[1].data, "xy");
      EXPECT_FALSE(file->error().has_value());
      EXPECT_EQ(file->offset(), bytes.size());
      EXPECT_EQ(file->frames(), 2u);
      Frame f;
      EXPECT_FALSE(file->next(f));  // stays at the end
    }
  }
}

TEST(CaptureFileTest, PcapLinkTypeDropsFcsBits) {
  auto file = load(pcapFile(false, false, 0x10000000 | 113, {{1, 0, "z"}}));
  ASSERT_TRUE(file);
  EXPECT_EQ(file->linkType(), 113u);
  Frame f;
  ASSERT_TRUE(file->next(f));
  EXPECT_EQ(f.link_type, 113u);
}

TEST(CaptureFileTest, PcapngSectionsInterfacesAndBlocks) {
  // Section 1, little-endian: Ethernet at microseconds (default), raw IP at nanoseconds, an
  // unknown block to skip, an obsolete packet block.
  std::string bytes = sectionHeader(false);
  bytes += interfaceBlock(false, 1, 65535);
  bytes += interfaceBlock(false, 101, 128, 9);
  bytes += enhancedPacket(false, 0, 1700000000123456ull, "first", 100);
  bytes += pcapngBlock(false, 0x00000bad, "whatever this is");
  bytes += enhancedPacket(false, 1, 1700000000123456789ull, "second");
  bytes += obsoletePacket(false, 0, 1700000001000000ull, "third");
  const uint64_t section2 = bytes.size();
  // Section 2, big-endian: Linux cooked at 2^-10 s, and a simple packet cut to the snaplen.
  bytes += sectionHeader(true);
  bytes += interfaceBlock(true, 113, 4, 0x80 | 10);
  bytes += enhancedPacket(true, 0, 3ull * 1024 + 512, "fourth");
  const uint64_t simple = bytes.size();
  bytes += simplePacket(true, 10, "0123456789");

  auto file = load(bytes);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->format(), CaptureFormat::kPcapng);
  EXPECT_EQ(file->linkType(), 1u);
  EXPECT_EQ(file->snaplen(), 65535u);
  auto frames = readAll(*file);
  EXPECT_FALSE(file->error().has_value()) << file->error()->reason;
  ASSERT_EQ(frames.size(), 5u);

  EXPECT_EQ(frames[0].number, 1u);
  EXPECT_EQ(frames[0].link_type, 1u);
  EXPECT_EQ(frames[0].time_ns, 1700000000123456000LL);
  EXPECT_EQ(frames[0].wire_length, 100u);
  EXPECT_EQ(frames[0].data, "first");

  EXPECT_EQ(frames[1].link_type, 101u);
  EXPECT_EQ(frames[1].time_ns, 1700000000123456789LL);
  EXPECT_EQ(frames[1].data, "second");

  EXPECT_EQ(frames[2].link_type, 1u);
  EXPECT_EQ(frames[2].time_ns, 1700000001000000000LL);
  EXPECT_EQ(frames[2].data, "third");

  EXPECT_EQ(frames[3].number, 4u);
  EXPECT_EQ(frames[3].link_type, 113u);
  EXPECT_EQ(frames[3].time_ns, 3500000000LL);  // 3.5 s in 1/1024 s ticks
  EXPECT_EQ(frames[3].data, "fourth");
  EXPECT_GT(frames[3].file_offset, section2);

  // No timestamp in a simple packet block: it carries the previous frame's.
  EXPECT_EQ(frames[4].file_offset, simple);
  EXPECT_EQ(frames[4].link_type, 113u);
  EXPECT_EQ(frames[4].time_ns, 3500000000LL);
  EXPECT_EQ(frames[4].wire_length, 10u);
  EXPECT_EQ(frames[4].data, "0123");
  EXPECT_EQ(file->offset(), bytes.size());
}

TEST(CaptureFileTest, PcapngWithoutInterfaceBeforePacketIsAnError) {
  std::string bytes = sectionHeader(false);
  const uint64_t at = bytes.size();
  bytes += enhancedPacket(false, 0, 1, "x");
  auto file = load(bytes);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->linkType(), 0u);
  EXPECT_TRUE(readAll(*file).empty());
  ASSERT_TRUE(file->error().has_value());
  EXPECT_EQ(file->error()->offset, at);
  EXPECT_EQ(file->error()->frame, 0u);
  EXPECT_EQ(file->error()->reason, "packet block refers to interface 0 but the section has 0");
}

TEST(CaptureFileTest, TruncatedPcapRecord) {
  std::string frame(1514, 'a');
  std::string bytes = pcapFile(false, false, 1, {{1, 0, "ok"}, {2, 0, frame}});
  const uint64_t second = 24 + 16 + 2;
  bytes.resize(second + 16 + 300);
  auto file = load(bytes);
  ASSERT_TRUE(file);
  auto frames = readAll(*file);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].data, "ok");
  ASSERT_TRUE(file->error().has_value());
  EXPECT_EQ(file->error()->offset, second);
  EXPECT_EQ(file->error()->frame, 1u);
  EXPECT_EQ(file->error()->reason, "truncated record: header says 1514 octets, 300 left");
  Frame f;
  EXPECT_FALSE(file->next(f));
}

TEST(CaptureFileTest, TruncatedPcapRecordHeader) {
  std::string bytes = pcapFile(true, true, 1, {{1, 0, "ok"}, {2, 0, "gone"}});
  bytes.resize(24 + 16 + 2 + 10);
  auto file = load(bytes);
  ASSERT_TRUE(file);
  EXPECT_EQ(readAll(*file).size(), 1u);
  ASSERT_TRUE(file->error().has_value());
  EXPECT_EQ(file->error()->offset, 42u);
  EXPECT_EQ(file->error()->reason, "truncated record header: 10 octets left, 16 needed");
}

TEST(CaptureFileTest, ImplausibleRecordLength) {
  Bytes b(false);
  b.raw(pcapFile(false, false, 1, {})).u32(1).u32(0).u32(0xfffffff0).u32(60).raw("abc");
  auto file = load(b.str());
  ASSERT_TRUE(file);
  EXPECT_TRUE(readAll(*file).empty());
  ASSERT_TRUE(file->error().has_value());
  EXPECT_EQ(file->error()->offset, 24u);
  EXPECT_EQ(file->error()->reason,
            "corrupt record: captured length 4294967280 exceeds 67108864 octets");
}

TEST(CaptureFileTest, CorruptPcapngBlockLength) {
  std::string good =
      sectionHeader(false) + interfaceBlock(false, 1, 0) + enhancedPacket(false, 0, 5, "one");
  {
    // A length that is not a multiple of four.
    Bytes bad(false);
    bad.u32(6).u32(13).u32(0);
    auto file = load(good + bad.str());
    ASSERT_TRUE(file);
    EXPECT_EQ(readAll(*file).size(), 1u);
    ASSERT_TRUE(file->error().has_value());
    EXPECT_EQ(file->error()->offset, good.size());
    EXPECT_EQ(file->error()->frame, 1u);
    EXPECT_EQ(file->error()->reason,
              "corrupt block: length 13 (type 0x00000006) is not a multiple of 4 of at least 12");
  }
  {
    // Leading and trailing lengths disagree.
    std::string block = enhancedPacket(false, 0, 6, "two");
    block[block.size() - 4] = char(block[block.size() - 4] + 4);
    auto file = load(good + block);
    ASSERT_TRUE(file);
    EXPECT_EQ(readAll(*file).size(), 1u);
    ASSERT_TRUE(file->error().has_value());
    EXPECT_EQ(file->error()->offset, good.size());
    EXPECT_EQ(file->error()->reason,
              "corrupt block: trailing length 40 differs from leading length 36");
  }
  {
    // The file ends inside a block.
    std::string block = enhancedPacket(false, 0, 6, "two");
    auto file = load(good + block.substr(0, 20));
    ASSERT_TRUE(file);
    EXPECT_EQ(readAll(*file).size(), 1u);
    ASSERT_TRUE(file->error().has_value());
    EXPECT_EQ(file->error()->offset, good.size());
    EXPECT_EQ(file->error()->reason, "truncated block: header says 36 octets, 20 left");
  }
  {
    // Captured length larger than the block.
    Bytes body(false);
    body.u32(0).u32(0).u32(0).u32(1000).u32(1000).raw("abcd");
    auto file = load(good + pcapngBlock(false, 6, body.str()));
    ASSERT_TRUE(file);
    EXPECT_EQ(readAll(*file).size(), 1u);
    ASSERT_TRUE(file->error().has_value());
    EXPECT_EQ(file->error()->offset, good.size());
    EXPECT_EQ(file->error()->reason,
              "corrupt enhanced packet block: captured length 1000 exceeds the 4 octets of the "
              "block");
  }
  {
    // A few stray octets after the last block.
    auto file = load(good + "abc");
    ASSERT_TRUE(file);
    EXPECT_EQ(readAll(*file).size(), 1u);
    ASSERT_TRUE(file->error().has_value());
    EXPECT_EQ(file->error()->offset, good.size());
    EXPECT_EQ(file->error()->reason, "truncated block header: 3 octets left, 12 needed");
  }
}

TEST(CaptureFileTest, NotACapture) {
  auto text = CaptureFile::fromBuffer("INVITE sip:bob@example.com SIP/2.0\r\n");
  ASSERT_FALSE(text.has_value());
  EXPECT_EQ(text.error().reason, "not a pcap or pcapng file (magic 0x494e5649)");
  auto tiny = CaptureFile::fromBuffer("ab");
  ASSERT_FALSE(tiny.has_value());
  EXPECT_EQ(tiny.error().reason, "not a pcap or pcapng file: only 2 octets");
  auto header = CaptureFile::fromBuffer(pcapFile(false, false, 1, {}).substr(0, 20));
  ASSERT_FALSE(header.has_value());
  EXPECT_EQ(header.error().reason, "truncated pcap file header: 24 octets needed, 20 present");
  std::string shb = sectionHeader(false);
  shb[8] = 'X';  // byte-order magic
  auto ng = CaptureFile::fromBuffer(shb);
  ASSERT_FALSE(ng.has_value());
  EXPECT_EQ(ng.error().reason,
            "corrupt section header block: byte-order magic 0x583c2b1a at offset 0");
  auto missing = CaptureFile::open("/nonexistent/sb/capture.pcap");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, common::ErrorCode::kIo);
  EXPECT_EQ(missing.error().reason,
            "cannot open /nonexistent/sb/capture.pcap: No such file or directory");
}

TEST(CaptureFileTest, OpenMapsAFile) {
  const std::string path = tempPath("mapped.pcapng");
  const std::string bytes = sectionHeader(true) + interfaceBlock(true, 276, 2000, 3) +
                            enhancedPacket(true, 0, 42, "payload");
  {
    std::ofstream out(path, std::ios::binary);
    out << bytes;
  }
  auto file = CaptureFile::open(path);
  ASSERT_TRUE(file.has_value()) << file.error().reason;
  EXPECT_EQ((*file)->linkType(), 276u);
  EXPECT_EQ((*file)->snaplen(), 2000u);
  Frame f;
  ASSERT_TRUE((*file)->next(f));
  EXPECT_EQ(f.time_ns, 42000000);  // milliseconds
  EXPECT_EQ(f.data, "payload");
  EXPECT_FALSE((*file)->next(f));
  EXPECT_FALSE((*file)->error().has_value());
  std::filesystem::remove(path);
}

TEST(CaptureFileTest, WriterRoundTrip) {
  const std::string path = tempPath("written.pcap");
  {
    auto w = PcapWriter::create(path, 113, 8);
    ASSERT_TRUE(w.has_value()) << w.error().reason;
    Frame a;
    a.time_ns = 1700000000123456789LL;
    a.wire_length = 5;
    a.data = "hello";
    Frame b;
    b.time_ns = 1700000001000000001LL;
    b.wire_length = 1500;
    b.data = "longer than eight";
    ASSERT_TRUE((*w)->write(a));
    ASSERT_TRUE((*w)->write(b));
    EXPECT_EQ((*w)->frames(), 2u);
    ASSERT_TRUE((*w)->close());
  }
  {
    // Reopened for appending: the header's link type and snaplen hold.
    auto w = PcapWriter::append(path);
    ASSERT_TRUE(w.has_value()) << w.error().reason;
    EXPECT_EQ((*w)->linkType(), 113u);
    EXPECT_EQ((*w)->snaplen(), 8u);
    Frame c;
    c.time_ns = 5;
    c.data = "third";
    ASSERT_TRUE((*w)->write(c));
    ASSERT_TRUE((*w)->close());
  }
  auto file = CaptureFile::open(path);
  ASSERT_TRUE(file.has_value()) << file.error().reason;
  EXPECT_EQ((*file)->linkType(), 113u);
  EXPECT_EQ((*file)->snaplen(), 8u);
  auto frames = readAll(**file);
  EXPECT_FALSE((*file)->error().has_value());
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[2].time_ns, 5);
  EXPECT_EQ(frames[2].wire_length, 5u);
  EXPECT_EQ(frames[2].data, "third");
  EXPECT_EQ(frames[0].time_ns, 1700000000123456789LL);
  EXPECT_EQ(frames[0].wire_length, 5u);
  EXPECT_EQ(frames[0].data, "hello");
  EXPECT_EQ(frames[0].link_type, 113u);
  EXPECT_EQ(frames[1].time_ns, 1700000001000000001LL);
  EXPECT_EQ(frames[1].wire_length, 1500u);
  EXPECT_EQ(frames[1].data, "longer t");
  std::filesystem::remove(path);

  auto bad = PcapWriter::create("/nonexistent/sb/out.pcap", 1);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, common::ErrorCode::kIo);
  const std::string micro = tempPath("micro.pcap");
  {
    std::ofstream out(micro, std::ios::binary);
    out << pcapFile(false, false, 1, {});
  }
  auto wrong = PcapWriter::append(micro);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().reason,
            "cannot append to " + micro + ": not a little-endian nanosecond pcap file");
  std::filesystem::remove(micro);
}

// Frame counts of the sample captures, from `tshark -r FILE | wc -l` (tshark 4.0.17), and the
// epoch time of each first frame from `tshark -r FILE -c 1 -T fields -e frame.time_epoch`.
TEST(CaptureFileTest, SampleCapturesMatchTshark) {
  const std::filesystem::path dir = std::filesystem::path(SB_TESTDATA_DIR) / "pcaps";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << dir << " is absent";
  const std::map<std::string, uint64_t> expected = {
      {"heplify_FAX-Call-t38-CA-TDM-SIP-FB-1.pcap", 7217},
      {"heplify_erspan_sip_ipv4_udp.pcapng", 140},
      {"heplify_rtp_rtcp_sip.pcap", 4269},
      {"heplify_sip_ipv4_tcp.pcap", 84},
      {"heplify_sip_ipv4_tcp_retrans_register401.pcap", 196},
      {"heplify_sip_ipv6.pcap", 6},
      {"heplify_sip_sctp_403.pcap", 5},
      {"heplify_sip_tcp_websocket.pcap", 61},
      {"pkts_cancel.pcap", 7},
      {"pkts_sip_rtp.pcap", 507},
      {"pkts_sipp.pcap", 30},
      {"sipp_dtmf_2833_1.pcap", 10},
      {"sipp_dtmf_2833_pound.pcap", 10},
      {"sipp_g711a.pcap", 236},
      {"sngrep_aaa.pcap", 691},
      {"sngrep_ipv6frag.pcap", 34},
  };
  size_t seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (!name.ends_with(".pcap") && !name.ends_with(".pcapng")) continue;
    SCOPED_TRACE(name);
    auto it = expected.find(name);
    ASSERT_NE(it, expected.end()) << "a new capture: add its tshark frame count";
    auto file = CaptureFile::open(entry.path().string());
    ASSERT_TRUE(file.has_value()) << file.error().reason;
    Frame f;
    uint64_t frames = 0, last = 0;
    while ((*file)->next(f)) {
      ++frames;
      EXPECT_EQ(f.number, ++last);
      EXPECT_LE(f.data.size(), f.wire_length);
    }
    EXPECT_FALSE((*file)->error().has_value()) << (*file)->error()->reason;
    EXPECT_EQ(frames, it->second);
    EXPECT_EQ((*file)->offset(), (*file)->size());
    ++seen;
  }
  EXPECT_EQ(seen, expected.size());

  auto erspan = CaptureFile::open((dir / "heplify_erspan_sip_ipv4_udp.pcapng").string());
  ASSERT_TRUE(erspan.has_value());
  Frame f;
  ASSERT_TRUE((*erspan)->next(f));
  EXPECT_EQ(f.time_ns, 1526006114962510000LL);
  EXPECT_EQ(f.link_type, 1u);
  EXPECT_EQ(f.data.size(), 759u);
  auto sll = CaptureFile::open((dir / "sngrep_ipv6frag.pcap").string());
  ASSERT_TRUE(sll.has_value());
  EXPECT_EQ((*sll)->linkType(), 113u);
}

}  // namespace
}  // namespace capture
