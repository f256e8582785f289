// Messages as Twilio shapes them (rest_context.h), under /2010-04-01/Accounts/{AC}/:
//   Messages.json          POST sends (through messaging::Service), GET lists with the To,
//                          From and DateSent (=, <, >) filters, newest first
//   Messages/{SM}.json     GET fetches; POST with Body="" redacts the body (the log stays);
//                          DELETE removes a message that is no longer being sent
//   OptOuts.json           (Switchboard's) recipients who answered STOP, newest first
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "api/form.h"
#include "api/internal/rest_context.h"
#include "api/json_writer.h"
#include "api/twilio_format.h"
#include "messaging/service.h"
#include "store/messages.h"
#include "store/opt_outs.h"

namespace api::internal {

namespace {

void writeMessage(JsonWriter& w, const store::Message& m) {
  const std::string uri = "/2010-04-01/Accounts/" + m.account_sid + "/Messages/" + m.sid;
  w.beginObject();
  w.key("sid").string(m.sid);
  w.key("account_sid").string(m.account_sid);
  w.key("api_version").string(kApiVersion);
  w.key("body").string(m.body);
  w.key("date_created").string(rfc2822Date(m.date_created));
  w.key("date_sent");
  if (m.date_sent)
    w.string(rfc2822Date(*m.date_sent));
  else
    w.null();
  w.key("date_updated").string(rfc2822Date(m.date_updated));
  w.key("direction").string(m.direction);
  w.key("error_code");
  if (m.error_code)
    w.integer(*m.error_code);
  else
    w.null();
  w.key("error_message").stringOrNull(m.error_message);
  w.key("from").string(m.from);
  w.key("to").string(m.to);
  w.key("messaging_service_sid").null();
  w.key("num_media").string("0");
  w.key("num_segments").string(std::to_string(m.num_segments));
  w.key("price").null();
  w.key("price_unit").string("USD");
  w.key("status").string(m.status);
  w.key("uri").string(uri + ".json");
  w.key("subresource_uris").beginObject();
  w.key("media").string(uri + "/Media.json");
  w.endObject();
  w.endObject();
}

// DateSent filters: "DateSent" (that day, or that second), "DateSent>" (on or after) and
// "DateSent<" (on or before; a day means its end). The library sends DateSent> and DateSent<
// for dateSentAfter/Before; a raw "DateSent>=" arrives as the same key.
std::optional<HttpReply> dateFilters(const FormParams& filters, store::MessageFilter& f) {
  for (const auto& [key, value] : filters) {
    if (key != "DateSent" && key != "DateSent>" && key != "DateSent<") continue;
    auto t = parseIsoDateTime(value);
    if (!t) return badParam(key + " must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
    const bool day = value.size() == 10;
    const int64_t end = *t + (day ? 86400 : 1);
    if (key == "DateSent") {
      f.date_sent_from = *t;
      f.date_sent_until = end;
    } else if (key == "DateSent>") {
      f.date_sent_from = *t;
    } else {
      f.date_sent_until = end;
    }
  }
  return std::nullopt;
}

HttpReply list(store::Store& store, Ctx& c) {
  ApiError err;
  auto page = parsePaging(c.params, {"To", "From", "DateSent", "DateSent>", "DateSent<"}, &err);
  if (!page) return errorReply(err);
  store::MessageFilter f;
  if (auto v = formValue(page->filters, "To")) f.to = std::string(*v);
  if (auto v = formValue(page->filters, "From")) f.from = std::string(*v);
  if (auto e = dateFilters(page->filters, f)) return *e;
  return listReply(store.messages().list(c.account.sid, f, page->offset(), page->page_size + 1),
                   *page, c.base + "/Messages.json", "messages", writeMessage);
}

HttpReply create(messaging::Service* service, Ctx& c) {
  if (param(c, "MediaUrl"))
    return errorReply(400, 21620, "MediaUrl: MMS is not supported; send text only");
  if (param(c, "MessagingServiceSid"))
    return errorReply(400, 21701, "MessagingServiceSid: messaging services are not supported");
  if (auto e = onlyParams(c, {"To", "From", "Body", "StatusCallback", "StatusCallbackMethod"}))
    return *e;
  if (!service) return errorReply(503, 20503, "Messaging is not running on this node");
  messaging::SendRequest r;
  r.account_sid = c.account.sid;
  r.to = param(c, "To").value_or("");
  r.from = param(c, "From").value_or("");
  r.body = param(c, "Body").value_or("");
  if (auto e = urlParam(c, "StatusCallback", &r.status_callback)) return *e;
  if (auto e = methodParam(c, "StatusCallbackMethod", &r.status_callback_method)) return *e;
  auto sent = service->send(r);
  if (auto* e = std::get_if<messaging::SendError>(&sent))
    return errorReply(e->http_status, int(e->code), e->message);
  JsonWriter w;
  writeMessage(w, std::get<store::Message>(sent));
  return jsonReply(201, w.take());
}

HttpReply instance(store::Store& store, Ctx& c, std::string_view sid) {
  auto found = store.messages().find(c.account.sid, sid);
  if (!found) return storeFailed(found.error());
  if (!*found) return notFound(c.req.path());
  store::Message m = std::move(**found);
  if (c.req.method == "GET") {
    if (!c.params.empty()) return badParam("Unknown parameter " + c.params.front().first);
    JsonWriter w;
    writeMessage(w, m);
    return jsonReply(200, w.take());
  }
  if (c.req.method == "DELETE") {
    if (m.status == "queued" || m.status == "sending")
      return errorReply(400, 20009, "A message that is still being sent cannot be deleted");
    auto gone = store.messages().remove(c.account.sid, sid);
    if (!gone) return storeFailed(gone.error());
    if (!*gone) return notFound(c.req.path());
    return noContent();
  }
  // POST: Twilio's redaction, the only update a message takes.
  if (auto e = onlyParams(c, {"Body"})) return *e;
  auto body = param(c, "Body");
  if (!body || !body->empty()) return badParam("Body can only be set to \"\" (redaction)");
  if (m.status == "queued" || m.status == "sending")
    return errorReply(400, 20009, "A message that is still being sent cannot be redacted");
  auto purged = store.messages().purgeBody(c.account.sid, sid, c.now);
  if (!purged) return storeFailed(purged.error());
  if (!*purged) return notFound(c.req.path());
  m.body.clear();
  m.body_purged = true;
  m.date_updated = c.now;
  JsonWriter w;
  writeMessage(w, m);
  return jsonReply(200, w.take());
}

HttpReply optOuts(store::Store& store, Ctx& c) {
  if (c.req.method != "GET") return methodNotAllowed("GET");
  ApiError err;
  auto page = parsePaging(c.params, {}, &err);
  if (!page) return errorReply(err);
  return listReply(store.optOuts().list(c.account.sid, page->offset(), page->page_size + 1), *page,
                   c.base + "/OptOuts.json", "opt_outs",
                   [](JsonWriter& items, const store::OptOut& o) {
                     items.beginObject();
                     items.key("account_sid").string(o.account_sid);
                     items.key("phone_number").string(o.phone_number);
                     items.key("keyword").string(o.keyword);
                     items.key("via_number").string(o.via_number);
                     items.key("date_created").string(rfc2822Date(o.created_at));
                     items.endObject();
                   });
}

}  // namespace

HttpReply messageResources(store::Store& store, messaging::Service* service, Ctx& c,
                           std::string_view rest) {
  const bool get = c.req.method == "GET";
  if (auto denied = need(c, get ? Permission::kMessagesRead : Permission::kMessagesWrite))
    return *denied;
  if (rest == "OptOuts.json") return optOuts(store, c);
  if (rest == "Messages.json") {
    if (get) return list(store, c);
    if (c.req.method != "POST") return methodNotAllowed("GET, POST");
    return create(service, c);
  }
  auto sid = sidSegment(rest, "Messages", "SM");
  if (!sid || *sid == "-") return notFound(c.req.path());
  return instance(store, c, *sid);
}

}  // namespace api::internal
