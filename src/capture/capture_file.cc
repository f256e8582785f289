#include "capture/capture_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "capture/internal/wire.h"

namespace capture {
namespace {

using internal::le32;

// File magics as read little-endian from the first four octets.
constexpr uint32_t kPcapMicro = 0xa1b2c3d4;
constexpr uint32_t kPcapNano = 0xa1b23c4d;
constexpr uint32_t kPcapModified = 0xa1b2cd34;  // Kuznetzov's patched libpcap: 24-octet records
constexpr uint32_t kPcapngSection = 0x0a0d0d0a;
constexpr uint32_t kByteOrderMagic = 0x1a2b3c4d;

constexpr uint32_t kBlockInterface = 1;
constexpr uint32_t kBlockPacket = 2;  // obsolete
constexpr uint32_t kBlockSimplePacket = 3;
constexpr uint32_t kBlockEnhancedPacket = 6;

// No link layer produces records this large; a length beyond it is corruption, not a frame.
constexpr uint32_t kMaxRecord = 64u << 20;
constexpr uint64_t kPrefetchAhead = 4096;
constexpr size_t kMaxInterfaces = 1u << 16;
// Mapped pages behind the reader are handed back once this much has been read, so the
// resident size of a multi-gigabyte capture stays small.
constexpr uint64_t kReleaseEvery = 32u << 20;

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

std::string num(uint64_t v) {
  return std::to_string(v);
}

uint32_t pad4(uint32_t n) {
  return (n + 3u) & ~3u;
}

}  // namespace

int64_t CaptureFile::Interface::toNanoseconds(uint64_t ticks) const {
  // Unsigned arithmetic: hostile values wrap instead of overflowing a signed integer.
  uint64_t ns;
  if (binary_resolution) {
    __extension__ using U128 = unsigned __int128;
    U128 wide = U128(ticks) * 1000000000u;
    ns = exponent >= 127 ? 0 : uint64_t(wide >> exponent);
  } else if (exponent <= 9) {
    uint64_t mul = 1;
    for (int i = exponent; i < 9; ++i) mul *= 10;
    ns = ticks * mul;
  } else {
    uint64_t div = 1;
    for (int i = 9; i < exponent && i < 29; ++i)
      div = div > UINT64_MAX / 10 ? UINT64_MAX : div * 10;
    ns = ticks / div;
  }
  return int64_t(ns + uint64_t(offset_ns));
}

CaptureFile::~CaptureFile() {
  if (map_ != nullptr) munmap(map_, size_);
}

common::Result<std::unique_ptr<CaptureFile>> CaptureFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return common::makeError(common::ErrorCode::kIo,
                             "cannot open " + path + ": " + std::strerror(errno));
  }
  std::unique_ptr<CaptureFile> file(new CaptureFile());
  struct stat st {};
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    void* map = mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (map != MAP_FAILED) {
      madvise(map, size_t(st.st_size), MADV_SEQUENTIAL);
      file->map_ = map;
      file->base_ = static_cast<const uint8_t*>(map);
      file->size_ = uint64_t(st.st_size);
    }
  }
  if (file->map_ == nullptr) {
    // Not mappable (a pipe, a character device): read it whole.
    char buf[1 << 16];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int err = errno;
        ::close(fd);
        return common::makeError(common::ErrorCode::kIo,
                                 "cannot read " + path + ": " + std::strerror(err));
      }
      if (n == 0) break;
      file->owned_.append(buf, size_t(n));
    }
    file->base_ = reinterpret_cast<const uint8_t*>(file->owned_.data());
    file->size_ = file->owned_.size();
  }
  ::close(fd);
  auto started = start(std::move(file));
  if (!started) {
    return common::makeError(started.error().code, path + ": " + started.error().reason);
  }
  return started;
}

common::Result<std::unique_ptr<CaptureFile>> CaptureFile::fromBuffer(std::string_view bytes) {
  std::unique_ptr<CaptureFile> file(new CaptureFile());
  file->owned_.assign(bytes);
  file->base_ = reinterpret_cast<const uint8_t*>(file->owned_.data());
  file->size_ = file->owned_.size();
  return start(std::move(file));
}

common::Result<std::unique_ptr<CaptureFile>> CaptureFile::start(std::unique_ptr<CaptureFile> file) {
  if (auto st = file->readFileHeader(); !st) return st.error();
  return file;
}

uint32_t CaptureFile::u32(const uint8_t* p) const {
  return internal::load32(p, big_endian_);
}
uint16_t CaptureFile::u16(const uint8_t* p) const {
  return internal::load16(p, big_endian_);
}

bool CaptureFile::fail(uint64_t at, std::string reason) {
  error_ = CaptureError{at, frames_, std::move(reason)};
  done_ = true;
  return false;
}

common::Status CaptureFile::readFileHeader() {
  if (size_ < 4) {
    return common::makeError(common::ErrorCode::kInvalidArgument,
                             "not a pcap or pcapng file: only " + num(size_) + " octets");
  }
  const uint32_t magic = le32(base_);
  if (magic == kPcapngSection) {
    format_ = CaptureFormat::kPcapng;
    // The first section header must be sound; its errors are the file's.
    uint32_t type = 0, len = 0;
    if (!checkBlock(0, type, len) || !readSectionHeader(0, len)) {
      return common::makeError(common::ErrorCode::kInvalidArgument,
                               error_->reason + " at offset 0");
    }
    pos_ = len;
    // Peek ahead for the first interface (the writer and the analyzer want the link type
    // before the first frame), without consuming anything.
    uint64_t at = pos_;
    while (size_ - at >= 12) {
      const uint8_t* p = base_ + at;
      const uint32_t btype = u32(p), blen = u32(p + 4);
      if (blen < 12 || blen % 4 != 0 || blen > size_ - at) break;
      if (btype == kPcapngSection) break;
      if (btype == kBlockInterface && blen >= 20) {
        first_link_type_ = u16(p + 8);
        first_snaplen_ = u32(p + 12);
        break;
      }
      if (btype == kBlockEnhancedPacket || btype == kBlockSimplePacket || btype == kBlockPacket) {
        break;
      }
      at += blen;
    }
    return {};
  }
  format_ = CaptureFormat::kPcap;
  switch (magic) {
    case kPcapMicro:
      break;
    case kPcapNano:
      frac_to_ns_ = 1;
      break;
    case kPcapModified:
      record_header_ = 24;
      break;
    default:
      switch (internal::be32(base_)) {
        case kPcapMicro:
          big_endian_ = true;
          break;
        case kPcapNano:
          big_endian_ = true, frac_to_ns_ = 1;
          break;
        case kPcapModified:
          big_endian_ = true, record_header_ = 24;
          break;
        default:
          return common::makeError(
              common::ErrorCode::kInvalidArgument,
              "not a pcap or pcapng file (magic " + hex32(internal::be32(base_)) + ")");
      }
  }
  if (size_ < 24) {
    return common::makeError(
        common::ErrorCode::kInvalidArgument,
        "truncated pcap file header: 24 octets needed, " + num(size_) + " present");
  }
  first_snaplen_ = u32(base_ + 16);
  // The upper bits of the link type field carry FCS information (LT_LINKTYPE in libpcap).
  link_type_ = first_link_type_ = u32(base_ + 20) & 0x03ffffff;
  pos_ = 24;
  return {};
}

void CaptureFile::releaseConsumed() {
  static const uint64_t page = uint64_t(sysconf(_SC_PAGESIZE));
  const uint64_t end = pos_ & ~(page - 1);
  if (end > released_) {
    madvise(const_cast<uint8_t*>(base_) + released_, end - released_, MADV_DONTNEED);
    released_ = end;
  }
}

bool CaptureFile::next(Frame& out) {
  if (done_) return false;
  if (map_ != nullptr && pos_ - released_ >= kReleaseEvery) releaseConsumed();
  bool ok = format_ == CaptureFormat::kPcap ? nextPcap(out) : nextPcapng(out);
  if (!ok) done_ = true;
  return ok;
}

bool CaptureFile::nextPcap(Frame& out) {
  const uint64_t at = pos_;
  const uint64_t left = size_ - at;
  if (left == 0) return false;
  if (left < record_header_) {
    return fail(at, "truncated record header: " + num(left) + " octets left, " +
                        num(record_header_) + " needed");
  }
  const uint8_t* h = base_ + at;
  const uint32_t sec = u32(h), frac = u32(h + 4), caplen = u32(h + 8), wire = u32(h + 12);
  if (caplen > kMaxRecord) {
    return fail(at, "corrupt record: captured length " + num(caplen) + " exceeds " +
                        num(kMaxRecord) + " octets");
  }
  if (caplen > left - record_header_) {
    return fail(at, "truncated record: header says " + num(caplen) + " octets, " +
                        num(left - record_header_) + " left");
  }
  out.number = ++frames_;
  out.time_ns = int64_t(uint64_t(sec) * 1000000000u + uint64_t(frac) * frac_to_ns_);
  out.link_type = link_type_;
  out.wire_length = wire;
  out.file_offset = at;
  out.data = std::string_view(reinterpret_cast<const char*>(h + record_header_), caplen);
  pos_ = at + record_header_ + caplen;
  // Ask for the octets a few records ahead now, so that the reader and the decoders do not
  // wait on memory for each record (record sizes are irregular: the hardware prefetcher alone
  // does not follow them).
  if (size_ - pos_ > kPrefetchAhead + 256) {
    const uint8_t* ahead = base_ + pos_ + kPrefetchAhead;
    for (int line = 0; line < 256; line += 64) __builtin_prefetch(ahead + line);
  }
  return true;
}

bool CaptureFile::readSectionHeader(uint64_t at, uint32_t length) {
  const uint8_t* p = base_ + at;
  if (length < 28) {
    return fail(
        at, "corrupt section header block: length " + num(length) + " is shorter than 28 octets");
  }
  const uint16_t major = u16(p + 12), minor = u16(p + 14);
  if (major != 1) {
    return fail(at, "unsupported pcapng version " + num(major) + "." + num(minor));
  }
  interfaces_.clear();
  return true;
}

bool CaptureFile::readInterface(uint64_t at, const uint8_t* body, uint32_t body_len) {
  if (body_len < 8) {
    return fail(
        at, "corrupt interface description block: " + num(body_len) + " octets of body, 8 needed");
  }
  if (interfaces_.size() >= kMaxInterfaces) {
    return fail(at, "more than " + num(kMaxInterfaces) + " interfaces in one section");
  }
  Interface itf;
  itf.link_type = u16(body);
  itf.snaplen = u32(body + 4);
  // Options: code, length, value padded to 32 bits. A malformed option list ends the options
  // (the interface itself is still usable), as the defaults then apply.
  uint32_t off = 8;
  while (body_len - off >= 4) {
    const uint16_t code = u16(body + off), len = u16(body + off + 2);
    off += 4;
    if (code == 0 || len > body_len - off) break;
    const uint8_t* v = body + off;
    if (code == 9 && len >= 1) {  // if_tsresol
      itf.binary_resolution = (v[0] & 0x80) != 0;
      itf.exponent = v[0] & 0x7f;
    } else if (code == 14 && len >= 8) {  // if_tsoffset, seconds
      const uint64_t first = u32(v), second = u32(v + 4);
      const uint64_t secs = big_endian_ ? (first << 32 | second) : (second << 32 | first);
      itf.offset_ns = int64_t(secs * 1000000000u);
    }
    if (pad4(len) > body_len - off) break;
    off += pad4(len);
  }
  interfaces_.push_back(itf);
  return true;
}

bool CaptureFile::checkBlock(uint64_t at, uint32_t& type, uint32_t& len) {
  const uint64_t left = size_ - at;
  if (left < 12) {
    return fail(at, "truncated block header: " + num(left) + " octets left, 12 needed");
  }
  const uint8_t* p = base_ + at;
  if (le32(p) == kPcapngSection) {
    // Each section states its own byte order.
    if (le32(p + 8) == kByteOrderMagic) {
      big_endian_ = false;
    } else if (internal::be32(p + 8) == kByteOrderMagic) {
      big_endian_ = true;
    } else {
      return fail(at,
                  "corrupt section header block: byte-order magic " + hex32(internal::be32(p + 8)));
    }
  }
  type = u32(p);
  len = u32(p + 4);
  if (len < 12 || len % 4 != 0) {
    return fail(at, "corrupt block: length " + num(len) + " (type " + hex32(type) +
                        ") is not a multiple of 4 of at least 12");
  }
  if (len > left) {
    return fail(at, "truncated block: header says " + num(len) + " octets, " + num(left) + " left");
  }
  const uint32_t trailer = u32(p + len - 4);
  if (trailer != len) {
    return fail(at, "corrupt block: trailing length " + num(trailer) +
                        " differs from leading length " + num(len));
  }
  return true;
}

bool CaptureFile::nextPcapng(Frame& out) {
  for (;;) {
    const uint64_t at = pos_;
    if (at == size_) return false;
    uint32_t type = 0, len = 0;
    if (!checkBlock(at, type, len)) return false;
    const uint8_t* p = base_ + at;
    const uint8_t* body = p + 8;
    const uint32_t body_len = len - 12;
    uint32_t itf = 0;
    uint64_t ticks = 0;
    uint32_t caplen = 0, wire = 0;
    const uint8_t* data = nullptr;
    bool have_time = true;
    switch (type) {
      case kPcapngSection:
        if (!readSectionHeader(at, len)) return false;
        pos_ = at + len;
        continue;
      case kBlockInterface:
        if (!readInterface(at, body, body_len)) return false;
        pos_ = at + len;
        continue;
      case kBlockEnhancedPacket:
      case kBlockPacket: {
        const char* what = type == kBlockPacket ? "packet block" : "enhanced packet block";
        if (body_len < 20) {
          return fail(at, std::string("corrupt ") + what + ": " + num(body_len) +
                              " octets of body, 20 needed");
        }
        itf = type == kBlockPacket ? u16(body) : u32(body);
        ticks = uint64_t(u32(body + 4)) << 32 | u32(body + 8);
        caplen = u32(body + 12);
        wire = u32(body + 16);
        if (caplen > body_len - 20) {
          return fail(at, std::string("corrupt ") + what + ": captured length " + num(caplen) +
                              " exceeds the " + num(body_len - 20) + " octets of the block");
        }
        data = body + 20;
        break;
      }
      case kBlockSimplePacket:
        if (body_len < 4) {
          return fail(
              at, "corrupt simple packet block: " + num(body_len) + " octets of body, 4 needed");
        }
        wire = u32(body);
        caplen = wire < body_len - 4 ? wire : body_len - 4;
        have_time = false;
        data = body + 4;
        break;
      default:  // name resolution, statistics, decryption secrets, custom...: not ours
        pos_ = at + len;
        continue;
    }
    if (itf >= interfaces_.size()) {
      return fail(at, "packet block refers to interface " + num(itf) + " but the section has " +
                          num(interfaces_.size()));
    }
    const Interface& desc = interfaces_[itf];
    if (!have_time && desc.snaplen != 0 && caplen > desc.snaplen) caplen = desc.snaplen;
    out.number = ++frames_;
    out.time_ns = have_time ? desc.toNanoseconds(ticks) : last_time_ns_;
    last_time_ns_ = out.time_ns;
    out.link_type = desc.link_type;
    out.wire_length = wire;
    out.file_offset = at;
    out.data = std::string_view(reinterpret_cast<const char*>(data), caplen);
    pos_ = at + len;
    return true;
  }
}

}  // namespace capture
