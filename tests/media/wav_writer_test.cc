#include "media/wav_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
uint32_t le32(const std::string& s, size_t at) {
  return uint32_t(uint8_t(s[at])) | uint32_t(uint8_t(s[at + 1])) << 8 |
         uint32_t(uint8_t(s[at + 2])) << 16 | uint32_t(uint8_t(s[at + 3])) << 24;
}
uint16_t le16(const std::string& s, size_t at) {
  return uint16_t(uint8_t(s[at]) | uint8_t(s[at + 1]) << 8);
}

std::string tempPath(const char* name) {
  return std::string(::testing::TempDir()) + name + std::to_string(::getpid()) + ".wav";
}

TEST(WavWriter, WritesAMono8kHzPcmFile) {
  const std::string path = tempPath("wav_writer_test");
  {
    auto w = media::WavWriter::create(path);
    ASSERT_TRUE(w.has_value()) << w.error().reason;
    const int16_t samples[] = {0, 1, -1, 32767, -32768};
    ASSERT_TRUE(w->write(samples, 5).has_value());
    ASSERT_TRUE(w->writeSilence(3).has_value());
    EXPECT_EQ(w->samples(), 8u);
    ASSERT_TRUE(w->close().has_value());
    EXPECT_FALSE(w->write(samples, 1).has_value());  // closed
  }
  const std::string f = readFile(path);
  ASSERT_EQ(f.size(), 44u + 16u);
  EXPECT_EQ(f.substr(0, 4), "RIFF");
  EXPECT_EQ(le32(f, 4), 36u + 16u);
  EXPECT_EQ(f.substr(8, 8), "WAVEfmt ");
  EXPECT_EQ(le32(f, 16), 16u);
  EXPECT_EQ(le16(f, 20), 1);      // PCM
  EXPECT_EQ(le16(f, 22), 1);      // mono
  EXPECT_EQ(le32(f, 24), 8000u);  // sample rate
  EXPECT_EQ(le32(f, 28), 16000u);
  EXPECT_EQ(le16(f, 32), 2);
  EXPECT_EQ(le16(f, 34), 16);
  EXPECT_EQ(f.substr(36, 4), "data");
  EXPECT_EQ(le32(f, 40), 16u);
  EXPECT_EQ(int16_t(le16(f, 44 + 2 * 2)), -1);
  EXPECT_EQ(int16_t(le16(f, 44 + 2 * 3)), 32767);
  EXPECT_EQ(int16_t(le16(f, 44 + 2 * 4)), -32768);
  EXPECT_EQ(le16(f, 44 + 2 * 7), 0);
  std::remove(path.c_str());
}

TEST(WavWriter, PatchesTheHeaderWhenDestroyedUnclosed) {
  const std::string path = tempPath("wav_writer_unclosed");
  {
    auto w = media::WavWriter::create(path);
    ASSERT_TRUE(w.has_value());
    const int16_t s[2] = {5, 6};
    ASSERT_TRUE(w->write(s, 2).has_value());
  }
  const std::string f = readFile(path);
  ASSERT_EQ(f.size(), 48u);
  EXPECT_EQ(le32(f, 40), 4u);
  std::remove(path.c_str());
}

TEST(WavWriter, ReportsAFileThatCannotBeCreated) {
  auto w = media::WavWriter::create("/nonexistent-dir/x.wav");
  ASSERT_FALSE(w.has_value());
  EXPECT_NE(w.error().reason.find("/nonexistent-dir/x.wav"), std::string::npos);
}

}  // namespace
