// A mono 8 kHz 16-bit PCM WAV file (RIFF/WAVE, little-endian), written as samples arrive;
// the RIFF and data sizes are patched when the file is closed. Used by
// `switchboard pcap split --audio` for the decoded G.711 streams of a call.
//
//   auto wav = media::WavWriter::create(dir + "/leg1.wav");
//   if (!wav) return fail(wav.error().reason);
//   wav->write(pcm, 160);
//   if (auto st = wav->close(); !st) return fail(st.error().reason);
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "common/result.h"

namespace media {

class WavWriter {
 public:
  static constexpr uint32_t kSampleRate = 8000;

  // Creates (or truncates) the file and writes a header for an empty stream.
  static common::Result<WavWriter> create(const std::string& path);

  WavWriter(WavWriter&&) noexcept = default;
  WavWriter& operator=(WavWriter&&) noexcept = default;
  ~WavWriter();  // closes (and patches the header) if close() was not called

  common::Status write(const int16_t* samples, size_t n);
  // `n` samples of silence (a gap in the stream).
  common::Status writeSilence(size_t n);
  common::Status close();

  uint64_t samples() const { return samples_; }
  const std::string& path() const { return path_; }

 private:
  struct FileCloser {
    void operator()(std::FILE* f) const;
  };
  WavWriter(std::string path, std::FILE* f) : path_(std::move(path)), file_(f) {}
  common::Status fail(const char* what);

  std::string path_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  uint64_t samples_ = 0;
};

}  // namespace media
