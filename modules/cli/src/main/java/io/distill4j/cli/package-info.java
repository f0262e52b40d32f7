/**
 * The {@code distill4j} command line: {@link io.distill4j.cli.Main} dispatches to subcommands such as
 * {@link io.distill4j.cli.DemoCommand}, which runs the main job end to end and writes its results table
 * ({@link io.distill4j.cli.ResultsTable}) as Markdown and JSON under {@code runs/<timestamp>/}.
 */
package io.distill4j.cli;
