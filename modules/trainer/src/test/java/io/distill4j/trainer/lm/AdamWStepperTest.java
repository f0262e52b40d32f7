package io.distill4j.trainer.lm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;
import org.junit.jupiter.api.Test;

/** AdamW steps against a double-precision transcription of torch.optim.AdamW, with clipping. */
class AdamWStepperTest {

    /** One matrix W (2x2, decayed) and one vector b (2, not decayed); output sum(W x) + sum(b * x). */
    static final class Toy extends AbstractBlock {
        final Parameter w = addParameter(Parameter.builder().setName("w").setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(2, 2)).optInitializer(Initializer.ONES).build());
        final Parameter b = addParameter(Parameter.builder().setName("b").setType(Parameter.Type.BIAS)
                .optShape(new Shape(2)).optInitializer(Initializer.ONES).build());

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList in, boolean training, PairList<String, Object> p) {
            NDArray x = in.head();
            return new NDList(w.getArray().matMul(x).square().sum().add(b.getArray().mul(x).sum()));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] s) {
            return new Shape[] {new Shape()};
        }
    }

    @Test
    void matchesTorchAdamWWithDecayOnMatricesAndClipping() {
        double[] x = {0.5, -2.0};
        double[] w = {1, 1, 1, 1};
        double[] b = {1, 1};
        double[] mw = new double[4];
        double[] vw = new double[4];
        double[] mb = new double[2];
        double[] vb = new double[2];
        double lr0 = 0.1;
        double wd = 0.3;
        double clip = 2.0;
        LrSchedule schedule = new LrSchedule(LrSchedule.Kind.LINEAR, lr0, 1, 4);
        try (NDManager m = NDManager.newBaseManager()) {
            Toy toy = new Toy();
            toy.initialize(m, DataType.FLOAT32, new Shape(2));
            AdamWStepper stepper = new AdamWStepper(toy, schedule, wd, clip);
            for (int step = 0; step < 4; step++) {
                // reference gradients of L = sum_i (W x)_i^2 + b . x
                double[] gw = new double[4];
                double[] gb = new double[2];
                for (int i = 0; i < 2; i++) {
                    double wx = w[2 * i] * x[0] + w[2 * i + 1] * x[1];
                    gw[2 * i] = 2 * wx * x[0];
                    gw[2 * i + 1] = 2 * wx * x[1];
                    gb[i] = x[i];
                }
                double norm = 0;
                for (double g : gw) {
                    norm += g * g;
                }
                for (double g : gb) {
                    norm += g * g;
                }
                norm = Math.sqrt(norm);
                double scale = norm > clip ? clip / (norm + 1e-6) : 1;
                double lr = schedule.at(step);
                int t = step + 1;
                double bc1 = 1 - Math.pow(0.9, t);
                double bc2 = Math.sqrt(1 - Math.pow(0.999, t));
                for (int i = 0; i < 4; i++) {
                    double g = gw[i] * scale;
                    w[i] *= 1 - lr * wd;
                    mw[i] = 0.9 * mw[i] + 0.1 * g;
                    vw[i] = 0.999 * vw[i] + 0.001 * g * g;
                    w[i] -= lr / bc1 * mw[i] / (Math.sqrt(vw[i]) / bc2 + 1e-8);
                }
                for (int i = 0; i < 2; i++) {
                    double g = gb[i] * scale;
                    mb[i] = 0.9 * mb[i] + 0.1 * g;
                    vb[i] = 0.999 * vb[i] + 0.001 * g * g;
                    b[i] -= lr / bc1 * mb[i] / (Math.sqrt(vb[i]) / bc2 + 1e-8);
                }
                try (NDManager sub = m.newSubManager()) {
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray out = toy.forward(new ParameterStore(sub, false),
                                new NDList(sub.create(new float[] {(float) x[0], (float) x[1]})), true).head();
                        gc.backward(out);
                    }
                    assertEquals(norm, stepper.step(), 1e-4 * norm);
                }
                float[] gotW = toy.w.getArray().toFloatArray();
                float[] gotB = toy.b.getArray().toFloatArray();
                for (int i = 0; i < 4; i++) {
                    assertEquals(w[i], gotW[i], 1e-5, "step " + step + " w[" + i + "]");
                }
                for (int i = 0; i < 2; i++) {
                    assertEquals(b[i], gotB[i], 1e-5, "step " + step + " b[" + i + "]");
                }
                assertEquals(0f, toy.w.getArray().getGradient().abs().sum().getFloat(), "gradients are zeroed");
            }
        }
    }
}
