#include "app/pcap_command.h"

#include <sys/resource.h>

#include <charconv>
#include <filesystem>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>

#include "capture/analyzer.h"
#include "capture/capture_file.h"
#include "capture/pcap_writer.h"
#include "capture/report_format.h"
#include "media/g711.h"
#include "media/rtp.h"
#include "media/wav_writer.h"

namespace {

constexpr const char* kUsage =
    "usage: switchboard pcap analyze FILE [--json] [--call-id ID] [--media-timeout SECONDS]\n"
    "                                     [--no-inband-dtmf]\n"
    "       switchboard pcap split FILE --out DIR [--audio]\n";

struct PcapArgs {
  std::string verb, file, call_id, out_dir;
  bool json = false, audio = false, inband = true;
  double media_timeout_s = 60;
};

std::optional<PcapArgs> parseArgs(const std::vector<std::string>& args, std::ostream& err) {
  PcapArgs a;
  if (args.empty()) {
    err << kUsage;
    return std::nullopt;
  }
  a.verb = args[0];
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= args.size()) {
        err << "switchboard pcap: " << arg << " needs a value\n" << kUsage;
        return std::nullopt;
      }
      return args[++i];
    };
    if (arg == "--json" && a.verb == "analyze") {
      a.json = true;
    } else if (arg == "--no-inband-dtmf") {
      a.inband = false;
    } else if (arg == "--audio" && a.verb == "split") {
      a.audio = true;
    } else if (arg == "--call-id" && a.verb == "analyze") {
      auto v = value();
      if (!v) return std::nullopt;
      a.call_id = *v;
    } else if (arg == "--out" && a.verb == "split") {
      auto v = value();
      if (!v) return std::nullopt;
      a.out_dir = *v;
    } else if (arg == "--media-timeout") {
      auto v = value();
      if (!v) return std::nullopt;
      auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), a.media_timeout_s);
      if (ec != std::errc() || end != v->data() + v->size() || a.media_timeout_s <= 0) {
        err << "switchboard pcap: --media-timeout wants a positive number of seconds, not '" << *v
            << "'\n";
        return std::nullopt;
      }
    } else if (!arg.empty() && arg[0] == '-') {
      err << "switchboard pcap: unknown option '" << arg << "'\n" << kUsage;
      return std::nullopt;
    } else if (a.file.empty()) {
      a.file = arg;
    } else {
      err << "switchboard pcap: one capture at a time ('" << arg << "' is extra)\n" << kUsage;
      return std::nullopt;
    }
  }
  if ((a.verb != "analyze" && a.verb != "split") || a.file.empty() ||
      (a.verb == "split" && a.out_dir.empty())) {
    err << kUsage;
    return std::nullopt;
  }
  return a;
}

capture::AnalyzeOptions analyzeOptions(const PcapArgs& a) {
  capture::AnalyzeOptions options;
  options.rtp.inband_dtmf = a.inband;
  options.rtp.media_timeout_ns = int64_t(a.media_timeout_s * 1e9);
  return options;
}

void reportError(const capture::Report& report, std::ostream& err) {
  if (!report.error) return;
  err << "switchboard pcap: " << report.file << ": " << report.error->reason << " at byte "
      << report.error->offset << " (after frame " << report.error->frame
      << "); the report covers what came before\n";
}

int runAnalyze(const PcapArgs& a, capture::CaptureFile& file, std::ostream& out,
               std::ostream& err) {
  capture::Report report = capture::analyze(file, analyzeOptions(a));
  report.file = a.file;
  if (!a.call_id.empty()) capture::keepCall(report, a.call_id);
  if (a.json) {
    out << capture::toJson(report) << "\n";
  } else {
    capture::writeText(report, out);
  }
  reportError(report, err);
  return report.error ? 2 : 0;
}

// A file name for a Call-ID: its safe characters, and a hash when anything was replaced (two
// Call-IDs must not share a file).
std::string fileNameFor(const std::string& call_id) {
  std::string name;
  bool changed = false;
  for (char c : call_id) {
    bool safe =
        std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '@';
    name += safe ? c : '_';
    changed |= !safe;
  }
  if (name.size() > 120) {
    name.resize(120);
    changed = true;
  }
  if (changed || name.empty() || name[0] == '.') {
    name += "-" + std::to_string(std::hash<std::string>()(call_id) % 1000000007);
  }
  return name;
}

// One capture per call. Writers stay open while their call is active; beyond a cap the least
// recently used is closed and reopened for appending when its call shows up again.
class CallWriters {
 public:
  CallWriters(std::filesystem::path dir, uint32_t link_type, uint32_t snaplen)
      : dir_(std::move(dir)), link_type_(link_type), snaplen_(snaplen) {}

  common::Status write(const std::string& call_id, const capture::Frame& frame) {
    auto it = open_.find(call_id);
    if (it == open_.end()) {
      if (open_.size() >= kMaxOpen) {
        const std::string& victim = lru_.back();
        if (auto st = open_[victim].writer->close(); !st) return st;
        open_.erase(victim);
        lru_.pop_back();
      }
      std::string path = (dir_ / (fileNameFor(call_id) + ".pcap")).string();
      bool seen = !written_.emplace(call_id, path).second;
      auto writer = seen ? capture::PcapWriter::append(path)
                         : capture::PcapWriter::create(path, link_type_, snaplen_);
      if (!writer) return writer.error();
      lru_.push_front(call_id);
      it = open_.emplace(call_id, Open{std::move(*writer), lru_.begin()}).first;
    } else if (it->second.position != lru_.begin()) {
      lru_.splice(lru_.begin(), lru_, it->second.position);
    }
    return it->second.writer->write(frame);
  }

  common::Status close() {
    for (auto& [id, open] : open_) {
      if (auto st = open.writer->close(); !st) return st;
    }
    open_.clear();
    return {};
  }

  const std::map<std::string, std::string>& files() const { return written_; }

 private:
  static constexpr size_t kMaxOpen = 200;
  struct Open {
    std::unique_ptr<capture::PcapWriter> writer;
    std::list<std::string>::iterator position;
  };
  std::filesystem::path dir_;
  uint32_t link_type_, snaplen_;
  std::unordered_map<std::string, Open> open_;
  std::list<std::string> lru_;
  std::map<std::string, std::string> written_;  // Call-ID -> file
};

// `split --audio`: each G.711 stream of a call as 8 kHz 16-bit WAV, in arrival order, with
// silence where the RTP timestamps show a gap (up to 10 s; longer gaps are closed up).
class AudioWriters {
 public:
  explicit AudioWriters(std::filesystem::path dir) : dir_(std::move(dir)) {}

  common::Status onMedia(const capture::Payload& p, std::string_view call_id) {
    if (call_id.empty()) return {};
    media::RtpPacket rtp;
    if (!media::tryParseRtp(p.bytes, rtp) || (rtp.payload_type != 0 && rtp.payload_type != 8))
      return {};
    std::string key = std::string(call_id) + "|" + std::to_string(rtp.ssrc) + "|" +
                      p.src.toString() + "|" + p.dst.toString();
    auto it = streams_.find(key);
    if (it == streams_.end()) {
      if (streams_.size() >= kMaxStreams) {
        ++skipped_;
        return {};
      }
      char ssrc[16];
      std::snprintf(ssrc, sizeof ssrc, "%08X", rtp.ssrc);
      std::string path = (dir_ / (fileNameFor(std::string(call_id)) + "-" + ssrc + "-" +
                                  std::to_string(streams_.size() + 1) + ".wav"))
                             .string();
      auto writer = media::WavWriter::create(path);
      if (!writer) return writer.error();
      it = streams_.emplace(key, Stream{std::move(*writer), rtp.timestamp, false}).first;
    }
    Stream& s = it->second;
    if (s.started) {
      const int32_t gap = int32_t(rtp.timestamp - s.next_timestamp);
      if (gap < 0) return {};  // late or duplicate: already past it
      if (gap > 0 && gap <= 80000) {
        if (auto st = s.writer.writeSilence(size_t(gap)); !st) return st;
      }
    }
    samples_.resize(rtp.payload.size());
    if (rtp.payload_type == 0) {
      media::decodeUlaw(rtp.payload, samples_.data());
    } else {
      media::decodeAlaw(rtp.payload, samples_.data());
    }
    s.started = true;
    s.next_timestamp = rtp.timestamp + uint32_t(rtp.payload.size());
    return s.writer.write(samples_.data(), samples_.size());
  }

  common::Status close(std::ostream& out) {
    for (auto& [key, s] : streams_) {
      if (auto st = s.writer.close(); !st) return st;
      out << s.writer.path() << "\t" << key.substr(0, key.find('|')) << "\n";
    }
    streams_.clear();
    return {};
  }

  uint64_t skipped() const { return skipped_; }

 private:
  static constexpr size_t kMaxStreams = 1000;
  struct Stream {
    media::WavWriter writer;
    uint32_t next_timestamp;
    bool started;
  };
  std::filesystem::path dir_;
  std::map<std::string, Stream> streams_;
  std::vector<int16_t> samples_;
  uint64_t skipped_ = 0;
};

int runSplit(const PcapArgs& a, capture::CaptureFile& file, std::ostream& out, std::ostream& err) {
  std::error_code ec;
  std::filesystem::create_directories(a.out_dir, ec);
  if (ec) {
    err << "switchboard pcap split: cannot create " << a.out_dir << ": " << ec.message() << "\n";
    return 1;
  }
  CallWriters writers(a.out_dir, file.linkType(), file.snaplen());
  std::optional<common::Error> failure;
  capture::AnalyzeOptions options = analyzeOptions(a);
  options.on_frame = [&](const capture::Frame& frame, std::string_view call_id) {
    if (call_id.empty() || failure) return;
    if (frame.link_type != file.linkType()) return;  // pcapng with mixed link types
    if (auto st = writers.write(std::string(call_id), frame); !st) failure = st.error();
  };
  AudioWriters audio(a.out_dir);
  if (a.audio) {
    options.on_media = [&](const capture::Payload& p, std::string_view call_id) {
      if (failure) return;
      if (auto st = audio.onMedia(p, call_id); !st) failure = st.error();
    };
  }
  capture::Report report = capture::analyze(file, options);
  report.file = a.file;
  if (auto st = writers.close(); !st && !failure) failure = st.error();
  if (failure) {
    err << "switchboard pcap split: " << failure->reason << "\n";
    return 1;
  }
  for (const auto& [call_id, path] : writers.files()) out << path << "\t" << call_id << "\n";
  if (auto st = audio.close(out); !st) {
    err << "switchboard pcap split: " << st.error().reason << "\n";
    return 1;
  }
  if (audio.skipped()) {
    err << "switchboard pcap split: audio of " << audio.skipped()
        << " packets not written (over 1000 streams)\n";
  }
  reportError(report, err);
  return report.error ? 2 : 0;
}

}  // namespace

int runPcap(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  auto a = parseArgs(args, err);
  if (!a) return 2;
  auto file = capture::CaptureFile::open(a->file);
  if (!file) {
    err << "switchboard pcap: " << file.error().reason << "\n";
    return 1;
  }
  return a->verb == "analyze" ? runAnalyze(*a, **file, out, err) : runSplit(*a, **file, out, err);
}
