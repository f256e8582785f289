// In-band DTMF detection (ITU-T Q.23/Q.24 tones in 8 kHz linear audio) on spandsp's receiver,
// with positions on the caller's sample clock: feed decoded G.711 frames at their RTP
// timestamp, read back each digit with the sample where it started and how long it lasted.
//
//   media::DtmfDetector detector;
//   detector.feed(rtp_ts - first_ts, pcm, 160);   // gaps are filled, repeats skipped
//   detector.finish();                             // closes a digit still sounding
//   for (const media::DtmfDigit& d : detector.takeDigits()) report(d.digit, d.start / 8);
//
// Cost: spandsp runs eight Goertzel filters per sample, about 0.9 µs per 20 ms frame. A
// gate (about 50 ns a frame) skips the 102-sample blocks that cannot hold a dual tone while
// the receiver is idle: too little energy, or a spectral centroid and spread (from the
// energy of the first and second differences) outside what two tones between 697 and
// 1633 Hz give. An idle receiver fed a block without two tones stays idle, so the digits
// found are the same with the gate on. Measured (-O2) on the G.711 audio of the sample
// captures, decoding included: 160 to 760 ns a frame with the gate (speech and silence are
// cheap; steady in-band noise and fax tones pass the gate), 930 ns without.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace media {

struct DtmfDigit {
  char digit = 0;        // 0-9 * # A-D
  int64_t start = 0;     // sample position (the caller's clock) where the tone began
  int64_t duration = 0;  // in samples
};

class DtmfDetector {
 public:
  static constexpr int kSampleRate = 8000;
  static constexpr size_t kBlockSamples = 102;  // spandsp's analysis block

  DtmfDetector();
  ~DtmfDetector();
  DtmfDetector(DtmfDetector&&) noexcept;
  DtmfDetector& operator=(DtmfDetector&&) noexcept;
  DtmfDetector(const DtmfDetector&) = delete;
  DtmfDetector& operator=(const DtmfDetector&) = delete;

  // Samples [position, position + n). A position past the end of the last call is a gap
  // (loss, silence suppression): it is heard as silence, at most one second of it. Samples
  // before the end of the last call (a late or repeated packet) are dropped.
  void feed(int64_t position, const int16_t* samples, size_t n);
  // The input has ended: a digit still sounding ends at the last sample fed.
  void finish();

  bool hasDigits() const { return !digits_.empty(); }
  // The digits completed so far, oldest first; they are removed.
  std::vector<DtmfDigit> takeDigits();

  void setGate(bool on) { gate_ = on; }                  // on by default; off to compare in tests
  uint64_t blocks() const { return blocks_; }            // analysis blocks seen
  uint64_t blocksAnalysed() const { return analysed_; }  // of which spandsp ran on

 private:
  struct Receiver;
  static void onTone(void* self, int code, int level, int delay);

  void push(const int16_t* samples, size_t n);
  void pushSilence(size_t n);
  void processBlock();

  std::unique_ptr<Receiver> rx_;
  int16_t block_[kBlockSamples] = {};
  size_t filled_ = 0;
  bool started_ = false;
  bool gate_ = true;
  int64_t next_ = 0;    // position of the next sample expected
  int64_t offset_ = 0;  // position minus the count of samples given to the receiver
  int64_t pushed_ = 0;  // samples given to the receiver (including silence fill)
  char sounding_ = 0;   // digit in progress
  int64_t sounding_start_ = 0;
  std::vector<DtmfDigit> digits_;
  uint64_t blocks_ = 0, analysed_ = 0;
};

}  // namespace media
