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
    private final int studentPasses;

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
     * @param studentPasses MC-dropout passes for targets that need the student's own estimate
     */
    CacheTargets(DenseCacheReader reader, int firstDraw, int draws, TargetBuilder target, LabelAssembler labels,
            int[] classLabels, String signal, int studentPasses) {
        this.reader = reader;
        this.firstDraw = firstDraw;
        this.draws = draws;
        this.target = target;
        this.labels = labels;
        this.classLabels = classLabels;
        this.signal = signal;
        this.studentPasses = studentPasses;
    }

    @Override
    public NDList labels(NDManager manager, int[] rows, NDArray inputs, StudentProbe student) {
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
                ? StudentEstimate.fromPasses(student.mcDropoutProbabilities(inputs, studentPasses).transpose(1, 0, 2))
                : null;
        NDArray t = target.build(samples, estimate, target.needsLabels() ? y : null);
        return labels.assemble(samples, t, y, target.outputSignal(signal));
    }
}
