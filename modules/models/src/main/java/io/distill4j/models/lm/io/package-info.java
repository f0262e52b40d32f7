/**
 * Hugging Face model folders: the safetensors format ({@link io.distill4j.models.lm.io.Safetensors}) and
 * folders of {@code config.json}, {@code model.safetensors} and {@code tokenizer.json}
 * ({@link io.distill4j.models.lm.io.HfFolder}).
 */
package io.distill4j.models.lm.io;
