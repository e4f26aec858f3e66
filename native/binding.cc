// The thin N-API layer: converts JS arguments to C, calls one probe, converts the result back.
// No logic lives here; argument checking that matters to users is done in src/probe/ and this
// file only guards against a wrong type reaching C (TypeError naming the argument).
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

extern "C" {
#include "probe.h"
}

namespace {

using MapHandle = Napi::External<probe_map>;

bool Fail(Napi::Env env, const std::string &message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return false;
}

bool ArgNumber(const Napi::CallbackInfo &info, size_t i, const char *name, double *out) {
  if (!info[i].IsNumber()) return Fail(info.Env(), std::string(name) + " must be a number");
  *out = info[i].As<Napi::Number>().DoubleValue();
  return true;
}

bool ArgInt(const Napi::CallbackInfo &info, size_t i, const char *name, int *out) {
  double d;
  if (!ArgNumber(info, i, name, &d)) return false;
  *out = static_cast<int>(d);
  return true;
}

bool ArgString(const Napi::CallbackInfo &info, size_t i, const char *name, std::string *out) {
  if (!info[i].IsString()) return Fail(info.Env(), std::string(name) + " must be a string");
  *out = info[i].As<Napi::String>().Utf8Value();
  return true;
}

// A node list (array of numbers) or null/undefined, which means "no mask" (NULL to the kernel).
bool ArgMask(const Napi::CallbackInfo &info, size_t i, const char *name, node_mask *mask, bool *present) {
  *present = false;
  mask->words = nullptr;
  mask->bits = 0;
  if (info[i].IsNull() || info[i].IsUndefined()) return true;
  if (!info[i].IsArray()) return Fail(info.Env(), std::string(name) + " must be an array of node numbers or null");
  Napi::Array array = info[i].As<Napi::Array>();
  std::vector<int> nodes;
  for (uint32_t k = 0; k < array.Length(); k++) {
    Napi::Value v = array.Get(k);
    if (!v.IsNumber()) return Fail(info.Env(), std::string(name) + " must hold only numbers");
    nodes.push_back(v.As<Napi::Number>().Int32Value());
  }
  if (mask_from_nodes(mask, nodes.data(), nodes.size()) != 0) return Fail(info.Env(), "out of memory");
  *present = true;
  return true;
}

bool ArgMap(const Napi::CallbackInfo &info, size_t i, probe_map **out) {
  if (!info[i].IsExternal()) return Fail(info.Env(), "map must be a handle returned by mapPages");
  *out = info[i].As<MapHandle>().Data();
  if (!(*out)->addr) return Fail(info.Env(), "map was already unmapped");
  return true;
}

Napi::Array NodesToArray(Napi::Env env, const node_mask *mask) {
  std::vector<int> nodes(mask->bits);
  size_t count = mask_to_nodes(mask, nodes.data(), nodes.size());
  Napi::Array array = Napi::Array::New(env, count);
  for (size_t k = 0; k < count; k++) array.Set(k, nodes[k]);
  return array;
}

Napi::Array StatusToArray(Napi::Env env, const std::vector<int> &status) {
  Napi::Array array = Napi::Array::New(env, status.size());
  for (size_t k = 0; k < status.size(); k++) array.Set(k, status[k]);
  return array;
}

Napi::Value Maxnode(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), static_cast<double>(probe_maxnode()));
}

// setMempolicy(modeAndFlags, nodes | null) -> errno
Napi::Value SetMempolicy(const Napi::CallbackInfo &info) {
  int mode;
  node_mask mask;
  bool present;
  if (!ArgInt(info, 0, "mode", &mode) || !ArgMask(info, 1, "nodes", &mask, &present)) return info.Env().Undefined();
  int err = mp_set(mode, present ? &mask : nullptr);
  mask_free(&mask);
  return Napi::Number::New(info.Env(), err);
}

// getMempolicy(flags, map | null, pageIndex) -> {errno, mode, nodes}
Napi::Value GetMempolicy(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int flags, page = 0;
  probe_map *map = nullptr;
  if (!ArgInt(info, 0, "flags", &flags)) return env.Undefined();
  if (!info[1].IsNull() && !info[1].IsUndefined()) {
    if (!ArgMap(info, 1, &map) || !ArgInt(info, 2, "page", &page)) return env.Undefined();
  }
  void *addr = map ? map->addr + static_cast<size_t>(page) * map->page_size : nullptr;
  node_mask mask;
  if (mask_alloc(&mask, probe_maxnode()) != 0) return env.Undefined();
  int mode = 0;
  int err = mp_get(flags, addr, &mode, &mask);
  Napi::Object result = Napi::Object::New(env);
  result.Set("errno", err);
  result.Set("mode", mode);
  result.Set("nodes", NodesToArray(env, &mask));
  mask_free(&mask);
  return result;
}

// mbind(map, modeAndFlags, nodes | null, flags) -> errno
Napi::Value Mbind(const Napi::CallbackInfo &info) {
  probe_map *map;
  int mode, flags;
  node_mask mask;
  bool present;
  if (!ArgMap(info, 0, &map) || !ArgInt(info, 1, "mode", &mode) || !ArgMask(info, 2, "nodes", &mask, &present) ||
      !ArgInt(info, 3, "flags", &flags))
    return info.Env().Undefined();
  int err = mp_mbind(map->addr, map->npages * map->page_size, mode, present ? &mask : nullptr,
                     static_cast<unsigned>(flags));
  mask_free(&mask);
  return Napi::Number::New(info.Env(), err);
}

// mapPages(npages, backing, dir) -> {errno, pageSize, map?}
Napi::Value MapPages(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int npages, backing;
  std::string dir;
  if (!ArgInt(info, 0, "pages", &npages) || !ArgInt(info, 1, "backing", &backing) || !ArgString(info, 2, "dir", &dir))
    return env.Undefined();
  if (npages < 1) return Fail(env, "pages must be >= 1"), env.Undefined();
  auto *map = new probe_map();
  int err = pm_map(map, static_cast<size_t>(npages), static_cast<pm_backing>(backing), dir.c_str());
  Napi::Object result = Napi::Object::New(env);
  result.Set("errno", err);
  result.Set("pageSize", static_cast<double>(map->page_size));
  if (err) {
    delete map;
  } else {
    // Unmapped when JS drops the handle, unless unmap() did it already.
    result.Set("map", MapHandle::New(env, map, [](Napi::Env, probe_map *m) {
                 pm_unmap(m);
                 delete m;
               }));
  }
  return result;
}

// fill(map, fill, seed, modeAndFlags?, nodes?) -> errno (of set_mempolicy when a policy is given)
Napi::Value Fill(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  probe_map *map;
  int fill;
  double seed;
  if (!ArgMap(info, 0, &map) || !ArgInt(info, 1, "fill", &fill) || !ArgNumber(info, 2, "seed", &seed))
    return env.Undefined();
  if (info[3].IsNull() || info[3].IsUndefined()) {
    pm_fill(map, static_cast<pm_content>(fill), static_cast<unsigned long long>(seed));
    return Napi::Number::New(env, 0);
  }
  int mode;
  node_mask mask;
  bool present;
  if (!ArgInt(info, 3, "mode", &mode) || !ArgMask(info, 4, "nodes", &mask, &present)) return env.Undefined();
  int err = pm_fill_under_policy(map, static_cast<pm_content>(fill), static_cast<unsigned long long>(seed), mode,
                                 present ? &mask : nullptr);
  mask_free(&mask);
  return Napi::Number::New(env, err);
}

// fillUntilNode(map, fill, seed, node, every) -> pages written before one landed on node (all: none did)
Napi::Value FillUntilNode(const Napi::CallbackInfo &info) {
  probe_map *map;
  int fill, node, every;
  double seed;
  if (!ArgMap(info, 0, &map) || !ArgInt(info, 1, "fill", &fill) || !ArgNumber(info, 2, "seed", &seed) ||
      !ArgInt(info, 3, "node", &node) || !ArgInt(info, 4, "every", &every))
    return info.Env().Undefined();
  size_t written = pm_fill_until_node(map, static_cast<pm_content>(fill), static_cast<unsigned long long>(seed), node,
                                      every > 0 ? static_cast<size_t>(every) : 1);
  return Napi::Number::New(info.Env(), static_cast<double>(written));
}

// verify(map, fill, seed) -> number of pages whose contents changed
Napi::Value Verify(const Napi::CallbackInfo &info) {
  probe_map *map;
  int fill;
  double seed;
  if (!ArgMap(info, 0, &map) || !ArgInt(info, 1, "fill", &fill) || !ArgNumber(info, 2, "seed", &seed))
    return info.Env().Undefined();
  size_t bad = pm_verify(map, static_cast<pm_content>(fill), static_cast<unsigned long long>(seed));
  return Napi::Number::New(info.Env(), static_cast<double>(bad));
}

Napi::Object StatusResult(Napi::Env env, int err, const std::vector<int> &status) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("errno", err);
  result.Set("status", StatusToArray(env, status));
  return result;
}

// locate(map, pages?) -> {errno, status[]}: node per page, or -errno per page, for the first
// `pages` pages (all of them by default)
Napi::Value Locate(const Napi::CallbackInfo &info) {
  probe_map *map;
  if (!ArgMap(info, 0, &map)) return info.Env().Undefined();
  size_t pages = map->npages;
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    double n;
    if (!ArgNumber(info, 1, "pages", &n)) return info.Env().Undefined();
    if (n >= 0 && n < static_cast<double>(pages)) pages = static_cast<size_t>(n);
  }
  std::vector<int> status(pages, 0);
  int err = pm_locate(map, pages, status.data());
  return StatusResult(info.Env(), err, status);
}

// move(map, node, flags) -> {errno, status[]}
Napi::Value Move(const Napi::CallbackInfo &info) {
  probe_map *map;
  int node, flags;
  if (!ArgMap(info, 0, &map) || !ArgInt(info, 1, "node", &node) || !ArgInt(info, 2, "flags", &flags))
    return info.Env().Undefined();
  std::vector<int> status(map->npages, 0);
  int err = pm_move(map, map->npages, node, flags, status.data());
  return StatusResult(info.Env(), err, status);
}

// migrate(pid, from[], to[]) -> {errno, notMigrated}
Napi::Value Migrate(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int pid;
  node_mask from, to;
  bool present;
  if (!ArgInt(info, 0, "pid", &pid) || !ArgMask(info, 1, "from", &from, &present)) return env.Undefined();
  if (!present) return Fail(env, "from must be an array of node numbers"), env.Undefined();
  if (!ArgMask(info, 2, "to", &to, &present) || !present) {
    mask_free(&from);
    if (!present && !env.IsExceptionPending()) Fail(env, "to must be an array of node numbers");
    return env.Undefined();
  }
  long notMigrated = 0;
  int err = pm_migrate(pid, &from, &to, &notMigrated);
  mask_free(&from);
  mask_free(&to);
  Napi::Object result = Napi::Object::New(env);
  result.Set("errno", err);
  result.Set("notMigrated", static_cast<double>(notMigrated));
  return result;
}

Napi::Value Unmap(const Napi::CallbackInfo &info) {
  if (!info[0].IsExternal()) return Fail(info.Env(), "map must be a handle returned by mapPages"), info.Env().Undefined();
  pm_unmap(info[0].As<MapHandle>().Data());
  return info.Env().Undefined();
}

Napi::Value Pageout(const Napi::CallbackInfo &info) {
  probe_map *map;
  if (!ArgMap(info, 0, &map)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), zs_pageout(map));
}

Napi::Value Swapon(const Napi::CallbackInfo &info) {
  std::string path;
  int flags;
  if (!ArgString(info, 0, "path", &path) || !ArgInt(info, 1, "flags", &flags)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), zs_swapon(path.c_str(), flags));
}

Napi::Value Swapoff(const Napi::CallbackInfo &info) {
  std::string path;
  if (!ArgString(info, 0, "path", &path)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), zs_swapoff(path.c_str()));
}

Napi::Value MountDebugfs(const Napi::CallbackInfo &info) {
  std::string target;
  if (!ArgString(info, 0, "target", &target)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), zs_mount_debugfs(target.c_str()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("maxnode", Napi::Function::New(env, Maxnode, "maxnode"));
  exports.Set("setMempolicy", Napi::Function::New(env, SetMempolicy, "setMempolicy"));
  exports.Set("getMempolicy", Napi::Function::New(env, GetMempolicy, "getMempolicy"));
  exports.Set("mbind", Napi::Function::New(env, Mbind, "mbind"));
  exports.Set("mapPages", Napi::Function::New(env, MapPages, "mapPages"));
  exports.Set("fill", Napi::Function::New(env, Fill, "fill"));
  exports.Set("fillUntilNode", Napi::Function::New(env, FillUntilNode, "fillUntilNode"));
  exports.Set("verify", Napi::Function::New(env, Verify, "verify"));
  exports.Set("locate", Napi::Function::New(env, Locate, "locate"));
  exports.Set("move", Napi::Function::New(env, Move, "move"));
  exports.Set("migrate", Napi::Function::New(env, Migrate, "migrate"));
  exports.Set("unmap", Napi::Function::New(env, Unmap, "unmap"));
  exports.Set("pageout", Napi::Function::New(env, Pageout, "pageout"));
  exports.Set("swapon", Napi::Function::New(env, Swapon, "swapon"));
  exports.Set("swapoff", Napi::Function::New(env, Swapoff, "swapoff"));
  exports.Set("mountDebugfs", Napi::Function::New(env, MountDebugfs, "mountDebugfs"));
  return exports;
}

}  // namespace

NODE_API_MODULE(cxl_probe, Init)
