package io.distill4j.teacher.sequence;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distill4j.data.BadInputException;
import io.distill4j.data.Sha256;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** Reads prompt files and fingerprints prompt lists. */
public final class Prompts {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Prompts() {
    }

    /**
     * Reads prompts: a {@code .jsonl} file holds one JSON object per line with a string field (default
     * {@code prompt}); any other file holds one prompt per non-empty line.
     *
     * @param file the file
     * @param field the JSON field holding the prompt (JSONL only)
     * @return the prompts, in file order
     * @throws BadInputException naming the file, line and field of any fault
     */
    public static List<String> read(Path file, String field) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new BadInputException(file + ": prompt file not found", e);
        } catch (IOException e) {
            throw new BadInputException(file + ": cannot read the prompt file: " + e.getMessage(), e);
        }
        boolean jsonl = file.getFileName().toString().endsWith(".jsonl");
        List<String> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            if (!jsonl) {
                out.add(line);
                continue;
            }
            JsonNode n;
            try {
                n = JSON.readTree(line);
            } catch (IOException e) {
                throw new BadInputException(file + ":" + (i + 1) + ": malformed JSON line");
            }
            JsonNode p = n == null ? null : n.get(field);
            if (p == null || !p.isTextual()) {
                throw new BadInputException(file + ":" + (i + 1) + ": field " + field + ": missing or not a string");
            }
            out.add(p.asText());
        }
        if (out.isEmpty()) {
            throw new BadInputException(file + ": holds no prompts");
        }
        return out;
    }

    /**
     * Fingerprints a prompt list: the SHA-256 of the count and, per prompt, its UTF-8 length and bytes.
     *
     * @param prompts the prompts
     * @return lower-case hex
     */
    public static String fingerprint(List<String> prompts) {
        MessageDigest d = Sha256.newDigest();
        d.update(java.nio.ByteBuffer.allocate(8).putLong(prompts.size()).array());
        for (String p : prompts) {
            byte[] b = p.getBytes(StandardCharsets.UTF_8);
            d.update(java.nio.ByteBuffer.allocate(4).putInt(b.length).array());
            d.update(b);
        }
        return HexFormat.of().formatHex(d.digest());
    }
}
