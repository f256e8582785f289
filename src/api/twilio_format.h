// Twilio's 2010-04-01 formats, shared by every REST resource (accounts and numbers here;
// calls, messages, recordings later): RFC 2822 dates, money as decimal strings, error
// bodies, and the list-page envelope with its paging parameters.
//
//   auto page = api::parsePaging(query, {"PhoneNumber", "FriendlyName"});
//   if (!page) return api::errorReply(page.error());
//   api::JsonWriter w;
//   api::writePage(w, path, "incoming_phone_numbers", *page, rows.size(), has_more,
//                  [&](api::JsonWriter& w) { for (auto& r : rows) writeNumber(w, r); });
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http_server.h"
#include "api/json_writer.h"
#include "api/webhook_signature.h"
#include "common/result.h"

namespace api {

inline constexpr std::string_view kApiVersion = "2010-04-01";

// "Sat, 22 Nov 2025 10:00:00 +0000" (always UTC, English names, whatever the locale).
std::string rfc2822Date(int64_t unix_seconds);
// "2025-11-22".
std::string isoDate(int64_t unix_seconds);
// Parses "2025-01-02T03:04:05Z" or "2025-01-02" (list filters), years 1970 to 9999, to unix
// seconds.
common::Result<int64_t> parseIsoDateTime(std::string_view text);
// Millicents (1/100000) as a decimal string with at least two decimals: 1234500 -> "12.345",
// -750 -> "-0.0075", 0 -> "0.00".
std::string formatMillicents(int64_t millicents);

// A URL the webhook client can call (parseWebhookUrl) of at most 2048 bytes: what a webhook
// field (VoiceUrl, SmsUrl, StatusCallback ...) accepts.
bool isWebhookUrl(std::string_view url);

// An API error as Twilio sends it: {code, message, more_info, status}.
struct ApiError {
  int status = 400;
  int code = 20001;
  std::string message;
};
HttpReply errorReply(const ApiError& error);
HttpReply errorReply(int status, int code, std::string_view message);

// Paging of a list request: Page and PageSize (Twilio's defaults: page 0, 50 per page, at
// most 1000), the filters the resource accepts (kept, in order, for the page URIs).
struct PageRequest {
  int64_t page = 0;
  int64_t page_size = 50;
  FormParams filters;
  int64_t offset() const { return page * page_size; }
};
// Any parameter not in `filters` (and not Page, PageSize or PageToken) is an ApiError 400.
common::Result<PageRequest> parsePaging(const FormParams& query,
                                        const std::vector<std::string_view>& filters,
                                        ApiError* error);

// {records_key: [...], uri, first_page_uri, previous_page_uri, next_page_uri, page,
// page_size, start, end}. `items` writes the array's elements.
void writePage(JsonWriter& w, std::string_view list_path, std::string_view records_key,
               const PageRequest& page, size_t count, bool has_more,
               const std::function<void(JsonWriter&)>& items);

}  // namespace api
