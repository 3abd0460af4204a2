/**
 * The Deep Java Library adapter: {@link org.segloss.djl.SeglossLoss} is a DJL loss whose gradient
 * segloss computes; {@link org.segloss.djl.DiceEvaluator} and {@link org.segloss.djl.IouEvaluator} report
 * hard metrics from counts accumulated over an epoch. DJL itself is the user's dependency.
 */
package org.segloss.djl;
