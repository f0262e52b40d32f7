/**
 * Import and export of teacher-output caches: JSONL with OpenAI-style logprobs (sequence caches),
 * NumPy {@code .npz} and safetensors (classification and regression caches).
 *
 * <p>Imports write a new cache into a temporary sibling directory and rename it into place only when the
 * whole input was read and validated, so a bad or truncated input leaves nothing half-written.
 */
package io.distill4j.data.interop;
