#include "media/wav_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>

namespace media {
namespace {

constexpr size_t kHeaderBytes = 44;
// The data chunk's size is a 32-bit field: stop short of 4 GiB (about 74 hours at 8 kHz).
constexpr uint64_t kMaxSamples = (0xffffffffULL - kHeaderBytes) / 2;

void put16(char* p, uint16_t v) {
  p[0] = char(v & 0xff);
  p[1] = char(v >> 8);
}
void put32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = char((v >> (8 * i)) & 0xff);
}

void header(char* h, uint32_t data_bytes) {
  std::memcpy(h, "RIFF", 4);
  put32(h + 4, 36 + data_bytes);
  std::memcpy(h + 8, "WAVEfmt ", 8);
  put32(h + 16, 16);                          // fmt chunk size
  put16(h + 20, 1);                           // PCM
  put16(h + 22, 1);                           // mono
  put32(h + 24, WavWriter::kSampleRate);      // sample rate
  put32(h + 28, WavWriter::kSampleRate * 2);  // byte rate
  put16(h + 32, 2);                           // block align
  put16(h + 34, 16);                          // bits per sample
  std::memcpy(h + 36, "data", 4);
  put32(h + 40, data_bytes);
}

}  // namespace

void WavWriter::FileCloser::operator()(std::FILE* f) const {
  if (f) std::fclose(f);
}

common::Result<WavWriter> WavWriter::create(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    return common::makeError(common::ErrorCode::kIo, path + ": " + std::strerror(errno));
  }
  WavWriter w(path, f);
  char h[kHeaderBytes];
  header(h, 0);
  if (std::fwrite(h, 1, kHeaderBytes, f) != kHeaderBytes) {
    return common::makeError(common::ErrorCode::kIo, path + ": cannot write the header");
  }
  return w;
}

WavWriter::~WavWriter() {
  if (file_) (void)close();
}

common::Status WavWriter::fail(const char* what) {
  return common::makeError(common::ErrorCode::kIo, path_ + ": " + what);
}

common::Status WavWriter::write(const int16_t* samples, size_t n) {
  if (!file_) return fail("already closed");
  if (n > kMaxSamples - samples_) return fail("longer than a WAV file can hold");
  char buf[512];
  while (n > 0) {
    const size_t take = std::min(n, sizeof buf / 2);
    for (size_t i = 0; i < take; ++i) put16(buf + 2 * i, uint16_t(samples[i]));
    if (std::fwrite(buf, 2, take, file_.get()) != take) return fail("write failed");
    samples += take;
    n -= take;
    samples_ += take;
  }
  return {};
}

common::Status WavWriter::writeSilence(size_t n) {
  static const int16_t kZeros[256] = {};
  while (n > 0) {
    const size_t take = std::min(n, std::size(kZeros));
    if (auto st = write(kZeros, take); !st) return st;
    n -= take;
  }
  return {};
}

common::Status WavWriter::close() {
  if (!file_) return {};
  char h[kHeaderBytes];
  header(h, uint32_t(samples_ * 2));
  const bool ok = std::fseek(file_.get(), 0, SEEK_SET) == 0 &&
                  std::fwrite(h, 1, kHeaderBytes, file_.get()) == kHeaderBytes;
  const bool closed = std::fclose(file_.release()) == 0;
  if (!ok || !closed) return fail("cannot finish the file");
  return {};
}

}  // namespace media
