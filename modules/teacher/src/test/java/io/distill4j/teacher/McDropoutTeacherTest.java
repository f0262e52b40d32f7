package io.distill4j.teacher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import io.distill4j.data.SampleStatistics;
import io.distill4j.data.SklearnCsv;
import io.distill4j.data.TabularData;
import io.distill4j.data.TeacherCache;
import io.distill4j.loss.SoftTargetCrossEntropyLoss;
import io.distill4j.trainer.Mlp;
import io.distill4j.trainer.StepListener;
import io.distill4j.trainer.StudentTrainer;
import io.distill4j.trainer.TrainConfig;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class McDropoutTeacherTest {

    @Test
    void writesKDistinctProbabilityVectorsPerInputReproducibly(@TempDir Path dir) {
        Path data = Path.of(System.getProperty("distill4j.root", "../..")).resolve("datasets/sklearn");
        TabularData iris = SklearnCsv.load("iris", data);
        int[] labels = iris.labels();
        TrainConfig cfg = new TrainConfig(3, 16, 1e-2f, 0f, 5, Device.cpu());
        try (Model m = StudentTrainer.train("teacher", Mlp.builder().setInputs(4).setHidden(16).setOutputs(3).optDropout(0.5f).build(),
                iris.features(), (mgr, rows, x, p) -> new NDList(mgr.create(Arrays.stream(rows).map(r -> labels[r]).toArray())
                        .oneHot(3).toType(DataType.FLOAT32, false)),
                new SoftTargetCrossEntropyLoss(), cfg, StepListener.NONE)) {
            McDropoutTeacher teacher = new McDropoutTeacher(m, 6, 3, 11, "mlp 4-16-3");
            TeacherCache a = teacher.sample(iris.features(), dir.resolve("a"), 32, n -> { });
            TeacherCache b = teacher.sample(iris.features(), dir.resolve("b"), 32, n -> { });
            assertEquals(150, a.manifest().items());
            assertEquals(6, a.manifest().k());
            assertEquals("mc-dropout", a.manifest().teacher().get("name"));
            float[][][] sa = a.readAll();
            float[][][] sb = b.readAll();
            assertArrayEquals(sa[77][3], sb[77][3], "same seed, same samples");
            float sum = 0;
            for (float v : sa[0][0]) {
                sum += v;
            }
            assertEquals(1f, sum, 1e-5f);
            assertNotEquals(sa[0][0][0], sa[0][1][0], "dropout passes differ");
            SampleStatistics st = SampleStatistics.of(sa[0]);
            assertEquals(6, st.count());
        }
    }
}
