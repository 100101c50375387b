// Geo commands. A geo set is a sorted set whose scores are 52-bit
// interleaved geohashes (26 steps of longitude -180..180 and latitude
// -85.05112878..85.05112878), so every write is a sorted-set write through
// a CollectionWrite and replicates and merges as one (docs/consistency.md,
// "Collections"). Semantics and reply bytes follow Redis 7.0's geo.c,
// geohash.c and geohash_helper.c: the same encoding and decoding
// arithmetic, the haversine distance with an earth radius of
// 6372797.560856 m, the search over the centre geohash box and its eight
// neighbours at an estimated step, distances printed as "%.4f" and
// coordinates as ld2string's human form, and the option parsing and error
// order of georadiusGeneric.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "node/families/families.h"
#include "node/families/util.h"
#include "node/families/zset_util.h"
#include "node/storage/zset.h"
#include "node/str_util.h"

namespace lattice::node {

namespace {

using Node = ZOrder::Node;

// ---- geohash (Redis's geohash.c) ----

constexpr int kStepMax = 26;
constexpr double kLonMin = -180, kLonMax = 180;
constexpr double kLatMin = -85.05112878, kLatMax = 85.05112878;
constexpr double kDegToRad = M_PI / 180.0;
constexpr double kEarthRadius = 6372797.560856;
constexpr double kMercatorMax = 20037726.37;

struct Range {
  double min = 0, max = 0;
};

struct HashBits {
  uint64_t bits = 0;
  int step = 0;
  bool zero() const { return bits == 0 && step == 0; }
};

struct Area {
  Range lon, lat;
};

constexpr Range kLonRange{kLonMin, kLonMax};
constexpr Range kLatRange{kLatMin, kLatMax};

// The bits of x in the even positions of the result.
uint64_t Spread(uint32_t x) {
  uint64_t v = x;
  v = (v | (v << 16)) & 0x0000FFFF0000FFFFULL;
  v = (v | (v << 8)) & 0x00FF00FF00FF00FFULL;
  v = (v | (v << 4)) & 0x0F0F0F0F0F0F0F0FULL;
  v = (v | (v << 2)) & 0x3333333333333333ULL;
  v = (v | (v << 1)) & 0x5555555555555555ULL;
  return v;
}

// The even positions of v, packed.
uint32_t Squeeze(uint64_t v) {
  v &= 0x5555555555555555ULL;
  v = (v | (v >> 1)) & 0x3333333333333333ULL;
  v = (v | (v >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
  v = (v | (v >> 4)) & 0x00FF00FF00FF00FFULL;
  v = (v | (v >> 8)) & 0x0000FFFF0000FFFFULL;
  v = (v | (v >> 16)) & 0x00000000FFFFFFFFULL;
  return static_cast<uint32_t>(v);
}

// Latitude in the even bits, longitude in the odd ones.
uint64_t Interleave(uint32_t lat, uint32_t lon) { return Spread(lat) | (Spread(lon) << 1); }

// geohashEncode: false outside the supported area (*h left as it was) or
// outside the given ranges (*h zero at `step`).
bool Encode(const Range& lon_r, const Range& lat_r, double lon, double lat, int step, HashBits* h) {
  if (lon > kLonMax || lon < kLonMin || lat > kLatMax || lat < kLatMin) return false;
  h->bits = 0;
  h->step = step;
  if (lat < lat_r.min || lat > lat_r.max || lon < lon_r.min || lon > lon_r.max) return false;
  double lat_offset = (lat - lat_r.min) / (lat_r.max - lat_r.min);
  double lon_offset = (lon - lon_r.min) / (lon_r.max - lon_r.min);
  lat_offset *= static_cast<double>(1ULL << step);
  lon_offset *= static_cast<double>(1ULL << step);
  h->bits = Interleave(static_cast<uint32_t>(lat_offset), static_cast<uint32_t>(lon_offset));
  return true;
}

// geohashDecode: the cell of `h`.
Area Decode(const HashBits& h) {
  uint32_t ilat = Squeeze(h.bits);
  uint32_t ilon = Squeeze(h.bits >> 1);
  double lat_scale = kLatRange.max - kLatRange.min;
  double lon_scale = kLonRange.max - kLonRange.min;
  double cells = static_cast<double>(1ULL << h.step);
  Area a;
  a.lat.min = kLatRange.min + (ilat * 1.0 / cells) * lat_scale;
  a.lat.max = kLatRange.min + (static_cast<uint32_t>(ilat + 1) * 1.0 / cells) * lat_scale;
  a.lon.min = kLonRange.min + (ilon * 1.0 / cells) * lon_scale;
  a.lon.max = kLonRange.min + (static_cast<uint32_t>(ilon + 1) * 1.0 / cells) * lon_scale;
  return a;
}

// What (uint64_t)d compiles to on x86-64 (cvttsd2si; Redis's
// decodeGeohash casts a score so): scores outside 0..2^64 give 2^63 or 0,
// negative ones wrap.
uint64_t ScoreBits(double d) {
  constexpr double k63 = 9223372036854775808.0;
  auto cvt = [](double x) -> uint64_t {
    if (x >= -k63 && x < k63) return static_cast<uint64_t>(static_cast<int64_t>(x));
    return 0x8000000000000000ULL;
  };
  if (d >= k63) return cvt(d - k63) ^ 0x8000000000000000ULL;
  return cvt(d);
}

struct LonLat {
  double lon = 0, lat = 0;
};

// decodeGeohash: the centre of the 26-step cell of a score, clamped.
LonLat DecodeScore(double score) {
  Area a = Decode(HashBits{ScoreBits(score), kStepMax});
  LonLat p;
  p.lon = std::clamp((a.lon.min + a.lon.max) / 2, kLonMin, kLonMax);
  p.lat = std::clamp((a.lat.min + a.lat.max) / 2, kLatMin, kLatMax);
  return p;
}

// geohashAlign52Bits.
uint64_t Align52(const HashBits& h) { return h.bits << (52 - h.step * 2); }

uint64_t ScoreOfPoint(double lon, double lat) {
  HashBits h;
  Encode(kLonRange, kLatRange, lon, lat, kStepMax, &h);
  return Align52(h);
}

// geohashMoveX/Y: moves the cell `d` steps along the axis whose bits are
// `mine` (the other axis's bits are `other`).
void MoveAxis(HashBits* h, int d, uint64_t mine, uint64_t other) {
  if (d == 0) return;
  uint64_t v = h->bits & mine;
  uint64_t rest = h->bits & other;
  uint64_t zz = other >> (64 - h->step * 2);
  if (d > 0) {
    v = v + (zz + 1);
  } else {
    v = v | zz;
    v = v - (zz + 1);
  }
  v &= (mine >> (64 - h->step * 2));
  h->bits = v | rest;
}

void MoveX(HashBits* h, int d) { MoveAxis(h, d, 0xaaaaaaaaaaaaaaaaULL, 0x5555555555555555ULL); }
void MoveY(HashBits* h, int d) { MoveAxis(h, d, 0x5555555555555555ULL, 0xaaaaaaaaaaaaaaaaULL); }

HashBits Moved(HashBits h, int dx, int dy) {
  MoveX(&h, dx);
  MoveY(&h, dy);
  return h;
}

// ---- distances and the search area (geohash_helper.c) ----

double DegRad(double a) { return a * kDegToRad; }
double RadDeg(double a) { return a / kDegToRad; }

// Along a meridian: haversine's asin(sin(x)) is x there.
double LatDistance(double lat1d, double lat2d) {
  return kEarthRadius * std::fabs(DegRad(lat2d) - DegRad(lat1d));
}

// Haversine, with Redis 7.0's shortcut for one longitude.
double Distance(double lon1d, double lat1d, double lon2d, double lat2d) {
  double lon1r = DegRad(lon1d), lon2r = DegRad(lon2d);
  double v = std::sin((lon2r - lon1r) / 2);
  if (v == 0.0) return LatDistance(lat1d, lat2d);
  double lat1r = DegRad(lat1d), lat2r = DegRad(lat2d);
  double u = std::sin((lat2r - lat1r) / 2);
  double a = u * u + std::cos(lat1r) * std::cos(lat2r) * v * v;
  return 2.0 * kEarthRadius * std::asin(std::sqrt(a));
}

// A search: a circle (radius) or an axis-aligned box (width, height) in
// units of `conversion` metres, around (lon, lat).
struct Shape {
  bool box = false;
  double lon = 0, lat = 0;
  double conversion = 1;
  double radius = 0, width = 0, height = 0;
};

int EstimateSteps(double range_meters, double lat) {
  if (range_meters == 0) return 26;
  int step = 1;
  while (range_meters < kMercatorMax) {
    range_meters *= 2;
    step++;
  }
  step -= 2;
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  return std::clamp(step, 1, 26);
}

// The centre box and its neighbours, in Redis's scan order: centre, north,
// south, east, west, north-east, north-west, south-east, south-west. A
// zero entry is skipped.
std::vector<HashBits> SearchBoxes(const Shape& s) {
  double height = s.conversion * (s.box ? s.height / 2 : s.radius);
  double width = s.conversion * (s.box ? s.width / 2 : s.radius);
  const double lat_delta = RadDeg(height / kEarthRadius);
  const double lon_delta_top = RadDeg(width / kEarthRadius / std::cos(DegRad(s.lat + lat_delta)));
  const double lon_delta_bottom =
      RadDeg(width / kEarthRadius / std::cos(DegRad(s.lat - lat_delta)));
  bool southern = s.lat < 0;
  double min_lon = southern ? s.lon - lon_delta_bottom : s.lon - lon_delta_top;
  double max_lon = southern ? s.lon + lon_delta_bottom : s.lon + lon_delta_top;
  double min_lat = s.lat - lat_delta;
  double max_lat = s.lat + lat_delta;

  double radius_meters =
      s.box ? std::sqrt((s.width / 2) * (s.width / 2) + (s.height / 2) * (s.height / 2)) : s.radius;
  radius_meters *= s.conversion;
  int steps = EstimateSteps(radius_meters, s.lat);

  HashBits hash;
  Encode(kLonRange, kLatRange, s.lon, s.lat, steps, &hash);
  // A neighbour too close to the search area's edge: one step coarser.
  Area north = Decode(Moved(hash, 0, 1)), south = Decode(Moved(hash, 0, -1));
  Area east = Decode(Moved(hash, 1, 0)), west = Decode(Moved(hash, -1, 0));
  bool decrease = north.lat.max < max_lat || south.lat.min > min_lat || east.lon.max < max_lon ||
                  west.lon.min > min_lon;
  if (steps > 1 && decrease) {
    steps--;
    Encode(kLonRange, kLatRange, s.lon, s.lat, steps, &hash);
  }
  Area area = Decode(hash);
  std::vector<HashBits> boxes = {
      hash,
      Moved(hash, 0, 1),    // north
      Moved(hash, 0, -1),   // south
      Moved(hash, 1, 0),    // east
      Moved(hash, -1, 0),   // west
      Moved(hash, 1, 1),    // north-east
      Moved(hash, -1, 1),   // north-west
      Moved(hash, 1, -1),   // south-east
      Moved(hash, -1, -1),  // south-west
  };
  enum { kN = 1, kS, kE, kW, kNE, kNW, kSE, kSW };
  if (steps >= 2) {
    if (area.lat.min < min_lat) boxes[kS] = boxes[kSW] = boxes[kSE] = HashBits{};
    if (area.lat.max > max_lat) boxes[kN] = boxes[kNE] = boxes[kNW] = HashBits{};
    if (area.lon.min < min_lon) boxes[kW] = boxes[kSW] = boxes[kNW] = HashBits{};
    if (area.lon.max > max_lon) boxes[kE] = boxes[kSE] = boxes[kNE] = HashBits{};
  }
  return boxes;
}

// Whether a point is in the shape, and its distance from the centre in
// metres (geoAppendIfWithinShape).
bool WithinShape(const Shape& s, const LonLat& p, double* dist) {
  if (!s.box) {
    *dist = Distance(s.lon, s.lat, p.lon, p.lat);
    return *dist <= s.radius * s.conversion;
  }
  double width_m = s.width * s.conversion, height_m = s.height * s.conversion;
  // geohashGetDistanceIfInRectangle: the cheaper latitude test first.
  if (LatDistance(p.lat, s.lat) > height_m / 2) return false;
  if (Distance(p.lon, p.lat, s.lon, p.lat) > width_m / 2) return false;
  *dist = Distance(s.lon, s.lat, p.lon, p.lat);
  return true;
}

struct Point {
  LonLat pos;
  double dist;  // metres, then units
  double score;
  std::string_view member;
};

// membersOfAllNeighbors: the members of each box (scores in [min, max))
// inside the shape, in box order and (score, member) order within a box;
// stops once `limit` (0: none) points are found.
std::vector<Point> Search(const ZsetObject& z, const Shape& s, uint64_t limit) {
  std::vector<HashBits> boxes = SearchBoxes(s);
  std::vector<Point> out;
  size_t last_processed = 0;
  for (size_t i = 0; i < boxes.size(); i++) {
    if (boxes[i].zero()) continue;
    // Redis skips a box equal to the one processed just before (not the
    // centre: last_processed starts at 0 and is tested for truth).
    if (last_processed && boxes[i].bits == boxes[last_processed].bits &&
        boxes[i].step == boxes[last_processed].step) {
      continue;
    }
    if (!out.empty() && limit && out.size() >= limit) break;
    double min = static_cast<double>(Align52(boxes[i]));
    HashBits next = boxes[i];
    next.bits++;
    double max = static_cast<double>(Align52(next));
    const Node* n = z.order().Seek([&](const Node& x) { return x.score < min; }).first;
    for (; n && n->score < max; n = n->next()) {
      Point p;
      p.pos = DecodeScore(n->score);
      if (WithinShape(s, p.pos, &p.dist)) {
        p.score = n->score;
        p.member = n->member();
        out.push_back(p);
      }
      if (!out.empty() && limit && out.size() >= limit) break;
    }
    last_processed = i;
  }
  return out;
}

// ---- ordering ----

// Redis's pqsort (pqsort.c, after NetBSD's qsort: Bentley-McIlroy
// three-way partitioning, median of three or of nine pivots, insertion
// sort under 7 elements) restated over indices: sorts enough of v[lo,
// lo+n) that ranks [keep_lo, keep_hi] hold what a full sort puts there.
// Equal elements end up where that algorithm leaves them, which is what
// makes a GEOSEARCH ... COUNT reply byte-identical among equal distances.
template <typename T, typename Cmp>
void PartialSort(std::vector<T>& v, size_t lo, size_t n, Cmp cmp, size_t keep_lo, size_t keep_hi) {
  auto med3 = [&](size_t a, size_t b, size_t c) {
    return cmp(v[a], v[b]) < 0 ? (cmp(v[b], v[c]) < 0 ? b : (cmp(v[a], v[c]) < 0 ? c : a))
                               : (cmp(v[b], v[c]) > 0 ? b : (cmp(v[a], v[c]) < 0 ? a : c));
  };
  // Swaps the blocks [a, a+k) and [b, b+k).
  auto vecswap = [&](size_t a, size_t b, size_t k) {
    for (size_t i = 0; i < k; i++) std::swap(v[a + i], v[b + i]);
  };
  // Whether the ranks to keep miss [first, first+len) entirely.
  auto outside = [&](size_t first, size_t len) {
    size_t last = first + len - 1;
    return (keep_lo < first && keep_hi < first) || (keep_lo > last && keep_hi > last);
  };
  for (;;) {
    if (n < 7) {
      for (size_t m = lo + 1; m < lo + n; m++) {
        for (size_t l = m; l > lo && cmp(v[l - 1], v[l]) > 0; l--) std::swap(v[l], v[l - 1]);
      }
      return;
    }
    size_t pm = lo + n / 2;
    if (n > 7) {
      size_t pl = lo, pn = lo + n - 1;
      if (n > 40) {
        size_t d = n / 8;
        pl = med3(pl, pl + d, pl + 2 * d);
        pm = med3(pm - d, pm, pm + d);
        pn = med3(pn - 2 * d, pn - d, pn);
      }
      pm = med3(pl, pm, pn);
    }
    std::swap(v[lo], v[pm]);
    // Signed: pc may step below pb.
    ptrdiff_t pa = static_cast<ptrdiff_t>(lo) + 1, pb = pa;
    ptrdiff_t pc = static_cast<ptrdiff_t>(lo + n - 1), pd = pc;
    for (;;) {
      int r;
      while (pb <= pc && (r = cmp(v[pb], v[lo])) <= 0) {
        if (r == 0) std::swap(v[pa++], v[pb]);
        pb++;
      }
      while (pb <= pc && (r = cmp(v[pc], v[lo])) >= 0) {
        if (r == 0) std::swap(v[pc], v[pd--]);
        pc--;
      }
      if (pb > pc) break;
      std::swap(v[pb++], v[pc--]);
    }
    ptrdiff_t pn = static_cast<ptrdiff_t>(lo + n);
    ptrdiff_t k = std::min(pa - static_cast<ptrdiff_t>(lo), pb - pa);
    vecswap(lo, static_cast<size_t>(pb - k), static_cast<size_t>(k));
    k = std::min(pd - pc, pn - pd - 1);
    vecswap(static_cast<size_t>(pb), static_cast<size_t>(pn - k), static_cast<size_t>(k));
    size_t left = static_cast<size_t>(pb - pa);
    if (left > 1 && !outside(lo, left)) PartialSort(v, lo, left, cmp, keep_lo, keep_hi);
    size_t right = static_cast<size_t>(pd - pc);
    if (right <= 1) return;
    lo = static_cast<size_t>(pn) - right;
    n = right;
    if (outside(lo, n)) return;
  }
}

// ---- argument parsing ----

// extractLongLatOrReply: args[0] longitude, args[1] latitude.
bool ArgLonLat(CommandContext& ctx, std::span<const std::string_view> args, LonLat* out) {
  if (!ArgDouble(ctx, args[0], &out->lon) || !ArgDouble(ctx, args[1], &out->lat)) return false;
  if (out->lon < kLonMin || out->lon > kLonMax || out->lat < kLatMin || out->lat > kLatMax) {
    char buf[256];
    snprintf(buf, sizeof buf, "ERR invalid longitude,latitude pair %f,%f", out->lon, out->lat);
    ctx.rb->Error(buf);
    return false;
  }
  return true;
}

// extractUnitOrReply: metres per unit, or -1 after replying.
double ArgUnit(CommandContext& ctx, std::string_view u) {
  if (IsOpt(u, "m")) return 1;
  if (IsOpt(u, "km")) return 1000;
  if (IsOpt(u, "ft")) return 0.3048;
  if (IsOpt(u, "mi")) return 1609.34;
  ctx.rb->Error("ERR unsupported unit provided. please use M, KM, FT, MI");
  return -1;
}

// extractDistanceOrReply: args[0] radius, args[1] unit.
bool ArgRadius(CommandContext& ctx, std::span<const std::string_view> args, Shape* s) {
  double r;
  if (!ArgDouble(ctx, args[0], &r, "ERR need numeric radius")) return false;
  if (r < 0) {
    ctx.rb->Error("ERR radius cannot be negative");
    return false;
  }
  double conv = ArgUnit(ctx, args[1]);
  if (conv < 0) return false;
  s->box = false;
  s->radius = r;
  s->conversion = conv;
  return true;
}

// extractBoxOrReply: args[0] width, args[1] height, args[2] unit.
bool ArgBox(CommandContext& ctx, std::span<const std::string_view> args, Shape* s) {
  double w, h;
  if (!ArgDouble(ctx, args[0], &w, "ERR need numeric width") ||
      !ArgDouble(ctx, args[1], &h, "ERR need numeric height")) {
    return false;
  }
  if (h < 0 || w < 0) {
    ctx.rb->Error("ERR height or width cannot be negative");
    return false;
  }
  double conv = ArgUnit(ctx, args[2]);
  if (conv < 0) return false;
  s->box = true;
  s->width = w;
  s->height = h;
  s->conversion = conv;
  return true;
}

// ---- replies ----

// addReplyDoubleDistance: four decimals.
std::string FormatDistance(double d) {
  char buf[128];
  int n = snprintf(buf, sizeof buf, "%.4f", d);
  return std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

// addReplyHumanLongDouble.
void ReplyCoord(CommandContext& ctx, double v) { ctx.rb->DoubleText(FormatLongDouble(v)); }

// ---- GEORADIUS and GEOSEARCH (georadiusGeneric) ----

enum Flags : unsigned {
  kByCoords = 1 << 0,  // GEORADIUS[_RO]
  kByMember = 1 << 1,  // GEORADIUSBYMEMBER[_RO]
  kNoStore = 1 << 2,   // the _RO variants
  kSearch = 1 << 3,    // GEOSEARCH[STORE]
  kSearchStore = 1 << 4,
};

enum class Sort { kNone, kAsc, kDesc };

// The member's position; false when it is not a member.
bool MemberPos(const ZsetObject& z, std::string_view member, LonLat* out) {
  double score;
  if (!z.ScoreOf(member, &score)) return false;
  *out = DecodeScore(score);
  return true;
}

void GeoRadiusGeneric(CommandContext& ctx, size_t src_idx, unsigned flags) {
  std::string_view storekey;
  bool has_store = false;
  bool storedist = false;
  const ZsetObject* z;
  if (!ReadZset(ctx, ctx.args[src_idx], &z)) return;
  auto args = ctx.args;
  size_t base;
  Shape shape;
  LonLat center;
  if (flags & kByCoords) {
    base = 6;
    if (!ArgLonLat(ctx, args.subspan(2, 2), &center)) return;
    if (!ArgRadius(ctx, args.subspan(base - 2, 2), &shape)) return;
  } else if (flags & kByMember) {
    base = 5;
    if (z) {
      if (!MemberPos(*z, args[2], &center)) {
        ctx.rb->Error("ERR could not decode requested zset member");
        return;
      }
      if (!ArgRadius(ctx, args.subspan(base - 2, 2), &shape)) return;
    }
  } else {
    base = 2;
    if (flags & kSearchStore) {
      base = 3;
      storekey = args[1];
      has_store = true;
    }
  }

  bool withdist = false, withhash = false, withcoords = false;
  bool frommember = false, fromloc = false, byradius = false, bybox = false;
  Sort sort = Sort::kNone;
  bool any = false;
  int64_t count = 0;
  size_t remaining = args.size() > base ? args.size() - base : 0;
  const bool search = flags & kSearch;
  const bool can_store = !(flags & kNoStore) && !search;
  for (size_t i = 0; i < remaining; i++) {
    std::string_view arg = args[base + i];
    if (IsOpt(arg, "withdist")) {
      withdist = true;
    } else if (IsOpt(arg, "withhash")) {
      withhash = true;
    } else if (IsOpt(arg, "withcoord")) {
      withcoords = true;
    } else if (IsOpt(arg, "any")) {
      any = true;
    } else if (IsOpt(arg, "asc")) {
      sort = Sort::kAsc;
    } else if (IsOpt(arg, "desc")) {
      sort = Sort::kDesc;
    } else if (IsOpt(arg, "count") && i + 1 < remaining) {
      if (!ArgInt(ctx, args[base + i + 1], &count)) return;
      if (count <= 0) {
        ctx.rb->Error("ERR COUNT must be > 0");
        return;
      }
      i++;
    } else if (IsOpt(arg, "store") && i + 1 < remaining && can_store) {
      storekey = args[base + i + 1];
      has_store = true;
      storedist = false;
      i++;
    } else if (IsOpt(arg, "storedist") && i + 1 < remaining && can_store) {
      storekey = args[base + i + 1];
      has_store = true;
      storedist = true;
      i++;
    } else if (IsOpt(arg, "storedist") && search && (flags & kSearchStore)) {
      storedist = true;
    } else if (IsOpt(arg, "frommember") && i + 1 < remaining && search && !fromloc) {
      // Without a source key the parse goes on; the reply is the empty one.
      if (z && !MemberPos(*z, args[base + i + 1], &center)) {
        ctx.rb->Error("ERR could not decode requested zset member");
        return;
      }
      frommember = true;
      i++;
    } else if (IsOpt(arg, "fromlonlat") && i + 2 < remaining && search && !frommember) {
      if (!ArgLonLat(ctx, args.subspan(base + i + 1, 2), &center)) return;
      fromloc = true;
      i += 2;
    } else if (IsOpt(arg, "byradius") && i + 2 < remaining && search && !bybox) {
      if (!ArgRadius(ctx, args.subspan(base + i + 1, 2), &shape)) return;
      byradius = true;
      i += 2;
    } else if (IsOpt(arg, "bybox") && i + 3 < remaining && search && !byradius) {
      if (!ArgBox(ctx, args.subspan(base + i + 1, 3), &shape)) return;
      bybox = true;
      i += 3;
    } else {
      ctx.rb->Error(errors::kSyntax);
      return;
    }
  }

  if (has_store && (withdist || withhash || withcoords)) {
    ctx.rb->Error(StrCat("ERR ",
                         (flags & kSearchStore) ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS",
                         " is not compatible with WITHDIST, WITHHASH and WITHCOORD options"));
    return;
  }
  // Redis prints the command name as the client spelled it (%s: up to a
  // NUL).
  std::string_view name = COption(args[0]);
  if (search && !(frommember || fromloc)) {
    ctx.rb->Error(
        StrCat("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ", name));
    return;
  }
  if (search && !(byradius || bybox)) {
    ctx.rb->Error(StrCat("ERR exactly one of BYRADIUS and BYBOX can be specified for ", name));
    return;
  }
  if (any && !count) {
    ctx.rb->Error("ERR the ANY argument requires COUNT argument");
    return;
  }
  if (!z) {
    if (has_store) {
      StoreZsetResult(ctx, storekey, {});
    } else {
      ctx.rb->ArrayHeader(0);
    }
    return;
  }
  // COUNT without an order means the closest ones (not with ANY).
  if (count != 0 && sort == Sort::kNone && !any) sort = Sort::kAsc;

  shape.lon = center.lon;
  shape.lat = center.lat;
  std::vector<Point> found = Search(*z, shape, any ? static_cast<uint64_t>(count) : 0);
  if (found.empty() && !has_store) {
    ctx.rb->ArrayHeader(0);
    return;
  }
  size_t returned = (count == 0 || found.size() < static_cast<uint64_t>(count))
                        ? found.size()
                        : static_cast<size_t>(count);
  // All of them: glibc's qsort, a stable merge sort. The first `returned`
  // only: Redis's pqsort.
  if (sort != Sort::kNone) {
    bool asc = sort == Sort::kAsc;
    auto cmp3 = [asc](const Point& a, const Point& b) {
      int c = a.dist > b.dist ? 1 : a.dist == b.dist ? 0 : -1;
      return asc ? c : -c;
    };
    if (returned == found.size()) {
      std::stable_sort(found.begin(), found.end(),
                       [&](const Point& a, const Point& b) { return cmp3(a, b) < 0; });
    } else {
      PartialSort(found, 0, found.size(), cmp3, 0, returned - 1);
    }
  }
  found.resize(returned);
  for (Point& p : found) p.dist /= shape.conversion;

  if (has_store) {
    std::vector<std::pair<std::string_view, double>> items;
    items.reserve(found.size());
    for (const Point& p : found) items.emplace_back(p.member, storedist ? p.dist : p.score);
    StoreZsetResult(ctx, storekey, items);
    return;
  }
  int options = int{withdist} + int{withcoords} + int{withhash};
  ctx.rb->ArrayHeader(static_cast<int64_t>(found.size()));
  for (const Point& p : found) {
    if (options) ctx.rb->ArrayHeader(options + 1);
    ctx.rb->Bulk(p.member);
    if (withdist) ctx.rb->Bulk(FormatDistance(p.dist));
    if (withhash) ctx.rb->Integer(static_cast<int64_t>(p.score));
    if (withcoords) {
      ctx.rb->ArrayHeader(2);
      ReplyCoord(ctx, p.pos.lon);
      ReplyCoord(ctx, p.pos.lat);
    }
  }
}

}  // namespace

void CmdGeoAdd(CommandContext& ctx) {
  bool nx = false, xx = false, ch = false;
  size_t longidx = 2;
  for (; longidx < ctx.args.size(); longidx++) {
    std::string_view opt = ctx.args[longidx];
    if (IsOpt(opt, "nx")) {
      nx = true;
    } else if (IsOpt(opt, "xx")) {
      xx = true;
    } else if (IsOpt(opt, "ch")) {
      ch = true;
    } else {
      break;
    }
  }
  size_t left = ctx.args.size() - longidx;
  // No triple at all is ZADD's syntax error.
  if (left % 3 != 0 || (xx && nx) || left == 0) {
    ctx.rb->Error(errors::kSyntax);
    return;
  }
  size_t elements = left / 3;
  std::vector<double> scores(elements);
  for (size_t j = 0; j < elements; j++) {
    LonLat p;
    if (!ArgLonLat(ctx, ctx.args.subspan(longidx + j * 3, 2), &p)) return;
    scores[j] = static_cast<double>(ScoreOfPoint(p.lon, p.lat));
  }
  CollectionWrite w(ctx, ctx.args[1], ObjType::kZset);
  if (!w.Open()) return;
  ZsetObject* z = w.Get<ZsetObject>();
  if (!z && !xx) {
    // zaddGenericCommand: a skiplist at once if the first member does not
    // fit a listpack.
    z = w.Create<ZsetObject>();
    if (g_encoding_limits.zset_max_listpack_entries.load() == 0 ||
        ZsetObject::TooLong(ctx.args[longidx + 2].size())) {
      z->set_enc(CollEnc::kSkiplist);
    }
  }
  int64_t added = 0, updated = 0;
  for (size_t j = 0; z && j < elements; j++) {
    std::string_view member = ctx.args[longidx + j * 3 + 2];
    double score = scores[j];
    double cur;
    if (z->ScoreOf(member, &cur)) {
      if (nx || score == cur) continue;
      crdt::Stamp dot = w.ElementDot();
      ZsetObject::Dots replaced = z->Set(member, score, dot);
      RecordPut(w, z, member, dot, std::move(replaced));
      updated++;
    } else if (!xx) {
      z->PrepareAdd(member.size(), 1);
      crdt::Stamp dot = w.ElementDot();
      ZsetObject::Dots none = z->Set(member, score, dot);
      RecordPut(w, z, member, dot, std::move(none));
      added++;
    }
  }
  w.Done();
  ctx.rb->Integer(ch ? added + updated : added);
}

void CmdGeoDist(CommandContext& ctx) {
  double to_meter = 1;
  if (ctx.args.size() == 5) {
    to_meter = ArgUnit(ctx, ctx.args[4]);
    if (to_meter < 0) return;
  } else if (ctx.args.size() > 5) {
    ctx.rb->Error(errors::kSyntax);
    return;
  }
  const ZsetObject* z;
  if (!ReadZset(ctx, ctx.args[1], &z)) return;
  double s1, s2;
  if (!z || !z->ScoreOf(ctx.args[2], &s1) || !z->ScoreOf(ctx.args[3], &s2)) {
    ctx.rb->Null();
    return;
  }
  LonLat a = DecodeScore(s1), b = DecodeScore(s2);
  ctx.rb->Bulk(FormatDistance(Distance(a.lon, a.lat, b.lon, b.lat) / to_meter));
}

void CmdGeoHash(CommandContext& ctx) {
  static constexpr char kAlphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
  const ZsetObject* z;
  if (!ReadZset(ctx, ctx.args[1], &z)) return;
  ctx.rb->ArrayHeader(static_cast<int64_t>(ctx.args.size() - 2));
  for (size_t j = 2; j < ctx.args.size(); j++) {
    double score;
    if (!z || !z->ScoreOf(ctx.args[j], &score)) {
      ctx.rb->Null();
      continue;
    }
    // Re-encoded over the standard latitude range -90..90.
    LonLat p = DecodeScore(score);
    HashBits h;
    Encode(Range{-180, 180}, Range{-90, 90}, p.lon, p.lat, 26, &h);
    char buf[11];
    for (int i = 0; i < 11; i++) {
      int idx = i == 10 ? 0 : static_cast<int>((h.bits >> (52 - ((i + 1) * 5))) & 0x1f);
      buf[i] = kAlphabet[idx];
    }
    ctx.rb->Bulk(std::string_view(buf, 11));
  }
}

void CmdGeoPos(CommandContext& ctx) {
  const ZsetObject* z;
  if (!ReadZset(ctx, ctx.args[1], &z)) return;
  ctx.rb->ArrayHeader(static_cast<int64_t>(ctx.args.size() - 2));
  for (size_t j = 2; j < ctx.args.size(); j++) {
    double score;
    if (!z || !z->ScoreOf(ctx.args[j], &score)) {
      ctx.rb->NullArray();
      continue;
    }
    LonLat p = DecodeScore(score);
    ctx.rb->ArrayHeader(2);
    ReplyCoord(ctx, p.lon);
    ReplyCoord(ctx, p.lat);
  }
}

void CmdGeoRadius(CommandContext& ctx) { GeoRadiusGeneric(ctx, 1, kByCoords); }
void CmdGeoRadiusRo(CommandContext& ctx) { GeoRadiusGeneric(ctx, 1, kByCoords | kNoStore); }
void CmdGeoRadiusByMember(CommandContext& ctx) { GeoRadiusGeneric(ctx, 1, kByMember); }
void CmdGeoRadiusByMemberRo(CommandContext& ctx) { GeoRadiusGeneric(ctx, 1, kByMember | kNoStore); }
void CmdGeoSearch(CommandContext& ctx) { GeoRadiusGeneric(ctx, 1, kSearch); }
void CmdGeoSearchStore(CommandContext& ctx) { GeoRadiusGeneric(ctx, 2, kSearch | kSearchStore); }

size_t GeoRadiusStoreKey(std::span<const std::string_view> args) {
  // Redis's georadiusGetKeys: the last STORE/STOREDIST from argument 5 on.
  size_t pos = 0;
  for (size_t i = 5; i < args.size(); i++) {
    if ((IsOpt(args[i], "store") || IsOpt(args[i], "storedist")) && i + 1 < args.size()) {
      pos = i + 1;
      i++;
    }
  }
  return pos;
}

}  // namespace lattice::node
