package io.distill4j.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/** One {@code local[2,2]} context for the module's tests (Spark allows one per JVM): two slots, two attempts per task. */
final class TestSpark {

    private static JavaSparkContext context;

    private TestSpark() {
    }

    /** @return the shared context, started on first use and stopped when the test JVM exits */
    static synchronized JavaSparkContext context() {
        if (context == null) {
            SparkConf conf = SparkEngine.conf("local[2,2]", "distill4j tests")
                    .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1");
            context = SparkEngine.start(conf);
            JavaSparkContext sc = context;
            Runtime.getRuntime().addShutdownHook(new Thread(sc::stop));
        }
        return context;
    }

    /** Stops the shared context (a test that needs another master starts its own; the next use starts a new one). */
    static synchronized void stop() {
        if (context != null) {
            context.stop();
            context = null;
        }
    }
}
