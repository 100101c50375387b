// The side table of Redis 7.0 metadata (node/command_meta.h): every command
// of the command table has an entry, the entries agree with the rows, and
// spot checks against Redis 7.0.15's COMMAND INFO.
#include "node/command_meta.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "node/command_table.h"

namespace lattice::node {
namespace {

std::vector<std::string> Categories(const CommandMeta& m) {
  std::vector<std::string> out;
  for (int i = 0; i < kAclCategoryCount; i++) {
    if (m.acl & (1u << i)) out.push_back("@" + std::string(AclCategoryName(i)));
  }
  return out;
}

std::vector<std::string> CategoriesOf(std::string_view fullname) {
  const CommandMeta* m = FindMeta(fullname);
  if (!m) return {"<no metadata>"};
  return Categories(*m);
}

using V = std::vector<std::string>;

TEST(CommandMetaTest, EveryCommandOfTheTableHasMetadata) {
  CommandTable table;
  size_t n = 0;
  for (size_t i = 0; i < table.slot_count(); i++) {
    const CommandId& c = table.slot(i);
    SCOPED_TRACE(c.fullname);
    ASSERT_NE(c.meta, nullptr) << "no metadata for " << c.fullname
                               << ": add it to tests/tools/gen_command_meta.py and regenerate";
    EXPECT_EQ(c.meta, MetaOf(c));
    EXPECT_EQ(c.meta->fullname, c.fullname);
    EXPECT_NE(c.meta->acl, 0u);
    n++;
  }
  EXPECT_GT(n, 100u);
}

TEST(CommandMetaTest, SortedUniqueAndFindable) {
  std::span<const CommandMeta> all = AllCommandMeta();
  ASSERT_GT(all.size(), 240u);  // every Redis 7.0.15 command, subcommands too
  for (size_t i = 0; i < all.size(); i++) {
    if (i > 0) {
      EXPECT_LT(all[i - 1].fullname, all[i].fullname);
    }
    EXPECT_EQ(FindMeta(all[i].fullname), &all[i]);
  }
  EXPECT_EQ(FindMeta("nosuchcommand"), nullptr);
  EXPECT_EQ(FindMeta("GET"), nullptr);  // full names are lowercase
}

TEST(CommandMetaTest, SpotChecksAgainstRedis) {
  EXPECT_EQ(CategoriesOf("get"), (V{"@read", "@string", "@fast"}));
  EXPECT_EQ(CategoriesOf("set"), (V{"@write", "@string", "@slow"}));
  EXPECT_EQ(CategoriesOf("del"), (V{"@keyspace", "@write", "@slow"}));
  EXPECT_EQ(CategoriesOf("blpop"), (V{"@write", "@list", "@slow", "@blocking"}));
  EXPECT_EQ(CategoriesOf("keys"), (V{"@keyspace", "@read", "@slow", "@dangerous"}));
  EXPECT_EQ(CategoriesOf("zadd"), (V{"@write", "@sortedset", "@fast"}));
  EXPECT_EQ(CategoriesOf("bzmpop"), (V{"@write", "@sortedset", "@slow", "@blocking"}));
  EXPECT_EQ(CategoriesOf("zscan"), (V{"@read", "@sortedset", "@slow"}));
  EXPECT_EQ(CategoriesOf("hset"), (V{"@write", "@hash", "@fast"}));
  EXPECT_EQ(CategoriesOf("ping"), (V{"@fast", "@connection"}));
  EXPECT_EQ(CategoriesOf("config|get"), (V{"@admin", "@slow", "@dangerous"}));
  EXPECT_EQ(CategoriesOf("config"), (V{"@slow"}));
  EXPECT_EQ(CategoriesOf("flushall"), (V{"@keyspace", "@write", "@slow", "@dangerous"}));
  // Lattice-only, our choice (tests/tools/gen_command_meta.py).
  EXPECT_EQ(CategoriesOf("lattice"), (V{"@slow"}));
  EXPECT_EQ(CategoriesOf("lattice|forget"), (V{"@admin", "@slow", "@dangerous"}));
  EXPECT_EQ(CategoriesOf("lattice|where"), (V{"@slow"}));
  EXPECT_FALSE(FindMeta("lattice|where")->redis);
  EXPECT_TRUE(FindMeta("get")->redis);

  const CommandMeta* get = FindMeta("get");
  ASSERT_EQ(get->key_specs.size(), 1u);
  EXPECT_EQ(get->key_specs[0].flags, kKsRO | kKsAccess);
  EXPECT_EQ(get->key_specs[0].begin, KeySpec::Begin::kIndex);
  EXPECT_EQ(get->key_specs[0].index, 1);
  EXPECT_EQ(get->key_specs[0].find, KeySpec::Find::kRange);
  EXPECT_EQ(get->key_specs[0].lastkey, 0);
  EXPECT_EQ(get->summary, "Get the value of a key");
  EXPECT_EQ(get->complexity, "O(1)");

  // ZUNIONSTORE: destination, then numkeys at 2 counting the keys after it.
  const CommandMeta* zu = FindMeta("zunionstore");
  ASSERT_EQ(zu->key_specs.size(), 2u);
  EXPECT_EQ(zu->key_specs[0].flags, kKsOW | kKsUpdate);
  EXPECT_EQ(zu->key_specs[1].begin, KeySpec::Begin::kIndex);
  EXPECT_EQ(zu->key_specs[1].index, 2);
  EXPECT_EQ(zu->key_specs[1].find, KeySpec::Find::kKeynum);
  EXPECT_EQ(zu->key_specs[1].keynumidx, 0);
  EXPECT_EQ(zu->key_specs[1].firstkey, 1);
  EXPECT_EQ(zu->key_specs[1].keystep, 1);
  EXPECT_TRUE(zu->flags & kRfMovablekeys);

  const CommandMeta* getset = FindMeta("getset");
  EXPECT_EQ(getset->doc_flags, kDocDeprecated);
  EXPECT_EQ(getset->deprecated_since, "6.2.0");
  EXPECT_EQ(getset->replaced_by, "`SET` with the `!GET` argument");

  const CommandMeta* set = FindMeta("set");
  ASSERT_FALSE(set->history.empty());
  EXPECT_EQ(set->history[0].version, "2.6.12");
  ASSERT_GE(set->args.size(), 3u);
  EXPECT_EQ(set->args[0].name, "key");
  EXPECT_EQ(set->args[0].type, ArgType::kKey);
  EXPECT_EQ(set->args[0].key_spec_index, 0);
  EXPECT_EQ(set->args[2].type, ArgType::kOneof);
  EXPECT_EQ(set->args[2].flags, kArgOptional);
}

// Every category set names exactly one of @fast / @slow, as in Redis.
TEST(CommandMetaTest, FastXorSlow) {
  for (const CommandMeta& m : AllCommandMeta()) {
    SCOPED_TRACE(m.fullname);
    EXPECT_NE(bool(m.acl & kAclFast), bool(m.acl & kAclSlow));
  }
}

// The row flags that change behaviour (dispatch, OOM, blocking, scripts,
// auth) agree with what Redis 7.0.15 reports, and a movable-keys row is
// movable in Redis too. LOADING / STALE / NO_MULTI are informational in
// Lattice and may differ (COMMAND INFO prints Redis's).
TEST(CommandMetaTest, RowFlagsAgreeWithRedis) {
  CommandTable table;
  struct Pair {
    uint32_t row;
    uint32_t redis;
  };
  const Pair pairs[] = {{kCmdWrite, kRfWrite},       {kCmdReadOnly, kRfReadonly},
                        {kCmdDenyOom, kRfDenyoom},   {kCmdFast, kRfFast},
                        {kCmdBlocking, kRfBlocking}, {kCmdAdmin, kRfAdmin},
                        {kCmdNoScript, kRfNoscript}, {kCmdNoAuth, kRfNoAuth}};
  for (size_t i = 0; i < table.slot_count(); i++) {
    const CommandId& c = table.slot(i);
    const CommandMeta* m = MetaOf(c);
    if (!m || !m->redis) continue;
    SCOPED_TRACE(c.fullname);
    for (const Pair& p : pairs) {
      EXPECT_EQ(bool(c.flags & p.row), bool(m->flags & p.redis)) << "flag " << p.redis;
    }
    if (c.keynum > 0) {
      EXPECT_TRUE(m->flags & kRfMovablekeys);
    }
    // Redis's fast/slow category follows the fast flag.
    EXPECT_EQ(bool(c.flags & kCmdFast), bool(m->acl & kAclFast));
  }
}

TEST(CommandMetaTest, Names) {
  EXPECT_EQ(AclCategoryName(0), "keyspace");
  EXPECT_EQ(AclCategoryName(4), "sortedset");
  EXPECT_EQ(AclCategoryName(kAclCategoryCount - 1), "scripting");
  EXPECT_EQ(RedisFlagName(kRedisFlagCount - 1), "allow_busy");
  EXPECT_EQ(KeySpecFlagName(kKeySpecFlagCount - 1), "variable_flags");
  EXPECT_EQ(ArgTypeName(ArgType::kPureToken), "pure-token");
  EXPECT_EQ(ArgTypeName(ArgType::kUnixTime), "unix-time");
}

}  // namespace
}  // namespace lattice::node
