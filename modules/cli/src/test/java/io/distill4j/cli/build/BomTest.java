package io.distill4j.cli.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * {@code bom/pom.xml} manages every distill4j artifact that the reactor builds as a jar, and nothing else,
 * at the reactor's version: a module added to the root pom without its BOM entry fails here.
 */
class BomTest {

    static final Path ROOT = Path.of(System.getProperty("distill4j.root", "../..")).toAbsolutePath().normalize();

    /** Reactor artifacts that are not for users: built and tested, never published. */
    static final Set<String> NOT_PUBLISHED = Set.of("distill4j-benchmarks");

    static Document read(Path pom) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(false);
        return f.newDocumentBuilder().parse(pom.toFile());
    }

    /** Text of the direct child {@code name} of {@code parent}, or null. */
    static String child(Element parent, String name) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                return e.getTextContent().strip();
            }
        }
        return null;
    }

    static List<Element> children(Element parent, String... path) {
        List<Element> level = List.of(parent);
        for (String name : path) {
            List<Element> next = new ArrayList<>();
            for (Element p : level) {
                for (Node n = p.getFirstChild(); n != null; n = n.getNextSibling()) {
                    if (n instanceof Element e && e.getTagName().equals(name)) {
                        next.add(e);
                    }
                }
            }
            level = next;
        }
        return level;
    }

    /** The jar artifacts of the reactor under {@code dir} (recursing into aggregator modules). */
    static void jarModules(Path dir, Set<String> out) throws Exception {
        Element project = read(dir.resolve("pom.xml")).getDocumentElement();
        String packaging = child(project, "packaging");
        if (packaging == null || packaging.equals("jar")) {
            out.add(child(project, "artifactId"));
        }
        for (Element m : children(project, "modules", "module")) {
            jarModules(dir.resolve(m.getTextContent().strip()).normalize(), out);
        }
    }

    @Test
    void bomManagesEveryPublishedModuleAtTheReactorVersion() throws Exception {
        Path bomPom = ROOT.resolve("bom/pom.xml");
        assertTrue(Files.isRegularFile(bomPom), bomPom + " is missing");
        Element root = read(ROOT.resolve("pom.xml")).getDocumentElement();
        Element bom = read(bomPom).getDocumentElement();

        assertTrue(children(root, "modules", "module").stream().anyMatch(m -> m.getTextContent().strip().equals("bom")),
                "the root pom builds bom/ as a module");
        assertEquals(child(root, "groupId"), child(bom, "groupId"));
        assertEquals(child(root, "version"), child(bom, "version"), "the BOM's version follows the reactor's");
        assertEquals("pom", child(bom, "packaging"));

        Set<String> expected = new TreeSet<>();
        jarModules(ROOT, expected);
        expected.removeAll(NOT_PUBLISHED);
        assertTrue(expected.contains("distill4j-data") && expected.contains("distill4j-cli"), "reactor read: " + expected);

        Set<String> managed = new TreeSet<>();
        for (Element d : children(bom, "dependencyManagement", "dependencies", "dependency")) {
            assertEquals("io.distill4j", child(d, "groupId"), "the BOM manages distill4j artifacts only");
            assertEquals("${project.version}", child(d, "version"), child(d, "artifactId") + " at the BOM's own version");
            assertTrue(managed.add(child(d, "artifactId")), "listed twice: " + child(d, "artifactId"));
        }
        assertEquals(expected, managed, "bom/pom.xml must list exactly the reactor's published jar modules");
    }
}
