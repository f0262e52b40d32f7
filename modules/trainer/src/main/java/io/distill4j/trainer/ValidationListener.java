package io.distill4j.trainer;

/**
 * Runs the {@link Validator} every {@link TrainingSpec#validateEvery()} updates, or at each epoch end when that
 * is 0, and hands the value to every listener ({@link FitListener#onValidation}).
 */
final class ValidationListener implements FitListener {

    private final Validator validator;
    private final long every;

    ValidationListener(Validator validator, long every) {
        this.validator = validator;
        this.every = every;
    }

    @Override
    public void onStep(FitContext fit, StepMetrics step) {
        if (every > 0 ? step.step() % every == 0 : step.epochEnd()) {
            fit.validated(validator.name(), validator.evaluate(fit.model()));
        }
    }
}
