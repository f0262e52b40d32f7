package io.distill4j.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.distill4j.data.BadInputException;
import io.distill4j.data.TabularData;
import io.distill4j.data.TeacherCache;
import io.distill4j.data.datasets.Mnist;
import io.distill4j.teacher.SampleProgress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code data: {dataset: mnist | fashion-mnist}} in a sample job: the rows come from the IDX files (the data module's
 * tiny fixture: 3 training images of 2x3 pixels labelled 7, 0, 9 and 2 test images), the images' own split by
 * default, a pooled random split when {@code testFraction} is given, and one line naming the field when the files
 * are absent.
 */
class ImageDatasetJobTest {

    private static final Path HOME = Path.of(System.getProperty("distill4j.root", "../.."));
    private static final Path FIXTURE = HOME.resolve("modules/data/src/test/resources/idx");

    private static Path job(Path dir, String data) throws IOException {
        Files.createDirectories(dir);
        Path f = dir.resolve("job.yaml");
        Files.writeString(f, "cache: cache\nk: 3\nseed: 0\nbatchSize: 2\n" + data
                + "teacher:\n  type: mc-dropout\n  model: {hidden: [4], dropout: 0.2}\n"
                + "  train: {epochs: 2, batchSize: 2, learningRate: 0.01, seed: 0}\n");
        return f;
    }

    @Test
    void theImagesOwnSplitIsKeptAndSampled(@TempDir Path dir) throws IOException {
        SampleSpec spec = SampleSpec.load(job(dir, "data: {dataset: mnist, dir: " + FIXTURE.toAbsolutePath() + "}\n"));
        assertTrue(Double.isNaN(spec.data().testFraction()), "no testFraction: the t10k files are the test part");
        SampleJob.Prepared p = SampleJob.prepare(spec.data());
        TabularData train = Mnist.load(FIXTURE, Mnist.Split.TRAIN, "mnist");
        TabularData test = Mnist.load(FIXTURE, Mnist.Split.TEST, "mnist");
        assertArrayEquals(new int[] {7, 0, 9}, p.split().train().labels());
        assertArrayEquals(train.features(), p.split().train().features());
        assertArrayEquals(test.labels(), p.split().test().labels());
        assertArrayEquals(test.features(), p.split().test().features());
        assertEquals(5, p.all().size(), "all: the 3 training images, then the 2 test images");
        assertArrayEquals(test.features()[1], p.all().features()[4]);
        assertArrayEquals(train.features(), p.sampled().features(), "sample: train");

        SampleJob.Result r = SampleJob.run(spec, Device.cpu(), SampleProgress.NONE, line -> { });
        assertEquals(3, r.items());
        TeacherCache cache = TeacherCache.open(dir.resolve("cache"));
        assertEquals(3, cache.manifest().items());
        assertEquals(3, cache.manifest().k());
    }

    @Test
    void aTestFractionPoolsTheImagesAndSplitsThemLikeTheOtherDatasets(@TempDir Path dir) throws IOException {
        SampleSpec spec = SampleSpec.load(job(dir, "data: {dataset: fashion-mnist, dir: " + FIXTURE.toAbsolutePath()
                + ", testFraction: 0.4, splitSeed: 5, scale: 2.0}\n"));
        SampleJob.Prepared p = SampleJob.prepare(spec.data());
        // pooled rows 0..2 = train images, 3..4 = test images; the test part is the first round(5 * 0.4) = 2 of the
        // seeded permutation, the train part the rest, in that order (TabularData.split)
        int[] perm = TabularData.permutation(5, 5);
        TabularData train = Mnist.load(FIXTURE, Mnist.Split.TRAIN, "x");
        TabularData test = Mnist.load(FIXTURE, Mnist.Split.TEST, "x");
        int[] pooledLabels = {7, 0, 9, test.labels()[0], test.labels()[1]};
        float[][] pooled = {train.features()[0], train.features()[1], train.features()[2], test.features()[0],
            test.features()[1]};
        assertEquals(2, p.split().test().size());
        for (int i = 0; i < 5; i++) {
            TabularData part = i < 2 ? p.split().test() : p.split().train();
            int row = i < 2 ? i : i - 2;
            assertEquals(pooledLabels[perm[i]], part.labels()[row]);
            float[] want = pooled[perm[i]].clone();
            for (int j = 0; j < want.length; j++) {
                want[j] *= 2f;
            }
            assertArrayEquals(want, part.features()[row], 0f);
        }
    }

    @Test
    void absentFilesAreOneLineNamingTheFieldAndFetchScript(@TempDir Path dir) throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        Path f = job(dir, "data:\n  dataset: mnist\n  dir: empty\n");
        BadInputException e = assertThrows(BadInputException.class, () -> SampleSpec.load(f));
        assertEquals(f + ":7:3: field data.dir: " + empty + ": holds no mnist files"
                + " (train-images-idx3-ubyte and train-labels-idx1-ubyte, plain or .gz); run datasets/mnist/fetch.sh",
                e.getMessage());

        // only the training files there: the test files are named
        Files.copy(FIXTURE.resolve("train-images-idx3-ubyte"), empty.resolve("train-images-idx3-ubyte"));
        Files.copy(FIXTURE.resolve("train-labels-idx1-ubyte"), empty.resolve("train-labels-idx1-ubyte"));
        e = assertThrows(BadInputException.class, () -> SampleSpec.load(f));
        assertTrue(e.getMessage().contains("(t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, plain or .gz); run "
                + "datasets/mnist/fetch.sh"), e.getMessage());
    }

    @Test
    void withoutDirTheHomesRawFolderIsUsedAndItsAbsenceNamesTheDataset(@TempDir Path dir) throws IOException {
        Path home = dir.resolve("home");
        Files.createDirectories(home.resolve("datasets/fashion-mnist"));
        Path f = job(dir, "data:\n  dataset: fashion-mnist\n");
        String before = System.getProperty("distill4j.home");
        System.setProperty("distill4j.home", home.toString());
        try {
            BadInputException e = assertThrows(BadInputException.class, () -> SampleSpec.load(f));
            Path raw = home.resolve("datasets/fashion-mnist/raw");
            assertEquals(f + ":6:3: field data.dataset: fashion-mnist: no fashion-mnist files in " + raw
                    + " (train-images-idx3-ubyte and train-labels-idx1-ubyte, plain or .gz); run"
                    + " datasets/fashion-mnist/fetch.sh (or set data.dir to the folder that holds them)", e.getMessage());
            // the files in place: the same job binds to that folder
            Files.createDirectories(raw);
            for (String name : new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
                Files.copy(FIXTURE.resolve(name), raw.resolve(name));
            }
            assertEquals(raw, SampleSpec.load(f).data().dir());
        } finally {
            if (before == null) {
                System.clearProperty("distill4j.home");
            } else {
                System.setProperty("distill4j.home", before);
            }
        }
    }

    @Test
    void fullMnistWhenFetched(@TempDir Path dir) throws IOException {
        Path raw = HOME.resolve("datasets/mnist/raw");
        Assumptions.assumeTrue(Mnist.present(raw, Mnist.Split.TRAIN) && Mnist.present(raw, Mnist.Split.TEST),
                "MNIST not fetched: run datasets/mnist/fetch.sh to include this test");
        SampleJob.Prepared p = SampleJob.prepare(SampleSpec.load(job(dir, "data: {dataset: mnist, dir: "
                + raw.toAbsolutePath() + "}\n")).data());
        assertEquals(60000, p.split().train().size());
        assertEquals(10000, p.split().test().size());
        assertEquals(784, p.split().train().width());
        assertArrayEquals(new int[] {5, 0, 4, 1, 9}, Arrays.copyOf(p.split().train().labels(), 5));
        assertArrayEquals(new int[] {7, 2, 1, 0, 4}, Arrays.copyOf(p.split().test().labels(), 5));
        assertEquals(60000, p.sampled().size());
    }
}
