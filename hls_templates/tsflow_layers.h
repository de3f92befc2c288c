// Sequential, bit-exact layers of the tsflow Transformer forecaster.
//
// Tensors are flat row-major arrays [step][channel]. Every layer walks the window one step at a time;
// the innermost loop is pipelined at II=1 and handles CONFIG_T::parallel elements (multiply-accumulates)
// per clock, so `parallel` is the layer's multiplier count. Sums are accumulated in exact types (sized by
// interval arithmetic in the flow); the only roundings are the casts to the output types, whose
// ap_fixed rounding and overflow modes are those of the Keras quantizers.
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

// y = x, converted to y's type (the model's input quantizer)
template <class x_T, class y_T, typename CONFIG_T> void cast(const x_T x[CONFIG_T::n], y_T y[CONFIG_T::n]) {
Chunks:
    for (unsigned c = 0; c < chunks<CONFIG_T::n, CONFIG_T::parallel>::value; c++) {
#pragma HLS PIPELINE II = 1
    Lanes:
        for (unsigned j = 0; j < CONFIG_T::parallel; j++) {
            unsigned i = c * CONFIG_T::parallel + j;
            if (i < CONFIG_T::n) y[i] = x[i];
        }
    }
}

// y[t][o] = round(sum_i x[t][i] * w[o][i] + b[o]), with ReLU on the exact sum when CONFIG_T::relu.
// w is stored transposed ([n_out][n_in]) so that the cyclic partition gives every lane its own bank.
template <class x_T, class y_T, typename CONFIG_T>
void dense_seq(const x_T x[CONFIG_T::n_steps * CONFIG_T::n_in], y_T y[CONFIG_T::n_steps * CONFIG_T::n_out],
               const typename CONFIG_T::weight_t w[CONFIG_T::n_in * CONFIG_T::n_out],
               const typename CONFIG_T::bias_t b[CONFIG_T::n_out]) {
#pragma HLS ARRAY_PARTITION variable = w cyclic factor = CONFIG_T::parallel dim = 1
Steps:
    for (unsigned t = 0; t < CONFIG_T::n_steps; t++) {
    Outputs:
        for (unsigned o = 0; o < CONFIG_T::n_out; o++) {
            typename CONFIG_T::accum_t acc = b[o];
        Chunks:
            for (unsigned c = 0; c < chunks<CONFIG_T::n_in, CONFIG_T::parallel>::value; c++) {
#pragma HLS PIPELINE II = 1
            Lanes:
                for (unsigned j = 0; j < CONFIG_T::parallel; j++) {
                    unsigned i = c * CONFIG_T::parallel + j;
                    if (i < CONFIG_T::n_in)
                        acc += multiply<CONFIG_T::mul_impl>::product(x[t * CONFIG_T::n_in + i], w[o * CONFIG_T::n_in + i]);
                }
            }
            if (CONFIG_T::relu && acc < 0) acc = 0;
            y[t * CONFIG_T::n_out + o] = acc;
        }
    }
}

// y = round(a + b), element by element
template <class a_T, class b_T, class y_T, typename CONFIG_T>
void add(const a_T a[CONFIG_T::n], const b_T b[CONFIG_T::n], y_T y[CONFIG_T::n]) {
Chunks:
    for (unsigned c = 0; c < chunks<CONFIG_T::n, CONFIG_T::parallel>::value; c++) {
#pragma HLS PIPELINE II = 1
    Lanes:
        for (unsigned j = 0; j < CONFIG_T::parallel; j++) {
            unsigned i = c * CONFIG_T::parallel + j;
            if (i < CONFIG_T::n) y[i] = a[i] + b[i];
        }
    }
}

// y[t][c] = round(x[t][c] + table[t][c]): the positional encoding ROM
template <class x_T, class y_T, typename CONFIG_T>
void positional_add(const x_T x[CONFIG_T::n], y_T y[CONFIG_T::n], const typename CONFIG_T::table_t table[CONFIG_T::n]) {
#pragma HLS ARRAY_PARTITION variable = table cyclic factor = CONFIG_T::parallel dim = 1
    add<x_T, typename CONFIG_T::table_t, y_T, CONFIG_T>(x, table, y);
}

// y[t][c] = round(x[t][c] * scale[c] + shift[c]): BatchNorm deployed as a per-channel affine
template <class x_T, class y_T, typename CONFIG_T>
void affine_seq(const x_T x[CONFIG_T::n_steps * CONFIG_T::n_ch], y_T y[CONFIG_T::n_steps * CONFIG_T::n_ch],
                const typename CONFIG_T::scale_t scale[CONFIG_T::n_ch],
                const typename CONFIG_T::shift_t shift[CONFIG_T::n_ch]) {
#pragma HLS ARRAY_PARTITION variable = scale cyclic factor = CONFIG_T::parallel dim = 1
#pragma HLS ARRAY_PARTITION variable = shift cyclic factor = CONFIG_T::parallel dim = 1
Steps:
    for (unsigned t = 0; t < CONFIG_T::n_steps; t++) {
    Chunks:
        for (unsigned c = 0; c < chunks<CONFIG_T::n_ch, CONFIG_T::parallel>::value; c++) {
#pragma HLS PIPELINE II = 1
        Lanes:
            for (unsigned j = 0; j < CONFIG_T::parallel; j++) {
                unsigned ch = c * CONFIG_T::parallel + j;
                if (ch < CONFIG_T::n_ch) {
                    unsigned i = t * CONFIG_T::n_ch + ch;
                    y[i] = multiply<CONFIG_T::mul_impl>::product(x[i], scale[ch]) + shift[ch];
                }
            }
        }
    }
}

// y[c] = round(sum_t x[t][c] * recip), recip = round(2^F / n_steps) / 2^F
template <class x_T, class y_T, typename CONFIG_T>
void average_pool(const x_T x[CONFIG_T::n_steps * CONFIG_T::n_ch], y_T y[CONFIG_T::n_ch]) {
    typename CONFIG_T::recip_t recip;
    recip.range() = ap_uint<CONFIG_T::recip_t::width>(CONFIG_T::recip_mantissa);
Channels:
    for (unsigned ch = 0; ch < CONFIG_T::n_ch; ch++) {
        typename CONFIG_T::accum_t acc = 0;
    Chunks:
        for (unsigned c = 0; c < chunks<CONFIG_T::n_steps, CONFIG_T::parallel>::value; c++) {
#pragma HLS PIPELINE II = 1
        Lanes:
            for (unsigned j = 0; j < CONFIG_T::parallel; j++) {
                unsigned t = c * CONFIG_T::parallel + j;
                if (t < CONFIG_T::n_steps) acc += x[t * CONFIG_T::n_ch + ch];
            }
        }
        y[ch] = multiply<CONFIG_T::mul_impl>::product(acc, recip);
    }
}

// y = x[last step][first .. first + n_out): a wire
template <class x_T, class y_T, typename CONFIG_T>
void last_step(const x_T x[CONFIG_T::n_steps * CONFIG_T::n_ch], y_T y[CONFIG_T::n_out]) {
    for (unsigned j = 0; j < CONFIG_T::n_out; j++) {
#pragma HLS UNROLL
        y[j] = x[(CONFIG_T::n_steps - 1) * CONFIG_T::n_ch + CONFIG_T::first + j];
    }
}

// y = [a, b]: the mean_last head's input, both exact in y's type (their union)
template <class a_T, class b_T, class y_T, typename CONFIG_T>
void concat(const a_T a[CONFIG_T::n_a], const b_T b[CONFIG_T::n_b], y_T y[CONFIG_T::n_a + CONFIG_T::n_b]) {
First:
    for (unsigned i = 0; i < CONFIG_T::n_a; i++) {
#pragma HLS PIPELINE II = 1
        y[i] = a[i];
    }
Second:
    for (unsigned i = 0; i < CONFIG_T::n_b; i++) {
#pragma HLS PIPELINE II = 1
        y[CONFIG_T::n_a + i] = b[i];
    }
}

// Integer mantissa of an ap_fixed / ap_ufixed value, as ap_int / ap_uint of the same width.
template <class T, class int_T> inline int_T bits_of(const T &v) {
    int_T m;
    m.range() = v.range();
    return m;
}

// One row of the table softmax (flow.tables.softmax_int):
// idx = (max - s) >> index_shift in score mantissa units; e = table[idx] or 0 past the end;
// p = min(floor((e << prob_frac) / sum(e)), prob_max)
template <typename CONFIG_T>
void softmax_row(const typename CONFIG_T::score_t s[CONFIG_T::n], typename CONFIG_T::prob_t p[CONFIG_T::n],
                 const typename CONFIG_T::exp_t table[CONFIG_T::table_size]) {
    typedef typename CONFIG_T::score_t score_t;
    typedef typename CONFIG_T::exp_t exp_t;
    static const int SW = score_t::width;
    static const int LS = CONFIG_T::index_shift < 0 ? -CONFIG_T::index_shift : 0;
    static const int RS = CONFIG_T::index_shift > 0 ? CONFIG_T::index_shift : 0;
    typedef ap_uint<SW + 1 + LS> index_t;
    typedef ap_uint<exp_t::width> exp_int_t;
    typedef ap_uint<exp_t::width + CONFIG_T::sum_extra_bits> sum_int_t;
    typedef ap_uint<exp_t::width + CONFIG_T::prob_frac> num_t;

    score_t row_max = s[0];
Max:
    for (unsigned j = 1; j < CONFIG_T::n; j++) {
#pragma HLS PIPELINE II = 1
        if (s[j] > row_max) row_max = s[j];
    }
    sum_int_t total = 0;
Sum:
    for (unsigned pass = 0; pass < 2; pass++) {
    Elements:
        for (unsigned j = 0; j < CONFIG_T::n; j++) {
#pragma HLS PIPELINE II = 1
            ap_int<SW + 1> diff = bits_of<score_t, ap_int<SW> >(row_max);
            diff -= bits_of<score_t, ap_int<SW> >(s[j]);
            index_t idx = index_t(diff) << LS;
            idx = idx >> RS;
            exp_int_t e = 0;
            if (idx < CONFIG_T::table_size) e = bits_of<exp_t, exp_int_t>(table[idx]);
            if (pass == 0) {
                total += e;
            } else {
                num_t q = (num_t(e) << CONFIG_T::prob_frac) / total;
                if (q > CONFIG_T::prob_max) q = CONFIG_T::prob_max;
                typename CONFIG_T::prob_t pj;
                pj.range() = q.range(CONFIG_T::prob_t::width - 1, 0);
                p[j] = pj;
            }
        }
    }
}

// Multi-head scaled dot-product self-attention on a window, with the table softmax.
// Buffers q, k, v, ctx [n_steps][d]; scores, probs [heads][n_steps][n_steps].
template <class x_T, class y_T, typename CONFIG_T>
void attention(const x_T x[CONFIG_T::n_steps * CONFIG_T::d], y_T y[CONFIG_T::n_steps * CONFIG_T::d],
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
               const typename CONFIG_T::o_config::weight_t wo[CONFIG_T::d * CONFIG_T::d],
               const typename CONFIG_T::o_config::bias_t bo[CONFIG_T::d],
               const typename CONFIG_T::softmax_config::exp_t exp_table[CONFIG_T::softmax_config::table_size]) {
    static const unsigned L = CONFIG_T::n_steps, D = CONFIG_T::d, DH = CONFIG_T::head_dim;
    dense_seq<x_T, typename CONFIG_T::q_t, typename CONFIG_T::q_config>(x, q, wq, bq);
    dense_seq<x_T, typename CONFIG_T::k_t, typename CONFIG_T::k_config>(x, k, wk, bk);
    dense_seq<x_T, typename CONFIG_T::v_t, typename CONFIG_T::v_config>(x, v, wv, bv);

    // scores = round((Q_h . K_h^T) * 2^-shift): the shift reinterprets the exact sum's bits
Heads:
    for (unsigned h = 0; h < CONFIG_T::heads; h++) {
    Queries:
        for (unsigned i = 0; i < L; i++) {
        Keys:
            for (unsigned j = 0; j < L; j++) {
                typename CONFIG_T::score_accum_t acc = 0;
            ScoreChunks:
                for (unsigned c = 0; c < chunks<DH, CONFIG_T::score_parallel>::value; c++) {
#pragma HLS PIPELINE II = 1
                    for (unsigned l = 0; l < CONFIG_T::score_parallel; l++) {
                        unsigned e = c * CONFIG_T::score_parallel + l;
                        if (e < DH)
                            acc += multiply<CONFIG_T::score_mul_impl>::product(q[i * D + h * DH + e], k[j * D + h * DH + e]);
                    }
                }
                typename CONFIG_T::score_scaled_t scaled;
                scaled.range() = acc.range();
                scores[(h * L + i) * L + j] = scaled;
            }
            softmax_row<typename CONFIG_T::softmax_config>(&scores[(h * L + i) * L], &probs[(h * L + i) * L],
                                                            exp_table);
        }
    }

    // context = round(P_h . V_h), heads side by side in [step][d]
ContextHeads:
    for (unsigned h = 0; h < CONFIG_T::heads; h++) {
    ContextQueries:
        for (unsigned i = 0; i < L; i++) {
        ContextDims:
            for (unsigned e = 0; e < DH; e++) {
                typename CONFIG_T::context_accum_t acc = 0;
            ContextChunks:
                for (unsigned c = 0; c < chunks<L, CONFIG_T::context_parallel>::value; c++) {
#pragma HLS PIPELINE II = 1
                    for (unsigned l = 0; l < CONFIG_T::context_parallel; l++) {
                        unsigned j = c * CONFIG_T::context_parallel + l;
                        if (j < L)
                            acc += multiply<CONFIG_T::context_mul_impl>::product(probs[(h * L + i) * L + j], v[j * D + h * DH + e]);
                    }
                }
                ctx[i * D + h * DH + e] = acc;
            }
        }
    }
    dense_seq<typename CONFIG_T::context_t, y_T, typename CONFIG_T::o_config>(ctx, y, wo, bo);
}

} // namespace tsflow

#endif
