/**
 * The backends' common interface. {@link org.segloss.backend.Backend} is the API type here: what
 * {@link org.segloss.LossEngine#of} takes and {@link org.segloss.LossEngine#backend()} returns, with its
 * buffer operations (upload, allocate, download) and the passes the engine runs. The other public classes
 * of this package (the pass descriptions, the dispatcher, the providers and the kernel header generator)
 * are public only because the backends live in subpackages; they are internal, may change, and are left
 * out of the javadoc.
 */
package org.segloss.backend;
