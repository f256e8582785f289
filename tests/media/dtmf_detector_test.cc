#include "media/dtmf_detector.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "media/g711.h"

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr char kDigits[] = "123A456B789C*0#D";
constexpr double kRow[4] = {697, 770, 852, 941};
constexpr double kCol[4] = {1209, 1336, 1477, 1633};

// Peak amplitude of a sine at `dbm0` (G.711: a sine of 3.14 dBm0 reaches full scale).
double amplitude(double dbm0) {
  return 32767.0 * std::pow(10.0, (dbm0 - 3.14) / 20.0);
}

// Adds the tone pair of `digit` to samples [start, start + len) at `dbm0` per tone.
void addDigit(std::vector<int16_t>& pcm, char digit, size_t start, size_t len, double dbm0) {
  const size_t k = std::string_view(kDigits).find(digit);
  const double a = amplitude(dbm0);
  for (size_t i = start; i < start + len && i < pcm.size(); ++i) {
    const double t = double(i) / 8000.0;
    const double v =
        pcm[i] + a * std::sin(2 * kPi * kRow[k / 4] * t) + a * std::sin(2 * kPi * kCol[k % 4] * t);
    pcm[i] = int16_t(std::lround(std::clamp(v, -32768.0, 32767.0)));
  }
}

// Feeds `pcm` as 20 ms frames at positions from `base`, through G.711 A-law like a call.
std::vector<media::DtmfDigit> detect(const std::vector<int16_t>& pcm, bool gate = true,
                                     int64_t base = 0, bool alaw = true) {
  media::DtmfDetector d;
  d.setGate(gate);
  std::vector<int16_t> frame(160);
  for (size_t off = 0; off + 160 <= pcm.size(); off += 160) {
    for (size_t i = 0; i < 160; ++i) {
      frame[i] = alaw ? media::alawToLinear(media::linearToAlaw(pcm[off + i]))
                      : media::ulawToLinear(media::linearToUlaw(pcm[off + i]));
    }
    d.feed(base + int64_t(off), frame.data(), frame.size());
  }
  d.finish();
  return d.takeDigits();
}

TEST(DtmfDetector, FindsEveryDigitAtMinus10Dbm0) {
  for (char digit : std::string(kDigits)) {
    for (bool alaw : {true, false}) {
      std::vector<int16_t> pcm(8000, 0);
      addDigit(pcm, digit, 2000, 800, -10.0);  // 100 ms at 250 ms
      auto found = detect(pcm, true, 0, alaw);
      ASSERT_EQ(found.size(), 1u) << digit;
      EXPECT_EQ(found[0].digit, digit);
      // Start and duration within one analysis block (12.75 ms) of the truth.
      EXPECT_NEAR(double(found[0].start), 2000.0, 102.0) << digit;
      EXPECT_NEAR(double(found[0].duration), 800.0, 102.0) << digit;
    }
  }
}

TEST(DtmfDetector, FindsASequenceWithPositionsOnTheCallersClock) {
  std::vector<int16_t> pcm(16000, 0);
  addDigit(pcm, '1', 1600, 640, -10.0);
  addDigit(pcm, '#', 4800, 480, -10.0);
  addDigit(pcm, '1', 8000, 560, -10.0);  // the same digit again after a pause
  auto found = detect(pcm, true, 1'000'000);
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].digit, '1');
  EXPECT_EQ(found[1].digit, '#');
  EXPECT_EQ(found[2].digit, '1');
  EXPECT_NEAR(double(found[0].start), 1'001'600.0, 102.0);
  EXPECT_NEAR(double(found[1].start), 1'004'800.0, 102.0);
  EXPECT_NEAR(double(found[2].start), 1'008'000.0, 102.0);
}

TEST(DtmfDetector, NoDigitOnSilenceOrASingleTone) {
  std::vector<int16_t> silence(16000, 0);
  EXPECT_TRUE(detect(silence).empty());
  std::vector<int16_t> tone(16000);
  for (size_t i = 0; i < tone.size(); ++i) {
    tone[i] =
        int16_t(std::lround(amplitude(-10.0) * std::sin(2 * kPi * 1000.0 * double(i) / 8000.0)));
  }
  EXPECT_TRUE(detect(tone).empty());
  EXPECT_TRUE(detect(tone, false).empty());
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 3000);
  std::vector<int16_t> white(16000);
  for (auto& s : white) s = int16_t(std::clamp(noise(rng), -32768.0, 32767.0));
  EXPECT_TRUE(detect(white).empty());
}

TEST(DtmfDetector, GateChangesNoResultOnTestSignals) {
  std::mt19937 rng(11);
  std::normal_distribution<double> noise(0, 40);
  for (int trial = 0; trial < 48; ++trial) {
    std::vector<int16_t> pcm(12000, 0);
    for (auto& s : pcm) s = int16_t(std::lround(noise(rng)));
    const char digit = kDigits[trial % 16];
    const double level = -10.0 - double(trial % 4) * 8.0;  // -10 to -34 dBm0
    addDigit(pcm, digit, 1000 + size_t(trial) * 37, 400 + size_t(trial) * 11, level);
    addDigit(pcm, kDigits[(trial + 5) % 16], 7000, 480, level);
    auto gated = detect(pcm, true);
    auto full = detect(pcm, false);
    ASSERT_EQ(gated.size(), full.size()) << trial;
    ASSERT_EQ(full.size(), 2u) << trial;
    for (size_t i = 0; i < full.size(); ++i) {
      EXPECT_EQ(gated[i].digit, full[i].digit);
      EXPECT_EQ(gated[i].start, full[i].start);
      EXPECT_EQ(gated[i].duration, full[i].duration);
    }
  }
}

TEST(DtmfDetector, FillsGapsAndSkipsRepeats) {
  std::vector<int16_t> pcm(8000, 0);
  addDigit(pcm, '5', 1600, 800, -10.0);
  media::DtmfDetector d;
  // Frames in order, one repeated and one arriving late, and a 10-minute gap before the end.
  std::vector<int> order;
  for (int f = 0; f < 50; ++f) order.push_back(f);
  order.insert(order.begin() + 12, 11);  // repeat
  std::swap(order[20], order[21]);       // late frame: 20 after 21 is dropped
  for (int f : order) d.feed(int64_t(f) * 160, pcm.data() + f * 160, 160);
  std::vector<int16_t> later(pcm.begin(), pcm.end());
  std::fill(later.begin(), later.end(), 0);
  addDigit(later, '9', 800, 800, -10.0);
  const int64_t gap = 8000LL * 600;
  for (int f = 0; f < 50; ++f) d.feed(gap + int64_t(f) * 160, later.data() + f * 160, 160);
  d.finish();
  auto found = d.takeDigits();
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].digit, '5');
  EXPECT_NEAR(double(found[0].start), 1600.0, 102.0);
  EXPECT_EQ(found[1].digit, '9');
  EXPECT_NEAR(double(found[1].start), double(gap + 800), 102.0);
  EXPECT_FALSE(d.hasDigits());
}

TEST(DtmfDetector, ClosesADigitStillSoundingAtTheEnd) {
  std::vector<int16_t> pcm(4000, 0);
  addDigit(pcm, '0', 3200, 800, -10.0);  // runs to the last sample
  auto found = detect(pcm);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].digit, '0');
  EXPECT_NEAR(double(found[0].duration), 800.0, 204.0);
}

// Not a pass/fail test of speed (the sanitizer build is slow): prints the cost per 20 ms
// frame with the gate on and off, over speech-like noise, for the record.
TEST(DtmfDetector, CostPerFrame) {
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0, 2000);
  std::vector<int16_t> pcm(8000 * 20);
  double lp = 0;
  for (auto& s : pcm) {
    lp = 0.9 * lp + noise(rng);  // low-passed: energy below 1 kHz, like voiced speech
    s = int16_t(std::clamp(lp, -32768.0, 32767.0));
  }
  for (bool gate : {false, true}) {
    media::DtmfDetector d;
    d.setGate(gate);
    auto t0 = std::chrono::steady_clock::now();
    for (size_t off = 0; off + 160 <= pcm.size(); off += 160)
      d.feed(int64_t(off), pcm.data() + off, 160);
    auto t1 = std::chrono::steady_clock::now();
    const double ns =
        std::chrono::duration<double, std::nano>(t1 - t0).count() / double(pcm.size() / 160);
    std::printf("dtmf detector, gate %s: %.0f ns per 160-sample frame, %.0f%% of blocks analysed\n",
                gate ? "on" : "off", ns, 100.0 * double(d.blocksAnalysed()) / double(d.blocks()));
    EXPECT_EQ(d.blocks(), pcm.size() / media::DtmfDetector::kBlockSamples);
    EXPECT_TRUE(d.takeDigits().empty());
  }
}

}  // namespace
