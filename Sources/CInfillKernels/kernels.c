// Few-row matrix products against pre-packed weights. Each panel holds INFILL_PANEL_WIDTH
// outputs input by input; a micro-kernel keeps up to a few rows × the whole panel width of
// accumulators in registers, broadcasts one input value of each row and multiplies it with the
// panel's row for that input, so every weight is read once per call and nothing is packed per
// call (what OpenBLAS does, and what dominates its time at 1–16 rows).
#include "infill_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define INFILL_X86 1
#endif

#define PW INFILL_PANEL_WIDTH

long infill_packed_count(int outputs, int inputs) {
    long panels = (outputs + PW - 1) / PW;
    return panels * (long)inputs * PW;
}

void infill_pack_panels(const float *w, int outputs, int inputs, float *packed) {
    long panels = (outputs + PW - 1) / PW;
    for (long p = 0; p < panels; p++) {
        float *panel = packed + p * (long)inputs * PW;
        for (int k = 0; k < inputs; k++) {
            for (int j = 0; j < PW; j++) {
                long n = p * PW + j;
                panel[(long)k * PW + j] = n < outputs ? w[n * inputs + k] : 0.0f;
            }
        }
    }
}

/// Writes (or adds) the first `columns` of one panel-wide result row.
static inline void store_row(float *y, const float *tile, int columns, int accumulate) {
    if (accumulate) {
        for (int j = 0; j < columns; j++) y[j] += tile[j];
    } else {
        for (int j = 0; j < columns; j++) y[j] = tile[j];
    }
}

static void gemm_portable(int rows, int outputs, int inputs, const float *x, int ldx, const float *packed, float *y,
                          int ldy, int accumulate, long first, long end) {
    float tile[PW];
    for (long p = first; p < end; p++) {
        const float *panel = packed + p * (long)inputs * PW;
        int columns = outputs - (int)(p * PW) < PW ? outputs - (int)(p * PW) : PW;
        for (int m = 0; m < rows; m++) {
            for (int j = 0; j < PW; j++) tile[j] = 0;
            const float *xm = x + (long)m * ldx;
            for (int k = 0; k < inputs; k++) {
                float b = xm[k];
                const float *pk = panel + (long)k * PW;
                for (int j = 0; j < PW; j++) tile[j] += b * pk[j];
            }
            store_row(y + (long)m * ldy + p * PW, tile, columns, accumulate);
        }
    }
}

#ifdef INFILL_X86

#define ROWS512 6

// `rows` is a constant after inlining, so the row loops unroll into registers.
static inline __attribute__((always_inline, target("avx512f"))) void tile512(
    int rows, int inputs, const float *x, int ldx, const float *panel, float *y, int ldy, int columns, int accumulate) {
    __m512 a[ROWS512][4];
    for (int i = 0; i < ROWS512; i++)
        for (int j = 0; j < 4; j++) a[i][j] = _mm512_setzero_ps();
    for (int k = 0; k < inputs; k++) {
        const float *pk = panel + (long)k * PW;
        __m512 w0 = _mm512_loadu_ps(pk), w1 = _mm512_loadu_ps(pk + 16);
        __m512 w2 = _mm512_loadu_ps(pk + 32), w3 = _mm512_loadu_ps(pk + 48);
        for (int i = 0; i < rows; i++) {
            __m512 b = _mm512_set1_ps(x[(long)i * ldx + k]);
            a[i][0] = _mm512_fmadd_ps(b, w0, a[i][0]);
            a[i][1] = _mm512_fmadd_ps(b, w1, a[i][1]);
            a[i][2] = _mm512_fmadd_ps(b, w2, a[i][2]);
            a[i][3] = _mm512_fmadd_ps(b, w3, a[i][3]);
        }
    }
    float tile[PW];
    for (int i = 0; i < rows; i++) {
        for (int j = 0; j < 4; j++) _mm512_storeu_ps(tile + 16 * j, a[i][j]);
        store_row(y + (long)i * ldy, tile, columns, accumulate);
    }
}

__attribute__((target("avx512f"))) static void gemm512(int rows, int outputs, int inputs, const float *x, int ldx,
                                                        const float *packed, float *y, int ldy, int accumulate,
                                                        long first, long end) {
    for (long p = first; p < end; p++) {
        const float *panel = packed + p * (long)inputs * PW;
        int columns = outputs - (int)(p * PW) < PW ? outputs - (int)(p * PW) : PW;
        for (int m0 = 0; m0 < rows; m0 += ROWS512) {
            const float *xm = x + (long)m0 * ldx;
            float *ym = y + (long)m0 * ldy + p * PW;
            switch (rows - m0) {
            case 1: tile512(1, inputs, xm, ldx, panel, ym, ldy, columns, accumulate); break;
            case 2: tile512(2, inputs, xm, ldx, panel, ym, ldy, columns, accumulate); break;
            case 3: tile512(3, inputs, xm, ldx, panel, ym, ldy, columns, accumulate); break;
            case 4: tile512(4, inputs, xm, ldx, panel, ym, ldy, columns, accumulate); break;
            case 5: tile512(5, inputs, xm, ldx, panel, ym, ldy, columns, accumulate); break;
            default: tile512(6, inputs, xm, ldx, panel, ym, ldy, columns, accumulate); break;
            }
        }
    }
}

#define ROWS256 2

// AVX2 has 16 registers: two rows × half a panel (four 8-lane vectors) at a time.
static inline __attribute__((always_inline, target("avx2,fma"))) void tile256(
    int rows, int inputs, const float *x, int ldx, const float *panel, int half, float *y, int ldy, int columns,
    int accumulate) {
    __m256 a[ROWS256][4];
    for (int i = 0; i < ROWS256; i++)
        for (int j = 0; j < 4; j++) a[i][j] = _mm256_setzero_ps();
    for (int k = 0; k < inputs; k++) {
        const float *pk = panel + (long)k * PW + half * 32;
        __m256 w0 = _mm256_loadu_ps(pk), w1 = _mm256_loadu_ps(pk + 8);
        __m256 w2 = _mm256_loadu_ps(pk + 16), w3 = _mm256_loadu_ps(pk + 24);
        for (int i = 0; i < rows; i++) {
            __m256 b = _mm256_broadcast_ss(x + (long)i * ldx + k);
            a[i][0] = _mm256_fmadd_ps(b, w0, a[i][0]);
            a[i][1] = _mm256_fmadd_ps(b, w1, a[i][1]);
            a[i][2] = _mm256_fmadd_ps(b, w2, a[i][2]);
            a[i][3] = _mm256_fmadd_ps(b, w3, a[i][3]);
        }
    }
    float tile[32];
    for (int i = 0; i < rows; i++) {
        for (int j = 0; j < 4; j++) _mm256_storeu_ps(tile + 8 * j, a[i][j]);
        store_row(y + (long)i * ldy + half * 32, tile, columns, accumulate);
    }
}

__attribute__((target("avx2,fma"))) static void gemm256(int rows, int outputs, int inputs, const float *x, int ldx,
                                                         const float *packed, float *y, int ldy, int accumulate,
                                                         long first, long end) {
    for (long p = first; p < end; p++) {
        const float *panel = packed + p * (long)inputs * PW;
        int remaining = outputs - (int)(p * PW);
        for (int half = 0; half < 2; half++) {
            int columns = remaining - half * 32;
            if (columns <= 0) break;
            if (columns > 32) columns = 32;
            for (int m0 = 0; m0 < rows; m0 += ROWS256) {
                const float *xm = x + (long)m0 * ldx;
                float *ym = y + (long)m0 * ldy + p * PW;
                if (rows - m0 == 1) {
                    tile256(1, inputs, xm, ldx, panel, half, ym, ldy, columns, accumulate);
                } else {
                    tile256(2, inputs, xm, ldx, panel, half, ym, ldy, columns, accumulate);
                }
            }
        }
    }
}

#endif

static int limit = -1;

void infill_limit_kernel_level(int level) { limit = level; }

static int cpu_level(void);

int infill_kernel_level(void) {
    int level = cpu_level();
    return limit >= 0 && limit < level ? limit : level;
}

static int cpu_level(void) {
#ifdef INFILL_X86
    static int level = -1;
    if (level < 0) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f"))
            level = 2;
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            level = 1;
        else
            level = 0;
    }
    return level;
#else
    return 0;
#endif
}

void infill_gemm_packed_panels(int rows, int outputs, int inputs, const float *x, int ldx, const float *packed,
                               float *y, int ldy, int accumulate, int first, int count) {
    long panels = (outputs + PW - 1) / PW;
    long end = (long)first + count < panels ? (long)first + count : panels;
    if (first < 0 || first >= end) return;
#ifdef INFILL_X86
    switch (infill_kernel_level()) {
    case 2: gemm512(rows, outputs, inputs, x, ldx, packed, y, ldy, accumulate, first, end); return;
    case 1: gemm256(rows, outputs, inputs, x, ldx, packed, y, ldy, accumulate, first, end); return;
    default: break;
    }
#endif
    gemm_portable(rows, outputs, inputs, x, ldx, packed, y, ldy, accumulate, first, end);
}

void infill_gemm_packed(int rows, int outputs, int inputs, const float *x, int ldx, const float *packed, float *y,
                        int ldy, int accumulate) {
    infill_gemm_packed_panels(rows, outputs, inputs, x, ldx, packed, y, ldy, accumulate, 0, (outputs + PW - 1) / PW);
}
