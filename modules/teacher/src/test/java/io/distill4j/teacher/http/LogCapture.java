package io.distill4j.teacher.http;

import java.io.StringWriter;
import java.util.Map;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;

/**
 * Captures everything logged through Log4j2, at every level and from every logger, while open; the root
 * logger's own appenders are detached meanwhile (so DEBUG lines do not flood the console) and restored
 * by {@link #close()}.
 */
public final class LogCapture implements AutoCloseable {

    private final StringWriter out = new StringWriter();
    private final LoggerContext context = (LoggerContext) LogManager.getContext(false);
    private final LoggerConfig root;
    private final Level level;
    private final Map<String, Appender> detached;
    private final WriterAppender appender;

    public LogCapture() {
        Configuration config = context.getConfiguration();
        root = config.getRootLogger();
        level = root.getLevel();
        detached = Map.copyOf(root.getAppenders());
        detached.keySet().forEach(root::removeAppender);
        appender = WriterAppender.newBuilder().setName("capture-" + System.nanoTime()).setTarget(out)
                .setLayout(PatternLayout.newBuilder().withPattern("%level %logger - %msg%n%throwable").build()).build();
        appender.start();
        config.addAppender(appender);
        root.addAppender(appender, Level.ALL, null);
        root.setLevel(Level.ALL);
        context.updateLoggers();
    }

    /** @return what was logged so far */
    public String text() {
        synchronized (out) {
            return out.toString();
        }
    }

    @Override
    public void close() {
        root.removeAppender(appender.getName());
        context.getConfiguration().getAppenders().remove(appender.getName());
        detached.values().forEach(a -> root.addAppender(a, null, null));
        root.setLevel(level);
        context.updateLoggers();
        appender.stop();
    }
}
