#include "sip/response.h"

#include "common/address_set.h"
#include "common/strings.h"
#include "sip/internal/scan.h"

namespace sip {

std::string_view defaultReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Trying";
    case 180:
      return "Ringing";
    case 181:
      return "Call Is Being Forwarded";
    case 182:
      return "Queued";
    case 183:
      return "Session Progress";
    case 200:
      return "OK";
    case 202:
      return "Accepted";
    case 300:
      return "Multiple Choices";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Moved Temporarily";
    case 305:
      return "Use Proxy";
    case 380:
      return "Alternative Service";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 407:
      return "Proxy Authentication Required";
    case 408:
      return "Request Timeout";
    case 410:
      return "Gone";
    case 413:
      return "Request Entity Too Large";
    case 414:
      return "Request-URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Unsupported URI Scheme";
    case 420:
      return "Bad Extension";
    case 421:
      return "Extension Required";
    case 423:
      return "Interval Too Brief";
    case 480:
      return "Temporarily Unavailable";
    case 481:
      return "Call/Transaction Does Not Exist";
    case 482:
      return "Loop Detected";
    case 483:
      return "Too Many Hops";
    case 484:
      return "Address Incomplete";
    case 485:
      return "Ambiguous";
    case 486:
      return "Busy Here";
    case 487:
      return "Request Terminated";
    case 488:
      return "Not Acceptable Here";
    case 491:
      return "Request Pending";
    case 493:
      return "Undecipherable";
    case 500:
      return "Server Internal Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Server Time-out";
    case 505:
      return "Version Not Supported";
    case 513:
      return "Message Too Large";
    case 600:
      return "Busy Everywhere";
    case 603:
      return "Decline";
    case 604:
      return "Does Not Exist Anywhere";
    case 606:
      return "Not Acceptable";
    default:
      break;
  }
  if (status < 200) return "Provisional";
  if (status < 300) return "Success";
  if (status < 400) return "Redirection";
  if (status < 500) return "Client Error";
  if (status < 600) return "Server Error";
  return "Global Failure";
}

std::optional<std::string> receivedVia(const Via& via, const boost::asio::ip::address& source_ip,
                                       uint16_t source_port) {
  auto host_ip = common::ipLiteral(via.host);
  const bool need_received = !host_ip || *host_ip != source_ip;
  const bool need_rport = via.hasRport();
  if (!need_received && !need_rport) return std::nullopt;
  std::string v;
  v.reserve(96);
  v.append(via.protocol_name).append("/").append(via.protocol_version).append("/");
  v.append(via.transport).append(" ").append(via.host);
  if (via.port != 0) v.append(":").append(std::to_string(via.port));
  for (const Param& p : via.params) {
    if (common::iequals(p.name, "received") || common::iequals(p.name, "rport")) continue;
    v.push_back(';');
    v.append(p.name);
    if (p.hasValue()) v.append("=").append(p.value);
  }
  if (need_rport) v.append(";rport=").append(std::to_string(source_port));
  v.append(";received=").append(source_ip.to_string());
  return v;
}

ResponseBuilder::ResponseBuilder(const Message& request, int status, std::string_view reason)
    : request_(request),
      status_(status),
      reason_(reason.empty() ? defaultReasonPhrase(status) : reason) {}

ResponseBuilder& ResponseBuilder::toTag(std::string_view tag) {
  to_tag_ = tag;
  return *this;
}
ResponseBuilder& ResponseBuilder::copyRecordRoute() {
  copy_record_route_ = true;
  return *this;
}
ResponseBuilder& ResponseBuilder::header(std::string_view name, std::string_view value) {
  extra_.emplace_back(name, value);
  return *this;
}
ResponseBuilder& ResponseBuilder::receivedFrom(const boost::asio::ip::address& ip, uint16_t port) {
  const auto& vias = request_.vias();
  if (vias && !vias->empty()) top_via_ = receivedVia(vias->front(), ip, port);
  return *this;
}
ResponseBuilder& ResponseBuilder::body(std::string_view content_type, std::string_view body) {
  content_type_ = content_type;
  body_ = body;
  return *this;
}

std::string ResponseBuilder::build() const {
  std::string out;
  out.reserve(request_.raw().size() - request_.body().size() + 128 + body_.size());
  out.append("SIP/2.0 ");
  out.append(std::to_string(status_));
  out.push_back(' ');
  out.append(reason_);
  out.append("\r\n");
  auto line = [&out](std::string_view name, std::string_view value) {
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
  };
  const auto& headers = request_.headers();
  bool add_tag = status_ > 100 && !to_tag_.empty() && request_.to() && !request_.to()->tag();
  bool stamp_via = top_via_.has_value();
  for (const HeaderField& f : headers) {
    switch (f.id) {
      case HeaderId::kVia:
        if (stamp_via) {
          // The stamped first value, then the field's other values as they were.
          stamp_via = false;
          line("Via", *top_via_);
          bool first = true;
          std::string rest;
          internal::forEachCommaElement(f.value, [&](std::string_view element) {
            if (!first) {
              if (!rest.empty()) rest.append(", ");
              rest.append(element);
            }
            first = false;
            return true;
          });
          if (!rest.empty()) line("Via", rest);
          break;
        }
        line(headerName(f.id), f.value);
        break;
      case HeaderId::kFrom:
      case HeaderId::kCallId:
      case HeaderId::kCSeq:
        line(headerName(f.id), f.value);
        break;
      case HeaderId::kTo:
        if (add_tag) {
          out.append("To: ");
          out.append(f.value);
          out.append(";tag=");
          out.append(to_tag_);
          out.append("\r\n");
        } else {
          line("To", f.value);
        }
        break;
      case HeaderId::kTimestamp:
        if (status_ == 100) line("Timestamp", f.value);
        break;
      case HeaderId::kRecordRoute:
        if (copy_record_route_) line("Record-Route", f.value);
        break;
      default:
        break;
    }
  }
  for (const auto& [name, value] : extra_) line(name, value);
  if (!content_type_.empty()) line("Content-Type", content_type_);
  line("Content-Length", std::to_string(body_.size()));
  out.append("\r\n");
  out.append(body_);
  return out;
}

}  // namespace sip
