/**
 * The one statistics package of distill4j: every mean, standard deviation and confidence interval that a
 * run, an experiment, a report or the CLI prints is computed here, one way.
 *
 * <ul>
 *   <li>{@link io.distill4j.trainer.stats.Descriptive}: mean, sample variance and standard deviation (ddof 1),
 *       Student-t quantiles (Hipparchus' {@code TDistribution}).</li>
 *   <li>{@link io.distill4j.trainer.stats.Summary}: a metric over a few seeds (students): mean, standard
 *       deviation and the two-sided Student-t interval of the mean, with the sentence that says what its
 *       {@code ±} means ({@link io.distill4j.trainer.stats.Summary#meaning}).</li>
 *   <li>{@link io.distill4j.trainer.stats.Bootstrap}: a seeded, reproducible percentile bootstrap over items or
 *       over students, for statistics without a closed-form interval such as the inter-student variance
 *       ({@link io.distill4j.trainer.stats.BootstrapInterval}).</li>
 *   <li>{@link io.distill4j.trainer.stats.Regression}: least-squares fits the experiments report (power-law
 *       slopes, floor + c / k).</li>
 * </ul>
 *
 * <p>Library: Hipparchus ({@code org.hipparchus:hipparchus-stat}, pinned in the parent POM), the maintained
 * fork of Apache Commons Math.
 */
package io.distill4j.trainer.stats;
