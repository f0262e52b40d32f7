package io.distill4j.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.distill4j.data.AtomicFiles;
import io.distill4j.data.BadInputException;
import io.distill4j.models.lm.LmExample;
import io.distill4j.models.lm.SentenceEmbedder;
import io.distill4j.models.lm.io.HfFolder;
import io.distill4j.teacher.lm.SamplingConfig;
import io.distill4j.trainer.lm.AnswerMetrics;
import io.distill4j.trainer.lm.LmFineTuner;
import io.distill4j.trainer.stats.Summary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code distill4j evaluate MODEL... --pairs FILE.jsonl}: scores causal-LM students (Hugging Face folders, e.g. every
 * {@code students/seed-N} of a run) on held-out prompt/answer pairs:
 * <ul>
 *   <li><b>nll</b> and <b>perplexity</b>: mean negative log-likelihood per answer token under teacher forcing (prompt
 *       encoded with the tokenizer's special tokens, answer without), and its exponential;</li>
 *   <li>with a {@link SentenceEmbedder} on the class path (distill4j-minilm's all-MiniLM-L6-v2), the {@code llm}
 *       experiment's metrics, computed by the same code ({@link AnswerMetrics}) on each student's greedy answers and,
 *       with {@code --samples m} (m &gt;= 2), on m sampled answers per pair: <b>similarity</b> to the reference,
 *       <b>hallucination rate</b> (when the pairs carry known wrong values: the share of answers that name a known
 *       value other than the pair's reference, the known values being every reference and every wrong value of the
 *       file, as the experiment's knowledge base), <b>intra-student variance</b>, and over the students
 *       <b>inter-student variance</b> and <b>systematic noise</b>.</li>
 * </ul>
 * Per-student metrics are summarised over the students with Student-t intervals; inter-student variance and
 * systematic noise, which are per-pair values averaged over the pairs, with the Student-t interval of that mean over
 * the pairs ({@link AnswerMetrics.Result#interStudentVarianceOverQuestions()}).
 */
@Command(name = "evaluate", aliases = "eval", mixinStandardHelpOptions = true,
        description = {"Score causal-LM students (Hugging Face folders) on held-out prompt/answer pairs, with the llm"
            + " experiment's definitions:",
            "  nll, perplexity: per answer token, under teacher forcing;",
            "  similarity: cosine of the sentence embeddings (all-MiniLM-L6-v2) of the greedy answer and the reference;",
            "  hallucination: share of answers naming a known value other than the pair's reference (known values: every"
                + " reference and every wrong value of the file; reported when the pairs carry wrong values, see"
                + " --wrong-field);",
            "  with --samples m: similarity-sampled, hallucination-sampled, intra-student-variance (per pair, variance of"
                + " the similarity over the m answers), inter-student-variance (per pair, variance over the students of"
                + " their mean sampled similarity) and systematic-noise (per pair, 1 - cos(mean embedding of all"
                + " students' sampled answers, reference)), each averaged over the pairs.",
            "Per-student metrics: mean and 95%% Student-t interval over the students; inter-student-variance and"
                + " systematic-noise: mean over the pairs and its 95%% Student-t interval over the pairs."})
public final class EvaluateCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "MODEL", description = "Hugging Face folders (students/seed-N)")
    List<Path> models;

    @Option(names = "--pairs", required = true, paramLabel = "FILE",
            description = "JSONL with a prompt, a reference answer and optionally a list of known wrong answers per line,"
                    + " e.g. {\"prompt\": \"Q: capital of France?\\nA:\", \"answer\": \" paris\", \"wrong\": [\"lyon\","
                    + " \"rome\"]} (see --prompt-field, --answer-field, --wrong-field)")
    Path pairs;

    @Option(names = "--prompt-field", defaultValue = "prompt", description = "default: ${DEFAULT-VALUE}")
    String promptField;

    @Option(names = "--answer-field", defaultValue = "answer", description = "default: ${DEFAULT-VALUE}")
    String answerField;

    @Option(names = "--wrong-field", defaultValue = "wrong",
            description = "optional list of known wrong answers of a pair, for the hallucination rate (default: ${DEFAULT-VALUE})")
    String wrongField;

    @Option(names = "--samples", defaultValue = "0",
            description = "sampled answers per pair for the variances; 0 for none (default: ${DEFAULT-VALUE})")
    int samples;

    @Option(names = "--max-tokens", defaultValue = "32", description = "default: ${DEFAULT-VALUE}")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "1", description = "of the sampled answers (default: ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "default: ${DEFAULT-VALUE}")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", description = "default: ${DEFAULT-VALUE}")
    double topP;

    @Option(names = "--seed", defaultValue = "0", description = "default: ${DEFAULT-VALUE}")
    long seed;

    @Option(names = "--no-similarity", description = "skip generation and the sentence-embedding metrics (NLL and"
            + " perplexity only)")
    boolean noSimilarity;

    @Option(names = "--out", paramLabel = "FILE", description = "also write the results as JSON")
    Path out;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu or gpu(i) (default: ${DEFAULT-VALUE})")
    String device;

    /**
     * A prompt, its reference answer and the known wrong answers.
     *
     * @param prompt the prompt
     * @param answer the reference answer
     * @param wrong known wrong answers; null where the line gives none
     */
    record Pair(String prompt, String answer, List<String> wrong) {
    }

    @Override
    public Integer call() throws IOException {
        if (samples == 1 || samples < 0) {
            throw new BadInputException("evaluate: --samples must be 0 or at least 2 (a variance needs two), got " + samples);
        }
        List<Pair> data = readPairs(pairs, promptField, answerField, wrongField);
        SentenceEmbedder embedder = null;
        if (!noSimilarity) {
            try {
                embedder = SentenceEmbedder.load();
            } catch (BadInputException e) {
                throw new BadInputException("evaluate: " + e.getMessage() + " (or pass --no-similarity)", e);
            }
        }
        Map<String, Object> result = evaluate(data, embedder);
        System.out.print(table(result));
        if (out != null) {
            AtomicFiles.write(out, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(result));
            System.err.println("distill4j evaluate: wrote " + out);
        }
        return 0;
    }

    private Map<String, Object> evaluate(List<Pair> data, SentenceEmbedder embedder) {
        ai.djl.Device dev = Devices.parse(device);
        int n = data.size();
        List<Map<String, Double>> perStudent = new ArrayList<>();
        List<String> prompts = data.stream().map(Pair::prompt).toList();
        List<String[]> greedyAnswers = new ArrayList<>();
        List<String[][]> sampledAnswers = samples >= 2 ? new ArrayList<>() : null;
        for (int s = 0; s < models.size(); s++) {
            Path folder = models.get(s);
            Map<String, Double> m = new LinkedHashMap<>();
            try (NDManager manager = NDManager.newBaseManager(dev); HfFolder.Loaded l = HfFolder.load(folder, manager)) {
                if (l.tokenizer() == null) {
                    throw new BadInputException(folder.resolve(HfFolder.TOKENIZER) + ": missing; evaluation needs the"
                            + " tokenizer the model was trained with");
                }
                List<LmExample> examples = new ArrayList<>();
                int context = l.model().config().maxPositions();
                for (Pair p : data) {
                    int[] prompt = l.tokenizer().encode(p.prompt());
                    int[] answer = l.tokenizer().encodePlain(p.answer());
                    if (answer.length == 0) {
                        throw new BadInputException(pairs + ": the answer to '" + p.prompt() + "' encodes to no tokens");
                    }
                    examples.add(LmExample.of(prompt, answer));
                }
                double nll = LmFineTuner.evaluate(l.model(), manager, examples, context, 0);
                m.put("nll", nll);
                m.put("perplexity", Math.exp(nll));
            }
            if (embedder != null) {
                List<String[]> greedy = GenerateCommand.generate(folder, prompts,
                        new SamplingConfig(maxTokens, 0, 0, 1, 1, 1, -1), 1, seed, -2, dev);
                greedyAnswers.add(greedy.stream().map(a -> a[0]).toArray(String[]::new));
                if (sampledAnswers != null) {
                    sampledAnswers.add(GenerateCommand.generate(folder, prompts,
                            new SamplingConfig(maxTokens, temperature, topK, topP, 1, 1, -1), samples, seed + s, -2, dev)
                            .toArray(new String[0][]));
                }
            }
            perStudent.add(m);
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("pairs", n);
        result.put("students", models.stream().map(Path::toString).toList());
        result.put("embedder", embedder == null ? null : embedder.name());
        AnswerMetrics.Result r = null;
        boolean hallucination = data.stream().anyMatch(p -> p.wrong() != null);
        if (embedder != null) {
            List<String> references = data.stream().map(Pair::answer).toList();
            AnswerMetrics.Judge judge = null;
            if (hallucination) {
                List<String> known = new ArrayList<>(references);
                data.stream().filter(p -> p.wrong() != null).forEach(p -> known.addAll(p.wrong()));
                AnswerMetrics.Values values = new AnswerMetrics.Values(known);
                judge = (q, answer) -> AnswerMetrics.judge(references.get(q), values, answer)
                        == AnswerMetrics.Verdict.CONTRADICTS;
                result.put("knownValues", values.size());
            } else {
                result.put("hallucination", "not reported: no pair of " + pairs + " has a '" + wrongField + "' list");
            }
            r = AnswerMetrics.of(references, greedyAnswers, sampledAnswers, embedder, judge);
            for (int s = 0; s < models.size(); s++) {
                Map<String, Double> m = perStudent.get(s);
                m.put("similarity", r.similarityGreedy()[s]);
                if (r.hallucinationGreedy() != null) {
                    m.put("hallucination", r.hallucinationGreedy()[s]);
                }
                if (r.similaritySampled() != null) {
                    m.put("similarity-sampled", r.similaritySampled()[s]);
                    if (r.hallucinationSampled() != null) {
                        m.put("hallucination-sampled", r.hallucinationSampled()[s]);
                    }
                    m.put("intra-student-variance", r.intraStudentVariance()[s]);
                }
            }
        }
        result.put("perStudent", perStudent);
        Map<String, Object> summary = new LinkedHashMap<>();
        for (String key : perStudent.get(0).keySet()) {
            double[] v = perStudent.stream().mapToDouble(x -> x.get(key)).toArray();
            Summary s = v.length >= 2 ? Summary.of(v) : null;
            summary.put(key, s == null ? Map.of("mean", v[0]) : Map.of("mean", s.mean(), "halfWidth", s.halfWidth(),
                    "low", s.low(), "high", s.high()));
        }
        result.put("summary", summary);
        if (r != null && sampledAnswers != null) {
            result.put("inter-student-variance", models.size() >= 2 ? overPairs(r.interStudentVariance(),
                    r.interStudentVarianceOverQuestions()) : "n/a: needs at least 2 students");
            result.put("systematic-noise", overPairs(r.systematicNoise(), r.systematicNoiseOverQuestions()));
            result.put("intervalOverPairs", n >= 2 ? Summary.meaning(Summary.CONFIDENCE, n, "pairs")
                    + "; inter-student-variance and systematic-noise are per-pair values averaged over the pairs"
                    : "one pair: no interval");
        }
        result.put("interval", models.size() >= 2 ? Summary.meaning(Summary.CONFIDENCE, models.size(), "students")
                : "one student: no interval");
        return result;
    }

    /** A run-level metric averaged over the pairs: its mean and, with two pairs or more, its t interval over them. */
    private static Map<String, Object> overPairs(double mean, Summary s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mean", s == null ? mean : s.mean());
        if (s != null) {
            m.put("halfWidth", s.halfWidth());
            m.put("low", s.low());
            m.put("high", s.high());
            m.put("pairs", s.n());
        }
        return m;
    }

    @SuppressWarnings("unchecked")
    private static String table(Map<String, Object> r) {
        StringBuilder b = new StringBuilder("| metric | mean | ± | over |\n|---|---|---|---|\n");
        for (Map.Entry<String, Object> e : ((Map<String, Object>) r.get("summary")).entrySet()) {
            Map<String, Double> v = (Map<String, Double>) e.getValue();
            b.append(String.format(Locale.ROOT, "| %s | %.4f | %s | students |%n", e.getKey(), v.get("mean"),
                    v.containsKey("halfWidth") ? String.format(Locale.ROOT, "%.4f", v.get("halfWidth")) : "-"));
        }
        for (String k : List.of("inter-student-variance", "systematic-noise")) {
            Object v = r.get(k);
            if (v instanceof String why) {
                b.append(String.format(Locale.ROOT, "| %s | %s | - | pairs |%n", k, why));
            } else if (v != null) {
                Map<String, Object> m = (Map<String, Object>) v;
                b.append(String.format(Locale.ROOT, "| %s | %.6f | %s | pairs |%n", k, (Double) m.get("mean"),
                        m.containsKey("halfWidth") ? String.format(Locale.ROOT, "%.6f", (Double) m.get("halfWidth")) : "-"));
            }
        }
        b.append("\n± over students: ").append(r.get("interval")).append("; ").append(r.get("pairs")).append(" pairs\n");
        if (r.containsKey("intervalOverPairs")) {
            b.append("± over pairs: ").append(r.get("intervalOverPairs")).append('\n');
        }
        if (r.get("hallucination") instanceof String why) {
            b.append("hallucination: ").append(why).append('\n');
        }
        return b.toString();
    }

    /**
     * Reads prompt/answer pairs from JSONL.
     *
     * @param file the file
     * @param promptField the prompt's field
     * @param answerField the answer's field
     * @param wrongField the field of the known wrong answers (a list of strings; optional per line)
     * @return the pairs
     * @throws BadInputException naming the file, line and field at fault
     */
    static List<Pair> readPairs(Path file, String promptField, String answerField, String wrongField) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (NoSuchFileException e) {
            throw new BadInputException(file + ": no such file", e);
        } catch (IOException e) {
            throw new BadInputException(file + ": cannot read: " + e.getMessage(), e);
        }
        ObjectMapper json = new ObjectMapper();
        List<Pair> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            JsonNode node;
            try {
                node = json.readTree(line);
            } catch (IOException e) {
                throw new BadInputException(file + ":" + (i + 1) + ": not a JSON object", e);
            }
            for (String f : List.of(promptField, answerField)) {
                if (node == null || !node.path(f).isTextual()) {
                    throw new BadInputException(file + ":" + (i + 1) + ": field " + f + ": a string is required, got '"
                            + (node == null || node.path(f).isMissingNode() ? "" : node.path(f)) + "'");
                }
            }
            List<String> wrong = null;
            JsonNode w = node.path(wrongField);
            if (!w.isMissingNode() && !w.isNull()) {
                wrong = new ArrayList<>();
                boolean ok = w.isArray();
                for (JsonNode x : w) {
                    ok &= x.isTextual();
                    wrong.add(x.asText());
                }
                if (!ok) {
                    throw new BadInputException(file + ":" + (i + 1) + ": field " + wrongField + ": a list of strings is"
                            + " required, got '" + w + "'");
                }
            }
            out.add(new Pair(node.get(promptField).asText(), node.get(answerField).asText(), wrong));
        }
        if (out.isEmpty()) {
            throw new BadInputException(file + ": no prompt/answer pairs");
        }
        return out;
    }
}
