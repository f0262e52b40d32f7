package io.distill4j.teacher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import ai.djl.Model;
import io.distill4j.data.SampleStatistics;
import io.distill4j.data.SklearnCsv;
import io.distill4j.data.TabularData;
import io.distill4j.data.TeacherCache;
import io.distill4j.models.Mlp;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class McDropoutTeacherTest {

    @Test
    void writesKDistinctProbabilityVectorsPerInputReproducibly(@TempDir Path dir) {
        Path data = Path.of(System.getProperty("distill4j.root", "../..")).resolve("datasets/sklearn");
        TabularData iris = SklearnCsv.load("iris", data);
        int[] labels = iris.labels();
        // sampling needs no trained teacher: a randomly initialised MLP has the same dropout behaviour
        try (Model m = TestModels.randomMlp(Mlp.builder().setInputs(4).setHidden(16).setOutputs(3).optDropout(0.5f), 4, 5)) {
            McDropoutTeacher teacher = McDropoutTeacher.builder(m).setSamples(6).setWidth(3).optSeed(11).setDescription("mlp 4-16-3").build();
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
