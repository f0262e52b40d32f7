package io.distill4j.trainer;

import ai.djl.Device;

/**
 * Settings of one training run.
 *
 * @param epochs passes over the training data, positive
 * @param batchSize items per step, positive
 * @param learningRate AdamW's learning rate, positive
 * @param weightDecay AdamW's decoupled weight decay, non-negative
 * @param seed seeds the parameter initialisation, dropout and the data order
 * @param device the device to train on (for example {@link Device#cpu()} or {@code Device.gpu(0)})
 */
public record TrainConfig(int epochs, int batchSize, float learningRate, float weightDecay, long seed, Device device) {

    /** Validates every field. */
    public TrainConfig {
        if (epochs <= 0) {
            throw new IllegalArgumentException("epochs must be positive, got " + epochs);
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
        }
        if (!(learningRate > 0) || Float.isInfinite(learningRate)) {
            throw new IllegalArgumentException("learningRate must be positive and finite, got " + learningRate);
        }
        if (!(weightDecay >= 0) || Float.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("weightDecay must be non-negative and finite, got " + weightDecay);
        }
        java.util.Objects.requireNonNull(device, "device");
    }

    /**
     * The engine settings of this configuration: AdamW with these rate and decay, a constant schedule, no
     * clipping, fp32, no checkpoints, a log line at each epoch end.
     *
     * @return the spec
     */
    public TrainingSpec toSpec() {
        return TrainingSpec.builder().setDevice(device).setSeed(seed).setEpochs(epochs).setLearningRate(learningRate)
                .optWeightDecay(weightDecay).optLogEvery(0).build();
    }

    /**
     * Returns a copy with another seed.
     *
     * @param newSeed the seed
     * @return the copy
     */
    public TrainConfig withSeed(long newSeed) {
        return new TrainConfig(epochs, batchSize, learningRate, weightDecay, newSeed, device);
    }
}
