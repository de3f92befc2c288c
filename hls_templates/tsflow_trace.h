// C-simulation trace of every layer boundary as integer mantissas: one file <dir>/<name>.bin of
// int32 (native byte order) per boundary, one record per sample. The testbench sets the folder
// with tsflow::trace_to(); the top function records after each layer. Compiled out in synthesis.
#ifndef TSFLOW_TRACE_H_
#define TSFLOW_TRACE_H_

#ifndef __SYNTHESIS__
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>

namespace tsflow {

inline std::string &trace_dir() {
    static std::string dir;
    return dir;
}

inline std::map<std::string, FILE *> &trace_files() {
    static std::map<std::string, FILE *> files;
    return files;
}

inline void trace_to(const char *dir) { trace_dir() = dir; }

inline void trace_close() {
    for (auto &kv : trace_files()) std::fclose(kv.second);
    trace_files().clear();
    trace_dir().clear();
}

// mantissa = value * 2^(W - I): exact, every traced type is at most 32 bits wide
template <class T> inline int32_t mantissa(const T &v) {
    return (int32_t)std::ldexp(v.to_double(), T::width - T::iwidth);
}

template <class T> void record(const char *name, const T *data, unsigned n) {
    if (trace_dir().empty()) return;
    FILE *&f = trace_files()[name];
    if (!f) f = std::fopen((trace_dir() + "/" + name + ".bin").c_str(), "wb");
    for (unsigned i = 0; i < n; i++) {
        int32_t m = mantissa(data[i]);
        std::fwrite(&m, sizeof(m), 1, f);
    }
}

} // namespace tsflow
#define TSFLOW_RECORD(name, buf, n) tsflow::record(name, buf, n)
#else
#define TSFLOW_RECORD(name, buf, n)
#endif

#endif
