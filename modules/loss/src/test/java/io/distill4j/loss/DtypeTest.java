package io.distill4j.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Every loss keeps the floating-point type of its inputs (float32 in, float32 out), with and without masks. */
class DtypeTest extends NdTestBase {

    @Test
    void float32InFloat32Out() {
        Random rnd = new Random(3);
        for (DataType dt : new DataType[] {DataType.FLOAT32, DataType.FLOAT64}) {
            NDArray z = nd(Ref.logits(rnd, 4, 6, 1)).toType(dt, false);
            NDArray p = nd(Ref.probs(rnd, 4, 6, 1)).toType(dt, false);
            NDArray y = ids(new int[] {0, 1, 2, 3});
            NDArray var = manager.create(new float[] {0.1f, 0.2f, 0.3f, 0.4f}).toType(dt, false);
            NDArray mask = manager.create(new float[] {1, 1, 0, 1});
            check(dt, new CrossEntropyLoss().evaluate(list(y), list(z)));
            check(dt, new CrossEntropyLoss().evaluate(list(y, mask), list(z)));
            check(dt, new SoftTargetCrossEntropyLoss().evaluate(list(p), list(z)));
            check(dt, new HintonKdLoss(2, 0.5).evaluate(list(y, p), list(z)));
            check(dt, new HintonKdLoss(4, 1, 0.5).evaluate(list(y, p, mask), list(z)));
            check(dt, new KlDivergenceLoss().evaluate(list(p, mask), list(z)));
            check(dt, new ReverseKlLoss().evaluate(list(p), list(z)));
            check(dt, new GeneralizedJsdLoss(0.5).evaluate(list(p), list(z)));
            check(dt, new MseLoss().evaluate(list(p), list(z)));
            check(dt, new GaussianNllLoss().evaluate(list(p.get(":, :3"), p.get(":, :3")), list(z)));
            check(dt, new FocalEntropyLoss().evaluate(list(y), list(z)));
            check(dt, new InverseVarianceWeightedLoss(new HintonKdLoss(2, 0.5)).evaluate(list(y, p, var), list(z)));
            check(dt, new InverseVarianceWeightedLoss(new KlDivergenceLoss()).evaluate(list(p, mask, var), list(z)));
            check(dt, new InverseVarianceWeightedLoss(new KlDivergenceLoss()).itemLosses(list(p, mask, var), list(z)));
            NDArray samples = p.reshape(4, 1, 6).repeat(1, 3);
            check(dt, new InverseVarianceWeightedLoss(new SoftTargetCrossEntropyLoss(), 1e-6,
                    InverseVarianceWeightedLoss.VarianceSource.SAMPLES).evaluate(list(p, samples), list(z)));
            double[][] teacher = Ref.probs(rnd, 4, 6, 1);
            Object[] c = LossGoldenTest.topK(teacher, 2);
            NDList sparse = list(ids((int[][]) c[0]), nd((double[][]) c[1]).toType(dt, false),
                    nd((double[]) c[2]).toType(dt, false), mask);
            check(dt, new SparseTopKKlLoss().evaluate(sparse, list(z)));
            check(dt, new SparseTopKKlLoss(1, true, true).evaluate(sparse, list(z)));
            check(dt, new SparseTopKKlLoss(1, false, false).evaluate(sparse, list(z)));
            // targets
            check(dt, new MeanTarget().build(samples, null));
            check(dt, new BayesianMeanTarget().build(samples, null));
            check(dt, new WrongMassClipTarget(0.5).build(samples, null, y));
            check(dt, new InverseVarianceTarget(InverseVarianceTarget.Form.PRACTICAL, true).build(samples,
                    new StudentEstimate(p, var.reshape(4, 1).repeat(1, 6))));
        }
        assertEquals(new Shape(), new CrossEntropyLoss().evaluate(list(ids(new int[] {1})),
                list(manager.zeros(new Shape(1, 3)))).getShape());
    }

    private static void check(DataType dt, NDArray a) {
        assertEquals(dt, a.getDataType());
    }
}
