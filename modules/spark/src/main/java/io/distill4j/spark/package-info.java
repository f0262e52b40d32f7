/**
 * Runs the pipeline's pieces on Apache Spark (RDD/core API; Spark is a provided dependency): {@link
 * io.distill4j.spark.SparkSampling} samples a teacher on executors into one crash-safe cache equal to the
 * single-machine one, {@link io.distill4j.spark.SparkGrid} runs a grid of distillation runs as tasks,
 * {@link io.distill4j.spark.SparkEngine} starts a context set up for distill4j and {@link
 * io.distill4j.spark.SparkMain} is the {@code spark-submit} entry.
 */
package io.distill4j.spark;
