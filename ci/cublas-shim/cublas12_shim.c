/*
 * A libcublas.so.12 that forwards the six cuBLAS calls of CublasSums to cuBLAS 13.
 *
 * JCublas 12.6's native library names libcublas.so.12 as NEEDED and binds its cublas* symbols at
 * version "libcublas.so.12"; a machine with only CUDA 13 libraries (libcublas.so.13) cannot load it.
 * This library carries that soname and version node (see cublas12_shim.map) with the functions
 * CublasSums calls, each forwarding to the same function of libcublas.so.13, loaded with dlopen from
 * $SEGLOSS_CUBLAS13 (a path) or by name. The signatures of these six did not change from 12 to 13.
 * Every other cuBLAS function stays unresolved: JNI libraries bind lazily, so only a call to one
 * would fail. Built by ci/pack-gpu-check.sh; used by ci/gpu-check.sh only where libcublas.so.12 is absent.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

/* The dl functions at their oldest symbol version, so the shim also loads on glibc before 2.34
   (where they live in libdl.so.2, which a JVM has loaded already); newer glibc keeps these versions. */
__asm__(".symver dlopen,dlopen@GLIBC_2.2.5");
__asm__(".symver dlsym,dlsym@GLIBC_2.2.5");
__asm__(".symver dlerror,dlerror@GLIBC_2.2.5");

typedef int cublas_status;
#define CUBLAS_STATUS_NOT_INITIALIZED 1

static void *cublas13;

/* The function `name` of cuBLAS 13, or NULL (with the reason on stderr once). */
static void *forward(const char *name) {
    static int reported;
    if (cublas13 == NULL) {
        const char *path = getenv("SEGLOSS_CUBLAS13");
        cublas13 = dlopen(path != NULL && path[0] != '\0' ? path : "libcublas.so.13", RTLD_NOW | RTLD_LOCAL);
        if (cublas13 == NULL) {
            if (!reported) {
                fprintf(stderr, "cublas12 shim: cannot load cuBLAS 13: %s\n", dlerror());
                reported = 1;
            }
            return NULL;
        }
    }
    return dlsym(cublas13, name);
}

cublas_status cublasCreate_v2(void **handle) {
    cublas_status (*f)(void **) = (cublas_status (*)(void **)) forward("cublasCreate_v2");
    return f != NULL ? f(handle) : CUBLAS_STATUS_NOT_INITIALIZED;
}

cublas_status cublasDestroy_v2(void *handle) {
    cublas_status (*f)(void *) = (cublas_status (*)(void *)) forward("cublasDestroy_v2");
    return f != NULL ? f(handle) : CUBLAS_STATUS_NOT_INITIALIZED;
}

cublas_status cublasSetStream_v2(void *handle, void *stream) {
    cublas_status (*f)(void *, void *) = (cublas_status (*)(void *, void *)) forward("cublasSetStream_v2");
    return f != NULL ? f(handle, stream) : CUBLAS_STATUS_NOT_INITIALIZED;
}

cublas_status cublasSetPointerMode_v2(void *handle, int mode) {
    cublas_status (*f)(void *, int) = (cublas_status (*)(void *, int)) forward("cublasSetPointerMode_v2");
    return f != NULL ? f(handle, mode) : CUBLAS_STATUS_NOT_INITIALIZED;
}

cublas_status cublasSdot_v2(void *handle, int n, const float *x, int incx, const float *y, int incy, float *result) {
    cublas_status (*f)(void *, int, const float *, int, const float *, int, float *) =
        (cublas_status (*)(void *, int, const float *, int, const float *, int, float *)) forward("cublasSdot_v2");
    return f != NULL ? f(handle, n, x, incx, y, incy, result) : CUBLAS_STATUS_NOT_INITIALIZED;
}

cublas_status cublasSgemv_v2(void *handle, int trans, int m, int n, const float *alpha, const float *a, int lda,
                             const float *x, int incx, const float *beta, float *y, int incy) {
    cublas_status (*f)(void *, int, int, int, const float *, const float *, int, const float *, int, const float *,
                       float *, int) =
        (cublas_status (*)(void *, int, int, int, const float *, const float *, int, const float *, int,
                           const float *, float *, int)) forward("cublasSgemv_v2");
    return f != NULL ? f(handle, trans, m, n, alpha, a, lda, x, incx, beta, y, incy) : CUBLAS_STATUS_NOT_INITIALIZED;
}
