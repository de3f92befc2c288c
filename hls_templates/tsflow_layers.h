// Sequential, bit-exact layers of the tsflow Transformer forecaster (the structure: flow/hls/plan.py).
//
// Tensors are flat row-major arrays [step][channel]. The layers run one after another. The multiplying
// layers run one clock at a time in the engine's one pipelined loop (firmware/tsflow_engine.h, written
// per build by flow/hls/engine.py from the functions below), on the design's one set of multiply lanes;
// the softmax and the pooling are loops of their own, counters advanced by hand. Sums are exact
// (accumulators sized by interval arithmetic in the flow); the only roundings are the casts to the
// output types, whose ap_fixed rounding and overflow modes are those of the Keras quantizers.
#ifndef TSFLOW_LAYERS_H_
#define TSFLOW_LAYERS_H_

#include "ap_fixed.h"

namespace tsflow {

template <unsigned N, unsigned P> struct chunks {
    static const unsigned value = (N + P - 1) / P;
};

// a * b at full precision on the multiplier the YAML asks for (hls.multiplier):
// IMPL 0 = the tool's choice, 1 = DSP48, 2 = LUT fabric. The firmware of a Vivado HLS build
// defines TSFLOW_VIVADO_HLS, which selects that tool's RESOURCE pragma instead of BIND_OP.
enum { MUL_AUTO = 0, MUL_DSP = 1, MUL_LUT = 2 };
template <unsigned IMPL> struct multiply;
template <> struct multiply<MUL_AUTO> {
    template <class a_T, class b_T> static auto product(const a_T &a, const b_T &b) -> decltype(a * b) {
#pragma HLS INLINE
        return a * b;
    }
};
template <> struct multiply<MUL_DSP> {
    template <class a_T, class b_T> static auto product(const a_T &a, const b_T &b) -> decltype(a * b) {
#pragma HLS INLINE
        decltype(a * b) p = a * b;
#ifdef TSFLOW_VIVADO_HLS
#pragma HLS RESOURCE variable = p core = DSP48
#else
#pragma HLS BIND_OP variable = p op = mul impl = dsp
#endif
        return p;
    }
};
template <> struct multiply<MUL_LUT> {
    template <class a_T, class b_T> static auto product(const a_T &a, const b_T &b) -> decltype(a * b) {
#pragma HLS INLINE
        decltype(a * b) p = a * b;
#ifdef TSFLOW_VIVADO_HLS
#pragma HLS RESOURCE variable = p core = Mul_LUT
#else
#pragma HLS BIND_OP variable = p op = mul impl = fabric
#endif
        return p;
    }
};

// Integer mantissa of an ap_fixed / ap_ufixed value, as ap_int / ap_uint of the same width.
template <class T, class int_T> inline int_T bits_of(const T &v) {
    int_T m;
    m.range() = v.range();
    return m;
}

// The same mantissa, typed by the value's own width and signedness (widens by value, not by bits).
// Both types keep their bits in the root type's V (ap_fixed_base.h copies them the same way).
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N>
inline ap_int_base<W, S> int_of(const ap_fixed_base<W, I, S, Q, O, N> &v) {
#pragma HLS INLINE
    ap_int_base<W, S> m;
    m.V = v.V;
    return m;
}

// hls.interface s_axilite / axis (flow/hls/interface.py): one element a 32-bit word holding its mantissa,
// sign-extended (zero-extended for an unsigned type); a word's low bits are read back as the type's bits.
template <class T> inline ap_int<32> word_of(const T &v) {
#pragma HLS INLINE
    return ap_int<32>(int_of(v));
}

template <class T> inline T of_word(const ap_int<32> &w) {
#pragma HLS INLINE
    T v;
    v.range(T::width - 1, 0) = w.range(T::width - 1, 0);
    return v;
}

// The products of one clock on a layer's own multiply lanes (a layer whose hls.multiplier differs from
// the shared lanes'): LANES_T describes them (lanes, a_t, b_t, sum_t, mul_impl); the exact sum.
template <class LANES_T>
inline typename LANES_T::sum_t own_lanes(const typename LANES_T::a_t a[LANES_T::lanes],
                                         const typename LANES_T::b_t b[LANES_T::lanes]) {
#pragma HLS INLINE
    typename LANES_T::sum_t s = 0;
    for (unsigned l = 0; l < LANES_T::lanes; l++) {
#pragma HLS UNROLL
        s += multiply<LANES_T::mul_impl>::product(a[l], b[l]);
    }
    return s;
}

// The counters of a flattened loop nest, advanced by hand once a clock (innermost first): c over nc
// chunks, o over no outputs, r over nr rows, then g. Nothing for the tool to flatten or to guess.
inline void advance(unsigned &c, unsigned &o, unsigned &r, unsigned &g, unsigned nc, unsigned no, unsigned nr) {
#pragma HLS INLINE
    bool c_end = c + 1 == nc, o_end = o + 1 == no, r_end = r + 1 == nr;
    c = c_end ? 0 : c + 1;
    if (c_end) o = o_end ? 0 : o + 1;
    if (c_end && o_end) r = r_end ? 0 : r + 1;
    if (c_end && o_end && r_end) g++;
}

// y = x, converted to y's type (the model's input quantizer): rows x cols, `lanes` elements a clock,
// one pipelined loop of rows * chunks clocks (at least 2: the plan writes cast_wires otherwise)
template <class x_T, class y_T, typename CONFIG_T>
void cast(const x_T x[CONFIG_T::n_rows * CONFIG_T::n_cols], y_T y[CONFIG_T::n_rows * CONFIG_T::n_cols]) {
#pragma HLS INLINE
    static const unsigned C = chunks<CONFIG_T::n_cols, CONFIG_T::lanes>::value;
    unsigned c = 0, o = 0, r = 0, g = 0;
Cast:
    for (unsigned k = 0; k < CONFIG_T::n_rows * C; k++) {
#pragma HLS PIPELINE II = 1
        for (unsigned l = 0; l < CONFIG_T::lanes; l++) {
#pragma HLS UNROLL
            unsigned col = c * CONFIG_T::lanes + l;
            if (col < CONFIG_T::n_cols) y[o * CONFIG_T::n_cols + col] = x[o * CONFIG_T::n_cols + col];
        }
        advance(c, o, r, g, C, CONFIG_T::n_rows, 1);
    }
}

// The same when every element goes at once: wires, no loop
template <class x_T, class y_T, typename CONFIG_T>
void cast_wires(const x_T x[CONFIG_T::n_rows * CONFIG_T::n_cols], y_T y[CONFIG_T::n_rows * CONFIG_T::n_cols]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < CONFIG_T::n_rows * CONFIG_T::n_cols; i++) {
#pragma HLS UNROLL
        y[i] = x[i];
    }
}

// y = round(a + b), element by element, all at once (the delta head's add: the last level, one value
// (CONFIG_T::n_b = 1), added to each forecast step)
template <class a_T, class b_T, class y_T, typename CONFIG_T>
void add_wires(const a_T a[CONFIG_T::n_rows * CONFIG_T::n_cols], const b_T b[CONFIG_T::n_b],
               y_T y[CONFIG_T::n_rows * CONFIG_T::n_cols]) {
#pragma HLS INLINE
    for (unsigned i = 0; i < CONFIG_T::n_rows * CONFIG_T::n_cols; i++) {
#pragma HLS UNROLL
        y[i] = a[i] + b[CONFIG_T::n_b == 1 ? 0 : i];
    }
}

// ---- the engine's layers, one clock at a time (flow/hls/engine.py writes the loop that calls them) ----
//
// E: the lanes the operands go to (the shared lanes, or the layer's own), E::lanes >= CONFIG_T::lanes;
// the lanes past the layer's own and the lanes past the end of a sum (its last chunk) get zeros.

// Operands of one clock on the lanes: P consecutive words of two rows, x[xrow + i] and w[wrow + i] for
// i = c * P + l; the lanes past P, and past the N words a row holds (its last chunk), get zeros.
template <class E, unsigned P, unsigned N, class x_T, class w_T>
inline void lane_operands(const x_T *x, unsigned xrow, const w_T *w, unsigned wrow, unsigned c,
                          typename E::a_t a[E::lanes], typename E::b_t b[E::lanes]) {
#pragma HLS INLINE
    for (unsigned l = 0; l < E::lanes; l++) {
#pragma HLS UNROLL
        unsigned i = c * P + l;
        bool on = l < P && i < N;
        a[l] = on ? typename E::a_t(int_of(x[xrow + i])) : typename E::a_t(0);
        b[l] = on ? typename E::b_t(int_of(w[wrow + i])) : typename E::b_t(0);
    }
}

// Operands of one clock of a dense layer: `lanes` consecutive inputs of step t (rows x_stride words
// apart: n_in, or padded to whole chunks), and row o of w (stored [n_out][w_stride]: n_in, or n_in padded
// with zeros to whole chunks of the lanes), chunk c.
template <class E, typename CONFIG_T, class x_T>
inline void dense_operands(const x_T x[CONFIG_T::n_steps * CONFIG_T::x_stride],
                           const typename CONFIG_T::weight_t w[CONFIG_T::w_stride * CONFIG_T::n_out], unsigned t,
                           unsigned o, unsigned c, typename E::a_t a[E::lanes], typename E::b_t b[E::lanes]) {
#pragma HLS INLINE
    lane_operands<E, CONFIG_T::lanes, CONFIG_T::n_in>(x, t * CONFIG_T::x_stride, w, o * CONFIG_T::w_stride, c, a, b);
}

// The accumulator after one clock: `first` (the bias, or 0) on an output's first chunk, plus the lanes'
// exact sum read with the products' binary point (psum_t has the sum's width)
template <class accum_T, class psum_T, class sum_T>
inline void accumulate(const sum_T &sum, const accum_T &first, unsigned c, accum_T &acc) {
#pragma HLS INLINE
    psum_T part;
    part.range() = sum.range();
    accum_T base = acc;
    if (c == 0) base = first;
    acc = base + part;
}

// Stores the values a dense layer produces in order (y[0], y[1], ...). With WORD == 1 each value is
// written where it belongs. With WORD > 1, y is reshaped into WORD-value words (one wide BRAM): the
// values are shifted into `row` (registers) and each word is written whole when its last value
// arrives, so no write has to read its word back first.
template <unsigned WORD, class T>
inline void put_in_order(T *y, T row[WORD], unsigned &fill, unsigned &word, unsigned at, const T &v) {
#pragma HLS INLINE
    if (WORD == 1) {
        y[at] = v;
        return;
    }
    for (unsigned k = 0; k + 1 < WORD; k++) {
#pragma HLS UNROLL
        row[k] = row[k + 1];
    }
    row[WORD - 1] = v;
    if (fill == WORD - 1) {
        for (unsigned k = 0; k < WORD; k++) {
#pragma HLS UNROLL
            y[word * WORD + k] = row[k];
        }
        word++;
        fill = 0;
    } else {
        fill++;
    }
}

// A dense layer's output y[t][o] = round(acc), with ReLU on the exact sum when CONFIG_T::relu; written
// [t][o], or [o][t] when CONFIG_T::transpose_out (the attention value, read along time by the context),
// rows out_stride words apart (padded to whole chunks of their readers' lanes where those do not divide)
template <typename CONFIG_T, class y_T>
inline void dense_out(const typename CONFIG_T::accum_t &acc, y_T *y, y_T row[CONFIG_T::word], unsigned &fill,
                      unsigned &word, unsigned t, unsigned o) {
#pragma HLS INLINE
    typename CONFIG_T::accum_t out = acc;
    if (CONFIG_T::relu && out < 0) out = 0;
    if (CONFIG_T::transpose_out)
        y[o * CONFIG_T::out_stride + t] = out;
    else
        put_in_order<CONFIG_T::word, y_T>(y, row, fill, word, t * CONFIG_T::out_stride + o, out);
}

// The element-wise layer after a dense layer, at its output: y = round(acc), s = round(y + a[t][o]) (a:
// the positional table or the residual input), stored in s. y is recorded by the C simulation trace
// (y_trace) and does not exist in the hardware.
template <typename CONFIG_T, class y_T, class a_T, class s_T>
inline void dense_add_out(const typename CONFIG_T::accum_t &acc, const a_T *a, s_T *s, y_T *y_trace,
                          s_T row[CONFIG_T::word], unsigned &fill, unsigned &word, unsigned t, unsigned o) {
#pragma HLS INLINE
    unsigned at = t * CONFIG_T::n_out + o;  // y_trace (the C simulation's, unpadded) and a positional table
    y_T y = acc;
    put_in_order<CONFIG_T::word, s_T>(s, row, fill, word, t * CONFIG_T::out_stride + o,
                                      s_T(y + a[t * CONFIG_T::a_stride + o]));
#ifndef __SYNTHESIS__
    y_trace[at] = y;
#endif
}

// As dense_add_out, and then the norm after the residual add: z = round(s * scale[o] + shift[o]) on the
// layer's own multiplier (BatchNorm deployed as a per-channel affine). Only z is stored; y and s are
// recorded by the C simulation trace.
template <typename CONFIG_T, class y_T, class a_T, class s_T, class z_T>
inline void dense_add_norm_out(const typename CONFIG_T::accum_t &acc, const a_T *a,
                               const typename CONFIG_T::scale_t *scale, const typename CONFIG_T::shift_t *shift,
                               z_T *z, y_T *y_trace, s_T *s_trace, z_T row[CONFIG_T::word], unsigned &fill,
                               unsigned &word, unsigned t, unsigned o) {
#pragma HLS INLINE
    unsigned at = t * CONFIG_T::n_out + o;  // the C simulation's traces, unpadded
    y_T y = acc;
    s_T s = y + a[t * CONFIG_T::a_stride + o];
    put_in_order<CONFIG_T::word, z_T>(z, row, fill, word, t * CONFIG_T::out_stride + o,
                                      z_T(multiply<CONFIG_T::mul_impl>::product(s, scale[o]) + shift[o]));
#ifndef __SYNTHESIS__
    y_trace[at] = y;
    s_trace[at] = s;
#endif
}

// Operands of one clock of the attention scores Q_h . K_h^T: query i, key j, head h, chunk c of the
// head's dimensions. Buffers q, k are [step][d].
template <class E, typename CONFIG_T>
inline void score_operands(const typename CONFIG_T::q_t *q, const typename CONFIG_T::k_t *k, unsigned h, unsigned i,
                           unsigned j, unsigned c, typename E::a_t a[E::lanes], typename E::b_t b[E::lanes]) {
#pragma HLS INLINE
    static const unsigned D = CONFIG_T::d, DH = CONFIG_T::head_dim;
    lane_operands<E, CONFIG_T::lanes, DH>(q, i * D + h * DH, k, j * D + h * DH, c, a, b);
}

// score = round((Q_h . K_h^T) * 2^-shift): the shift reinterprets the exact sum's bits; the row maximum
// is kept as the row's scores leave (top: the running maximum of the row)
template <typename CONFIG_T>
inline void score_out(const typename CONFIG_T::accum_t &acc, typename CONFIG_T::score_t *scores,
                      typename CONFIG_T::score_t *row_max, typename CONFIG_T::score_t &top, unsigned h, unsigned i,
                      unsigned j) {
#pragma HLS INLINE
    static const unsigned L = CONFIG_T::n_steps;
    typename CONFIG_T::scaled_t scaled;
    scaled.range() = acc.range();
    typename CONFIG_T::score_t score = scaled;
    scores[(h * L + i) * L + j] = score;
    if (j == 0 || score > top) top = score;
    if (j == L - 1) row_max[h * L + i] = top;
}

// Operands of one clock of the context P_h . V_h: query i, dimension e of head h, chunk c of the steps.
// probs is [head][query][key]; v is stored [d][step], so the lanes read consecutive words of both; the
// rows of probs take CONFIG_T::p_stride words and those of v CONFIG_T::v_stride, each its own buffer's (the
// window, or the window padded to whole chunks where that buffer is banked: the padding is never read).
template <class E, typename CONFIG_T>
inline void context_operands(const typename CONFIG_T::prob_t *p, const typename CONFIG_T::v_t *v, unsigned h,
                             unsigned i, unsigned e, unsigned c, typename E::a_t a[E::lanes],
                             typename E::b_t b[E::lanes]) {
#pragma HLS INLINE
    static const unsigned L = CONFIG_T::n_steps;
    lane_operands<E, CONFIG_T::lanes, L>(p, (h * L + i) * CONFIG_T::p_stride, v,
                                         (h * CONFIG_T::head_dim + e) * CONFIG_T::v_stride, c, a, b);
}

// context[i][h * head_dim + e] = round(acc): the heads side by side in [step][d]
template <typename CONFIG_T>
inline void context_out(const typename CONFIG_T::accum_t &acc, typename CONFIG_T::context_t *ctx, unsigned h,
                        unsigned i, unsigned e) {
#pragma HLS INLINE
    ctx[i * CONFIG_T::ctx_stride + h * CONFIG_T::head_dim + e] = acc;
}

// y[c] = round(sum_t x[t][c] * recip), recip = round(2^F / n_steps) / 2^F: exact sums over time with
// `lanes` channels a clock (one loop of chunks * n_steps clocks, counters advanced by hand), then one
// multiply per channel on the pooling's own multiplier
template <class x_T, class y_T, typename CONFIG_T>
void average_pool(const x_T x[CONFIG_T::n_steps * CONFIG_T::x_stride], y_T y[CONFIG_T::n_ch]) {
#pragma HLS INLINE
    static const unsigned P = CONFIG_T::lanes, C = chunks<CONFIG_T::n_ch, P>::value;
    typename CONFIG_T::recip_t recip;
    recip.range() = ap_uint<CONFIG_T::recip_t::width>(CONFIG_T::recip_mantissa);
    typename CONFIG_T::accum_t sums[CONFIG_T::n_ch];
#pragma HLS ARRAY_PARTITION variable = sums complete dim = 1
    typename CONFIG_T::accum_t acc[P];
#pragma HLS ARRAY_PARTITION variable = acc complete dim = 1
    unsigned t = 0, c = 0, r = 0, g = 0;
PoolSums:
    for (unsigned k = 0; k < C * CONFIG_T::n_steps; k++) {
#pragma HLS PIPELINE II = 1
        for (unsigned l = 0; l < P; l++) {
#pragma HLS UNROLL
            unsigned ch = c * P + l;
            if (ch < CONFIG_T::n_ch) {
                typename CONFIG_T::accum_t base = acc[l];
                if (t == 0) base = 0;
                acc[l] = base + x[t * CONFIG_T::x_stride + ch];
                if (t == CONFIG_T::n_steps - 1) sums[ch] = acc[l];
            }
        }
        advance(t, c, r, g, CONFIG_T::n_steps, C, 1);
    }
PoolScale:
    for (unsigned ch = 0; ch < CONFIG_T::n_ch; ch++) {
#pragma HLS PIPELINE II = 1
        y[ch] = multiply<CONFIG_T::mul_impl>::product(sums[ch], recip);
    }
}

// y = x[last step][first .. first + n_out): a wire
template <class x_T, class y_T, typename CONFIG_T>
void last_step(const x_T x[CONFIG_T::n_steps * CONFIG_T::x_stride], y_T y[CONFIG_T::n_out]) {
#pragma HLS INLINE
    for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
#pragma HLS UNROLL
        y[j] = x[(CONFIG_T::n_steps - 1) * CONFIG_T::x_stride + CONFIG_T::first + j];
    }
}

// y = [a, b]: the mean_last head's input, both exact in y's type (their union)
template <class a_T, class b_T, class y_T, typename CONFIG_T>
void concat(const a_T a[CONFIG_T::n_a], const b_T b[CONFIG_T::n_b], y_T y[CONFIG_T::n_a + CONFIG_T::n_b]) {
#pragma HLS INLINE
HeadInput:
    for (unsigned i = 0; i < CONFIG_T::n_a + CONFIG_T::n_b; i++) {
#pragma HLS PIPELINE II = 1
        if (i < CONFIG_T::n_a) y[i] = a[i];
        else y[i] = b[i - CONFIG_T::n_a];
    }
}

// exp(-(max - s)) of one score as the table's unsigned mantissa (flow.tables.softmax_int):
// idx = (max - s) >> index_shift in score mantissa units, rounded to the nearest index step (half up:
// + 2^(index_shift - 1) before the shift; flow.tables.table_index), 0 past the table's end
template <typename CONFIG_T>
inline ap_uint<CONFIG_T::exp_t::width> exp_lookup(const typename CONFIG_T::score_t &row_max,
                                                  const typename CONFIG_T::score_t &s,
                                                  const typename CONFIG_T::exp_t table[CONFIG_T::table_size]) {
#pragma HLS INLINE
    typedef typename CONFIG_T::score_t score_t;
    typedef typename CONFIG_T::exp_t exp_t;
    static const int SW = score_t::width;
    static const int LS = CONFIG_T::index_shift < 0 ? -CONFIG_T::index_shift : 0;
    static const int RS = CONFIG_T::index_shift > 0 ? CONFIG_T::index_shift : 0;
    typedef ap_uint<SW + 1 + LS> index_t;
    ap_int<SW + 1> diff = bits_of<score_t, ap_int<SW> >(row_max);
    diff -= bits_of<score_t, ap_int<SW> >(s);
    static const unsigned HALF = RS > 0 ? 1u << (RS > 0 ? RS - 1 : 0) : 0u;
    index_t idx = index_t(diff) << LS;
    // the add is as wide as its widest operand (HALF is a 32-bit unsigned) plus one; the rounded index is
    // below 2^SW, so index_t holds it
    idx = (ap_uint<SW + 2 + LS>(idx) + HALF) >> RS;
    ap_uint<exp_t::width> e = 0;
    if (idx < CONFIG_T::table_size) e = bits_of<exp_t, ap_uint<exp_t::width> >(table[idx]);
    return e;
}

// The table softmax of every row (flow.tables.softmax_int), `lanes` elements a clock in one loop over the
// rows and one row more (counters advanced by hand): each clock looks up the exponentials of row r (at
// the difference to the row maximum, taken while the scores were made), adds them to the row's exact sum
// and keeps them in `ring` (two rows, row r in half r % 2), while the quotients of row r - 1 leave:
// p = min(floor(((e << prob_frac) + (sum >> 1)) / sum), prob_max), rounded to nearest, on one divider a
// lane. Row r's sum becomes the divisor at its last chunk; a quotient reads the ring n / lanes clocks
// after the exponential was written (the stage function states that distance to the tool).
template <typename CONFIG_T>
void softmax_rows(const typename CONFIG_T::score_t s[CONFIG_T::rows * CONFIG_T::n],
                  const typename CONFIG_T::score_t row_max[CONFIG_T::rows],
                  ap_uint<CONFIG_T::exp_t::width> ring[2 * CONFIG_T::n],
                  typename CONFIG_T::prob_t p[CONFIG_T::rows * CONFIG_T::p_stride],
                  const typename CONFIG_T::exp_t table[CONFIG_T::table_size]) {
#pragma HLS INLINE
    typedef ap_uint<CONFIG_T::exp_t::width + CONFIG_T::sum_extra_bits> sum_int_t;
    typedef ap_uint<CONFIG_T::exp_t::width + CONFIG_T::prob_frac> num_t;  // e << prob_frac and the quotient
    static const unsigned P = CONFIG_T::lanes, N = CONFIG_T::n, C = N / P, R = CONFIG_T::rows;
    sum_int_t total = 0, divisor = 1;
    unsigned c = 0, r = 0, q = 0, g = 0;
SoftmaxRows:
    for (unsigned k = 0; k < (R + 1) * C; k++) {
#pragma HLS PIPELINE II = 1
        if (r > 0) {  // the quotients of row r - 1
            for (unsigned l = 0; l < P; l++) {
#pragma HLS UNROLL
                num_t e = ring[((r - 1) & 1) * N + c * P + l];
                // ap_uint's + is one bit wider than its wider operand: the numerator never wraps
                num_t quotient = ((e << CONFIG_T::prob_frac) + (divisor >> 1)) / divisor;
                if (quotient > CONFIG_T::prob_max) quotient = CONFIG_T::prob_max;
                typename CONFIG_T::prob_t pj;
                pj.range() = ap_uint<CONFIG_T::prob_t::width>(quotient);  // <= prob_max: fits, whichever is wider
                p[(r - 1) * CONFIG_T::p_stride + c * P + l] = pj;
            }
        }
        if (r < R) {  // the exponentials of row r and their exact sum
            sum_int_t part = 0;
            for (unsigned l = 0; l < P; l++) {
#pragma HLS UNROLL
                ap_uint<CONFIG_T::exp_t::width> e = exp_lookup<CONFIG_T>(row_max[r], s[r * N + c * P + l], table);
                ring[(r & 1) * N + c * P + l] = e;
                part += e;
            }
            sum_int_t base = total;
            if (c == 0) base = 0;
            total = base + part;
            if (c == C - 1) divisor = total;
        }
        advance(c, r, q, g, C, R + 1, 1);
    }
}

} // namespace tsflow

#endif
