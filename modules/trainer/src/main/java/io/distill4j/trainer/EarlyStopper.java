package io.distill4j.trainer;

/**
 * Applies an {@link EarlyStopping} rule: keeps the parameters of the best validation (when the rule restores
 * them), stops the run after {@code patience} validations without improvement, and restores the best
 * parameters when the run ends ({@link StepLogger} logs all three).
 */
final class EarlyStopper implements FitListener {

    private final EarlyStopping rule;

    EarlyStopper(EarlyStopping rule) {
        this.rule = rule;
    }

    @Override
    public void onValidation(FitContext fit, Validation v) {
        if (v.improved() && rule.restoreBest()) {
            fit.bestParameters = Checkpoint.checkpointBytes(fit.model().getBlock());
        }
        if (v.withoutImprovement() >= rule.patience()) {
            fit.requestStop("early stopping: " + v.withoutImprovement() + " validations without improvement");
        }
    }

    @Override
    public void onFitEnd(FitContext fit, Throwable failure) {
        if (failure == null && rule.restoreBest() && fit.bestParameters != null) {
            Checkpoint.loadParameters(fit.bestParameters, fit.model().getNDManager(), fit.model().getBlock());
            fit.restoredBest = true;
        }
    }
}
