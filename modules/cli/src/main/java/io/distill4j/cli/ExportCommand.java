package io.distill4j.cli;

import ai.djl.ndarray.NDManager;
import io.distill4j.data.BadInputException;
import io.distill4j.models.lm.CausalLm;
import io.distill4j.models.lm.io.HfFolder;
import io.distill4j.models.lm.io.PeftAdapter;
import io.distill4j.teacher.gguf.GgufExport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code distill4j export MODEL --out FILE.gguf [--f16] [--adapter DIR]}: writes a GPT-2- or Llama-family Hugging Face
 * folder (a trained student, or any folder distill4j loads) as GGUF for llama.cpp's {@code llama-server}, float32 or
 * float16 (see {@link GgufExport}). A trained student is already a Hugging Face folder for {@code transformers}; a LoRA
 * student's folder is its merged model. With {@code --adapter} MODEL is the base and a peft LoRA adapter folder
 * ({@code adapter_config.json}, {@code adapter_model.safetensors}, such as a LoRA student's {@code adapter/}) is merged
 * into it (W + s B A) before writing.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Export a causal LM (a Hugging Face folder with tokenizer.json) as GGUF for llama.cpp, f32 or f16.")
public final class ExportCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = "a Hugging Face folder, e.g. runs/train/<time>/students/seed-1")
    Path model;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "the .gguf file to write")
    Path out;

    @Option(names = "--f16", description = "store matrices as float16 (vectors stay float32)")
    boolean f16;

    @Option(names = "--adapter", paramLabel = "DIR", description = "a peft LoRA adapter folder to merge into MODEL (its base)"
            + " before writing")
    Path adapter;

    @Override
    public Integer call() throws IOException {
        try (NDManager manager = NDManager.newBaseManager(ai.djl.Device.cpu()); HfFolder.Loaded l = HfFolder.load(model, manager)) {
            if (l.tokenizer() == null) {
                throw new BadInputException(model.resolve(HfFolder.TOKENIZER) + ": missing; a GGUF file carries the"
                        + " tokenizer, and llama.cpp cannot load one without it");
            }
            CausalLm model = l.model();
            if (adapter != null) {
                model = PeftAdapter.load(model, adapter).merge(manager);
            }
            GgufExport.write(model, l.tokenizer(), out, f16);
        }
        System.err.println(String.format(Locale.ROOT, "distill4j export: wrote %s (%s%s, %.1f MB)", out, f16 ? "f16" : "f32",
                adapter != null ? ", adapter " + adapter + " merged" : "", Files.size(out) / 1e6));
        return 0;
    }
}
