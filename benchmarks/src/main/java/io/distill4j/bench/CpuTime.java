package io.distill4j.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * CPU time of the measured operations, next to JMH's wall time: on a shared machine the wall time includes
 * the time other processes hold the cores; the CPU time is the work done. JMH reports the counters as totals
 * per iteration; {@code cpuMs / steps} is process CPU milliseconds per operation, {@code threadCpuMs / steps}
 * the benchmark thread's (with one intra-op thread libtorch runs every op on it).
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.EVENTS)
public class CpuTime {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    /** Process CPU milliseconds spent in the measured operations. */
    public double cpuMs;
    /** The benchmark thread's CPU milliseconds spent in the measured operations. */
    public double threadCpuMs;
    /** Measured operations. */
    public long steps;
    private long process;
    private long thread;

    /** Resets the counters at the start of an iteration. */
    @Setup(Level.Iteration)
    public void reset() {
        cpuMs = 0;
        threadCpuMs = 0;
        steps = 0;
    }

    /** Marks the start of a measured operation. */
    public void begin() {
        process = OS.getProcessCpuTime();
        thread = THREADS.getCurrentThreadCpuTime();
    }

    /** Marks its end. */
    public void end() {
        cpuMs += (OS.getProcessCpuTime() - process) / 1e6;
        threadCpuMs += (THREADS.getCurrentThreadCpuTime() - thread) / 1e6;
        steps++;
    }
}
