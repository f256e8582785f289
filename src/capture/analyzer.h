// `switchboard pcap analyze` without the command line: reads a capture once, streaming, and
// returns the report. Memory follows the live flows and calls, not the size of the file.
//
//   auto file = capture::CaptureFile::open(path);
//   capture::Report report = capture::analyze(**file, {});
//   if (report.error) ...  // everything before the bad record is in the report
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "capture/capture_file.h"
#include "capture/report.h"
#include "capture/rtp_analysis.h"

namespace capture {

struct AnalyzeOptions {
  RtpOptions rtp;
  // Called after each frame is analysed with the Call-ID its SIP or RTP belongs to ("" when
  // none is known): `pcap split` writes each call's frames with it.
  std::function<void(const Frame&, std::string_view call_id)> on_frame;
  // Called with each UDP payload taken as RTP or RTCP and its call ("" when none): the
  // audio of `pcap split --audio`.
  std::function<void(const Payload&, std::string_view call_id)> on_media;
};

Report analyze(CaptureFile& file, const AnalyzeOptions& options = {});

// Keeps only what belongs to one call (its SIP, streams, RTCP and DTMF).
void keepCall(Report& report, std::string_view call_id);

}  // namespace capture
