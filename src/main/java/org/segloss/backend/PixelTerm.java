package org.segloss.backend;

/** Which per-pixel term a stats / grad pass computes. */
public enum PixelTerm {
    /** No pixel term (region losses only). */
    NONE,
    /** Binary cross-entropy (binary/multilabel). */
    BCE,
    /** Focal loss (binary/multilabel with alpha, multiclass without). */
    FOCAL,
    /** Cross-entropy -log p_y (multiclass). */
    CE
}
