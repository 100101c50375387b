// File: node/scripting/lua_libs.h
//
// The two libraries Redis scripts use that Debian does not package for
// Lua 5.1: cmsgpack (MessagePack, as Redis's lua_cmsgpack: pack, unpack,
// unpack_one, unpack_limit) and struct (Roberto Ierusalimschy's binary
// packing: pack, unpack, size). Each opener returns the library table.
//
// Thread-safety: the functions touch only the lua_State they are given.
#ifndef LATTICE_NODE_SCRIPTING_LUA_LIBS_H_
#define LATTICE_NODE_SCRIPTING_LUA_LIBS_H_

struct lua_State;

namespace lattice::node {

int OpenMsgpack(lua_State* L);
int OpenStruct(lua_State* L);

}  // namespace lattice::node

#endif  // LATTICE_NODE_SCRIPTING_LUA_LIBS_H_
