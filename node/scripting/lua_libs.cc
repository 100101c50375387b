#include "node/scripting/lua_libs.h"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

namespace lattice::node {

namespace {

// Every function here keeps its C++ objects in an inner scope that ends
// before any Lua error is raised (lua_error is a longjmp).

// ---------------------------------------------------------------- cmsgpack

constexpr int kMaxNesting = 16;  // deeper tables encode as nil, as Redis's

void PutBig(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; i--) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void EncodeInteger(std::string* out, int64_t v) {
  if (v >= 0) {
    uint64_t u = static_cast<uint64_t>(v);
    if (u <= 127) {
      out->push_back(static_cast<char>(u));
    } else if (u <= 0xff) {
      out->push_back(static_cast<char>(0xcc));
      PutBig(out, u, 1);
    } else if (u <= 0xffff) {
      out->push_back(static_cast<char>(0xcd));
      PutBig(out, u, 2);
    } else if (u <= 0xffffffffULL) {
      out->push_back(static_cast<char>(0xce));
      PutBig(out, u, 4);
    } else {
      out->push_back(static_cast<char>(0xcf));
      PutBig(out, u, 8);
    }
  } else if (v >= -32) {
    out->push_back(static_cast<char>(static_cast<int8_t>(v)));
  } else if (v >= -128) {
    out->push_back(static_cast<char>(0xd0));
    PutBig(out, static_cast<uint64_t>(v), 1);
  } else if (v >= -32768) {
    out->push_back(static_cast<char>(0xd1));
    PutBig(out, static_cast<uint64_t>(v), 2);
  } else if (v >= INT32_MIN) {
    out->push_back(static_cast<char>(0xd2));
    PutBig(out, static_cast<uint64_t>(v), 4);
  } else {
    out->push_back(static_cast<char>(0xd3));
    PutBig(out, static_cast<uint64_t>(v), 8);
  }
}

void EncodeNumber(std::string* out, lua_Number n) {
  if (std::isfinite(n) && n >= -9223372036854775808.0 && n < 9223372036854775808.0 &&
      static_cast<lua_Number>(static_cast<int64_t>(n)) == n) {
    EncodeInteger(out, static_cast<int64_t>(n));
    return;
  }
  float f = static_cast<float>(n);
  if (static_cast<lua_Number>(f) == n) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    out->push_back(static_cast<char>(0xca));
    PutBig(out, bits, 4);
  } else {
    uint64_t bits;
    double d = n;
    std::memcpy(&bits, &d, 8);
    out->push_back(static_cast<char>(0xcb));
    PutBig(out, bits, 8);
  }
}

void EncodeLength(std::string* out, size_t n, uint8_t fix, size_t fix_max, uint8_t c8,
                  uint8_t c16, uint8_t c32) {
  if (n <= fix_max) {
    out->push_back(static_cast<char>(fix | n));
  } else if (c8 && n <= 0xff) {
    out->push_back(static_cast<char>(c8));
    PutBig(out, n, 1);
  } else if (n <= 0xffff) {
    out->push_back(static_cast<char>(c16));
    PutBig(out, n, 2);
  } else {
    out->push_back(static_cast<char>(c32));
    PutBig(out, n, 4);
  }
}

// The length of the table at the top when it is an array (keys 1..n and
// nothing else), or -1.
int64_t ArrayLength(lua_State* L) {
  int64_t count = 0, max = 0;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TNUMBER) {
      lua_pop(L, 1);
      return -1;
    }
    lua_Number k = lua_tonumber(L, -1);
    if (k <= 0 || std::floor(k) != k) {
      lua_pop(L, 1);
      return -1;
    }
    count++;
    if (k > max) max = static_cast<int64_t>(k);
  }
  return max == count ? count : -1;
}

// Encodes the value on top of the stack (and leaves it there).
void Encode(lua_State* L, std::string* out, int level) {
  switch (lua_type(L, -1)) {
    case LUA_TBOOLEAN:
      out->push_back(static_cast<char>(lua_toboolean(L, -1) ? 0xc3 : 0xc2));
      return;
    case LUA_TNUMBER:
      EncodeNumber(out, lua_tonumber(L, -1));
      return;
    case LUA_TSTRING: {
      size_t len;
      const char* s = lua_tolstring(L, -1, &len);
      EncodeLength(out, len, 0xa0, 31, 0xd9, 0xda, 0xdb);
      out->append(s, len);
      return;
    }
    case LUA_TTABLE: {
      if (level >= kMaxNesting || !lua_checkstack(L, 3)) {
        out->push_back(static_cast<char>(0xc0));
        return;
      }
      int64_t n = ArrayLength(L);
      if (n >= 0) {
        EncodeLength(out, static_cast<size_t>(n), 0x90, 15, 0, 0xdc, 0xdd);
        for (int64_t i = 1; i <= n; i++) {
          lua_rawgeti(L, -1, static_cast<int>(i));
          Encode(L, out, level + 1);
          lua_pop(L, 1);
        }
        return;
      }
      size_t pairs = 0;
      lua_pushnil(L);
      while (lua_next(L, -2)) {
        lua_pop(L, 1);
        pairs++;
      }
      EncodeLength(out, pairs, 0x80, 15, 0, 0xde, 0xdf);
      lua_pushnil(L);
      while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        Encode(L, out, level + 1);  // key
        lua_pop(L, 1);
        Encode(L, out, level + 1);  // value
        lua_pop(L, 1);
      }
      return;
    }
    default:
      out->push_back(static_cast<char>(0xc0));
  }
}

int MpPack(lua_State* L) {
  int n = lua_gettop(L);
  if (n == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
  {
    std::string out;
    for (int i = 1; i <= n; i++) {
      lua_pushvalue(L, i);
      Encode(L, &out, 0);
      lua_pop(L, 1);
    }
    lua_pushlstring(L, out.data(), out.size());
  }
  return 1;
}

enum class Dec { kOk, kMissing, kBad };

struct Cursor {
  const unsigned char* p;
  size_t left;
};

uint64_t GetBig(Cursor& c, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++) v = (v << 8) | c.p[i];
  c.p += bytes;
  c.left -= bytes;
  return v;
}

Dec Decode(lua_State* L, Cursor& c, int depth);

Dec DecodeArray(lua_State* L, Cursor& c, size_t n, int depth) {
  if (!lua_checkstack(L, 2)) return Dec::kBad;
  lua_newtable(L);
  for (size_t i = 1; i <= n; i++) {
    Dec d = Decode(L, c, depth + 1);
    if (d != Dec::kOk) return d;
    lua_rawseti(L, -2, static_cast<int>(i));
  }
  return Dec::kOk;
}

Dec DecodeMap(lua_State* L, Cursor& c, size_t n, int depth) {
  if (!lua_checkstack(L, 3)) return Dec::kBad;
  lua_newtable(L);
  for (size_t i = 0; i < n; i++) {
    Dec d = Decode(L, c, depth + 1);
    if (d != Dec::kOk) return d;
    d = Decode(L, c, depth + 1);
    if (d != Dec::kOk) return d;
    if (lua_isnil(L, -2)) {
      lua_pop(L, 2);  // a nil key cannot index a table
    } else {
      lua_settable(L, -3);
    }
  }
  return Dec::kOk;
}

Dec DecodeString(lua_State* L, Cursor& c, int len_bytes) {
  if (c.left < static_cast<size_t>(len_bytes)) return Dec::kMissing;
  size_t len = static_cast<size_t>(GetBig(c, len_bytes));
  if (c.left < len) return Dec::kMissing;
  lua_pushlstring(L, reinterpret_cast<const char*>(c.p), len);
  c.p += len;
  c.left -= len;
  return Dec::kOk;
}

// Decodes one value and pushes it.
Dec Decode(lua_State* L, Cursor& c, int depth) {
  if (depth > 1000 || !lua_checkstack(L, 1)) return Dec::kBad;
  if (c.left == 0) return Dec::kMissing;
  unsigned char t = *c.p++;
  c.left--;
  auto need = [&](size_t n) { return c.left >= n; };
  if (t <= 0x7f) {
    lua_pushnumber(L, t);
  } else if (t >= 0xe0) {
    lua_pushnumber(L, static_cast<int8_t>(t));
  } else if ((t & 0xf0) == 0x80) {
    return DecodeMap(L, c, t & 0x0f, depth);
  } else if ((t & 0xf0) == 0x90) {
    return DecodeArray(L, c, t & 0x0f, depth);
  } else if ((t & 0xe0) == 0xa0) {
    size_t len = t & 0x1f;
    if (!need(len)) return Dec::kMissing;
    lua_pushlstring(L, reinterpret_cast<const char*>(c.p), len);
    c.p += len;
    c.left -= len;
  } else {
    switch (t) {
      case 0xc0:
        lua_pushnil(L);
        break;
      case 0xc2:
        lua_pushboolean(L, 0);
        break;
      case 0xc3:
        lua_pushboolean(L, 1);
        break;
      case 0xc4:
      case 0xd9:
        return DecodeString(L, c, 1);
      case 0xc5:
      case 0xda:
        return DecodeString(L, c, 2);
      case 0xc6:
      case 0xdb:
        return DecodeString(L, c, 4);
      case 0xca: {
        if (!need(4)) return Dec::kMissing;
        uint32_t bits = static_cast<uint32_t>(GetBig(c, 4));
        float f;
        std::memcpy(&f, &bits, 4);
        lua_pushnumber(L, f);
        break;
      }
      case 0xcb: {
        if (!need(8)) return Dec::kMissing;
        uint64_t bits = GetBig(c, 8);
        double d;
        std::memcpy(&d, &bits, 8);
        lua_pushnumber(L, d);
        break;
      }
      case 0xcc:
      case 0xcd:
      case 0xce:
      case 0xcf: {
        int bytes = 1 << (t - 0xcc);
        if (!need(bytes)) return Dec::kMissing;
        lua_pushnumber(L, static_cast<lua_Number>(GetBig(c, bytes)));
        break;
      }
      case 0xd0:
      case 0xd1:
      case 0xd2:
      case 0xd3: {
        int bytes = 1 << (t - 0xd0);
        if (!need(bytes)) return Dec::kMissing;
        uint64_t u = GetBig(c, bytes);
        int shift = 64 - 8 * bytes;
        int64_t v = static_cast<int64_t>(u << shift) >> shift;
        lua_pushnumber(L, static_cast<lua_Number>(v));
        break;
      }
      case 0xdc:
      case 0xdd: {
        int bytes = t == 0xdc ? 2 : 4;
        if (!need(bytes)) return Dec::kMissing;
        return DecodeArray(L, c, static_cast<size_t>(GetBig(c, bytes)), depth);
      }
      case 0xde:
      case 0xdf: {
        int bytes = t == 0xde ? 2 : 4;
        if (!need(bytes)) return Dec::kMissing;
        return DecodeMap(L, c, static_cast<size_t>(GetBig(c, bytes)), depth);
      }
      default:
        return Dec::kBad;
    }
  }
  return Dec::kOk;
}

// Decodes up to `limit` values (0: all) from offset; pushes the offset
// after them (-1 at the end of input) when `with_offset`, then the values.
int UnpackCommon(lua_State* L, int limit, size_t offset, bool with_offset) {
  size_t len;
  const char* s = luaL_checklstring(L, 1, &len);
  if (offset > len) return luaL_error(L, "Start offset %d greater than input length %d.",
                                      static_cast<int>(offset), static_cast<int>(len));
  int base = lua_gettop(L);
  if (with_offset) lua_pushnil(L);  // replaced below
  Cursor c{reinterpret_cast<const unsigned char*>(s) + offset, len - offset};
  int count = 0;
  Dec d = Dec::kOk;
  while (c.left > 0 && (limit == 0 || count < limit)) {
    d = Decode(L, c, 0);
    if (d != Dec::kOk) break;
    count++;
  }
  if (d == Dec::kMissing) return luaL_error(L, "Missing bytes in input.");
  if (d == Dec::kBad) return luaL_error(L, "Bad data format in input.");
  if (with_offset) {
    lua_Number next = c.left == 0 ? -1 : static_cast<lua_Number>(len - c.left);
    lua_pushnumber(L, next);
    lua_replace(L, base + 1);
    return count + 1;
  }
  return count;
}

int MpUnpack(lua_State* L) { return UnpackCommon(L, 0, 0, false); }

int MpUnpackOne(lua_State* L) {
  int offset = luaL_optint(L, 2, 0);
  lua_settop(L, 1);
  return UnpackCommon(L, 1, offset < 0 ? 0 : static_cast<size_t>(offset), true);
}

int MpUnpackLimit(lua_State* L) {
  int limit = luaL_checkint(L, 2);
  int offset = luaL_optint(L, 3, 0);
  lua_settop(L, 1);
  return UnpackCommon(L, limit < 0 ? 0 : limit, offset < 0 ? 0 : static_cast<size_t>(offset),
                      true);
}

// ------------------------------------------------------------------ struct

struct Format {
  const char* p;
  bool little;
  int maxalign;
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int ReadSize(Format& f, int dflt) {
  if (!IsDigit(*f.p)) return dflt;
  int a = 0;
  while (IsDigit(*f.p) && a < 100000) a = a * 10 + (*f.p++ - '0');
  return a;
}

// Size of the item option `opt` (after any count), or 0 for 's'/'x'...
// Sets *error for an unknown option.
size_t OptSize(char opt, Format& f, const char** error) {
  switch (opt) {
    case 'B':
    case 'b':
      return 1;
    case 'H':
    case 'h':
      return 2;
    case 'L':
    case 'l':
    case 'T':
      return 8;
    case 'f':
      return 4;
    case 'd':
      return 8;
    case 'x':
      return 1;
    case 'c':
      return static_cast<size_t>(ReadSize(f, 1));
    case 'i':
    case 'I': {
      int sz = ReadSize(f, 4);
      if (sz < 1 || sz > 8) {
        *error = "integral size out of limits";
        return 0;
      }
      return static_cast<size_t>(sz);
    }
    default:
      return 0;
  }
}

size_t Gap(size_t len, size_t size, int maxalign) {
  size_t align = size;
  if (align <= 1 || maxalign <= 1) return 0;
  if (align > static_cast<size_t>(maxalign)) align = static_cast<size_t>(maxalign);
  if ((align & (align - 1)) != 0) return 0;
  return (align - (len & (align - 1))) & (align - 1);
}

// Handles the options that change state ('<', '>', '!', ' ', '='); true
// when `opt` was one.
bool Control(char opt, Format& f, const char** error) {
  switch (opt) {
    case ' ':
      return true;
    case '>':
      f.little = false;
      return true;
    case '<':
    case '=':
      f.little = true;
      return true;
    case '!': {
      int a = ReadSize(f, 8);
      if (a < 1 || (a & (a - 1)) != 0) *error = "alignment must be power of 2";
      f.maxalign = a;
      return true;
    }
    default:
      return false;
  }
}

void PutInt(std::string* out, uint64_t v, size_t size, bool little) {
  for (size_t i = 0; i < size; i++) {
    size_t shift = 8 * (little ? i : size - 1 - i);
    out->push_back(static_cast<char>(shift < 64 ? (v >> shift) & 0xff : 0));
  }
}

uint64_t GetInt(const char* p, size_t size, bool little, bool is_signed) {
  uint64_t v = 0;
  for (size_t i = 0; i < size; i++) {
    unsigned char b = static_cast<unsigned char>(p[little ? size - 1 - i : i]);
    v = (v << 8) | b;
  }
  if (is_signed && size < 8 && (v >> (8 * size - 1)) & 1) v |= ~0ULL << (8 * size);
  return v;
}

int StructPack(lua_State* L) {
  const char* error = nullptr;
  int bad_arg = 0;
  {
    std::string out;
    Format f{luaL_checkstring(L, 1), true, 1};
    int arg = 2;
    while (*f.p && !error && !bad_arg) {
      char opt = *f.p++;
      if (Control(opt, f, &error)) continue;
      size_t size = OptSize(opt, f, &error);
      if (error) break;
      out.append(Gap(out.size(), size, f.maxalign), '\0');
      switch (opt) {
        case 'b':
        case 'B':
        case 'h':
        case 'H':
        case 'l':
        case 'L':
        case 'T':
        case 'i':
        case 'I': {
          if (!lua_isnumber(L, arg)) {
            bad_arg = arg;
            break;
          }
          lua_Number n = lua_tonumber(L, arg++);
          int64_t v = n < 0 ? static_cast<int64_t>(n)
                            : static_cast<int64_t>(static_cast<uint64_t>(n));
          PutInt(&out, static_cast<uint64_t>(v), size, f.little);
          break;
        }
        case 'x':
          out.push_back('\0');
          break;
        case 'f':
        case 'd': {
          if (!lua_isnumber(L, arg)) {
            bad_arg = arg;
            break;
          }
          lua_Number n = lua_tonumber(L, arg++);
          uint64_t bits = 0;
          if (opt == 'f') {
            float v = static_cast<float>(n);
            uint32_t b;
            std::memcpy(&b, &v, 4);
            bits = b;
          } else {
            double v = n;
            std::memcpy(&bits, &v, 8);
          }
          PutInt(&out, bits, size, f.little);
          break;
        }
        case 'c':
        case 's': {
          if (!lua_isstring(L, arg)) {
            bad_arg = arg;
            break;
          }
          size_t len;
          const char* s = lua_tolstring(L, arg++, &len);
          if (opt == 's') {
            out.append(s, len);
            out.push_back('\0');
          } else {
            bool whole = f.p[-1] == '0';
            if (whole) {
              out.append(s, len);
            } else if (len < size) {
              error = "string too short";
            } else {
              out.append(s, size);
            }
          }
          break;
        }
        default:
          error = "invalid format option";
      }
    }
    if (!error && !bad_arg) lua_pushlstring(L, out.data(), out.size());
  }
  if (bad_arg) return luaL_argerror(L, bad_arg, "bad argument");
  if (error) return luaL_error(L, "%s", error);
  return 1;
}

int StructUnpack(lua_State* L) {
  size_t len;
  const char* data = luaL_checklstring(L, 2, &len);
  Format f{luaL_checkstring(L, 1), true, 1};
  size_t pos = static_cast<size_t>(luaL_optinteger(L, 3, 1)) - 1;
  luaL_argcheck(L, pos <= len, 3, "offset must be 1 or greater");
  const char* error = nullptr;
  int n = 0;
  while (*f.p && !error) {
    char opt = *f.p++;
    if (Control(opt, f, &error)) continue;
    size_t size = OptSize(opt, f, &error);
    if (error) break;
    pos += Gap(pos, size, f.maxalign);
    if (opt != 's' && opt != 'c' && pos + size > len) {
      error = "data string too short";
      break;
    }
    lua_checkstack(L, 2);
    switch (opt) {
      case 'b':
      case 'h':
      case 'l':
      case 'i':
        lua_pushnumber(L, static_cast<lua_Number>(
                              static_cast<int64_t>(GetInt(data + pos, size, f.little, true))));
        n++;
        break;
      case 'B':
      case 'H':
      case 'L':
      case 'T':
      case 'I':
        lua_pushnumber(L, static_cast<lua_Number>(GetInt(data + pos, size, f.little, false)));
        n++;
        break;
      case 'x':
        break;
      case 'f': {
        uint32_t b = static_cast<uint32_t>(GetInt(data + pos, 4, f.little, false));
        float v;
        std::memcpy(&v, &b, 4);
        lua_pushnumber(L, v);
        n++;
        break;
      }
      case 'd': {
        uint64_t b = GetInt(data + pos, 8, f.little, false);
        double v;
        std::memcpy(&v, &b, 8);
        lua_pushnumber(L, v);
        n++;
        break;
      }
      case 'c': {
        if (f.p[-1] == '0') {  // c0: the length is the value unpacked before
          if (n == 0 || !lua_isnumber(L, -1)) {
            error = "format `c0' needs a previous size";
            break;
          }
          size = static_cast<size_t>(lua_tonumber(L, -1));
          lua_pop(L, 1);
          n--;
        }
        if (pos + size > len) {
          error = "data string too short";
          break;
        }
        lua_pushlstring(L, data + pos, size);
        n++;
        break;
      }
      case 's': {
        const char* end = static_cast<const char*>(std::memchr(data + pos, '\0', len - pos));
        if (!end) {
          error = "unfinished string in data";
          break;
        }
        size = static_cast<size_t>(end - (data + pos)) + 1;
        lua_pushlstring(L, data + pos, size - 1);
        n++;
        break;
      }
      default:
        error = "invalid format option";
    }
    if (!error) pos += size;
  }
  if (error) return luaL_error(L, "%s", error);
  lua_pushinteger(L, static_cast<lua_Integer>(pos + 1));
  return n + 1;
}

int StructSize(lua_State* L) {
  Format f{luaL_checkstring(L, 1), true, 1};
  const char* error = nullptr;
  size_t pos = 0;
  while (*f.p && !error) {
    char opt = *f.p++;
    if (Control(opt, f, &error)) continue;
    size_t size = OptSize(opt, f, &error);
    if (opt == 's' || (opt == 'c' && f.p[-1] == '0')) error = "options 'c0' - 's' have undefined sizes";
    if (error) break;
    pos += Gap(pos, size, f.maxalign) + size;
  }
  if (error) return luaL_error(L, "%s", error);
  lua_pushnumber(L, static_cast<lua_Number>(pos));
  return 1;
}

void Register(lua_State* L, const luaL_Reg* fns) {
  lua_newtable(L);
  for (; fns->name; fns++) {
    lua_pushcfunction(L, fns->func);
    lua_setfield(L, -2, fns->name);
  }
}

}  // namespace

int OpenMsgpack(lua_State* L) {
  const luaL_Reg fns[] = {{"pack", MpPack},
                          {"unpack", MpUnpack},
                          {"unpack_one", MpUnpackOne},
                          {"unpack_limit", MpUnpackLimit},
                          {nullptr, nullptr}};
  Register(L, fns);
  lua_pushstring(L, "cmsgpack");
  lua_setfield(L, -2, "_NAME");
  lua_pushstring(L, "lua-cmsgpack 0.4.0");
  lua_setfield(L, -2, "_VERSION");
  lua_pushstring(L, "MessagePack C implementation for Lua");
  lua_setfield(L, -2, "_DESCRIPTION");
  return 1;
}

int OpenStruct(lua_State* L) {
  const luaL_Reg fns[] = {
      {"pack", StructPack}, {"unpack", StructUnpack}, {"size", StructSize}, {nullptr, nullptr}};
  Register(L, fns);
  return 1;
}

}  // namespace lattice::node
