// Sequential, bit-exact layers of the tsflow Transformer forecaster (the structure: flow/hls/plan.py).
//
// Tensors are flat row-major arrays [step][channel]. The layers run one after another, each inlined
// into the top function as one perfect loop nest pipelined at II=1 that handles CONFIG_T::lanes
// multiply-accumulates (or elements) a clock; the multiplying layers share the design's one set of
// multiply lanes. Sums are exact (accumulators sized by interval arithmetic in the flow); the only
// roundings are the casts to the output types, whose ap_fixed rounding and overflow modes are those
// of the Keras quantizers.
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

// One clock of a layer's multiply lanes: the exact products of the operand mantissas and their sum.
// LANES_T describes the lanes (lanes, a_t, b_t, sum_t, mul_impl). Shared: the design's one
// engine, the generated `tsflow_mac` (found at instantiation), one RTL instance used by every layer in
// turn. Not shared: the layer's own multipliers, for a layer whose hls.multiplier differs.
template <bool SHARED> struct lanes;
template <> struct lanes<true> {
    template <class LANES_T>
    static void run(const typename LANES_T::a_t a[LANES_T::lanes], const typename LANES_T::b_t b[LANES_T::lanes],
                    typename LANES_T::sum_t &sum) {
#pragma HLS INLINE
        tsflow_mac(a, b, sum);
    }
};
template <> struct lanes<false> {
    template <class LANES_T>
    static void run(const typename LANES_T::a_t a[LANES_T::lanes], const typename LANES_T::b_t b[LANES_T::lanes],
                    typename LANES_T::sum_t &sum) {
#pragma HLS INLINE
        typename LANES_T::sum_t s = 0;
        for (unsigned l = 0; l < LANES_T::lanes; l++) {
#pragma HLS UNROLL
            s += multiply<LANES_T::mul_impl>::product(a[l], b[l]);
        }
        sum = s;
    }
};

// y = x, converted to y's type (the model's input quantizer); rows x cols, `lanes` elements a clock
template <class x_T, class y_T, typename CONFIG_T>
void cast(const x_T x[CONFIG_T::n_rows * CONFIG_T::n_cols], y_T y[CONFIG_T::n_rows * CONFIG_T::n_cols]) {
#pragma HLS INLINE
Rows:
    for (unsigned r = 0; r < CONFIG_T::n_rows; r++) {
    Chunks:
        for (unsigned c = 0; c < chunks<CONFIG_T::n_cols, CONFIG_T::lanes>::value; c++) {
#pragma HLS PIPELINE II = 1
        Lanes:
            for (unsigned l = 0; l < CONFIG_T::lanes; l++) {
                unsigned col = c * CONFIG_T::lanes + l;
                if (col < CONFIG_T::n_cols) y[r * CONFIG_T::n_cols + col] = x[r * CONFIG_T::n_cols + col];
            }
        }
    }
}

// y = round(a + b), element by element; rows x cols, `lanes` elements a clock
template <class a_T, class b_T, class y_T, typename CONFIG_T>
void add(const a_T a[CONFIG_T::n_rows * CONFIG_T::n_cols], const b_T b[CONFIG_T::n_rows * CONFIG_T::n_cols],
         y_T y[CONFIG_T::n_rows * CONFIG_T::n_cols]) {
#pragma HLS INLINE
Rows:
    for (unsigned r = 0; r < CONFIG_T::n_rows; r++) {
    Chunks:
        for (unsigned c = 0; c < chunks<CONFIG_T::n_cols, CONFIG_T::lanes>::value; c++) {
#pragma HLS PIPELINE II = 1
        Lanes:
            for (unsigned l = 0; l < CONFIG_T::lanes; l++) {
                unsigned col = c * CONFIG_T::lanes + l;
                if (col < CONFIG_T::n_cols) {
                    unsigned i = r * CONFIG_T::n_cols + col;
                    y[i] = a[i] + b[i];
                }
            }
        }
    }
}


// One clock of a dense layer: `lanes` consecutive inputs of step t times row o of w (stored
// [n_out][n_in]) on the multiply lanes, added to the accumulator, which starts from the bias on an
// output's first clock (c == 0).
template <class x_T, typename CONFIG_T>
inline void dense_clock(const x_T x[CONFIG_T::n_steps * CONFIG_T::n_in],
                        const typename CONFIG_T::weight_t w[CONFIG_T::n_in * CONFIG_T::n_out],
                        const typename CONFIG_T::bias_t b[CONFIG_T::n_out], unsigned t, unsigned o, unsigned c,
                        typename CONFIG_T::accum_t &acc) {
#pragma HLS INLINE
    typedef typename CONFIG_T::lanes_t E;
    static const unsigned P = CONFIG_T::lanes;
    typename E::a_t a[E::lanes];
    typename E::b_t bw[E::lanes];
    typename E::sum_t sum;
Lanes:
    for (unsigned l = 0; l < E::lanes; l++) {
        unsigned i = c * P + l;
        bool on = l < P && i < CONFIG_T::n_in;
        a[l] = on ? typename E::a_t(int_of(x[t * CONFIG_T::n_in + i])) : typename E::a_t(0);
        bw[l] = on ? typename E::b_t(int_of(w[o * CONFIG_T::n_in + i])) : typename E::b_t(0);
    }
    lanes<CONFIG_T::shared>::template run<E>(a, bw, sum);
    typename CONFIG_T::psum_t part;
    part.range() = sum.range();
    typename CONFIG_T::accum_t base = acc;
    if (c == 0) base = b[o];
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

// y[t][o] = round(sum_i x[t][i] * w[o][i] + b[o]), with ReLU on the exact sum when CONFIG_T::relu.
// One perfect loop nest: the accumulator is set on an output's first clock and written on its last,
// so one output leaves every ceil(n_in / lanes) clocks with a single pipeline fill per layer. y is
// written [t][o], or [o][t] when CONFIG_T::transpose_out (the attention value, read along time by the
// context lanes).
template <class x_T, class y_T, typename CONFIG_T>
void dense_seq(const x_T x[CONFIG_T::n_steps * CONFIG_T::n_in], y_T y[CONFIG_T::n_steps * CONFIG_T::n_out],
               const typename CONFIG_T::weight_t w[CONFIG_T::n_in * CONFIG_T::n_out],
               const typename CONFIG_T::bias_t b[CONFIG_T::n_out]) {
#pragma HLS INLINE
    static const unsigned C = chunks<CONFIG_T::n_in, CONFIG_T::lanes>::value;
    typename CONFIG_T::accum_t acc = 0;
    y_T row[CONFIG_T::word];
#pragma HLS ARRAY_PARTITION variable = row complete
    unsigned fill = 0, word = 0;
Steps:
    for (unsigned t = 0; t < CONFIG_T::n_steps; t++) {
    Outputs:
        for (unsigned o = 0; o < CONFIG_T::n_out; o++) {
        Chunks:
            for (unsigned c = 0; c < C; c++) {
#pragma HLS PIPELINE II = 1
                dense_clock<x_T, CONFIG_T>(x, w, b, t, o, c, acc);
                if (c == C - 1) {
                    typename CONFIG_T::accum_t out = acc;
                    if (CONFIG_T::relu && out < 0) out = 0;
                    if (CONFIG_T::transpose_out)
                        y[o * CONFIG_T::n_steps + t] = out;
                    else
                        put_in_order<CONFIG_T::word, y_T>(y, row, fill, word, t * CONFIG_T::n_out + o, out);
                }
            }
        }
    }
}

// A dense layer with the element-wise layers after it done at its output, one value a clock:
// y = round(x . w + b), then s = round(y + a[t][o]) (a: the positional table or the residual input),
// stored in s. y is recorded by the C simulation trace (y_trace) and does not exist in the hardware.
template <class x_T, class y_T, class a_T, class s_T, typename CONFIG_T>
void dense_add(const x_T x[CONFIG_T::n_steps * CONFIG_T::n_in],
               const typename CONFIG_T::weight_t w[CONFIG_T::n_in * CONFIG_T::n_out],
               const typename CONFIG_T::bias_t b[CONFIG_T::n_out], const a_T a[CONFIG_T::n_steps * CONFIG_T::n_out],
               s_T s[CONFIG_T::n_steps * CONFIG_T::n_out], y_T y_trace[CONFIG_T::n_steps * CONFIG_T::n_out]) {
#pragma HLS INLINE
    static const unsigned C = chunks<CONFIG_T::n_in, CONFIG_T::lanes>::value;
    typename CONFIG_T::accum_t acc = 0;
    s_T row[CONFIG_T::word];
#pragma HLS ARRAY_PARTITION variable = row complete
    unsigned fill = 0, word = 0;
Steps:
    for (unsigned t = 0; t < CONFIG_T::n_steps; t++) {
    Outputs:
        for (unsigned o = 0; o < CONFIG_T::n_out; o++) {
        Chunks:
            for (unsigned c = 0; c < C; c++) {
#pragma HLS PIPELINE II = 1
                dense_clock<x_T, CONFIG_T>(x, w, b, t, o, c, acc);
                if (c == C - 1) {
                    unsigned at = t * CONFIG_T::n_out + o;
                    y_T y = acc;
                    put_in_order<CONFIG_T::word, s_T>(s, row, fill, word, at, s_T(y + a[at]));
#ifndef __SYNTHESIS__
                    y_trace[at] = y;
#endif
                }
            }
        }
    }
}

// As dense_add, and then the norm after the residual add: z = round(s * scale[o] + shift[o]) on the
// layer's own multiplier (BatchNorm deployed as a per-channel affine). Only z is stored; y and s are
// recorded by the C simulation trace.
template <class x_T, class y_T, class a_T, class s_T, class z_T, typename CONFIG_T>
void dense_add_norm(const x_T x[CONFIG_T::n_steps * CONFIG_T::n_in],
                    const typename CONFIG_T::weight_t w[CONFIG_T::n_in * CONFIG_T::n_out],
                    const typename CONFIG_T::bias_t b[CONFIG_T::n_out],
                    const a_T a[CONFIG_T::n_steps * CONFIG_T::n_out],
                    const typename CONFIG_T::scale_t scale[CONFIG_T::n_out],
                    const typename CONFIG_T::shift_t shift[CONFIG_T::n_out], z_T z[CONFIG_T::n_steps * CONFIG_T::n_out],
                    y_T y_trace[CONFIG_T::n_steps * CONFIG_T::n_out], s_T s_trace[CONFIG_T::n_steps * CONFIG_T::n_out]) {
#pragma HLS INLINE
    static const unsigned C = chunks<CONFIG_T::n_in, CONFIG_T::lanes>::value;
    typename CONFIG_T::accum_t acc = 0;
    z_T row[CONFIG_T::word];
#pragma HLS ARRAY_PARTITION variable = row complete
    unsigned fill = 0, word = 0;
Steps:
    for (unsigned t = 0; t < CONFIG_T::n_steps; t++) {
    Outputs:
        for (unsigned o = 0; o < CONFIG_T::n_out; o++) {
        Chunks:
            for (unsigned c = 0; c < C; c++) {
#pragma HLS PIPELINE II = 1
                dense_clock<x_T, CONFIG_T>(x, w, b, t, o, c, acc);
                if (c == C - 1) {
                    unsigned at = t * CONFIG_T::n_out + o;
                    y_T y = acc;
                    s_T s = y + a[at];
                    put_in_order<CONFIG_T::word, z_T>(z, row, fill, word, at, z_T(multiply<CONFIG_T::mul_impl>::product(s, scale[o]) + shift[o]));
#ifndef __SYNTHESIS__
                    y_trace[at] = y;
                    s_trace[at] = s;
#endif
                }
            }
        }
    }
}



// y[c] = round(sum_t x[t][c] * recip), recip = round(2^F / n_steps) / 2^F: exact sums over time with
// `lanes` channels a clock, then one multiply per channel on the pooling's own multiplier
template <class x_T, class y_T, typename CONFIG_T>
void average_pool(const x_T x[CONFIG_T::n_steps * CONFIG_T::n_ch], y_T y[CONFIG_T::n_ch]) {
#pragma HLS INLINE
    static const unsigned P = CONFIG_T::lanes;
    typename CONFIG_T::recip_t recip;
    recip.range() = ap_uint<CONFIG_T::recip_t::width>(CONFIG_T::recip_mantissa);
    typename CONFIG_T::accum_t sums[CONFIG_T::n_ch];
#pragma HLS ARRAY_PARTITION variable = sums complete dim = 1
    typename CONFIG_T::accum_t acc[P];
#pragma HLS ARRAY_PARTITION variable = acc complete dim = 1
Chunks:
    for (unsigned c = 0; c < chunks<CONFIG_T::n_ch, P>::value; c++) {
    Steps:
        for (unsigned t = 0; t < CONFIG_T::n_steps; t++) {
#pragma HLS PIPELINE II = 1
        Lanes:
            for (unsigned l = 0; l < P; l++) {
                unsigned ch = c * P + l;
                if (ch < CONFIG_T::n_ch) {
                    typename CONFIG_T::accum_t base = acc[l];
                    if (t == 0) base = 0;
                    acc[l] = base + x[t * CONFIG_T::n_ch + ch];
                    if (t == CONFIG_T::n_steps - 1) sums[ch] = acc[l];
                }
            }
        }
    }
Scale:
    for (unsigned ch = 0; ch < CONFIG_T::n_ch; ch++) {
#pragma HLS PIPELINE II = 1
        y[ch] = multiply<CONFIG_T::mul_impl>::product(sums[ch], recip);
    }
}

// y = x[last step][first .. first + n_out): a wire
template <class x_T, class y_T, typename CONFIG_T>
void last_step(const x_T x[CONFIG_T::n_steps * CONFIG_T::n_ch], y_T y[CONFIG_T::n_out]) {
#pragma HLS INLINE
    for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
#pragma HLS UNROLL
        y[j] = x[(CONFIG_T::n_steps - 1) * CONFIG_T::n_ch + CONFIG_T::first + j];
    }
}

// y = [a, b]: the mean_last head's input, both exact in y's type (their union)
template <class a_T, class b_T, class y_T, typename CONFIG_T>
void concat(const a_T a[CONFIG_T::n_a], const b_T b[CONFIG_T::n_b], y_T y[CONFIG_T::n_a + CONFIG_T::n_b]) {
#pragma HLS INLINE
Both:
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

// The table softmax of every row (flow.tables.softmax_int), rows one after another in two flattened
// passes of one element a clock: the exact row sums of the looked-up exponentials, then
// p = min(floor(((e << prob_frac) + (sum >> 1)) / sum), prob_max), the quotient rounded to nearest. The row
// maxima were taken while the scores were made.
template <typename CONFIG_T>
void softmax_rows(const typename CONFIG_T::score_t s[CONFIG_T::rows * CONFIG_T::n],
                  const typename CONFIG_T::score_t row_max[CONFIG_T::rows],
                  ap_uint<CONFIG_T::exp_t::width + CONFIG_T::sum_extra_bits> row_sum[CONFIG_T::rows],
                  typename CONFIG_T::prob_t p[CONFIG_T::rows * CONFIG_T::n],
                  const typename CONFIG_T::exp_t table[CONFIG_T::table_size]) {
#pragma HLS INLINE
    typedef ap_uint<CONFIG_T::exp_t::width + CONFIG_T::sum_extra_bits> sum_int_t;
    typedef ap_uint<CONFIG_T::exp_t::width + CONFIG_T::prob_frac> num_t;  // e << prob_frac and the quotient
    sum_int_t total = 0;
SumRows:
    for (unsigned r = 0; r < CONFIG_T::rows; r++) {
    SumElements:
        for (unsigned j = 0; j < CONFIG_T::n; j++) {
#pragma HLS PIPELINE II = 1
            sum_int_t base = total;
            if (j == 0) base = 0;
            total = base + exp_lookup<CONFIG_T>(row_max[r], s[r * CONFIG_T::n + j], table);
            if (j == CONFIG_T::n - 1) row_sum[r] = total;
        }
    }
DivideRows:
    for (unsigned r = 0; r < CONFIG_T::rows; r++) {
    DivideElements:
        for (unsigned j = 0; j < CONFIG_T::n; j++) {
#pragma HLS PIPELINE II = 1
            num_t e = exp_lookup<CONFIG_T>(row_max[r], s[r * CONFIG_T::n + j], table);
            // ap_uint's + is one bit wider than its wider operand: the numerator never wraps
            num_t q = ((e << CONFIG_T::prob_frac) + (row_sum[r] >> 1)) / row_sum[r];
            if (q > CONFIG_T::prob_max) q = CONFIG_T::prob_max;
            typename CONFIG_T::prob_t pj;
            pj.range() = q.range(CONFIG_T::prob_t::width - 1, 0);
            p[r * CONFIG_T::n + j] = pj;
        }
    }
}

// Multi-head scaled dot-product self-attention on a window up to the heads' context, with the table
// softmax (the output projection runs with the residual add and norm after it: dense_fused).
// Buffers q, k, ctx [n_steps][d]; v transposed, [d][n_steps]; scores, probs [heads][n_steps][n_steps].
template <class x_T, typename CONFIG_T>
void attention(const x_T x[CONFIG_T::n_steps * CONFIG_T::d],
               typename CONFIG_T::q_t q[CONFIG_T::n_steps * CONFIG_T::d],
               typename CONFIG_T::k_t k[CONFIG_T::n_steps * CONFIG_T::d],
               typename CONFIG_T::v_t v[CONFIG_T::n_steps * CONFIG_T::d],
               typename CONFIG_T::score_t scores[CONFIG_T::heads * CONFIG_T::n_steps * CONFIG_T::n_steps],
               typename CONFIG_T::prob_t probs[CONFIG_T::heads * CONFIG_T::n_steps * CONFIG_T::n_steps],
               typename CONFIG_T::context_t ctx[CONFIG_T::n_steps * CONFIG_T::d],
               const typename CONFIG_T::q_config::weight_t wq[CONFIG_T::d * CONFIG_T::d],
               const typename CONFIG_T::q_config::bias_t bq[CONFIG_T::d],
               const typename CONFIG_T::k_config::weight_t wk[CONFIG_T::d * CONFIG_T::d],
               const typename CONFIG_T::k_config::bias_t bk[CONFIG_T::d],
               const typename CONFIG_T::v_config::weight_t wv[CONFIG_T::d * CONFIG_T::d],
               const typename CONFIG_T::v_config::bias_t bv[CONFIG_T::d],
               const typename CONFIG_T::softmax_config::exp_t exp_table[CONFIG_T::softmax_config::table_size]) {
#pragma HLS INLINE
    static const unsigned L = CONFIG_T::n_steps, D = CONFIG_T::d, DH = CONFIG_T::head_dim;
    typedef typename CONFIG_T::softmax_config SM;
    typename CONFIG_T::score_t row_max[CONFIG_T::heads * L];
    ap_uint<SM::exp_t::width + SM::sum_extra_bits> row_sum[CONFIG_T::heads * L];
#ifdef TSFLOW_VIVADO_HLS
#pragma HLS RESOURCE variable = row_max core = RAM_2P_LUTRAM
#pragma HLS RESOURCE variable = row_sum core = RAM_2P_LUTRAM
#else
#pragma HLS BIND_STORAGE variable = row_max type = ram_2p impl = lutram
#pragma HLS BIND_STORAGE variable = row_sum type = ram_2p impl = lutram
#endif
    dense_seq<x_T, typename CONFIG_T::q_t, typename CONFIG_T::q_config>(x, q, wq, bq);
    dense_seq<x_T, typename CONFIG_T::k_t, typename CONFIG_T::k_config>(x, k, wk, bk);
    dense_seq<x_T, typename CONFIG_T::v_t, typename CONFIG_T::v_config>(x, v, wv, bv);

    // scores = round((Q_h . K_h^T) * 2^-shift): the shift reinterprets the exact sum's bits; the row
    // maximum is kept as the row's scores leave
    {
        typedef typename CONFIG_T::score_lanes_t E;
        static const unsigned P = CONFIG_T::score_lanes, C = chunks<DH, P>::value;
        typename CONFIG_T::score_accum_t acc = 0;
        typename CONFIG_T::score_t top = 0;
    ScoreHeads:
        for (unsigned h = 0; h < CONFIG_T::heads; h++) {
        ScoreQueries:
            for (unsigned i = 0; i < L; i++) {
            ScoreKeys:
                for (unsigned j = 0; j < L; j++) {
                ScoreChunks:
                    for (unsigned c = 0; c < C; c++) {
#pragma HLS PIPELINE II = 1
                        typename E::a_t a[E::lanes];
                        typename E::b_t b[E::lanes];
                        typename E::sum_t sum;
                    ScoreLanes:
                        for (unsigned l = 0; l < E::lanes; l++) {
                            unsigned e = c * P + l;
                            bool on = l < P && e < DH;
                            a[l] = on ? typename E::a_t(int_of(q[i * D + h * DH + e])) : typename E::a_t(0);
                            b[l] = on ? typename E::b_t(int_of(k[j * D + h * DH + e])) : typename E::b_t(0);
                        }
                        lanes<CONFIG_T::score_shared>::template run<E>(a, b, sum);
                        typename CONFIG_T::score_psum_t part;
                        part.range() = sum.range();
                        typename CONFIG_T::score_accum_t base = acc;
                        if (c == 0) base = 0;
                        acc = base + part;
                        if (c == C - 1) {
                            typename CONFIG_T::score_scaled_t scaled;
                            scaled.range() = acc.range();
                            typename CONFIG_T::score_t score = scaled;
                            scores[(h * L + i) * L + j] = score;
                            if (j == 0 || score > top) top = score;
                            if (j == L - 1) row_max[h * L + i] = top;
                        }
                    }
                }
            }
        }
    }
    softmax_rows<SM>(scores, row_max, row_sum, probs, exp_table);

    // context = round(P_h . V_h), heads side by side in [step][d]; v is [d][step], so the lanes read
    // consecutive steps of both operands
    {
        typedef typename CONFIG_T::context_lanes_t E;
        static const unsigned P = CONFIG_T::context_lanes, C = chunks<L, P>::value;
        typename CONFIG_T::context_accum_t acc = 0;
    ContextHeads:
        for (unsigned h = 0; h < CONFIG_T::heads; h++) {
        ContextQueries:
            for (unsigned i = 0; i < L; i++) {
            ContextDims:
                for (unsigned e = 0; e < DH; e++) {
                ContextChunks:
                    for (unsigned c = 0; c < C; c++) {
#pragma HLS PIPELINE II = 1
                        typename E::a_t a[E::lanes];
                        typename E::b_t b[E::lanes];
                        typename E::sum_t sum;
                    ContextLanes:
                        for (unsigned l = 0; l < E::lanes; l++) {
                            unsigned j = c * P + l;
                            bool on = l < P && j < L;
                            a[l] = on ? typename E::a_t(int_of(probs[(h * L + i) * L + j])) : typename E::a_t(0);
                            b[l] = on ? typename E::b_t(int_of(v[(h * DH + e) * L + j])) : typename E::b_t(0);
                        }
                        lanes<CONFIG_T::context_shared>::template run<E>(a, b, sum);
                        typename CONFIG_T::context_psum_t part;
                        part.range() = sum.range();
                        typename CONFIG_T::context_accum_t base = acc;
                        if (c == 0) base = 0;
                        acc = base + part;
                        if (c == C - 1) ctx[i * D + h * DH + e] = acc;
                    }
                }
            }
        }
    }
}

} // namespace tsflow

#endif
