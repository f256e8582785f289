#include "capture/pcap_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace capture {
namespace {

constexpr size_t kBufferSize = 256 * 1024;
constexpr uint32_t kNanosecondMagic = 0xa1b23c4d;

uint32_t getLe32(const unsigned char* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

void putLe32(std::string& out, uint32_t v) {
  const char b[4] = {char(v & 0xff), char(v >> 8 & 0xff), char(v >> 16 & 0xff),
                     char(v >> 24 & 0xff)};
  out.append(b, 4);
}

void putLe16(std::string& out, uint16_t v) {
  const char b[2] = {char(v & 0xff), char(v >> 8 & 0xff)};
  out.append(b, 2);
}

}  // namespace

PcapWriter::PcapWriter(int fd, std::string path, uint32_t link_type, uint32_t snaplen)
    : fd_(fd), path_(std::move(path)), link_type_(link_type), snaplen_(snaplen) {
  buf_.reserve(kBufferSize);
}

PcapWriter::~PcapWriter() {
  if (fd_ >= 0) (void)close();
}

common::Result<std::unique_ptr<PcapWriter>> PcapWriter::create(const std::string& path,
                                                               uint32_t link_type,
                                                               uint32_t snaplen) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return common::makeError(common::ErrorCode::kIo,
                             "cannot create " + path + ": " + std::strerror(errno));
  }
  if (snaplen == 0) snaplen = 262144;
  std::unique_ptr<PcapWriter> w(new PcapWriter(fd, path, link_type, snaplen));
  // Little-endian header with the nanosecond magic, version 2.4.
  putLe32(w->buf_, kNanosecondMagic);
  putLe16(w->buf_, 2);
  putLe16(w->buf_, 4);
  putLe32(w->buf_, 0);  // thiszone
  putLe32(w->buf_, 0);  // sigfigs
  putLe32(w->buf_, snaplen);
  putLe32(w->buf_, link_type);
  return w;
}

common::Result<std::unique_ptr<PcapWriter>> PcapWriter::append(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
  if (fd < 0) {
    return common::makeError(common::ErrorCode::kIo,
                             "cannot open " + path + ": " + std::strerror(errno));
  }
  unsigned char header[24];
  size_t got = 0;
  while (got < sizeof header) {
    ssize_t n = ::pread(fd, header + got, sizeof header - got, off_t(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += size_t(n);
  }
  if (got < sizeof header || getLe32(header) != kNanosecondMagic) {
    ::close(fd);
    return common::makeError(
        common::ErrorCode::kInvalidArgument,
        "cannot append to " + path + ": not a little-endian nanosecond pcap file");
  }
  return std::unique_ptr<PcapWriter>(
      new PcapWriter(fd, path, getLe32(header + 20), getLe32(header + 16)));
}

common::Status PcapWriter::ioError(const char* what, int err) {
  return common::makeError(common::ErrorCode::kIo,
                           std::string(what) + " " + path_ + ": " + std::strerror(err));
}

common::Status PcapWriter::write(const Frame& frame) {
  if (fd_ < 0) return common::makeError(common::ErrorCode::kIo, path_ + " is closed");
  const size_t caplen = frame.data.size() < snaplen_ ? frame.data.size() : snaplen_;
  // Times before 1970 have no pcap encoding: they are written as 0.
  const uint64_t ns = frame.time_ns < 0 ? 0 : uint64_t(frame.time_ns);
  putLe32(buf_, uint32_t(ns / 1000000000u));
  putLe32(buf_, uint32_t(ns % 1000000000u));
  putLe32(buf_, uint32_t(caplen));
  putLe32(buf_, frame.wire_length > caplen ? frame.wire_length : uint32_t(caplen));
  buf_.append(frame.data.data(), caplen);
  ++frames_;
  if (buf_.size() >= kBufferSize) return flush();
  return {};
}

common::Status PcapWriter::flush() {
  size_t done = 0;
  while (done < buf_.size()) {
    ssize_t n = ::write(fd_, buf_.data() + done, buf_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      buf_.clear();
      return ioError("cannot write", errno);
    }
    done += size_t(n);
  }
  buf_.clear();
  return {};
}

common::Status PcapWriter::close() {
  if (fd_ < 0) return {};
  common::Status st = flush();
  if (::close(fd_) != 0 && st) st = ioError("cannot close", errno);
  fd_ = -1;
  return st;
}

}  // namespace capture
