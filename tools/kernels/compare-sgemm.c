// Times the packed few-row kernel against OpenBLAS sgemm on SmolLM2-135M's layer shapes, one thread.
// Build and run: clang -O2 -ISources/CInfillKernels/include Sources/CInfillKernels/kernels.c \
//   tools/kernels/compare-sgemm.c -lopenblas -lm -o /tmp/compare-sgemm && /tmp/compare-sgemm
#include "infill_kernels.h"
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <math.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(){
  openblas_set_num_threads(1);
  int shapes[][2]={{960,576},{576,576},{3072,576},{576,1536}}; int L=30;
  float **W=malloc(sizeof(float*)*L*4),**P=malloc(sizeof(float*)*L*4);
  for(int l=0;l<L;l++)for(int s=0;s<4;s++){long n=(long)shapes[s][0]*shapes[s][1];W[l*4+s]=malloc(n*4);P[l*4+s]=malloc(infill_packed_count(shapes[s][0],shapes[s][1])*4);for(long i=0;i<n;i++)W[l*4+s][i]=(rand()/(float)RAND_MAX-0.5f)*0.1f;infill_pack_panels(W[l*4+s],shapes[s][0],shapes[s][1],P[l*4+s]);}
  float *x=malloc(512*1536*4),*y=malloc(512*3072*4),*y2=malloc(512*3072*4); for(int i=0;i<512*1536;i++)x[i]=rand()/(float)RAND_MAX-0.5f;
  printf("level %d\n",infill_kernel_level());
  int Ms[]={1,2,8,9,16,32,64,128,256,512};
  for(int mi=0;mi<10;mi++){int M=Ms[mi]; double tb=1e9,tp=1e9,t0;
    for(int r=0;r<5;r++){ t0=now(); for(int l=0;l<L;l++)for(int s=0;s<4;s++){int N=shapes[s][0],K=shapes[s][1]; cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasTrans,M,N,K,1,x,K,W[l*4+s],K,0,y,N);} tb=fmin(tb,now()-t0);
      t0=now(); for(int l=0;l<L;l++)for(int s=0;s<4;s++){int N=shapes[s][0],K=shapes[s][1]; infill_gemm_packed(M,N,K,x,K,P[l*4+s],y2,N,0);} tp=fmin(tp,now()-t0);}
    printf("M=%2d sgemm %.1f ms packed %.1f ms  ratio %.2f\n",M,tb*1e3,tp*1e3,tb/tp);}
}
