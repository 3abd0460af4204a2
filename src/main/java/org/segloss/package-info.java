/**
 * The library API: {@link org.segloss.LossEngine} computes a loss and its gradient, or hard confusion
 * counts, on one backend; {@link org.segloss.LossSpec} and {@link org.segloss.ConfusionSpec} say what to
 * compute; {@link org.segloss.LossResult} and {@link org.segloss.ConfusionCounts} hold the answers.
 * Every refused input is an {@link org.segloss.InvalidInputException} whose message names the argument
 * and the value; device failures are {@link org.segloss.BackendException}s.
 */
package org.segloss;
