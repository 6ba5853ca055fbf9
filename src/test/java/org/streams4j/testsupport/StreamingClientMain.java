package org.streams4j.testsupport;

import java.nio.file.Path;
import org.streams4j.ConnldClient;
import org.streams4j.Connection;
import org.streams4j.StreamsException;

/**
 * A connld client that streams without end, for a test to kill mid-transfer:
 *
 * <pre>java -cp CLASSPATH org.streams4j.testsupport.StreamingClientMain PATH</pre>
 *
 * Connects, prints {@code STREAMING}, then writes 64 KiB blocks for ever
 * while a second thread reads (and drops) whatever comes back.
 */
public final class StreamingClientMain {
    private StreamingClientMain() {
    }

    public static void main(String[] args) throws Exception {
        Connection c = ConnldClient.connect(Path.of(args[0]));
        Thread reader = new Thread(() -> {
            byte[] b = new byte[64 * 1024];
            try {
                while (c.read(b, 0, b.length) >= 0) {
                    // dropped
                }
            } catch (StreamsException e) {
                // the test kills this process; nothing to report
            }
        }, "reader");
        reader.setDaemon(true);
        reader.start();
        System.out.println("STREAMING");
        System.out.flush();
        byte[] block = new byte[64 * 1024];
        for (long i = 0; ; i++) {
            block[(int) (i % block.length)]++;
            c.writeFully(block);
        }
    }
}
