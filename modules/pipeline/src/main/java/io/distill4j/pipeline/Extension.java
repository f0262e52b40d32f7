package io.distill4j.pipeline;

import io.distill4j.data.BadInputException;
import io.distill4j.data.Errors;
import java.util.ServiceLoader;

/**
 * A plug-in that adds losses, target builders, teachers or students by name, found on the class path by
 * {@link ServiceLoader}: list the implementing class in {@code META-INF/services/io.distill4j.pipeline.Extension}
 * of a jar on the class path (for the {@code distill4j} command: in {@code lib/} or on {@code CLASSPATH}), and its
 * {@link #register()} runs once, before any job is read. It calls the registries' {@code register} methods:
 * {@link io.distill4j.loss.Registry#registerLoss}, {@link io.distill4j.loss.Registry#registerTarget},
 * {@link Teachers#register} and {@link io.distill4j.models.StudentPresets#register}. Java code may call those
 * methods directly instead.
 */
public interface Extension {

    /** Registers this plug-in's losses, targets, teachers and students. */
    void register();

    /**
     * Runs {@link #register()} of every extension on the class path, once per JVM (later calls do nothing).
     *
     * @throws BadInputException naming the extension whose registration failed (a name taken twice, say)
     */
    static void loadInstalled() {
        Installed.load();
    }

    /** The once-per-JVM loading. */
    final class Installed {
        private static boolean loaded;

        private Installed() {
        }

        private static synchronized void load() {
            if (loaded) {
                return;
            }
            loaded = true;
            for (ServiceLoader.Provider<Extension> p : ServiceLoader.load(Extension.class).stream().toList()) {
                try {
                    p.get().register();
                } catch (RuntimeException | java.util.ServiceConfigurationError e) {
                    throw new BadInputException("extension " + p.type().getName() + ": cannot register it: "
                            + Errors.reason(e), e);
                }
            }
        }
    }
}
