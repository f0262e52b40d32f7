package io.distill4j.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.distill4j.data.AtomicFiles;
import io.distill4j.data.BadInputException;
import io.distill4j.models.lm.AnswerSelection;
import io.distill4j.models.lm.LmExample;
import io.distill4j.models.lm.SentenceEmbedder;
import io.distill4j.models.lm.io.HfFolder;
import io.distill4j.teacher.lm.SamplingConfig;
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
 * {@code students/seed-N} of a run) on held-out prompt/answer pairs, as the {@code llm} experiment defines its
 * metrics:
 * <ul>
 *   <li><b>nll</b> and <b>perplexity</b>: mean negative log-likelihood per answer token under teacher forcing (prompt
 *       encoded with the tokenizer's special tokens, answer without), and its exponential;</li>
 *   <li><b>similarity</b>: cosine of the sentence embedding of the greedy answer and that of the reference, averaged
 *       over pairs (needs a {@link SentenceEmbedder} on the class path: distill4j-experiments' all-MiniLM-L6-v2);</li>
 *   <li>with {@code --samples m} (m &gt;= 2): <b>sampled similarity</b> (the mean over m sampled answers),
 *       <b>intra-student variance</b> (per pair, the variance, ddof 1, of the similarity over the m answers;
 *       averaged over pairs), and over the students <b>inter-student variance</b> (per pair, the variance, ddof 1,
 *       over students of their mean sampled similarity; averaged over pairs) and <b>systematic noise</b> (per pair,
 *       1 - cos(mean embedding of every student's sampled answers, reference); averaged over pairs).</li>
 * </ul>
 * Per-student metrics are summarised over the students with Student-t intervals. The hallucination rate of the
 * {@code llm} experiment needs its knowledge base (which values contradict a fact) and is reported there only.
 */
@Command(name = "evaluate", aliases = "eval", mixinStandardHelpOptions = true,
        description = "Score causal-LM students (Hugging Face folders) on prompt/answer pairs: NLL, perplexity, similarity"
                + " to the references; with --samples, intra-/inter-student variance and systematic noise.")
public final class EvaluateCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "MODEL", description = "Hugging Face folders (students/seed-N)")
    List<Path> models;

    @Option(names = "--pairs", required = true, paramLabel = "FILE",
            description = "JSONL with a prompt and a reference answer per line (see --prompt-field, --answer-field)")
    Path pairs;

    @Option(names = "--prompt-field", defaultValue = "prompt", description = "default: ${DEFAULT-VALUE}")
    String promptField;

    @Option(names = "--answer-field", defaultValue = "answer", description = "default: ${DEFAULT-VALUE}")
    String answerField;

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

    @Option(names = "--no-similarity", description = "skip the sentence-embedding metrics (NLL and perplexity only)")
    boolean noSimilarity;

    @Option(names = "--out", paramLabel = "FILE", description = "also write the results as JSON")
    Path out;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu or gpu(i) (default: ${DEFAULT-VALUE})")
    String device;

    /** A prompt and its reference answer. */
    record Pair(String prompt, String answer) {
    }

    @Override
    public Integer call() throws IOException {
        if (samples == 1 || samples < 0) {
            throw new BadInputException("evaluate: --samples must be 0 or at least 2 (a variance needs two), got " + samples);
        }
        List<Pair> data = readPairs(pairs, promptField, answerField);
        SentenceEmbedder embedder = null;
        if (!noSimilarity) {
            try {
                embedder = SentenceEmbedder.load();
            } catch (IllegalStateException e) {
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

    @SuppressWarnings("unchecked")
    private Map<String, Object> evaluate(List<Pair> data, SentenceEmbedder embedder) {
        ai.djl.Device dev = Devices.parse(device);
        int n = data.size();
        List<Map<String, Double>> perStudent = new ArrayList<>();
        double[][] meanSampledSim = new double[n][models.size()];
        double[][][] sampledEmbeddings = new double[n][][];
        double[][] reference = new double[n][];
        if (embedder != null) {
            for (int q = 0; q < n; q++) {
                reference[q] = embedder.embed(data.get(q).answer());
                sampledEmbeddings[q] = new double[models.size() * samples][];
            }
        }
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
                List<String> prompts = data.stream().map(Pair::prompt).toList();
                List<String[]> greedy = GenerateCommand.generate(folder, prompts,
                        new SamplingConfig(maxTokens, 0, 0, 1, 1, 1, -1), 1, seed, -2, dev);
                double sim = 0;
                for (int q = 0; q < n; q++) {
                    sim += SentenceEmbedder.cosine(embedder.embed(greedy.get(q)[0]), reference[q]) / n;
                }
                m.put("similarity", sim);
                if (samples >= 2) {
                    List<String[]> sampled = GenerateCommand.generate(folder, prompts,
                            new SamplingConfig(maxTokens, temperature, topK, topP, 1, 1, -1), samples, seed + s, -2, dev);
                    double simS = 0;
                    double intra = 0;
                    for (int q = 0; q < n; q++) {
                        double[] sims = new double[samples];
                        for (int j = 0; j < samples; j++) {
                            double[] e = embedder.embed(sampled.get(q)[j]);
                            sampledEmbeddings[q][s * samples + j] = e;
                            sims[j] = SentenceEmbedder.cosine(e, reference[q]);
                        }
                        Summary sq = Summary.of(sims);
                        simS += sq.mean() / n;
                        intra += sq.variance() / n;
                        meanSampledSim[q][s] = sq.mean();
                    }
                    m.put("similarity-sampled", simS);
                    m.put("intra-student-variance", intra);
                }
            }
            perStudent.add(m);
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("pairs", n);
        result.put("students", models.stream().map(Path::toString).toList());
        result.put("embedder", embedder == null ? null : embedder.name());
        result.put("perStudent", perStudent);
        Map<String, Object> summary = new LinkedHashMap<>();
        for (String key : perStudent.get(0).keySet()) {
            double[] v = perStudent.stream().mapToDouble(x -> x.get(key)).toArray();
            Summary s = v.length >= 2 ? Summary.of(v) : null;
            summary.put(key, s == null ? Map.of("mean", v[0]) : Map.of("mean", s.mean(), "halfWidth", s.halfWidth(),
                    "low", s.low(), "high", s.high()));
        }
        result.put("summary", summary);
        if (embedder != null && samples >= 2) {
            double inter = 0;
            double systematic = 0;
            for (int q = 0; q < n; q++) {
                if (models.size() >= 2) {
                    inter += Summary.of(meanSampledSim[q]).variance() / n;
                }
                systematic += (1 - SentenceEmbedder.cosine(AnswerSelection.mean(sampledEmbeddings[q]), reference[q])) / n;
            }
            if (models.size() >= 2) {
                result.put("inter-student-variance", inter);
            }
            result.put("systematic-noise", systematic);
        }
        result.put("interval", models.size() >= 2 ? Summary.meaning(Summary.CONFIDENCE, models.size(), "students")
                : "one student: no interval");
        return result;
    }

    @SuppressWarnings("unchecked")
    private static String table(Map<String, Object> r) {
        StringBuilder b = new StringBuilder("| metric | mean | ± |\n|---|---|---|\n");
        for (Map.Entry<String, Object> e : ((Map<String, Object>) r.get("summary")).entrySet()) {
            Map<String, Double> v = (Map<String, Double>) e.getValue();
            b.append(String.format(Locale.ROOT, "| %s | %.4f | %s |%n", e.getKey(), v.get("mean"),
                    v.containsKey("halfWidth") ? String.format(Locale.ROOT, "%.4f", v.get("halfWidth")) : "-"));
        }
        for (String k : List.of("inter-student-variance", "systematic-noise")) {
            if (r.containsKey(k)) {
                b.append(String.format(Locale.ROOT, "| %s | %.6f | - |%n", k, (Double) r.get(k)));
            }
        }
        b.append("\n±: ").append(r.get("interval")).append("; ").append(r.get("pairs")).append(" pairs\n");
        return b.toString();
    }

    /**
     * Reads prompt/answer pairs from JSONL.
     *
     * @param file the file
     * @param promptField the prompt's field
     * @param answerField the answer's field
     * @return the pairs
     * @throws BadInputException naming the file, line and field at fault
     */
    static List<Pair> readPairs(Path file, String promptField, String answerField) {
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
            out.add(new Pair(node.get(promptField).asText(), node.get(answerField).asText()));
        }
        if (out.isEmpty()) {
            throw new BadInputException(file + ": no prompt/answer pairs");
        }
        return out;
    }
}
