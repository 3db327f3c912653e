// Small dense linear algebra on the host in float64 (D x D matrices, row-major).
// Filled in by the EM engine work; see issue 3.
export {};
