package io.distill4j.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import io.distill4j.data.DenseCacheReader;
import io.distill4j.loss.StudentEstimate;
import io.distill4j.loss.TargetBuilder;
import io.distill4j.trainer.BatchTargets;
import io.distill4j.trainer.StudentProbe;

/**
 * One student's labels, streamed from the cache: each batch reads just its rows' own draws of the student from the Arrow
 * shards (never the whole cache, nor other students' draws), builds the target and assembles the loss's labels.
 */
final class CacheTargets implements BatchTargets {

    private final DenseCacheReader reader;
    private final int firstDraw;
    private final int draws;
    private final TargetBuilder target;
    private final LabelAssembler labels;
    private final int[] classLabels;
    private final String signal;
    private final StudentEstimates.Estimator estimator;

    /**
     * Creates the labels of one student.
     *
     * @param reader the cache
     * @param firstDraw the index of the student's first draw
     * @param draws the student's draws per row
     * @param target the target builder
     * @param labels the loss's label adapter
     * @param classLabels the rows' class ids, or null for regression
     * @param signal the cache's signal
     * @param estimator the student's own estimate, for targets that need it (this student's: it may keep state)
     */
    CacheTargets(DenseCacheReader reader, int firstDraw, int draws, TargetBuilder target, LabelAssembler labels,
            int[] classLabels, String signal, StudentEstimates.Estimator estimator) {
        this.reader = reader;
        this.firstDraw = firstDraw;
        this.draws = draws;
        this.target = target;
        this.labels = labels;
        this.classLabels = classLabels;
        this.signal = signal;
        this.estimator = estimator;
    }

    @Override
    public NDList labels(NDManager manager, int[] rows, NDArray inputs, StudentProbe student) {
        return build(manager, rows, inputs, student, true).labels();
    }

    /**
     * The built targets of some rows (a closed-form student fits them directly).
     *
     * @param manager where to create the arrays
     * @param rows the rows
     * @param inputs their features (for estimates that run the student), or null
     * @param student the student (for estimates that run it), or null
     * @return the targets (B, C)
     */
    NDArray targets(NDManager manager, int[] rows, NDArray inputs, StudentProbe student) {
        return build(manager, rows, inputs, student, false).target();
    }

    private record Built(NDArray target, NDList labels) {
    }

    private Built build(NDManager manager, int[] rows, NDArray inputs, StudentProbe student, boolean assemble) {
        long[] items = new long[rows.length];
        for (int i = 0; i < rows.length; i++) {
            items[i] = rows[i];
        }
        NDArray samples = reader.gather(manager, items, firstDraw, draws);
        NDArray y = null;
        if (classLabels != null) {
            int[] ids = new int[rows.length];
            for (int i = 0; i < rows.length; i++) {
                ids[i] = classLabels[rows[i]];
            }
            y = manager.create(ids);
        }
        StudentEstimate estimate = target.needsStudentEstimate()
                ? estimator.estimate(manager, rows, inputs, samples, student) : null;
        NDArray t = target.build(samples, estimate, target.needsLabels() ? y : null);
        return new Built(t, assemble ? labels.assemble(samples, t, y, target.outputSignal(signal)) : null);
    }
}
