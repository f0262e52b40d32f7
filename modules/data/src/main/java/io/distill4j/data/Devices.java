package io.distill4j.data;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses the device a user names, in a config file or on the command line: the project's one device parser. */
public final class Devices {

    private static final Pattern GPU = Pattern.compile("(?:gpu|cuda)(?:\\((\\d+)\\)|:(\\d+))?");

    private Devices() {
    }

    /**
     * Parses {@code cpu}, {@code gpu}, {@code gpu(i)}, {@code gpu:i} (or {@code cuda}, {@code cuda:i}) and
     * checks that a named GPU is visible to the engine.
     *
     * @param name the user's text
     * @return the device
     * @throws IllegalArgumentException saying what is wrong: a malformed name, or a GPU the engine does not see
     */
    public static Device parse(String name) {
        String s = name == null ? "" : name.trim();
        if ("cpu".equals(s)) {
            return Device.cpu();
        }
        Matcher m = GPU.matcher(s);
        if (!m.matches()) {
            throw new IllegalArgumentException("unknown device '" + name + "' (use cpu, gpu or gpu(i))");
        }
        int id = m.group(1) != null ? Integer.parseInt(m.group(1)) : m.group(2) != null ? Integer.parseInt(m.group(2)) : 0;
        int gpus = Engine.getInstance().getGpuCount();
        if (id >= gpus) {
            throw new IllegalArgumentException(s + " is not available: this engine sees " + gpus + " GPU(s)"
                    + (gpus == 0 ? "; the CPU native library has no CUDA (see README, Running on a CUDA GPU)" : ""));
        }
        return Device.gpu(id);
    }

    /**
     * The name {@link #parse} reads back.
     *
     * @param device a device
     * @return {@code cpu} or {@code gpu(i)}
     */
    public static String name(Device device) {
        return "gpu".equals(device.getDeviceType()) ? "gpu(" + device.getDeviceId() + ")" : "cpu";
    }
}
