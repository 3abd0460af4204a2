/**
 * The CUDA backend (JCuda driver API, PTX built from {@code kernels-cu}):
 * {@link org.segloss.backend.cuda.CudaBackend} opens a device's primary context, optionally on the
 * caller's stream, and wraps device pointers the caller already holds.
 */
package org.segloss.backend.cuda;
