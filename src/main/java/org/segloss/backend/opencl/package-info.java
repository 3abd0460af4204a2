/**
 * The OpenCL backend (JOCL): {@link org.segloss.backend.opencl.OpenClBackend} opens a device, or wraps
 * the caller's context, queue and memory objects so that losses run in place on the caller's queue.
 */
package org.segloss.backend.opencl;
