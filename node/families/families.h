// File: node/families/families.h
//
// Command handlers, one family per data type (strings, hashes, sets), plus the generic
// keyspace family and the server/connection family. Rows binding names to
// handlers live in node/command_table.cc.
//
// Thread-safety: handlers run on the thread that owns the keys' shard (or
// in the exclusive section); see node/server.h.
#ifndef LATTICE_NODE_FAMILIES_FAMILIES_H_
#define LATTICE_NODE_FAMILIES_FAMILIES_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "node/command.h"

namespace lattice::node {

// cluster_family.cc
void CmdWait(CommandContext& ctx);
void CmdLatticeNodes(CommandContext& ctx);
void CmdLatticeHelp(CommandContext& ctx);
void CmdLatticeRepair(CommandContext& ctx);
void CmdLatticeForget(CommandContext& ctx);
void CmdLatticeHotKeys(CommandContext& ctx);
void CmdLatticeWhere(CommandContext& ctx);
// INFO's "replication" section body.
void AppendReplicationInfo(Server* server, std::string* out);

// hash_family.cc
void CmdHDel(CommandContext& ctx);
void CmdHExists(CommandContext& ctx);
void CmdHGet(CommandContext& ctx);
void CmdHGetAll(CommandContext& ctx);
void CmdHIncrBy(CommandContext& ctx);
void CmdHIncrByFloat(CommandContext& ctx);
void CmdHKeys(CommandContext& ctx);
void CmdHLen(CommandContext& ctx);
void CmdHMGet(CommandContext& ctx);
void CmdHMSet(CommandContext& ctx);
void CmdHRandField(CommandContext& ctx);
void CmdHScan(CommandContext& ctx);
void CmdHSet(CommandContext& ctx);
void CmdHSetNx(CommandContext& ctx);
void CmdHStrLen(CommandContext& ctx);
void CmdHVals(CommandContext& ctx);

// set_family.cc
void CmdSAdd(CommandContext& ctx);
void CmdSCard(CommandContext& ctx);
void CmdSDiff(CommandContext& ctx);
void CmdSDiffStore(CommandContext& ctx);
void CmdSInter(CommandContext& ctx);
void CmdSInterCard(CommandContext& ctx);
void CmdSInterStore(CommandContext& ctx);
void CmdSIsMember(CommandContext& ctx);
void CmdSMembers(CommandContext& ctx);
void CmdSMIsMember(CommandContext& ctx);
void CmdSMove(CommandContext& ctx);
void CmdSPop(CommandContext& ctx);
void CmdSRandMember(CommandContext& ctx);
void CmdSRem(CommandContext& ctx);
void CmdSScan(CommandContext& ctx);
void CmdSUnion(CommandContext& ctx);
void CmdSUnionStore(CommandContext& ctx);

// list_family.cc
void CmdBLMove(CommandContext& ctx);
void CmdBLMPop(CommandContext& ctx);
void CmdXAck(CommandContext& ctx);
void CmdXAdd(CommandContext& ctx);
void CmdXAutoClaim(CommandContext& ctx);
void CmdXClaim(CommandContext& ctx);
void CmdXDel(CommandContext& ctx);
void CmdXGroupCreate(CommandContext& ctx);
void CmdXGroupCreateConsumer(CommandContext& ctx);
void CmdXGroupDelConsumer(CommandContext& ctx);
void CmdXGroupDestroy(CommandContext& ctx);
void CmdXGroupHelp(CommandContext& ctx);
void CmdXGroupSetId(CommandContext& ctx);
void CmdXInfoConsumers(CommandContext& ctx);
void CmdXInfoGroups(CommandContext& ctx);
void CmdXInfoHelp(CommandContext& ctx);
void CmdXInfoStream(CommandContext& ctx);
void CmdXLen(CommandContext& ctx);
void CmdXPending(CommandContext& ctx);
void CmdXRange(CommandContext& ctx);
void CmdXRead(CommandContext& ctx);
void CmdXReadGroup(CommandContext& ctx);
void CmdXRevRange(CommandContext& ctx);
void CmdXSetId(CommandContext& ctx);
void CmdXTrim(CommandContext& ctx);

void CmdBLPop(CommandContext& ctx);
void CmdBRPop(CommandContext& ctx);
void CmdBRPopLPush(CommandContext& ctx);
void CmdLIndex(CommandContext& ctx);
void CmdLInsert(CommandContext& ctx);
void CmdLLen(CommandContext& ctx);
void CmdLMove(CommandContext& ctx);
void CmdLMPop(CommandContext& ctx);
void CmdLPop(CommandContext& ctx);
void CmdLPos(CommandContext& ctx);
void CmdLPush(CommandContext& ctx);
void CmdLPushX(CommandContext& ctx);
void CmdLRange(CommandContext& ctx);
void CmdLRem(CommandContext& ctx);
void CmdLSet(CommandContext& ctx);
void CmdLTrim(CommandContext& ctx);
void CmdRPop(CommandContext& ctx);
void CmdRPopLPush(CommandContext& ctx);
void CmdRPush(CommandContext& ctx);
void CmdRPushX(CommandContext& ctx);

// geo_family.cc
void CmdGeoAdd(CommandContext& ctx);
void CmdGeoDist(CommandContext& ctx);
void CmdGeoHash(CommandContext& ctx);
void CmdGeoPos(CommandContext& ctx);
void CmdGeoRadius(CommandContext& ctx);
void CmdGeoRadiusByMember(CommandContext& ctx);
void CmdGeoRadiusByMemberRo(CommandContext& ctx);
void CmdGeoRadiusRo(CommandContext& ctx);
void CmdGeoSearch(CommandContext& ctx);
void CmdGeoSearchStore(CommandContext& ctx);
// The STORE/STOREDIST key of a GEORADIUS[BYMEMBER] invocation (Redis's
// georadiusGetKeys), for routing: its position in args, or 0.
size_t GeoRadiusStoreKey(std::span<const std::string_view> args);
// SORT ... STORE dst: the position of dst (0: none), for routing and GETKEYS.
size_t SortStoreKey(std::span<const std::string_view> args);

// zset_family.cc
void CmdZAdd(CommandContext& ctx);
void CmdZCard(CommandContext& ctx);
void CmdZCount(CommandContext& ctx);
void CmdZDiff(CommandContext& ctx);
void CmdZDiffStore(CommandContext& ctx);
void CmdZIncrBy(CommandContext& ctx);
void CmdZInter(CommandContext& ctx);
void CmdZInterCard(CommandContext& ctx);
void CmdZInterStore(CommandContext& ctx);
void CmdZLexCount(CommandContext& ctx);
void CmdZMPop(CommandContext& ctx);
void CmdZMScore(CommandContext& ctx);
void CmdBZMPop(CommandContext& ctx);
void CmdBZPopMax(CommandContext& ctx);
void CmdBZPopMin(CommandContext& ctx);
void CmdZPopMax(CommandContext& ctx);
void CmdZPopMin(CommandContext& ctx);
void CmdZRandMember(CommandContext& ctx);
void CmdZRange(CommandContext& ctx);
void CmdZRangeByLex(CommandContext& ctx);
void CmdZRangeByScore(CommandContext& ctx);
void CmdZRangeStore(CommandContext& ctx);
void CmdZRank(CommandContext& ctx);
void CmdZRem(CommandContext& ctx);
void CmdZRemRangeByLex(CommandContext& ctx);
void CmdZRemRangeByRank(CommandContext& ctx);
void CmdZRemRangeByScore(CommandContext& ctx);
void CmdZRevRange(CommandContext& ctx);
void CmdZRevRangeByLex(CommandContext& ctx);
void CmdZRevRangeByScore(CommandContext& ctx);
void CmdZRevRank(CommandContext& ctx);
void CmdZScan(CommandContext& ctx);
void CmdZScore(CommandContext& ctx);
void CmdZUnion(CommandContext& ctx);
void CmdZUnionStore(CommandContext& ctx);
// The pop behind ZPOPMIN/ZPOPMAX/ZMPOP, for the blocking commands too
// (Redis's genericZpopCommand): pops from the first of `keys` that holds a
// non-empty sorted set, up to `count` members (-1: one) from the min or
// max end, through a CollectionWrite (replicated), and replies: flat
// member/score pairs (ZPOPMIN), with the key first when `emit_key`
// (BZPOPMIN: `nested` false), or [key, [[member, score]...]] when both
// (ZMPOP/BZMPOP); `nested` alone is ZPOPMIN with a count in RESP3. A key of
// another type before it replies WRONGTYPE. When no key has members it
// replies per `empty` (kNone: nothing, for a command about to block).
enum class ZPopEmpty { kNone, kEmptyArray, kNullArray };
enum class ZPopOutcome { kPopped, kEmpty, kWrongType };
ZPopOutcome ZPopGeneric(CommandContext& ctx, std::span<const std::string_view> keys, bool max,
                        int64_t count, bool emit_key, bool nested, ZPopEmpty empty);

// server_family.cc
void CmdPing(CommandContext& ctx);
void CmdEcho(CommandContext& ctx);
void CmdHello(CommandContext& ctx);
void CmdQuit(CommandContext& ctx);

// pubsub_family.cc
void CmdSubscribe(CommandContext& ctx);
void CmdPSubscribe(CommandContext& ctx);
void CmdSSubscribe(CommandContext& ctx);
void CmdUnsubscribe(CommandContext& ctx);
void CmdPUnsubscribe(CommandContext& ctx);
void CmdSUnsubscribe(CommandContext& ctx);
void CmdPublish(CommandContext& ctx);
void CmdSPublish(CommandContext& ctx);
void CmdPubsubChannels(CommandContext& ctx);
void CmdPubsubShardChannels(CommandContext& ctx);
void CmdPubsubNumSub(CommandContext& ctx);
void CmdPubsubShardNumSub(CommandContext& ctx);
void CmdPubsubNumPat(CommandContext& ctx);
void CmdPubsubHelp(CommandContext& ctx);

// script_family.cc
void CmdEval(CommandContext& ctx);
void CmdEvalSha(CommandContext& ctx);
void CmdEvalRo(CommandContext& ctx);
void CmdEvalShaRo(CommandContext& ctx);
void CmdFcall(CommandContext& ctx);
void CmdFcallRo(CommandContext& ctx);
void CmdFunctionLoad(CommandContext& ctx);
void CmdFunctionDelete(CommandContext& ctx);
void CmdFunctionFlush(CommandContext& ctx);
void CmdFunctionList(CommandContext& ctx);
void CmdFunctionStats(CommandContext& ctx);
void CmdFunctionDump(CommandContext& ctx);
void CmdFunctionRestore(CommandContext& ctx);
void CmdFunctionKill(CommandContext& ctx);
void CmdFunctionHelp(CommandContext& ctx);
void CmdScriptLoad(CommandContext& ctx);
void CmdScriptExists(CommandContext& ctx);
void CmdScriptFlush(CommandContext& ctx);
void CmdScriptKill(CommandContext& ctx);
void CmdScriptDebug(CommandContext& ctx);
void CmdScriptHelp(CommandContext& ctx);

// transaction_family.cc
void CmdMulti(CommandContext& ctx);
void CmdExec(CommandContext& ctx);
void CmdDiscard(CommandContext& ctx);
void CmdWatch(CommandContext& ctx);
void CmdUnwatch(CommandContext& ctx);
void CmdReset(CommandContext& ctx);
void CmdSelect(CommandContext& ctx);
void CmdDbSize(CommandContext& ctx);
void CmdFlushDb(CommandContext& ctx);
void CmdFlushAll(CommandContext& ctx);
void CmdInfo(CommandContext& ctx);
void CmdConfigGet(CommandContext& ctx);
void CmdConfigSet(CommandContext& ctx);
void CmdConfigResetStat(CommandContext& ctx);
void CmdConfigHelp(CommandContext& ctx);
void CmdClientId(CommandContext& ctx);
void CmdClientSetName(CommandContext& ctx);
void CmdClientGetName(CommandContext& ctx);
void CmdClientList(CommandContext& ctx);
void CmdClientKill(CommandContext& ctx);
void CmdClientInfo(CommandContext& ctx);
void CmdClientSetInfo(CommandContext& ctx);
void CmdClientHelp(CommandContext& ctx);
void CmdClientTracking(CommandContext& ctx);
void CmdClientCaching(CommandContext& ctx);
void CmdClientGetRedir(CommandContext& ctx);
void CmdClientTrackingInfo(CommandContext& ctx);
void CmdTime(CommandContext& ctx);
void CmdCommand(CommandContext& ctx);
void CmdCommandCount(CommandContext& ctx);
void CmdCommandInfo(CommandContext& ctx);
void CmdCommandDocs(CommandContext& ctx);
void CmdCommandList(CommandContext& ctx);
void CmdCommandGetKeys(CommandContext& ctx);
void CmdCommandHelp(CommandContext& ctx);
void CmdShutdown(CommandContext& ctx);
void CmdSave(CommandContext& ctx);
void CmdDump(CommandContext& ctx);
void CmdRestore(CommandContext& ctx);
void CmdBgSave(CommandContext& ctx);
void CmdMemoryUsage(CommandContext& ctx);
void CmdMemoryStats(CommandContext& ctx);
void CmdMemoryDoctor(CommandContext& ctx);
void CmdMemoryMallocStats(CommandContext& ctx);
void CmdMemoryPurge(CommandContext& ctx);
void CmdMemoryHelp(CommandContext& ctx);
void CmdBgRewriteAof(CommandContext& ctx);
void CmdLastSave(CommandContext& ctx);

// generic_family.cc
void CmdDel(CommandContext& ctx);
void CmdExists(CommandContext& ctx);
void CmdType(CommandContext& ctx);
void CmdKeys(CommandContext& ctx);
void CmdScan(CommandContext& ctx);
void CmdRandomKey(CommandContext& ctx);
void CmdRename(CommandContext& ctx);
void CmdRenameNx(CommandContext& ctx);
void CmdCopy(CommandContext& ctx);
void CmdMove(CommandContext& ctx);
void CmdTouch(CommandContext& ctx);
void CmdExpire(CommandContext& ctx);
void CmdPExpire(CommandContext& ctx);
void CmdExpireAt(CommandContext& ctx);
void CmdPExpireAt(CommandContext& ctx);
void CmdTtl(CommandContext& ctx);
void CmdPTtl(CommandContext& ctx);
void CmdExpireTime(CommandContext& ctx);
void CmdPExpireTime(CommandContext& ctx);
void CmdPersist(CommandContext& ctx);
void CmdObjectEncoding(CommandContext& ctx);
void CmdObjectIdleTime(CommandContext& ctx);
void CmdObjectFreq(CommandContext& ctx);
void CmdObjectRefCount(CommandContext& ctx);
void CmdObjectHelp(CommandContext& ctx);

// bitmap_family.cc
void CmdBitCount(CommandContext& ctx);
void CmdBitField(CommandContext& ctx);
void CmdBitFieldRo(CommandContext& ctx);
void CmdBitOp(CommandContext& ctx);
void CmdBitPos(CommandContext& ctx);
void CmdGetBit(CommandContext& ctx);
void CmdSetBit(CommandContext& ctx);

// sort_family.cc
void CmdSort(CommandContext& ctx);
void CmdSortRo(CommandContext& ctx);

// hll_family.cc
void CmdPfAdd(CommandContext& ctx);
void CmdPfCount(CommandContext& ctx);
void CmdPfDebug(CommandContext& ctx);
void CmdPfMerge(CommandContext& ctx);
void CmdPfSelfTest(CommandContext& ctx);

// string_family.cc
void CmdGet(CommandContext& ctx);
void CmdSet(CommandContext& ctx);
void CmdSetNx(CommandContext& ctx);
void CmdSetEx(CommandContext& ctx);
void CmdPSetEx(CommandContext& ctx);
void CmdGetSet(CommandContext& ctx);
void CmdGetDel(CommandContext& ctx);
void CmdGetEx(CommandContext& ctx);
void CmdMGet(CommandContext& ctx);
void CmdMSet(CommandContext& ctx);
void CmdMSetNx(CommandContext& ctx);
void CmdAppend(CommandContext& ctx);
void CmdStrLen(CommandContext& ctx);
void CmdGetRange(CommandContext& ctx);
void CmdSetRange(CommandContext& ctx);
void CmdIncr(CommandContext& ctx);
void CmdDecr(CommandContext& ctx);
void CmdIncrBy(CommandContext& ctx);
void CmdDecrBy(CommandContext& ctx);
void CmdIncrByFloat(CommandContext& ctx);
void CmdLcs(CommandContext& ctx);

}  // namespace lattice::node

#endif  // LATTICE_NODE_FAMILIES_FAMILIES_H_
