/** Saves random LoRA adapters on the tiny test checkpoints with distill4j, for check_peft_loads.py (see run.sh). */
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import io.distill4j.models.lm.*;
import io.distill4j.models.lm.io.*;
import java.nio.file.*;
import java.util.*;

public class SaveForPeft {
    public static void main(String[] a) throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            for (String name : List.of("gpt2-tiny", "llama-tiny")) {
                Path base = Path.of(a[0], name);
                HfFolder.Loaded l = HfFolder.load(base, m);
                Lora lora = Lora.attach(l.model(), new LoraConfig(3, 5, 0.1, List.of("q", "k", "v", "o", "mlp"), name.startsWith("llama")));
                Random r = new Random(1);
                for (Parameter p : lora.namedParameters().values()) {
                    float[] v = new float[(int) p.getShape().size()];
                    for (int i = 0; i < v.length; i++) v[i] = (float) (0.3 * r.nextGaussian());
                    p.getArray().set(v);
                }
                Path out = Path.of(a[1], name);
                PeftAdapter.save(lora, base.toString(), out);
                long[][] ids = {{1, 5, 9, 33, 70, 2, 11, 50}};
                float[] z = l.model().logits(new ParameterStore(m, false), m.create(ids), null, null, false).toFloatArray();
                StringBuilder sb = new StringBuilder("[");
                for (int i = 0; i < z.length; i++) sb.append(i > 0 ? "," : "").append(z[i]);
                Files.writeString(out.resolve("java_logits.json"), sb.append("]").toString());
            }
        }
    }
}
