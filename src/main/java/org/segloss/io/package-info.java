/**
 * Reading and writing the files the command line takes: numpy {@code .npy} arrays
 * ({@link org.segloss.io.Npy}) and NIfTI-1/2 volumes ({@link org.segloss.io.Nifti}), with the size checks
 * made before any data is read ({@link org.segloss.io.InputLimits}).
 */
package org.segloss.io;
