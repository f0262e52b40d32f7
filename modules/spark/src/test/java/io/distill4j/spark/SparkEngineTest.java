package io.distill4j.spark;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distill4j.data.BadInputException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Masters, versions and the command line's exit codes, checked before Spark starts. */
class SparkEngineTest {

    @Test
    void localMastersPassAndMalformedOnesAreNamed() {
        for (String m : new String[] {"local", "local[2]", "local[*]", "local[2,3]", "yarn", "k8s://https://x:6443"}) {
            assertDoesNotThrow(() -> SparkEngine.checkMaster(m), m);
        }
        BadInputException e = assertThrows(BadInputException.class, () -> SparkEngine.checkMaster("locl[2]"));
        assertTrue(e.getMessage().startsWith("option --master: 'locl[2]'"), e.getMessage());
    }

    @Test
    void anUnreachableStandaloneMasterIsOneLine() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();   // free now, nobody listens after close
        }
        String master = "spark://127.0.0.1:" + port;
        BadInputException e = assertThrows(BadInputException.class, () -> SparkEngine.checkMaster(master));
        assertTrue(e.getMessage().startsWith("option --master: cannot reach the Spark master " + master), e.getMessage());
    }

    @Test
    void anotherSparkMajorVersionIsRefused() {
        assertDoesNotThrow(() -> SparkEngine.checkVersion("4.0.1"));
        BadInputException e = assertThrows(BadInputException.class, () -> SparkEngine.checkVersion("3.5.6"));
        assertTrue(e.getMessage().startsWith("Spark 3.5.6 is on the class path"), e.getMessage());
    }

    @Test
    void aTasksBadInputIsFoundInTheTextSparkReportsFromAnExecutor() {
        RuntimeException cluster = new RuntimeException("Job aborted due to stage failure: Task 3 in stage 0.0 failed 4"
                + " times, most recent failure: Lost task 3.3 (TID 9) (10.0.0.2 executor 1): "
                + "io.distill4j.data.BadInputException: /shared/cache: this executor (w2) cannot see the cache folder\n"
                + "\tat io.distill4j.spark.ShardCommits.sampleAndCommit(ShardCommits.java:70)\n");
        assertEquals("/shared/cache: this executor (w2) cannot see the cache folder", SparkFaults.badInput(cluster));
        assertEquals(null, SparkFaults.badInput(new RuntimeException("Job aborted: java.io.IOException: disk")));
        assertEquals("wrapped", SparkFaults.badInput(new RuntimeException(new BadInputException("wrapped"))));
    }

    @Test
    void aClassPathMismatchIsNamedByItsDeepestCause() {
        Error e = new ExceptionInInitializerError(new IllegalStateException("Scala module 2.18.2 requires Jackson"
                + " Databind version >= 2.18.0 and < 2.19.0 - Found jackson-databind version 2.21.2\nmore"));
        assertEquals("IllegalStateException: Scala module 2.18.2 requires Jackson Databind version >= 2.18.0 and < 2.19.0"
                + " - Found jackson-databind version 2.21.2", SparkFaults.rootLine(e));
    }

    @Test
    void theCommandExitsWith2AndOneLineForBadInput() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream p = new PrintStream(err, true, StandardCharsets.UTF_8);
        assertEquals(2, SparkMain.run(new String[] {"sample", "--master", "nope", "job.yaml"}, System.out, p));
        String text = err.toString(StandardCharsets.UTF_8);
        assertEquals(1, text.lines().count(), text);
        assertTrue(text.startsWith("option --master: 'nope'"), text);
        assertEquals(2, SparkMain.run(new String[] {"train"}, System.out, p));
    }
}
