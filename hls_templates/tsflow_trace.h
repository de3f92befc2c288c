// C-simulation trace of every layer boundary as integer mantissas: one file <dir>/<name>.bin of
// int32 (native byte order) per boundary, one record per sample. The testbench sets the folder
// with tsflow::trace_to(); the top function records after each layer. Compiled out in synthesis.
#ifndef TSFLOW_TRACE_H_
#define TSFLOW_TRACE_H_

#ifndef __SYNTHESIS__
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "tsflow_layers.h"

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

// mantissa = value * 2^(W - I), read from the bits (sign-extended when signed); every traced type
// is at most 32 bits wide
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N>
inline int32_t mantissa(const ap_fixed_base<W, I, S, Q, O, N> &v) {
    return (int32_t)bits_of<ap_fixed_base<W, I, S, Q, O, N>, ap_int_base<W, S> >(v).to_int64();
}

inline void write_record(const char *name, const std::vector<int32_t> &values) {
    FILE *&f = trace_files()[name];
    if (!f) f = std::fopen((trace_dir() + "/" + name + ".bin").c_str(), "wb");
    std::fwrite(values.data(), sizeof(int32_t), values.size(), f);
}

template <class T> void record(const char *name, const T *data, unsigned n) {
    if (trace_dir().empty()) return;
    std::vector<int32_t> values(n);
    for (unsigned i = 0; i < n; i++) values[i] = mantissa(data[i]);
    write_record(name, values);
}

// a buffer the hardware stores with padded rows (``stride`` words a row), or transposed ([cols][rows],
// the attention value), recorded [rows][cols] as traced
template <class T>
void record_rows(const char *name, const T *data, unsigned rows, unsigned cols, unsigned stride, bool transposed) {
    if (trace_dir().empty()) return;
    std::vector<int32_t> values(rows * cols);
    for (unsigned r = 0; r < rows; r++)
        for (unsigned c = 0; c < cols; c++)
            values[r * cols + c] = mantissa(transposed ? data[c * stride + r] : data[r * stride + c]);
    write_record(name, values);
}

} // namespace tsflow
#define TSFLOW_RECORD(name, buf, n) tsflow::record(name, buf, n)
#define TSFLOW_RECORD_ROWS(name, buf, rows, cols, stride, transposed) \
    tsflow::record_rows(name, buf, rows, cols, stride, transposed)
#else
#define TSFLOW_RECORD(name, buf, n)
#define TSFLOW_RECORD_ROWS(name, buf, rows, cols, stride, transposed)
#endif

#endif
