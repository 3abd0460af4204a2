package org.segloss.spark;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;

/**
 * The local filesystem, except that opening a file whose name starts with {@link #TRIGGER} inside
 * the first attempt of a Spark task fails the task (an unchecked error, as a lost executor would),
 * so Spark runs the task again. Installed as {@code fs.file.impl} by the tests.
 */
public final class FlakyLocalFileSystem extends LocalFileSystem {
    static final String TRIGGER = "retry-trigger";
    static final AtomicInteger INJECTED = new AtomicInteger();

    @Override
    public FSDataInputStream open(Path f, int bufferSize) throws IOException {
        TaskContext task = TaskContext.get();
        if (task != null && task.attemptNumber() == 0 && f.getName().startsWith(TRIGGER)) {
            INJECTED.incrementAndGet();
            throw new IllegalStateException("injected failure of task attempt 0 of partition " + task.partitionId()
                    + " opening " + f);
        }
        return super.open(f, bufferSize);
    }
}
