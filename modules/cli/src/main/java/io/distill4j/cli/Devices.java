package io.distill4j.cli;

import ai.djl.Device;
import ai.djl.engine.Engine;
import io.distill4j.data.BadInputException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses the device a user names on the command line. */
final class Devices {
    private static final Pattern GPU = Pattern.compile("gpu(?:\\((\\d+)\\)|:(\\d+))?");

    private Devices() {
    }

    /**
     * Parses {@code cpu}, {@code gpu}, {@code gpu(i)} or {@code gpu:i}.
     *
     * @param spec the user's text
     * @return the device
     * @throws BadInputException if the text is malformed or names a GPU that is not present
     */
    static Device parse(String spec) {
        if ("cpu".equals(spec)) {
            return Device.cpu();
        }
        Matcher m = GPU.matcher(spec);
        if (!m.matches()) {
            throw new BadInputException("option --device: unknown device '" + spec + "' (use cpu, gpu or gpu(i))");
        }
        int id = m.group(1) != null ? Integer.parseInt(m.group(1)) : m.group(2) != null ? Integer.parseInt(m.group(2)) : 0;
        int gpus = Engine.getInstance().getGpuCount();
        if (id >= gpus) {
            throw new BadInputException("option --device: " + spec + " is not available: this engine sees " + gpus
                    + " GPU(s); run with ./distill4j --gpu (CUDA natives), see README");
        }
        return Device.gpu(id);
    }
}
