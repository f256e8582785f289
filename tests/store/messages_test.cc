#include "store/messages.h"

#include "backends.h"

namespace store {
namespace {

using common::ErrorCode;
using testing::BackendTest;
using testing::sid;

const std::string kA = sid("AC", 1);
const std::string kB = sid("AC", 2);

Message message(int n, const std::string& account, int64_t created = 1000) {
  Message m;
  m.sid = sid("SM", n);
  m.account_sid = account;
  m.from = "+14155550100";
  m.to = "+14155550" + std::to_string(200 + n);
  m.body = "hello " + std::to_string(n);
  m.date_created = created;
  m.date_updated = created;
  return m;
}

// Every field set to something other than its default (seq is the store's).
Message everyField() {
  Message m;
  m.sid = sid("SM", 1);
  m.account_sid = kA;
  m.direction = "inbound";
  m.from = "+447700900123";
  m.to = "+14155550100";
  m.body = "Caf\xc3\xa9 \xe2\x82\xac 'quoted' ; DROP TABLE messages;--";
  m.body_purged = true;
  m.status = "delivered";
  m.num_segments = 3;
  m.encoding = "UCS-2";
  m.error_code = 30008;
  m.error_message = "Unknown error";
  m.carrier_status = "Delivered to handset";
  m.status_callback = "https://example.com/status?x=1&y=2";
  m.status_callback_method = "GET";
  m.trunk = "smsc-a";
  m.attempts = 2;
  m.parts_delivered = 3;
  m.date_created = 1700000000;
  m.date_updated = 1700000100;
  m.date_sent = 1700000050;
  return m;
}

std::vector<std::string> sids(const std::vector<Message>& list) {
  std::vector<std::string> out;
  for (const Message& m : list) out.push_back(m.sid);
  return out;
}

TEST(MessagePredicatesTest, StatusesAndDirections) {
  for (const char* ok : {"queued", "sending", "sent", "delivered", "undelivered", "failed",
                         "receiving", "received", "canceled"})
    EXPECT_TRUE(isMessageStatus(ok)) << ok;
  for (const char* bad : {"", "Queued", "accepted", "queued ", "sent,delivered"})
    EXPECT_FALSE(isMessageStatus(bad)) << bad;
  for (const char* ok : {"inbound", "outbound-api", "outbound-call", "outbound-reply"})
    EXPECT_TRUE(isMessageDirection(ok)) << ok;
  for (const char* bad : {"", "outbound", "Inbound", "outbound-api "})
    EXPECT_FALSE(isMessageDirection(bad)) << bad;
}

class MessagesTest : public BackendTest {
 protected:
  std::unique_ptr<Store> openWithAccounts() { return BackendTest::openWithAccounts({kA, kB}); }
};

TEST_P(MessagesTest, CreateFindRoundTripsEveryFieldAndSetsSeq) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& messages = s->messages();
  Message m = everyField();
  auto created = messages.create(m);
  ASSERT_TRUE(created) << created.error().reason;
  EXPECT_TRUE(*created);
  Message defaults = message(2, kA);
  ASSERT_TRUE(*messages.create(defaults));

  auto found = messages.find(kA, m.sid);
  ASSERT_TRUE(found) << found.error().reason;
  ASSERT_TRUE(*found);
  EXPECT_GT((*found)->seq, 0);
  Message want = m;
  want.seq = (*found)->seq;
  EXPECT_EQ(**found, want);
  auto by_sid = messages.findBySid(m.sid);
  ASSERT_TRUE(by_sid && *by_sid);
  EXPECT_EQ(**by_sid, want);

  auto d = messages.find(kA, defaults.sid);
  ASSERT_TRUE(d && *d);
  EXPECT_GT((*d)->seq, want.seq);  // arrival order
  EXPECT_FALSE((*d)->error_code);
  EXPECT_FALSE((*d)->date_sent);
  Message want_defaults = defaults;
  want_defaults.seq = (*d)->seq;
  EXPECT_EQ(**d, want_defaults);
  EXPECT_FALSE(*messages.find(kA, sid("SM", 9)));
  EXPECT_FALSE(*messages.findBySid(sid("SM", 9)));
}

TEST_P(MessagesTest, AnotherAccountsMessageIsInvisible) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& messages = s->messages();
  Message mine = message(1, kA);
  ASSERT_TRUE(*messages.create(mine));
  auto found = messages.find(kB, mine.sid);
  ASSERT_TRUE(found) << found.error().reason;
  EXPECT_FALSE(*found);
  EXPECT_TRUE(messages.list(kB, {}, 0, 10)->empty());
  EXPECT_EQ(*messages.count(kB, {}), 0);
  auto purged = messages.purgeBody(kB, mine.sid, 5000);
  ASSERT_TRUE(purged) << purged.error().reason;
  EXPECT_FALSE(*purged);
  auto removed = messages.remove(kB, mine.sid);
  ASSERT_TRUE(removed) << removed.error().reason;
  EXPECT_FALSE(*removed);
  auto kept = messages.find(kA, mine.sid);
  ASSERT_TRUE(kept && *kept);
  EXPECT_EQ((*kept)->body, mine.body);
  EXPECT_FALSE((*kept)->body_purged);
}

TEST_P(MessagesTest, DuplicateSidIsRefusedAndKeepsTheFirst) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& messages = s->messages();
  Message first = message(1, kA);
  ASSERT_TRUE(*messages.create(first));
  Message again = message(1, kB);  // same SID, another account and body
  again.body = "second";
  auto r = messages.create(again);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_FALSE(*r);
  auto kept = messages.findBySid(first.sid);
  ASSERT_TRUE(kept && *kept);
  EXPECT_EQ((*kept)->account_sid, kA);
  EXPECT_EQ((*kept)->body, first.body);
  EXPECT_EQ(*messages.count(kB, {}), 0);
  EXPECT_EQ(*messages.count(kA, {}), 1);
}

TEST_P(MessagesTest, CreateValidation) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& messages = s->messages();
  struct Case {
    const char* why;
    Message message;
  };
  std::vector<Case> cases;
  Message m = message(1, kA);
  m.sid = "SM123";
  cases.push_back({"short sid", m});
  m = message(1, kA);
  m.sid = sid("MM", 1);
  cases.push_back({"wrong prefix", m});
  m = message(1, kA);
  m.sid = "SM" + std::string(32, 'A');
  cases.push_back({"upper-case hex", m});
  m = message(1, kA);
  m.status = "accepted";
  cases.push_back({"status", m});
  m = message(1, kA);
  m.direction = "outbound";
  cases.push_back({"direction", m});
  cases.push_back({"account sid", message(1, "AC1")});
  cases.push_back({"unknown account", message(1, sid("AC", 9))});
  for (const Case& c : cases) {
    auto r = messages.create(c.message);
    ASSERT_FALSE(r) << c.why;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << c.why;
    EXPECT_EQ(r.error().reason.rfind("store: message: ", 0), 0u) << r.error().reason;
  }
  auto unknown = messages.create(message(1, sid("AC", 9)));
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().reason.find("account " + sid("AC", 9) + " does not exist"),
            std::string::npos)
      << unknown.error().reason;
  EXPECT_FALSE(*messages.findBySid(sid("SM", 1)));
  // The store still works after the refused inserts.
  EXPECT_TRUE(*messages.create(message(1, kA)));
}

TEST_P(MessagesTest, ListIsNewestFirstWithFiltersCountAndPaging) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& messages = s->messages();
  // Created in this order (seq); m2 and m3 share a date_created, so seq orders them.
  Message m1 = message(1, kA, 100);
  Message m2 = message(2, kA, 300);
  Message m3 = message(3, kA, 300);
  Message m4 = message(4, kA, 200);
  Message m5 = message(5, kA, 400);
  Message b1 = message(6, kB, 500);
  m1.date_sent = 86400;      // day 1
  m2.date_sent = 86400 * 2;  // day 2, first second
  m3.date_sent = 86400 * 3 - 1;
  m4.date_sent = 86400 * 3;  // day 3
  // m5 not sent yet: no date_sent
  m2.to = "+14155559999";
  m4.to = "+14155559999";
  b1.to = "+14155559999";
  m3.from = "+14155550111";
  m4.from = "+14155550111";
  for (const Message& m : {m1, m2, m3, m4, m5, b1}) ASSERT_TRUE(*messages.create(m));

  auto all = messages.list(kA, {}, 0, 50);
  ASSERT_TRUE(all) << all.error().reason;
  EXPECT_EQ(sids(*all), (std::vector<std::string>{m5.sid, m3.sid, m2.sid, m4.sid, m1.sid}));
  EXPECT_EQ((*all)[1].body, m3.body);
  EXPECT_EQ((*all)[1].date_sent, m3.date_sent);
  EXPECT_EQ(*messages.count(kA, {}), 5);
  EXPECT_EQ(sids(*messages.list(kA, {}, 1, 2)), (std::vector<std::string>{m3.sid, m2.sid}));
  EXPECT_EQ(sids(*messages.list(kA, {}, 4, 2)), (std::vector<std::string>{m1.sid}));
  EXPECT_TRUE(messages.list(kA, {}, 5, 2)->empty());
  EXPECT_TRUE(messages.list(kA, {}, 0, 0)->empty());

  MessageFilter to{.to = "+14155559999"};
  EXPECT_EQ(sids(*messages.list(kA, to, 0, 50)), (std::vector<std::string>{m2.sid, m4.sid}));
  EXPECT_EQ(*messages.count(kA, to), 2);
  EXPECT_EQ(*messages.count(kB, to), 1);
  MessageFilter from{.from = "+14155550111"};
  EXPECT_EQ(sids(*messages.list(kA, from, 0, 50)), (std::vector<std::string>{m3.sid, m4.sid}));
  EXPECT_EQ(*messages.count(kA, from), 2);
  MessageFilter both{.to = "+14155559999", .from = "+14155550111"};
  EXPECT_EQ(sids(*messages.list(kA, both, 0, 50)), (std::vector<std::string>{m4.sid}));
  EXPECT_EQ(*messages.count(kA, both), 1);

  // DateSent=day 2: [day 2, day 3).
  MessageFilter day2{.date_sent_from = 86400 * 2, .date_sent_until = 86400 * 3};
  EXPECT_EQ(sids(*messages.list(kA, day2, 0, 50)), (std::vector<std::string>{m3.sid, m2.sid}));
  EXPECT_EQ(*messages.count(kA, day2), 2);
  // DateSent>=day 2 (unsent messages have no date and never match).
  MessageFilter since{.date_sent_from = 86400 * 2};
  EXPECT_EQ(sids(*messages.list(kA, since, 0, 50)),
            (std::vector<std::string>{m3.sid, m2.sid, m4.sid}));
  EXPECT_EQ(*messages.count(kA, since), 3);
  // DateSent<day 2.
  MessageFilter before{.date_sent_until = 86400 * 2};
  EXPECT_EQ(sids(*messages.list(kA, before, 0, 50)), (std::vector<std::string>{m1.sid}));
  EXPECT_EQ(*messages.count(kA, before), 1);
  MessageFilter everything{.to = "+14155559999",
                           .from = "+14155550111",
                           .date_sent_from = 86400 * 3,
                           .date_sent_until = 86400 * 3 + 1};
  EXPECT_EQ(sids(*messages.list(kA, everything, 0, 50)), (std::vector<std::string>{m4.sid}));
  everything.date_sent_until = 86400 * 3;  // empty range
  EXPECT_TRUE(messages.list(kA, everything, 0, 50)->empty());
  EXPECT_EQ(*messages.count(kA, everything), 0);

  for (auto bad : {messages.list(kA, {}, -1, 5), messages.list(kA, {}, 0, -1)}) {
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST_P(MessagesTest, ListUnfinishedIsTheQueueInArrivalOrder) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& messages = s->messages();
  // Arrival order differs from date_created order on purpose.
  std::vector<Message> all;
  const char* statuses[] = {"queued", "sent",   "sending",  "queued",   "delivered",
                            "failed", "queued", "received", "canceled", "sending"};
  for (int i = 0; i < 10; ++i) {
    Message m = message(i + 1, i % 2 == 0 ? kA : kB, 1000 - i);
    m.status = statuses[i];
    ASSERT_TRUE(*messages.create(m));
    all.push_back(m);
  }
  auto q = messages.listUnfinished(0, 100);
  ASSERT_TRUE(q) << q.error().reason;
  EXPECT_EQ(sids(*q),
            (std::vector<std::string>{all[0].sid, all[2].sid, all[3].sid, all[6].sid, all[9].sid}));
  for (size_t i = 1; i < q->size(); ++i) EXPECT_LT((*q)[i - 1].seq, (*q)[i].seq);
  EXPECT_EQ((*q)[1].status, "sending");
  EXPECT_EQ((*q)[1].account_sid, kA);
  EXPECT_EQ((*q)[2].account_sid, kB);

  // Paging by seq.
  auto first = messages.listUnfinished(0, 2);
  ASSERT_TRUE(first);
  EXPECT_EQ(sids(*first), (std::vector<std::string>{all[0].sid, all[2].sid}));
  auto next = messages.listUnfinished(first->back().seq, 2);
  ASSERT_TRUE(next);
  EXPECT_EQ(sids(*next), (std::vector<std::string>{all[3].sid, all[6].sid}));
  auto last = messages.listUnfinished(next->back().seq, 2);
  ASSERT_TRUE(last);
  EXPECT_EQ(sids(*last), (std::vector<std::string>{all[9].sid}));
  EXPECT_TRUE(messages.listUnfinished(last->back().seq, 2)->empty());
  EXPECT_TRUE(messages.listUnfinished(0, 0)->empty());
  EXPECT_FALSE(messages.listUnfinished(0, -1));

  // A message that finishes leaves the queue.
  ASSERT_EQ(*messages.applyUpdates({{.sid = all[0].sid, .status = "sent"}}), 1);
  EXPECT_EQ(sids(*messages.listUnfinished(0, 1)), (std::vector<std::string>{all[2].sid}));
}

TEST_P(MessagesTest, SeqIsNeverReusedAfterTheNewestIsRemoved) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& messages = s->messages();
  ASSERT_TRUE(*messages.create(message(1, kA)));
  ASSERT_TRUE(*messages.create(message(2, kA)));
  int64_t seq2 = (*messages.findBySid(sid("SM", 2)))->seq;
  ASSERT_TRUE(*messages.remove(kA, sid("SM", 2)));
  ASSERT_TRUE(*messages.create(message(3, kA)));
  // A queue reader that had seen seq2 must still see message 3.
  EXPECT_GT((*messages.findBySid(sid("SM", 3)))->seq, seq2);
  EXPECT_EQ(sids(*messages.listUnfinished(seq2, 10)), (std::vector<std::string>{sid("SM", 3)}));
}

TEST_P(MessagesTest, ApplyUpdatesTouchesOnlyTheFieldsSet) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& messages = s->messages();
  Message m = message(1, kA, 1000);
  m.error_message = "kept";
  m.trunk = "smsc-a";
  ASSERT_TRUE(*messages.create(m));
  m.seq = (*messages.findBySid(m.sid))->seq;

  // Only status, attempts and date_updated.
  auto n = messages.applyUpdates(
      {{.sid = m.sid, .status = "sending", .add_attempts = 1, .date_updated = 1001}});
  ASSERT_TRUE(n) << n.error().reason;
  EXPECT_EQ(*n, 1);
  Message want = m;
  want.status = "sending";
  want.attempts = 1;
  want.date_updated = 1001;
  EXPECT_EQ(**messages.find(kA, m.sid), want);

  // Every field at once.
  n = messages.applyUpdates({{.sid = m.sid,
                              .status = "undelivered",
                              .error_code = 30003,
                              .error_message = "Unreachable destination handset",
                              .carrier_status = "UNDELIV",
                              .trunk = "smsc-b",
                              .date_sent = 1002,
                              .add_attempts = 2,
                              .add_parts_delivered = 1,
                              .date_updated = 1003}});
  ASSERT_TRUE(n) << n.error().reason;
  EXPECT_EQ(*n, 1);
  want.status = "undelivered";
  want.error_code = 30003;
  want.error_message = "Unreachable destination handset";
  want.carrier_status = "UNDELIV";
  want.trunk = "smsc-b";
  want.date_sent = 1002;
  want.attempts = 3;
  want.parts_delivered = 1;
  want.date_updated = 1003;
  EXPECT_EQ(**messages.find(kA, m.sid), want);

  // Nothing set but an increment; date_updated 0 leaves it.
  n = messages.applyUpdates({{.sid = m.sid, .add_parts_delivered = 2}});
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1);
  want.parts_delivered = 3;
  EXPECT_EQ(**messages.find(kA, m.sid), want);

  // An empty string is a value, not "unset".
  n = messages.applyUpdates({{.sid = m.sid, .error_message = "", .carrier_status = ""}});
  ASSERT_TRUE(n);
  want.error_message = "";
  want.carrier_status = "";
  EXPECT_EQ(**messages.find(kA, m.sid), want);

  // Unknown SIDs change nothing and are no error.
  n = messages.applyUpdates({{.sid = sid("SM", 9), .status = "sent"}});
  ASSERT_TRUE(n) << n.error().reason;
  EXPECT_EQ(*n, 0);
  EXPECT_EQ(*messages.applyUpdates({}), 0);
}

TEST_P(MessagesTest, ApplyUpdatesOnlyIfStatusSkipsRowsInOtherStates) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& messages = s->messages();
  Message queued = message(1, kA);
  Message sent = message(2, kA);
  sent.status = "sent";
  Message delivered = message(3, kA);
  delivered.status = "delivered";
  for (const Message& m : {queued, sent, delivered}) ASSERT_TRUE(*messages.create(m));

  // A late receipt: only sent (or sending) messages may become undelivered.
  std::vector<MessageUpdate> batch;
  for (const Message& m : {queued, sent, delivered})
    batch.push_back({.sid = m.sid,
                     .status = "undelivered",
                     .add_parts_delivered = 1,
                     .only_if_status = "sending, sent"});
  auto n = messages.applyUpdates(batch);
  ASSERT_TRUE(n) << n.error().reason;
  EXPECT_EQ(*n, 1);
  EXPECT_EQ((*messages.findBySid(queued.sid))->status, "queued");
  EXPECT_EQ((*messages.findBySid(queued.sid))->parts_delivered, 0);  // skipped entirely
  EXPECT_EQ((*messages.findBySid(sent.sid))->status, "undelivered");
  EXPECT_EQ((*messages.findBySid(sent.sid))->parts_delivered, 1);
  EXPECT_EQ((*messages.findBySid(delivered.sid))->status, "delivered");

  // A single status, and a list naming every status.
  n = messages.applyUpdates({{.sid = queued.sid, .status = "sending", .only_if_status = "queued"},
                             {.sid = delivered.sid,
                              .error_message = "x",
                              .only_if_status = "queued,sending,sent,delivered,undelivered,"
                                                "failed,receiving,received,canceled"}});
  ASSERT_TRUE(n) << n.error().reason;
  EXPECT_EQ(*n, 2);
  EXPECT_EQ((*messages.findBySid(queued.sid))->status, "sending");
  EXPECT_EQ((*messages.findBySid(delivered.sid))->error_message, "x");
  // The same update applied twice in one batch sees the first one's result.
  n = messages.applyUpdates({{.sid = queued.sid, .status = "sent", .only_if_status = "sending"},
                             {.sid = queued.sid, .status = "failed", .only_if_status = "sending"}});
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1);
  EXPECT_EQ((*messages.findBySid(queued.sid))->status, "sent");
}

TEST_P(MessagesTest, ApplyUpdatesRefusesABadBatchWhole) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& messages = s->messages();
  Message m = message(1, kA);
  ASSERT_TRUE(*messages.create(m));
  const std::vector<std::vector<MessageUpdate>> bad = {
      {{.sid = m.sid, .status = "sent"}, {.sid = m.sid, .status = "lost"}},
      {{.sid = m.sid, .status = "sent"}, {.sid = m.sid, .only_if_status = "sent,gone"}},
      {{.sid = m.sid, .status = "sent"}, {.sid = "SMnope", .status = "sent"}},
  };
  for (const auto& batch : bad) {
    auto r = messages.applyUpdates(batch);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().reason.rfind("store: message: ", 0), 0u) << r.error().reason;
  }
  EXPECT_EQ((*messages.findBySid(m.sid))->status, "queued");  // the good half did not apply
}

TEST_P(MessagesTest, CarrierIdsPointReceiptsBack) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& messages = s->messages();
  ASSERT_TRUE(*messages.create(message(1, kA)));
  ASSERT_TRUE(*messages.create(message(2, kB)));
  auto st = messages.addCarrierIds({{"smsc-a", "0a1b", sid("SM", 1), 0},
                                    {"smsc-a", "0a1c", sid("SM", 1), 1},
                                    {"smsc-b", "0a1b", sid("SM", 2), 0}});
  ASSERT_TRUE(st) << st.error().reason;
  auto part1 = messages.findCarrierId("smsc-a", "0a1c");
  ASSERT_TRUE(part1) << part1.error().reason;
  ASSERT_TRUE(*part1);
  EXPECT_EQ((*part1)->trunk, "smsc-a");
  EXPECT_EQ((*part1)->carrier_message_id, "0a1c");
  EXPECT_EQ((*part1)->message_sid, sid("SM", 1));
  EXPECT_EQ((*part1)->part, 1);
  // The same carrier id on another trunk is another message.
  EXPECT_EQ((*messages.findCarrierId("smsc-b", "0a1b"))->message_sid, sid("SM", 2));
  EXPECT_EQ((*messages.findCarrierId("smsc-a", "0a1b"))->message_sid, sid("SM", 1));
  EXPECT_FALSE(*messages.findCarrierId("smsc-a", "ffff"));
  EXPECT_FALSE(*messages.findCarrierId("smsc-c", "0a1b"));

  // A recycled id goes to the newest message.
  ASSERT_TRUE(*messages.create(message(3, kA)));
  ASSERT_TRUE(messages.addCarrierIds({{"smsc-a", "0a1b", sid("SM", 3), 2}}));
  EXPECT_EQ((*messages.findCarrierId("smsc-a", "0a1b"))->message_sid, sid("SM", 3));
  EXPECT_EQ((*messages.findCarrierId("smsc-a", "0a1b"))->part, 2);

  // Bad ids, and an unknown message: nothing of the batch is kept.
  for (const std::vector<CarrierId>& bad : std::vector<std::vector<CarrierId>>{
           {{"", "1", sid("SM", 1), 0}},
           {{"smsc-a", "", sid("SM", 1), 0}},
           {{"smsc-a", "1", sid("SM", 1), -1}},
           {{"smsc-a", "77", sid("SM", 1), 0}, {"smsc-a", "78", sid("SM", 9), 0}}}) {
    auto r = messages.addCarrierIds(bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().reason;
  }
  EXPECT_FALSE(*messages.findCarrierId("smsc-a", "77"));
  EXPECT_TRUE(messages.addCarrierIds({}));
}

TEST_P(MessagesTest, PurgeBodyKeepsTheLog) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& messages = s->messages();
  Message m = everyField();
  m.body_purged = false;
  ASSERT_TRUE(*messages.create(m));
  auto purged = messages.purgeBody(kA, m.sid, 1800000000);
  ASSERT_TRUE(purged) << purged.error().reason;
  EXPECT_TRUE(*purged);
  auto after = messages.find(kA, m.sid);
  ASSERT_TRUE(after && *after);
  Message want = m;
  want.body = "";
  want.body_purged = true;
  want.date_updated = 1800000000;
  want.seq = (*after)->seq;
  EXPECT_EQ(**after, want);
  EXPECT_EQ(*messages.count(kA, {}), 1);
  EXPECT_FALSE(*messages.purgeBody(kA, sid("SM", 9), 1));
}

TEST_P(MessagesTest, RemoveDeletesTheMessageAndItsCarrierIds) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& messages = s->messages();
  ASSERT_TRUE(*messages.create(message(1, kA)));
  ASSERT_TRUE(*messages.create(message(2, kA)));
  ASSERT_TRUE(messages.addCarrierIds({{"smsc-a", "1", sid("SM", 1), 0},
                                      {"smsc-a", "2", sid("SM", 1), 1},
                                      {"smsc-a", "3", sid("SM", 2), 0}}));
  // Another account cannot remove it, nor its carrier ids.
  EXPECT_FALSE(*messages.remove(kB, sid("SM", 1)));
  EXPECT_TRUE(*messages.findCarrierId("smsc-a", "1"));

  auto removed = messages.remove(kA, sid("SM", 1));
  ASSERT_TRUE(removed) << removed.error().reason;
  EXPECT_TRUE(*removed);
  EXPECT_FALSE(*messages.findBySid(sid("SM", 1)));
  EXPECT_FALSE(*messages.findCarrierId("smsc-a", "1"));
  EXPECT_FALSE(*messages.findCarrierId("smsc-a", "2"));
  EXPECT_TRUE(*messages.findCarrierId("smsc-a", "3"));
  EXPECT_FALSE(*messages.remove(kA, sid("SM", 1)));
  EXPECT_EQ(*messages.count(kA, {}), 1);
  // The SID can be used again.
  EXPECT_TRUE(*messages.create(message(1, kA)));
}

// The queue's query reads the partial index, not the whole table (SQLite's plan; PostgreSQL's
// planner picks by statistics, so only SQLite's is pinned).
TEST_P(MessagesTest, QueueQueryUsesThePartialIndexOnSqlite) {
  if (postgres()) GTEST_SKIP() << "plan checked on SQLite only";
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto plan = s->database().query(
      "EXPLAIN QUERY PLAN SELECT sid FROM messages WHERE status IN ('queued', 'sending')"
      " AND seq > ? ORDER BY seq LIMIT ?",
      {int64_t{0}, int64_t{10}});
  ASSERT_TRUE(plan) << plan.error().reason;
  std::string text;
  for (const Row& r : *plan) text += r.text(3) + "\n";
  EXPECT_NE(text.find("messages_unfinished"), std::string::npos) << text;
  EXPECT_EQ(text.find("TEMP B-TREE"), std::string::npos) << text;  // no sort step
}

// A database written by the previous release (schema 8, with a phone number in it) gets
// migration 9 alone at open: its numbers keep native opt-out handling on, and the messaging
// tables work.
TEST_P(MessagesTest, Migration9UpgradesAVersion8Database) {
  {
    auto db = Database::open(url_);
    ASSERT_TRUE(db) << db.error().reason;
    std::vector<Migration> v8(builtinMigrations().begin(), builtinMigrations().begin() + 8);
    ASSERT_EQ(v8.back().version, 8);
    auto r = migrate(**db, v8, 1);
    ASSERT_TRUE(r) << r.error().reason;
    ASSERT_EQ(r->to_version, 8);
    auto st = (*db)->transaction([&](Tx& tx) -> common::Status {
      auto a = tx.exec(
          "INSERT INTO accounts (sid, parent_sid, friendly_name, status, auth_token_sealed,"
          " balance_millicents, currency, created_at, updated_at)"
          " VALUES (?, NULL, 'old', 'active', 'sealed', 0, 'USD', 1, 1)",
          {kA});
      if (!a) return a.error();
      auto n = tx.exec(
          "INSERT INTO phone_numbers (sid, account_sid, phone_number, friendly_name, voice_url,"
          " voice_method, voice_fallback_url, voice_fallback_method, sms_url, sms_method,"
          " sms_fallback_url, sms_fallback_method, status_callback, status_callback_method,"
          " voice_capable, sms_capable, mms_capable, fax_capable, porting_status, hosting,"
          " created_at, updated_at) VALUES (?, ?, '+14155550100', 'old line', '', 'POST', '',"
          " 'POST', 'https://example.com/sms', 'POST', '', 'POST', '', 'POST', 1, 1, 0, 0,"
          " 'none', 'full', 5, 6)",
          {sid("PN", 1), kA});
      if (!n) return n.error();
      return {};
    });
    ASSERT_TRUE(st) << st.error().reason;
  }
  auto s = openStore();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->migrations().from_version, 8);
  ASSERT_FALSE(s->migrations().applied.empty());
  EXPECT_EQ(s->migrations().applied.front(), 9);
  auto number = s->phoneNumbers().findByNumber("+14155550100");
  ASSERT_TRUE(number) << number.error().reason;
  ASSERT_TRUE(*number);
  EXPECT_TRUE((*number)->sms_native_opt_out);
  EXPECT_EQ((*number)->sms_url, "https://example.com/sms");
  EXPECT_EQ((*number)->updated_at, 6);
  ASSERT_TRUE(*s->messages().create(message(1, kA)));
  EXPECT_EQ(s->messages().listUnfinished(0, 10)->size(), 1u);
  ASSERT_TRUE(*s->optOuts().add({kA, "+447700900001", "STOP", "+14155550100", 7}));
  EXPECT_TRUE(*s->optOuts().isOptedOut(kA, "+447700900001"));
  EXPECT_EQ(s->messagingSettings().account(kA)->sms_per_second, 1);
}

SB_INSTANTIATE_BACKENDS(MessagesTest);

}  // namespace
}  // namespace store
