package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.internal.FileStat;

/**
 * close() points a number that threads are blocked on at a process-wide dead
 * pipe end (the close marker). A call that never blocks must never meet it:
 * passing a descriptor that another thread closes at the same moment gives
 * the receiver that file or nothing, never the marker.
 */
class CloseMarkerTest {
    @TempDir
    Path dir;

    @Test
    void aDescriptorClosedWhileBeingPassedIsNeverReplacedByTheMarker() throws Exception {
        Path file = Files.writeString(dir.resolve("file"), "the real file\n");
        FileStat real = FileStat.ofPath(file.toString());
        int passed = 0;
        int refused = 0;
        try (StreamPipe pipe = StreamPipe.open()) {
            for (int i = 0; i < 2000; i++) {
                StreamFd f = StreamFd.open(file, StreamFd.Mode.READ);
                Thread closer = new Thread(f::close);
                closer.start();
                try {
                    pipe.first().sendFd(f);
                } catch (StreamClosedException e) {
                    refused++;
                    closer.join();
                    continue;
                }
                closer.join();
                try (ReceivedFd got = pipe.second().receiveFd()) {
                    FileStat st = FileStat.of(got.fd().fd());
                    assertTrue(st.sameFile(real), "round " + i + ": received something else than the file: " + st);
                    passed++;
                }
            }
        }
        assertEquals(2000, passed + refused);
        System.out.println("CloseMarkerTest: 2000 sendFd/close races: " + passed + " passed the file, "
            + refused + " refused as closed, 0 passed the marker");
    }
}
