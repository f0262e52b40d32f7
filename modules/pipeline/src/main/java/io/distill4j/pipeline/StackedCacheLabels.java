package io.distill4j.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import io.distill4j.trainer.StackedStudents;
import io.distill4j.trainer.StudentProbe;
import java.util.ArrayList;
import java.util.List;

/**
 * The labels of stacked students, streamed from the cache: student s's labels are exactly those its own
 * {@link CacheTargets} gives a student trained alone (its rows, its draws, its target, the loss's labels), stacked
 * along a new first axis. A target that needs the students' own estimate runs the stack's MC-dropout passes (or its
 * one pass of raw outputs) once per step and gives each student its slice.
 */
final class StackedCacheLabels implements StackedStudents.Labels {

    private final List<CacheTargets> students;

    /**
     * Creates the labels.
     *
     * @param students each student's labels, in stack order
     */
    StackedCacheLabels(List<CacheTargets> students) {
        this.students = List.copyOf(students);
    }

    @Override
    public NDList labels(NDManager manager, NDArray rows, NDArray inputs, StackedStudents.Probe probe) {
        int r = students.size();
        int b = (int) rows.getShape().get(1);
        long[] all = rows.toLongArray();
        NDArray[] passes = new NDArray[1];
        NDArray[] outputs = new NDArray[1];
        List<NDList> each = new ArrayList<>(r);
        for (int s = 0; s < r; s++) {
            int[] own = new int[b];
            for (int i = 0; i < b; i++) {
                own[i] = (int) all[s * b + i];
            }
            int student = s;
            StudentProbe mine = new StudentProbe() {
                @Override
                public NDArray mcDropoutProbabilities(NDArray in, int n) {
                    if (passes[0] == null || passes[0].getShape().get(0) != n) {
                        passes[0] = probe.passes(inputs, n).softmax(-1); // (S, R, B, C), every student at once
                    }
                    return passes[0].get(":, " + student);
                }

                @Override
                public NDArray outputs(NDArray in) {
                    if (outputs[0] == null) {
                        outputs[0] = probe.passes(inputs, 1).get(0); // (R, B, C), every student at once
                    }
                    return outputs[0].get(student);
                }
            };
            each.add(students.get(s).labels(manager, own, inputs.get(s), mine));
        }
        NDList out = new NDList(each.get(0).size());
        for (int l = 0; l < each.get(0).size(); l++) {
            NDList column = new NDList(r);
            for (NDList e : each) {
                column.add(e.get(l));
            }
            out.add(NDArrays.stack(column, 0));
        }
        return out;
    }
}
