// application/x-www-form-urlencoded, both ways: the bodies and query strings of API requests
// (Twilio clients send %20 for a space, others '+'; both decode to a space) and the bodies
// of webhooks we send.
//
//   auto form = api::parseForm("To=%2B15551234567&Body=hi+there");
//   if (!form) return badRequest(form.error().reason);
//   std::string body = api::encodeForm({{"To", "+1555"}, {"Body", "hi there"}});
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/webhook_signature.h"
#include "common/result.h"

namespace api {

// The fields in order. kInvalidArgument for a '%' not followed by two hex digits or a
// decoded name or value that is not UTF-8.
common::Result<FormParams> parseForm(std::string_view text);
// Every byte percent-encoded but A-Z a-z 0-9 - _ . ~ (a space is %20).
std::string encodeForm(const FormParams& params);
void appendPercentEncoded(std::string& out, std::string_view text);

// The first value of `name`, or nullopt.
std::optional<std::string_view> formValue(const FormParams& params, std::string_view name);

bool isUtf8(std::string_view text);

}  // namespace api
