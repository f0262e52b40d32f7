package io.distill4j.spark;

import io.distill4j.data.BadInputException;
import io.distill4j.data.Errors;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Starts a Spark context set up for distill4j: checks the master first (one line and exit code 2 instead of
 * Spark's retries), passes Arrow's {@code --add-opens} and DJL's offline settings to executors, and refuses a Spark
 * whose major version is not the one this module is built against.
 */
public final class SparkEngine {

    /** The Spark major version this module is compiled against. */
    public static final int SPARK_MAJOR = 4;

    /** What Arrow needs on JDK 17+, in the driver and in every executor. */
    public static final String JVM_OPENS = "--add-opens=java.base/java.nio=ALL-UNNAMED";

    private static final Pattern LOCAL = Pattern.compile("local(\\[(\\*|\\d+)(,\\d+)?])?");
    private static final Pattern STANDALONE = Pattern.compile("spark://([^:/]+):(\\d+)");

    private SparkEngine() {
    }

    /**
     * Checks a master URL: {@code local}, {@code local[N]}, {@code local[*]}, {@code local[N,F]} (F attempts per
     * task), a reachable {@code spark://host:port}, or {@code yarn} / {@code k8s://...} (passed on unchecked).
     *
     * @param master the master URL
     * @throws BadInputException naming the option and the value when it is malformed or the master does not answer
     */
    public static void checkMaster(String master) {
        checkMaster(master, "--master");
    }

    /**
     * {@link #checkMaster(String)} for a command whose option naming the master has another name.
     *
     * @param master the master URL
     * @param option the option's name, e.g. {@code --engine}
     * @throws BadInputException naming the option and the value when it is malformed or the master does not answer
     */
    public static void checkMaster(String master, String option) {
        String m = master == null ? "" : master.trim();
        if (LOCAL.matcher(m).matches() || m.equals("yarn") || m.startsWith("k8s://")) {
            return;
        }
        Matcher s = STANDALONE.matcher(m);
        if (!s.matches()) {
            throw new BadInputException("option " + option + ": '" + master + "' is not a Spark master (local[N], local[N,F],"
                    + " spark://host:port, yarn, k8s://...)");
        }
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(s.group(1), Integer.parseInt(s.group(2))), 3000);
        } catch (IOException | IllegalArgumentException e) {
            throw new BadInputException("option " + option + ": cannot reach the Spark master " + m + ": " + Errors.reason(e), e);
        }
    }

    /**
     * The configuration distill4j needs on top of the user's: application name, master, the Arrow opens in executor
     * JVMs, the driver's {@code distill4j.home} (where the shipped datasets are), DJL offline and one OpenMP thread in
     * executors (unless set), no web UI (unless set).
     *
     * @param master the master URL (checked with {@link #checkMaster})
     * @param appName the application name
     * @return the configuration; callers may add to it
     */
    public static SparkConf conf(String master, String appName) {
        checkMaster(master);
        SparkConf conf = new SparkConf().setMaster(master.trim()).setAppName(appName);
        String opts = conf.get("spark.executor.extraJavaOptions", "");
        if (!opts.contains(JVM_OPENS)) {
            opts = (opts + " " + JVM_OPENS).trim();
        }
        String home = System.getProperty("distill4j.home");
        if (home != null && !opts.contains("-Ddistill4j.home=")) {
            opts += " -Ddistill4j.home=" + home;   // where executors find the shipped datasets
        }
        conf.set("spark.executor.extraJavaOptions", opts);
        conf.setIfMissing("spark.ui.enabled", "false");
        for (Map.Entry<String, String> e : Map.of("DJL_OFFLINE", "true", "OPT_OUT_TRACKING", "true",
                "OMP_NUM_THREADS", "1", "OMP_WAIT_POLICY", "PASSIVE").entrySet()) {
            conf.setIfMissing("spark.executorEnv." + e.getKey(), System.getenv().getOrDefault(e.getKey(), e.getValue()));
        }
        String djlCache = System.getenv("DJL_CACHE_DIR");
        if (djlCache != null) {
            conf.setIfMissing("spark.executorEnv.DJL_CACHE_DIR", djlCache);
        }
        return conf;
    }

    /**
     * Starts a context with {@link #conf}.
     *
     * @param master the master URL
     * @param appName the application name
     * @return the context; the caller stops it
     * @throws BadInputException for a bad master or a Spark of another major version
     */
    public static JavaSparkContext start(String master, String appName) {
        return start(conf(master, appName));
    }

    /**
     * Starts a context from a configuration, after checking the Spark version on the class path.
     *
     * @param conf the configuration
     * @return the context; the caller stops it
     * @throws BadInputException for a Spark of another major version
     */
    public static JavaSparkContext start(SparkConf conf) {
        checkVersion(org.apache.spark.package$.MODULE$.SPARK_VERSION());
        return new JavaSparkContext(conf);
    }

    /**
     * Refuses a Spark whose major version differs from {@link #SPARK_MAJOR}.
     *
     * @param version the version on the class path
     * @throws BadInputException naming both versions
     */
    static void checkVersion(String version) {
        String major = version.split("\\.")[0];
        if (!major.equals(String.valueOf(SPARK_MAJOR))) {
            throw new BadInputException("Spark " + version + " is on the class path, but distill4j-spark_2.13 is built"
                    + " for Spark " + SPARK_MAJOR + ".x (Scala 2.13); use a Spark " + SPARK_MAJOR + " installation");
        }
    }
}
