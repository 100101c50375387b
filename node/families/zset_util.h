// Sorted-set helpers that the geo commands share with zset_family.cc (a geo
// set is a sorted set of geohash scores).
#ifndef LATTICE_NODE_FAMILIES_ZSET_UTIL_H_
#define LATTICE_NODE_FAMILIES_ZSET_UTIL_H_

#include <string_view>
#include <utility>
#include <vector>

#include "node/command.h"
#include "node/families/util.h"
#include "node/storage/zset.h"

namespace lattice::node {

// The sorted set at `key` for reading: *out is null when the key is
// missing (or empty). False after replying WRONGTYPE.
bool ReadZset(CommandContext& ctx, std::string_view key, const ZsetObject** out);

// Records a put of `member` at its score as the zset now holds it, under
// element dot `dot` (CollectionWrite::ElementDot).
void RecordPut(CollectionWrite& w, ZsetObject* z, std::string_view member, crdt::Stamp dot,
               ZsetObject::Dots replaced);

// The *STORE commands' last step: `dst` is replaced by a zset of `items`
// (deleted when there are none), whatever it held; replies the count.
void StoreZsetResult(CommandContext& ctx, std::string_view dst,
                     const std::vector<std::pair<std::string_view, double>>& items);

}  // namespace lattice::node

#endif  // LATTICE_NODE_FAMILIES_ZSET_UTIL_H_
