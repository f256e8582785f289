// Writes frames to a classic pcap file (nanosecond timestamps), as `switchboard pcap split`
// stores one capture per call. Writes are buffered; close() flushes and reports the outcome.
//
//   auto out = capture::PcapWriter::create("call-1.pcap", file.linkType(), file.snaplen());
//   if (!out) return fail(out.error().reason);
//   (*out)->write(frame);
//   if (auto st = (*out)->close(); !st) fail(st.error().reason);
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "capture/packet.h"
#include "common/result.h"

namespace capture {

class PcapWriter {
 public:
  // Creates (truncates) `path` and writes the file header. A snaplen of 0 means 262144.
  static common::Result<std::unique_ptr<PcapWriter>> create(const std::string& path,
                                                            uint32_t link_type,
                                                            uint32_t snaplen = 262144);
  // Reopens a file this writer created (little-endian, nanosecond) to add records at its
  // end, keeping its link type and snaplen; `split` closes and reopens per-call files.
  static common::Result<std::unique_ptr<PcapWriter>> append(const std::string& path);
  ~PcapWriter();  // closes without reporting errors; call close() to see them
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // Appends one record; frames longer than the snaplen are cut to it (their wire length
  // stays). The frame's link type is not checked: a pcap file has one.
  common::Status write(const Frame& frame);
  common::Status close();

  uint64_t frames() const { return frames_; }  // written by this writer
  uint32_t linkType() const { return link_type_; }
  uint32_t snaplen() const { return snaplen_; }

 private:
  PcapWriter(int fd, std::string path, uint32_t link_type, uint32_t snaplen);
  common::Status flush();
  common::Status ioError(const char* what, int err);

  int fd_ = -1;
  std::string path_;
  uint32_t link_type_;
  uint32_t snaplen_;
  std::string buf_;
  uint64_t frames_ = 0;
};

}  // namespace capture
