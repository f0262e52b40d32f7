package io.distill4j.trainer;

import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Counts the native (ATen) operations that a piece of code issues, with libtorch's own profiler as DJL's
 * PyTorch engine exposes it ({@code JniUtils.startProfile}/{@code stopProfile}, which write every
 * operation dispatched on this thread, nested ones included, as a Chrome trace). Every tensor operation,
 * view, fill and copy that DJL sends to libtorch appears; Java work and accessors such as the gradient
 * handle do not.
 */
final class NativeOps {
    private static final Pattern NAME = Pattern.compile("\"name\":\\s*\"([^\"]+)\"");

    private NativeOps() {
    }

    /**
     * Runs the code under the profiler.
     *
     * @param code the code
     * @return the names of the operations it dispatched, in the order they ended
     */
    static List<String> of(Runnable code) {
        Path file;
        try {
            file = Files.createTempFile("distill4j-ops", ".json");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            JniUtils.startProfile(false, false, false);
            try {
                code.run();
            } finally {
                JniUtils.stopProfile(file.toString());
            }
            List<String> names = new ArrayList<>();
            Matcher m = NAME.matcher(Files.readString(file));
            while (m.find()) {
                names.add(m.group(1));
            }
            return names;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                file.toFile().deleteOnExit();
            }
        }
    }
}
