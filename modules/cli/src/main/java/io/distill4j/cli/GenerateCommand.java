package io.distill4j.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.distill4j.data.AtomicFiles;
import io.distill4j.data.BadInputException;
import io.distill4j.data.SequenceItem;
import io.distill4j.models.lm.io.HfFolder;
import io.distill4j.teacher.lm.CausalLmTeacher;
import io.distill4j.teacher.lm.SamplingConfig;
import io.distill4j.teacher.sequence.Prompts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code distill4j generate MODEL (--prompt TEXT | --prompts FILE)}: decodes with a causal LM saved as a Hugging Face
 * folder (a trained student's {@code students/seed-N}, or any gpt2 / llama folder with {@code tokenizer.json}), with
 * the key/value cache. Greedy by default; {@code --temperature}, {@code --top-k}, {@code --top-p} and
 * {@code --repetition-penalty} sample with Hugging Face {@code generate}'s semantics and order. One prompt prints
 * its continuations; a prompt file (.jsonl with a string field, or one prompt per line) writes JSONL, one line per
 * continuation: {@code {"prompt", "sample", "text", "tokens"}}.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate from a causal-LM student (a Hugging Face folder): greedy, or sampled with temperature,"
                + " top-k, top-p and repetition penalty; from a prompt or a prompt file.")
public final class GenerateCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = "a Hugging Face folder (config.json, model.safetensors,"
            + " tokenizer.json), e.g. runs/train/<time>/students/seed-1")
    Path model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    /** One prompt or a prompt file. */
    static final class Input {
        @Option(names = "--prompt", paramLabel = "TEXT", description = "one prompt")
        String prompt;

        @Option(names = "--prompts", paramLabel = "FILE", description = "prompts: .jsonl (see --field) or one per line")
        Path prompts;
    }

    @Option(names = "--field", description = "the JSONL field holding the prompt (default: ${DEFAULT-VALUE})",
            defaultValue = "prompt")
    String field;

    @Option(names = "--max-tokens", description = "most new tokens per continuation (default: ${DEFAULT-VALUE})",
            defaultValue = "64")
    int maxTokens;

    @Option(names = "--temperature", description = "0 for greedy (default: ${DEFAULT-VALUE})", defaultValue = "0")
    double temperature;

    @Option(names = "--top-k", description = "sample among the k most likely tokens; 0 for all (default: ${DEFAULT-VALUE})",
            defaultValue = "0")
    int topK;

    @Option(names = "--top-p", description = "nucleus mass, in (0, 1] (default: ${DEFAULT-VALUE})", defaultValue = "1")
    double topP;

    @Option(names = "--repetition-penalty", description = "CTRL's penalty, 1 for none (default: ${DEFAULT-VALUE})",
            defaultValue = "1")
    double repetitionPenalty;

    @Option(names = {"-n", "--samples"}, description = "continuations per prompt (default: ${DEFAULT-VALUE})",
            defaultValue = "1")
    int samples;

    @Option(names = "--seed", description = "sampling seed (default: ${DEFAULT-VALUE})", defaultValue = "0")
    long seed;

    @Option(names = "--eos", description = "the id that ends a continuation; default: the model's eos_token_id",
            defaultValue = "-2")
    int eos;

    @Option(names = "--out", paramLabel = "FILE", description = "write JSONL here (default: standard output)")
    Path out;

    @Option(names = "--device", description = "cpu or gpu(i) (default: ${DEFAULT-VALUE})", defaultValue = "cpu")
    String device;

    @Override
    public Integer call() throws IOException {
        SamplingConfig sampling;
        try {
            if (samples <= 0) {
                throw new IllegalArgumentException("--samples must be positive, got " + samples);
            }
            sampling = new SamplingConfig(maxTokens, temperature, topK, topP, repetitionPenalty, 1, -1);
        } catch (IllegalArgumentException e) {
            throw new BadInputException("generate: " + e.getMessage().replace("maxNewTokens", "--max-tokens")
                    .replace("topK", "--top-k").replace("topP", "--top-p").replace("repetitionPenalty",
                            "--repetition-penalty").replace("temperature must", "--temperature must"), e);
        }
        List<String> prompts = input.prompt != null ? List.of(input.prompt) : Prompts.read(input.prompts, field);
        List<String[]> texts = generate(model, prompts, sampling, samples, seed, eos, Devices.parse(device));
        ObjectMapper json = new ObjectMapper();
        StringBuilder lines = new StringBuilder();
        for (int q = 0; q < prompts.size(); q++) {
            for (int j = 0; j < samples; j++) {
                if (out == null && input.prompt != null) {
                    lines.append(texts.get(q)[j]).append('\n');
                    continue;
                }
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("prompt", prompts.get(q));
                row.put("sample", j);
                row.put("text", texts.get(q)[j]);
                lines.append(json.writeValueAsString(row)).append('\n');
            }
        }
        if (out != null) {
            AtomicFiles.write(out, lines.toString().getBytes(StandardCharsets.UTF_8));
            System.err.println("distill4j generate: wrote " + prompts.size() * samples + " continuations to " + out);
        } else {
            System.out.print(lines);
        }
        return 0;
    }

    /**
     * Decodes continuations with a Hugging Face folder's model and tokenizer.
     *
     * @param folder the model folder (with tokenizer.json)
     * @param prompts the prompts (encoded with the tokenizer's special tokens, as a teacher encodes them)
     * @param sampling greedy (temperature 0) or sampled
     * @param samples continuations per prompt
     * @param seed the sampling seed
     * @param eos the end id, -1 for none, -2 for the model's {@code eos_token_id}
     * @param dev where the model runs
     * @return per prompt, its continuations' texts (special tokens skipped)
     * @throws BadInputException if the folder has no tokenizer or does not load
     */
    static List<String[]> generate(Path folder, List<String> prompts, SamplingConfig sampling, int samples, long seed,
            int eos, ai.djl.Device dev) {
        try (NDManager manager = NDManager.newBaseManager(dev); HfFolder.Loaded loaded = HfFolder.load(folder, manager)) {
            if (loaded.tokenizer() == null) {
                throw new BadInputException(folder.resolve(HfFolder.TOKENIZER) + ": missing; generation needs the tokenizer"
                        + " the model was trained with");
            }
            int end = eos == -2 ? loaded.model().config().eosTokenId() : eos;
            SamplingConfig s = new SamplingConfig(sampling.maxNewTokens(), sampling.temperature(), sampling.topK(),
                    sampling.topP(), sampling.repetitionPenalty(), 1, end);
            CausalLmTeacher lm = CausalLmTeacher.withTokenizer(loaded.model(), loaded.tokenizer(), samples, s, seed);
            List<String[]> out = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                out.add(null);
            }
            lm.sample(prompts, 0, (SequenceItem item) -> {
                String[] t = new String[samples];
                for (int j = 0; j < samples; j++) {
                    t[j] = loaded.tokenizer().decode(item.samples().get(j).tokens());
                }
                out.set((int) item.item(), t);
            }, (done, total) -> { });
            return out;
        }
    }
}
