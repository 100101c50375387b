#include "node/storage/keyspace.h"

#include <random>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace lattice::node {
namespace {

TEST(ParseInt64, AcceptsOnlyCanonicalIntegers) {
  int64_t v;
  EXPECT_TRUE(ParseInt64("0", &v));
  EXPECT_TRUE(ParseInt64("-9223372036854775808", &v));
  EXPECT_EQ(v, INT64_MIN);
  EXPECT_TRUE(ParseInt64("9223372036854775807", &v));
  EXPECT_FALSE(ParseInt64("9223372036854775808", &v));
  EXPECT_FALSE(ParseInt64("007", &v));
  EXPECT_FALSE(ParseInt64("-0", &v));
  EXPECT_FALSE(ParseInt64("+1", &v));
  EXPECT_FALSE(ParseInt64(" 1", &v));
  EXPECT_FALSE(ParseInt64("", &v));
}

TEST(StringValue, EncodesLikeRedis) {
  EXPECT_EQ(StringValue::Encode("123").enc, Enc::kInt);
  EXPECT_EQ(StringValue::Encode(std::string(44, 'x')).enc, Enc::kEmbstr);
  EXPECT_EQ(StringValue::Encode(std::string(45, 'x')).enc, Enc::kRaw);
  EXPECT_EQ(StringValue::Encode("0123").enc, Enc::kEmbstr);
}

TEST(Db, SetFindDeleteRoundTrip) {
  Db db;
  db.SetString("k", StringValue::Encode("hello"), crdt::Stamp{1, 1}, -1, 0);
  Entry* e = db.Find("k", 0);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->bytes(), "hello");
  EXPECT_EQ(e->stamp(), (crdt::Stamp{1, 1}));
  EXPECT_TRUE(db.Delete("k"));
  EXPECT_EQ(db.Find("k", 0), nullptr);
  EXPECT_EQ(db.size(), 0u);
}

TEST(Db, ExpiredKeysVanishOnAccess) {
  Db db;
  db.SetString("k", StringValue::Encode("v"), crdt::Stamp{1, 1}, 1000, 0);
  EXPECT_NE(db.Find("k", 999), nullptr);
  EXPECT_EQ(db.Find("k", 1000), nullptr);
  EXPECT_EQ(db.size(), 0u);
  EXPECT_EQ(db.expires_size(), 0u);
}

TEST(Db, ActiveExpiryReclaimsUntouchedKeys) {
  Db db;
  for (int i = 0; i < 10000; i++) {
    db.SetString("k" + std::to_string(i), StringValue::Encode("v"), crdt::Stamp{1, 1}, 5, 0);
  }
  for (int i = 0; i < 100; i++)
    db.SetString("p" + std::to_string(i), StringValue::Encode("v"), {}, -1, 0);
  for (int round = 0; round < 1000 && db.expires_size() > 0; round++) {
    db.ActiveExpire(10, INT64_MAX);
  }
  EXPECT_EQ(db.expires_size(), 0u);
  EXPECT_EQ(db.size(), 100u);
}

TEST(Db, TtlCanBeAddedAndRemovedKeepingTheValue) {
  Db db;
  Entry* e = db.SetString("k", StringValue::Encode("value"), {}, -1, 0);
  e = db.SetExpire(e, 5000);
  EXPECT_TRUE(e->has_expire());
  EXPECT_EQ(e->expire_at(), 5000);
  EXPECT_EQ(e->bytes(), "value");
  e = db.SetExpire(e, -1);
  EXPECT_FALSE(e->has_expire());
  EXPECT_EQ(db.Find("k", 10000)->bytes(), "value");
}

TEST(Db, ScanReturnsEveryKeyPresentThroughoutDespiteResizes) {
  Db db;
  std::set<std::string> keep;
  for (int i = 0; i < 500; i++) {
    std::string k = "keep" + std::to_string(i);
    keep.insert(k);
    db.SetString(k, StringValue::Encode("v"), {}, -1, 0);
  }
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int step = 0;
  do {
    cursor = db.Scan(cursor, [&](const Entry& e) { seen.insert(std::string(e.key())); });
    // Grow, then shrink, the table while the scan is in progress.
    if (step == 10) {
      for (int i = 0; i < 3000; i++)
        db.SetString("tmp" + std::to_string(i), StringValue::Encode("v"), {}, -1, 0);
    }
    if (step == 40) {
      for (int i = 0; i < 3000; i++) db.Delete("tmp" + std::to_string(i));
    }
    step++;
  } while (cursor != 0);
  for (const auto& k : keep) EXPECT_TRUE(seen.count(k)) << k;
}

TEST(Db, GrowsIncrementallyAndEveryKeyStaysReachableMidRehash) {
  Db db;
  bool saw_rehash = false;
  for (int i = 0; i < 20000; i++) {
    db.SetString("k" + std::to_string(i), StringValue::Int(i), {}, -1, 0);
    if (db.rehashing()) {
      saw_rehash = true;
      // Every key inserted so far is found whichever table holds it.
      if (i % 997 == 0) {
        for (int j = 0; j <= i; j++) ASSERT_NE(db.FindRaw("k" + std::to_string(j)), nullptr) << j;
      }
    }
  }
  EXPECT_TRUE(saw_rehash);
  db.RehashFor(1000000);
  EXPECT_FALSE(db.rehashing());
  EXPECT_GE(db.bucket_count(), 20000u);
  for (int i = 0; i < 20000; i++) ASSERT_EQ(db.FindRaw("k" + std::to_string(i))->int_value(), i);
  for (int i = 0; i < 19990; i++) db.Delete("k" + std::to_string(i));
  db.RehashFor(1000000);
  EXPECT_LE(db.bucket_count(), 64u);
  EXPECT_EQ(db.size(), 10u);
}

TEST(Db, AppendGrowsInPlaceAmortized) {
  Db db;
  Entry* e = db.SetString("k", StringValue{Enc::kRaw, "", 0, nullptr}, {}, -1, 0);
  std::string expect;
  for (int i = 0; i < 1000; i++) {
    size_t old = e->bytes().size();
    e = db.ResizeBytes(e, old + 3, crdt::Stamp{uint64_t(i + 1), 1});
    std::memcpy(e->mutable_bytes() + old, "abc", 3);
    expect += "abc";
  }
  EXPECT_EQ(db.Find("k", 0)->bytes(), expect);
}

}  // namespace
}  // namespace lattice::node
