{
  "targets": [
    {
      "target_name": "cxl_probe",
      "sources": [
        "native/binding.cc",
        "native/nodes.c",
        "native/mempolicy.c",
        "native/placement.c",
        "native/zswap.c"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NAPI_DISABLE_CPP_EXCEPTIONS"
      ],
      "cflags": ["-Wall", "-Wextra"],
      "cflags_c": ["-std=gnu11"],
      "cflags_cc": ["-std=c++17", "-fno-exceptions"]
    }
  ]
}
