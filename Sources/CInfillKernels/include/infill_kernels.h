#ifndef INFILL_KERNELS_H
#define INFILL_KERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/// Columns per panel of a packed weight matrix.
#define INFILL_PANEL_WIDTH 64

/// Floats a packed copy of an `outputs × inputs` matrix takes (whole panels, zero-padded).
long infill_packed_count(int outputs, int inputs);

/// Packs a row-major `outputs × inputs` weight matrix `w` (one row per output) into panels of
/// INFILL_PANEL_WIDTH outputs, each stored input by input, so a product reads it front to back.
void infill_pack_panels(const float *w, int outputs, int inputs, float *packed);

/// y[m][n] (= or +=) sum_k x[m][k] * w[n][k] for a few rows m, with `w` packed by
/// infill_pack_panels: the shape of a decoding step (a handful of canvas rows against every
/// weight), where a general sgemm spends as long packing the weights as multiplying them.
void infill_gemm_packed(int rows, int outputs, int inputs, const float *x, int ldx, const float *packed,
                        float *y, int ldy, int accumulate);

/// The same for panels `first ..< first + count` only (the outputs they hold): one thread's share.
void infill_gemm_packed_panels(int rows, int outputs, int inputs, const float *x, int ldx, const float *packed,
                               float *y, int ldy, int accumulate, int first, int count);

/// Which code path the kernel takes on this CPU: 2 = AVX-512, 1 = AVX2 + FMA, 0 = portable C.
int infill_kernel_level(void);

/// Makes the kernel take at most `level`'s path (tests of every path); -1 restores the CPU's.
void infill_limit_kernel_level(int level);

#ifdef __cplusplus
}
#endif

#endif
