package io.distill4j.spark;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Spark standalone master and one worker on 127.0.0.1, started as child JVMs from the test class path with a
 * minimal {@code SPARK_HOME} (a {@code RELEASE} file and {@code jars/} linking the class path's jars), and stopped
 * with their executors on {@link #close}.
 */
final class StandaloneCluster implements AutoCloseable {

    final Path root;
    final String url;
    final List<String> classDirs = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();

    private StandaloneCluster(Path root, String url) {
        this.root = root;
        this.url = url;
    }

    /**
     * Starts a master and a worker with {@code cores} cores and waits (up to 3 minutes) until the worker is registered.
     *
     * @param root a scratch folder (SPARK_HOME, work folders, logs)
     * @param cores the worker's cores
     * @return the cluster
     * @throws Exception if it does not come up within 3 minutes
     */
    static StandaloneCluster start(Path root, int cores) throws Exception {
        int port = freePort();
        StandaloneCluster c = new StandaloneCluster(root, "spark://127.0.0.1:" + port);
        Path home = root.resolve("spark-home");
        Files.createDirectories(home.resolve("jars"));
        Files.writeString(home.resolve("RELEASE"), "Spark " + org.apache.spark.package$.MODULE$.SPARK_VERSION()
                + " (test layout: jars/ links the test class path)\n");
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        for (String e : cp.split(File.pathSeparator)) {
            Path p = Path.of(e);
            if (Files.isDirectory(p)) {
                c.classDirs.add(p.toAbsolutePath().toString());
            } else if (e.endsWith(".jar") && Files.isRegularFile(p)) {
                Path link = home.resolve("jars").resolve(p.getFileName());
                if (!Files.exists(link)) {
                    Files.createSymbolicLink(link, p.toAbsolutePath());
                }
            }
        }
        Files.writeString(root.resolve("log4j2.properties"), "rootLogger.level = info\n"
                + "rootLogger.appenderRef.console.ref = console\nappender.console.type = Console\n"
                + "appender.console.name = console\nappender.console.layout.type = PatternLayout\n"
                + "appender.console.layout.pattern = %d{HH:mm:ss} %-5p %c{1}: %m%n\n");
        int masterUi = freePort();
        c.java(cp, "master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
                String.valueOf(port), "--webui-port", String.valueOf(masterUi));
        c.java(cp, "worker", "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores",
                String.valueOf(cores), "--memory", "3g", "--webui-port", String.valueOf(freePort()), "--work-dir",
                root.resolve("work").toString(), c.url);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        Pattern alive = Pattern.compile("\"aliveworkers\"\\s*:\\s*(\\d+)");
        long deadline = System.nanoTime() + 180_000_000_000L;
        while (System.nanoTime() < deadline) {
            try {
                String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + masterUi + "/json/"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString()).body();
                Matcher m = alive.matcher(body);
                if (m.find() && Integer.parseInt(m.group(1)) >= 1) {
                    return c;
                }
            } catch (IOException e) {
                // not up yet
            }
            for (Process p : c.processes) {
                if (!p.isAlive()) {
                    c.close();
                    throw new IllegalStateException("a cluster JVM exited: see " + root.resolve("*.log"));
                }
            }
            Thread.sleep(250);
        }
        c.close();
        throw new IllegalStateException("the worker did not register within 3 minutes: see " + root.resolve("*.log"));
    }

    private void java(String cp, String name, String main, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", SparkEngine.JVM_OPENS, "-Dlog4j2.configurationFile=" + root.resolve("log4j2.properties"),
                "-cp", cp, main));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(root.resolve(name + ".log").toFile());
        Map<String, String> env = pb.environment();
        env.put("SPARK_HOME", root.resolve("spark-home").toString());
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
        env.put("SPARK_NO_DAEMONIZE", "1");
        // the worker's launcher looks for build folders to learn the Scala version unless told
        env.put("SPARK_SCALA_VERSION", "2.13");
        processes.add(pb.start());
    }

    /** @return the executor JVMs the worker runs now */
    List<ProcessHandle> executors() {
        List<ProcessHandle> out = new ArrayList<>();
        for (Process p : processes) {
            p.toHandle().descendants().filter(h -> h.info().commandLine().orElse("")
                    .contains("CoarseGrainedExecutorBackend")).forEach(out::add);
        }
        return out;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    /** Stops the worker's executors, the worker and the master, and waits for them. */
    @Override
    public void close() {
        for (int i = processes.size() - 1; i >= 0; i--) {
            Process p = processes.get(i);
            p.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            try {
                p.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        processes.clear();
    }

    /** @return whether something listens on host:port */
    static boolean listening(String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
