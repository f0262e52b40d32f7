package io.distill4j.teacher.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code teacher.server} as a list of replicas: validation, the server of a shard, what a cache records. */
class HttpTeacherConfigServersTest {

    @Test
    void theServerOfShardIIsServerIModTheListAndTheProvenanceNamesThemAll() {
        HttpTeacherConfig c = HttpTeacherConfig.builder()
                .setServers(List.of("http://10.0.0.1:8000", "http://10.0.0.2:8000", "http://10.0.0.3:8000")).build();
        assertEquals(URI.create("http://10.0.0.1:8000"), c.baseUri(), "one machine's run uses the first");
        assertEquals(URI.create("http://10.0.0.2:8000"), c.onServer(1).baseUri());
        assertEquals(URI.create("http://10.0.0.3:8000"), c.onServer(5).baseUri());
        assertEquals(URI.create("http://10.0.0.1:8000"), c.onServer(3).baseUri());
        List<String> all = List.of("http://10.0.0.1:8000", "http://10.0.0.2:8000", "http://10.0.0.3:8000");
        assertEquals(all, c.describe().get("server"));
        assertEquals(c.describe(), c.onServer(2).describe(), "every server's teacher records the same provenance");
        HttpTeacherConfig one = HttpTeacherConfig.builder().setBaseUri("http://10.0.0.1:8000").build();
        assertEquals("http://10.0.0.1:8000", one.describe().get("server"), "one server: its address, as before lists");
        assertEquals(one.describe(), HttpTeacherConfig.builder().setServers(List.of("http://10.0.0.1:8000")).build()
                .describe());
    }

    @Test
    void aBadServerIsNamedByItsPosition() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HttpTeacherConfig.builder()
                .setServers(List.of("http://a:1", "http://a:1")).build());
        assertEquals("server 1 repeats server 0: http://a:1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> HttpTeacherConfig.builder()
                .setServers(List.of("http://a:1", "http://b:1/v1/completions")).build());
        assertTrue(e.getMessage().startsWith("server 1 must not include the endpoint path"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> HttpTeacherConfig.builder()
                .setServers(List.of("http://a:1", "https://b:1")).build());
        assertTrue(e.getMessage().startsWith("servers mix http and https"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> HttpTeacherConfig.builder().setServers(List.of()));
        assertEquals("servers: give at least one base address", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> HttpTeacherConfig.builder()
                .setServers(List.of("http://a:1", "http://u:secret@b:1")).build());
        assertTrue(e.getMessage().startsWith("server 1 must not hold a user name or password")
                && !e.getMessage().contains("secret"), e.getMessage());
    }
}
