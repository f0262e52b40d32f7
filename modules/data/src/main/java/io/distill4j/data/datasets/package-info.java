/**
 * Dataset readers: IDX files (MNIST, Fashion-MNIST), Weka ARFF, and plain-text corpora.
 *
 * <p>Every reader names the file, record and field of a fault in a
 * {@link io.distill4j.data.BadInputException}; none turns a bad value into NaN.
 */
package io.distill4j.data.datasets;
