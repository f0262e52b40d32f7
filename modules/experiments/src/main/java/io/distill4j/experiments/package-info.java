/**
 * Paper reproductions as experiments: {@code distill4j experiment NAME} reads
 * {@code experiments/NAME.yaml}, runs the named {@link io.distill4j.experiments.Experiment} (or its
 * {@code --quick} variant) and writes a {@link io.distill4j.experiments.Report}: Markdown, JSON and
 * PNG plots, with Student-t confidence intervals over seeds from {@link io.distill4j.trainer.stats}; every table
 * says what its {@code ±} means.
 */
package io.distill4j.experiments;
