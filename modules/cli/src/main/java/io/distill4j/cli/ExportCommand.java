package io.distill4j.cli;

import ai.djl.ndarray.NDManager;
import io.distill4j.data.BadInputException;
import io.distill4j.models.lm.io.HfFolder;
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
 * {@code distill4j export MODEL --out FILE.gguf [--f16]}: writes a GPT-2- or Llama-family Hugging Face folder (a
 * trained student, or any folder distill4j loads) as GGUF for llama.cpp's {@code llama-server}, float32 or float16
 * (see {@link GgufExport}). A trained student is already a Hugging Face folder for {@code transformers}.
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

    @Override
    public Integer call() throws IOException {
        try (NDManager manager = NDManager.newBaseManager(ai.djl.Device.cpu()); HfFolder.Loaded l = HfFolder.load(model, manager)) {
            if (l.tokenizer() == null) {
                throw new BadInputException(model.resolve(HfFolder.TOKENIZER) + ": missing; a GGUF file carries the"
                        + " tokenizer, and llama.cpp cannot load one without it");
            }
            GgufExport.write(l.model(), l.tokenizer(), out, f16);
        }
        System.err.println(String.format(Locale.ROOT, "distill4j export: wrote %s (%s, %.1f MB)", out, f16 ? "f16" : "f32",
                Files.size(out) / 1e6));
        return 0;
    }
}
