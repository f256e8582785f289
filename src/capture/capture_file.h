// Reads the frames of a pcap or pcapng capture, mapped into memory: next() hands out views into
// the mapping, so a frame costs a header decode and no copy. A truncated or corrupt file ends
// the frames early and error() says where and why; everything before that point is valid.
//
//   auto file = capture::CaptureFile::open("call.pcapng");
//   if (!file) return fail(file.error().reason);
//   capture::Frame f;
//   while ((*file)->next(f)) decoder.onFrame(f);
//   if ((*file)->error()) report((*file)->error()->reason);
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capture/packet.h"
#include "capture/report.h"
#include "common/result.h"

namespace capture {

enum class CaptureFormat { kPcap, kPcapng };

class CaptureFile {
 public:
  // Maps the file (falls back to reading it when it cannot be mapped, e.g. a pipe). Fails
  // when the file cannot be read or does not start with a pcap or pcapng header.
  static common::Result<std::unique_ptr<CaptureFile>> open(const std::string& path);
  // The same over bytes in memory (tests, fuzzing); the bytes are copied.
  static common::Result<std::unique_ptr<CaptureFile>> fromBuffer(std::string_view bytes);

  ~CaptureFile();
  CaptureFile(const CaptureFile&) = delete;
  CaptureFile& operator=(const CaptureFile&) = delete;

  // The next frame; its data stays valid until the following call. False at the end of the
  // file, or at the first record that cannot be read (then error() is set).
  bool next(Frame& out);
  // After next() returned false: nullopt for a clean end, else where the file went bad.
  const std::optional<CaptureError>& error() const { return error_; }

  uint64_t size() const { return size_; }
  uint64_t offset() const { return pos_; }  // of the next record
  uint64_t frames() const { return frames_; }
  CaptureFormat format() const { return format_; }
  // Of the file (pcap) or of the first interface of the first section (pcapng); 0 when a
  // pcapng file describes no interface before its first packet.
  uint32_t linkType() const { return first_link_type_; }
  uint32_t snaplen() const { return first_snaplen_; }

 private:
  struct Interface {
    uint32_t link_type = 0;
    uint32_t snaplen = 0;
    bool binary_resolution = false;  // if_tsresol: 2^-exponent, else 10^-exponent
    uint8_t exponent = 6;
    int64_t offset_ns = 0;  // if_tsoffset
    int64_t toNanoseconds(uint64_t ticks) const;
  };

  CaptureFile() = default;
  static common::Result<std::unique_ptr<CaptureFile>> start(std::unique_ptr<CaptureFile> file);
  common::Status readFileHeader();
  bool nextPcap(Frame& out);
  bool nextPcapng(Frame& out);
  // Checks the framing of the block at `at` (lengths, and the byte order of a section
  // header); false with error_ set when it is bad.
  bool checkBlock(uint64_t at, uint32_t& type, uint32_t& len);
  // Parse one block's body: false (with error_ set) when it is bad.
  bool readSectionHeader(uint64_t at, uint32_t length);
  bool readInterface(uint64_t at, const uint8_t* body, uint32_t body_len);
  bool fail(uint64_t at, std::string reason);
  void releaseConsumed();
  uint32_t u32(const uint8_t* p) const;
  uint16_t u16(const uint8_t* p) const;

  // The bytes: a private read-only mapping, or owned_ for buffers and unmappable files.
  const uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  void* map_ = nullptr;
  std::string owned_;
  uint64_t released_ = 0;

  CaptureFormat format_ = CaptureFormat::kPcap;
  bool big_endian_ = false;  // of the file (pcap) or of the current section (pcapng)
  uint64_t pos_ = 0;
  uint64_t frames_ = 0;
  bool done_ = false;
  std::optional<CaptureError> error_;

  // pcap
  uint32_t record_header_ = 16;  // 24 in the "modified" (Kuznetzov) format
  uint32_t frac_to_ns_ = 1000;   // 1000 for microsecond files, 1 for nanosecond ones
  uint32_t link_type_ = 0;
  // pcapng
  std::vector<Interface> interfaces_;
  int64_t last_time_ns_ = 0;  // simple packet blocks carry no time: they get the previous one

  uint32_t first_link_type_ = 0;
  uint32_t first_snaplen_ = 0;
};

}  // namespace capture
