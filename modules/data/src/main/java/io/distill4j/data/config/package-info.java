/**
 * The project's one configuration binding: {@link io.distill4j.data.config.ConfigReader} and
 * {@link io.distill4j.data.config.ConfigFile} bind YAML or JSON into settings records and builders strictly,
 * with every fault named by file, line, column, key and value.
 */
package io.distill4j.data.config;
